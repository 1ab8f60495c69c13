internal import Glibc
import FoundationEssentials
internal import GKText

/// Tickets in private files, for SSH sessions, servers, containers and cron where no keyring runs (design.md §6).
///
/// Layout under the root (`${XDG_STATE_HOME:-~/.local/state}/gkpass`, mode 0700):
/// ```
/// items/<account>.<kind>.json   0600  {"metadata": {...}, "secret": "<the secret: a ticket document, a password>"}
/// locks/<account>.lock          0600  flock(2) target, one per account
/// ```
/// Writes go to a temporary file (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) in the same directory, are fsynced, renamed over
/// the old file, and the directory is fsynced: a crash leaves the old item or the new one. Anything not owned by the
/// user, looser than 0700/0600, or a symlink is refused with `.unsafe` (exit 6), never "fixed" silently.
public final class FileStore: ItemStore, Sendable {
    public let kind = StoreKind.file
    public let root: String
    var itemsDirectory: String { root + "/items" }
    var locksDirectory: String { root + "/locks" }

    /// Items larger than this are refused on read: a ticket set is a few KiB.
    static let maximumItemSize = 1 << 20

    /// The default root: `$XDG_STATE_HOME/gkpass`, else `$HOME/.local/state/gkpass` (HOME from the password
    /// database when unset).
    public static func defaultRoot(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/gkpass" }
        var home = environment["HOME"] ?? ""
        if home.isEmpty, let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { home = String(cString: dir) }
        return home + "/.local/state/gkpass"
    }

    public init(root: String) {
        self.root = root
    }

    // MARK: - Paths

