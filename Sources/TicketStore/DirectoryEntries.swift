internal import Glibc

/// The names in a directory, from readdir(3).
enum DirectoryEntries {
    /// Every name in `path` ("." and ".." included), or nil when it cannot be opened (errno says why).
    static func names(in path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) { names.append(name(of: entry)) }
        return names
    }

    /// An entry's name, read through a pointer up to its NUL. Never a copy of `entry.pointee` or of its `d_name`:
    /// glibc's records are only as long as their name (`d_reclen`), so a copy of the struct's 256-byte `d_name`
    /// reads past the record, and off the end of the directory buffer when a short record ends just before an
    /// unmapped page (SIGSEGV: `refresh --all` over 400 accounts, about one run in twelve with 32 jobs).
    static func name(of entry: UnsafePointer<dirent>) -> String {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        return String(cString: UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
    }
}
