internal import Glibc

/// Small non-secret state kept beside the items (the nexus answer per network): `cache/<name>`, same directory and
/// file rules as items, so a cache can never be the weak spot of the store directory.
extension FileStore {
    var cacheDirectory: String { root + "/cache" }

    /// The bytes of `cache/<name>`, or nil when there is none (or it is unsafe: a cache is never worth an error).
    public func readCache(_ name: String) -> [UInt8]? {
        (try? Self.readPrivateFile(cacheDirectory + "/" + Self.fileName(for: name))) ?? nil
    }

    /// Replaces `cache/<name>` atomically.
    public func writeCache(_ name: String, _ bytes: [UInt8]) throws(StoreError) {
        try Self.ensurePrivateDirectory(root, createParents: true)
        try Self.ensurePrivateDirectory(cacheDirectory, createParents: false)
        try Self.atomicWrite(bytes, to: cacheDirectory + "/" + Self.fileName(for: name), directory: cacheDirectory)
    }

    /// Removes `cache/<name>`, if present.
    public func removeCache(_ name: String) {
        unlink(cacheDirectory + "/" + Self.fileName(for: name))
    }
}