    /// A file-name-safe spelling of an account: bytes outside `A-Za-z0-9 . _ @ + -` become `%XX`, and a leading dot
    /// is escaped, so no account name can climb out of the directory or hide a file.
    public static func fileName(for account: String) -> String {
        let name = PercentEncoding.encode(account, keeping: { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || [UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ".")].contains(byte)
        })
        return name.hasPrefix(".") ? "%2E" + name.dropFirst() : name
    }

    func itemPath(_ account: String, _ kind: ItemKind) -> String {
        itemsDirectory + "/" + Self.fileName(for: account) + "." + kind.rawValue + ".json"
    }

    // MARK: - Directory checks

    /// Creates (0700) or checks the root and its subdirectories.
    func prepareDirectories() throws(StoreError) {
        try Self.ensurePrivateDirectory(root, createParents: true)
        try Self.checkParent(of: root)
        try Self.ensurePrivateDirectory(itemsDirectory, createParents: false)
        try Self.ensurePrivateDirectory(locksDirectory, createParents: false)
    }

    static func ensurePrivateDirectory(_ path: String, createParents: Bool) throws(StoreError) {
        if createParents {
            // Parents get the usual 0755 (they are ~/.local/state and friends); only our directory must be private.
            var prefix = ""
            for component in path.split(separator: "/").dropLast() {
                // String's own append of a Substring: `"/" + component` is the generic RangeReplaceableCollection `+`,
                // whose first use asks the runtime for a conformance by name (a scan of every conformance record).
                prefix += "/"
                prefix.append(contentsOf: component)
                if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                    throw StoreError(.io, "cannot create \(prefix): \(errorText())")
                }
            }
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw StoreError(.io, "cannot create \(path): \(errorText())")
        }
        try checkPrivate(path, directory: true)
    }

    /// The directory above the store (`$XDG_STATE_HOME`, `~/.local/state`) must be controlled by the user or root
    /// alone, like the store: whoever can rename entries in it can swap the store for theirs.
    static func checkParent(of path: String) throws(StoreError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        try checkControlled(String(path[..<slash]), above: "the store")
    }

    /// Refuses (`.unsafe`) a directory that someone other than the user or root controls: a symlink they own, a
    /// directory they own, or one others can write that is not sticky (`/tmp` is fine). `above` says what it holds,
    /// for the message. A directory that does not exist is no one's. Also checks config.toml's directories.
    public static func checkControlled(_ directory: String, above: String) throws(StoreError) {
        var link = stat(), target = stat()
        guard lstat(directory, &link) == 0, stat(directory, &target) == 0 else { return }
        let me = getuid()
        if link.st_mode & S_IFMT == S_IFLNK, link.st_uid != me, link.st_uid != 0 {
            throw StoreError(.unsafe, "\(directory) (above \(above)) is a symlink owned by uid \(link.st_uid), not you; refusing to go through it")
        }
        guard target.st_uid == me || target.st_uid == 0 else {
            throw StoreError(.unsafe, "\(directory) (above \(above)) belongs to uid \(target.st_uid), not you; refusing to go through it")
        }
        guard target.st_mode & 0o022 == 0 || target.st_mode & S_ISVTX != 0 else {
            throw StoreError(.unsafe, "\(directory) (above \(above)) is writable by others (mode \(String(target.st_mode & 0o777, radix: 8))); whoever can write it could swap what is in it",
                hint: "chmod go-w \(directory)")
        }
    }

    /// Refuses anything that is a symlink, the wrong type, not ours, or readable by group or others.
    static func checkPrivate(_ path: String, directory: Bool) throws(StoreError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw StoreError(.io, "cannot examine \(path): \(errorText())") }
        try checkPrivate(info, path: path, directory: directory)
    }

    static func checkPrivate(_ info: stat, path: String, directory: Bool) throws(StoreError) {
        let type = info.st_mode & S_IFMT
        guard type == (directory ? S_IFDIR : S_IFREG) else {
            throw StoreError(.unsafe, "\(path) is not a \(directory ? "directory" : "regular file") (a symlink?); refusing to use it")
        }
        guard info.st_uid == getuid() else {
            throw StoreError(.unsafe, "\(path) belongs to uid \(info.st_uid), not you; refusing to use it",
                hint: "remove it, or chown it to yourself if it is yours")
        }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw StoreError(.unsafe, "\(path) has mode \(mode), readable by others; refusing to use it",
                hint: "chmod \(directory ? "700" : "600") \(path)")
        }
    }

    // MARK: - ItemStore

    public func read(account: String, kind: ItemKind) throws(StoreError) -> (metadata: ItemMetadata, secret: SecretBytes)? {
        try prepareDirectories()
        guard var bytes = try Self.readPrivateFile(itemPath(account, kind)) else { return nil }
        defer { SecretBytes.wipe(&bytes) }
        return try Self.decodeItem(bytes, path: itemPath(account, kind))
    }

    public func write(_ metadata: ItemMetadata, secret: SecretBytes) throws(StoreError) {
        try prepareDirectories()
        removeStaleTemporaries()
        var bytes = Self.encodeItem(metadata, secret: secret)
        defer { SecretBytes.wipe(&bytes) }
        try Self.atomicWrite(bytes, to: itemPath(metadata.account, metadata.kind), directory: itemsDirectory)
    }

    @discardableResult
    public func delete(account: String, kind: ItemKind) throws(StoreError) -> Bool {
        try prepareDirectories()
        if unlink(itemPath(account, kind)) != 0 {
            if errno == ENOENT { return false }
            throw StoreError(.io, "cannot remove \(itemPath(account, kind)): \(Self.errorText())")
        }
        Self.syncDirectory(itemsDirectory)
        return true
    }

    public func list() throws(StoreError) -> [ItemMetadata] {
        try prepareDirectories()
        guard let all = DirectoryEntries.names(in: itemsDirectory) else {
            throw StoreError(.io, "cannot list \(itemsDirectory): \(Self.errorText())")
        }
        let names = all.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        var result: [ItemMetadata] = []
        for name in names.sorted() {
            let path = itemsDirectory + "/" + name
            guard var bytes = try Self.readPrivateFile(path) else { continue }
            defer { SecretBytes.wipe(&bytes) }
            result.append(try Self.decodeItem(bytes, path: path).metadata)
        }
        return result
    }

    // MARK: - Encoding

    struct ItemFile: Codable {
        var metadata: ItemMetadata
        var secret: String
    }

    static func encodeItem(_ metadata: ItemMetadata, secret: SecretBytes) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        var data = try! encoder.encode(ItemFile(metadata: metadata, secret: text))
        defer { data.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        return Array(data) + [0x0A]
    }

    /// Reads what ``encodeItem(_:secret:)`` writes, with ``JSONValue`` rather than JSONDecoder: `gkpass ticket`
    /// from the file store decodes one of these per connection.
    static func decodeItem(_ bytes: [UInt8], path: String) throws(StoreError) -> (metadata: ItemMetadata, secret: SecretBytes) {
        let notOurs = StoreError(.corrupt, "\(path) is not a gkpass item file", hint: "remove it and log in again")
        guard let item = try? JSONValue(parsing: bytes), let secret = item["secret"]?.string, let metadata = item["metadata"],
            let account = metadata["account"]?.string, let network = metadata["network"]?.string,
            let kind = metadata["kind"]?.string.flatMap(ItemKind.init(rawValue:))
        else { throw notOurs }
        let expires: String?
        switch metadata["expires"] {
        case nil, .null?: expires = nil
        case .string(let text)?: expires = text
        default: throw notOurs
        }
        return (ItemMetadata(account: account, network: network, kind: kind, expires: expires), SecretBytes(Array(secret.utf8)))
    }

    // MARK: - I/O

    static func readPrivateFile(_ path: String) throws(StoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw StoreError(.unsafe, "\(path) is a symlink; refusing to follow it") }
            throw StoreError(.io, "cannot open \(path): \(errorText())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StoreError(.io, "cannot examine \(path): \(errorText())") }
        try checkPrivate(info, path: path, directory: false)
        guard Int(info.st_size) <= maximumItemSize else { throw StoreError(.corrupt, "\(path) is larger than any gkpass item") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        return Array(bytes[0..<offset])
    }

    /// Removes temporary files left by writers that died between create and rename (SIGKILL, power loss): they
    /// hold a copy of a secret. A file is stale when the process named in it (`.tmp-<pid>-<random>`) no longer
    /// exists; files of live writers, or of a reused pid, are left alone.
    func removeStaleTemporaries() {
        for name in DirectoryEntries.names(in: itemsDirectory) ?? [] {
            let parts = name.split(separator: "-")
            guard name.hasPrefix(".tmp-"), parts.count == 3, let pid = pid_t(parts[1]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(itemsDirectory + "/" + name) }
        }
    }

    /// Temporary file, full write, fsync, rename, directory fsync.
    static func atomicWrite(_ bytes: [UInt8], to path: String, directory: String) throws(StoreError) {
        let random = UInt64.random(in: 0...UInt64.max)
        let temporary = directory + "/.tmp-\(getpid())-\(String(random, radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(.io, "cannot create \(temporary): \(errorText())") }
        var offset = 0
        var failure: String?
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { failure = "cannot write \(temporary): \(errorText())"; break }
            offset += n
        }
        if failure == nil && fsync(fd) != 0 { failure = "cannot sync \(temporary): \(errorText())" }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = "cannot replace \(path): \(errorText())" }
        if let failure {
            unlink(temporary)
            throw StoreError(.io, failure)
        }
        syncDirectory(directory)
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
