internal import Glibc

extension FileStore {
    var recordsDirectory: String { root + "/accounts" }

    /// Which store holds `account`'s items, as recorded at login (design.md §6: later reads go to the same place).
    public func recordedStore(account: String) throws(StoreError) -> StoreKind? {
        try prepareDirectories()
        try FileStore.ensurePrivateDirectory(recordsDirectory, createParents: false)
        guard var bytes = try FileStore.readPrivateFile(recordsDirectory + "/" + FileStore.fileName(for: account)) else { return nil }
        defer { SecretBytes.wipe(&bytes) }
        return StoreKind(rawValue: String(decoding: bytes, as: UTF8.self).trimmedLine())
    }

    public func record(store: StoreKind, account: String) throws(StoreError) {
        try prepareDirectories()
        try FileStore.ensurePrivateDirectory(recordsDirectory, createParents: false)
        try FileStore.atomicWrite(Array((store.rawValue + "\n").utf8), to: recordsDirectory + "/" + FileStore.fileName(for: account), directory: recordsDirectory)
    }

    /// Every account that has logged in (and not logged out): the recorded-store files.
    public func recordedAccounts() throws(StoreError) -> [String] {
        try prepareDirectories()
        try FileStore.ensurePrivateDirectory(recordsDirectory, createParents: false)
        guard let dir = opendir(recordsDirectory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix("."), let account = FileStore.accountName(fromFileName: name) { names.append(account) }
        }
        return names.sorted()
    }

    /// Forgets which store holds `account` (after logout).
    public func forgetRecord(account: String) throws(StoreError) {
        try prepareDirectories()
        if unlink(recordsDirectory + "/" + FileStore.fileName(for: account)) != 0 && errno != ENOENT {
            throw StoreError(.io, "cannot remove the store record of \(account): \(FileStore.errorText())")
        }
    }

    /// The inverse of ``fileName(for:)``.
    static func accountName(fromFileName name: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(name.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let h = iterator.next(), let l = iterator.next(), let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The default account (`gkpass switch`; the first login sets it).
    public func defaultAccount() throws(StoreError) -> String? {
        try prepareDirectories()
        guard var bytes = try FileStore.readPrivateFile(root + "/default-account") else { return nil }
        defer { SecretBytes.wipe(&bytes) }
        let name = String(decoding: bytes, as: UTF8.self).trimmedLine()
        return name.isEmpty ? nil : name
    }

    /// Forgets the default account (after logging it out); absent is fine.
    public func clearDefaultAccount() throws(StoreError) {
        try prepareDirectories()
        if unlink(root + "/default-account") != 0 && errno != ENOENT {
            throw StoreError(.io, "cannot remove \(root)/default-account: \(FileStore.errorText())")
        }
    }

    public func setDefaultAccount(_ account: String) throws(StoreError) {
        try prepareDirectories()
        try FileStore.atomicWrite(Array((account + "\n").utf8), to: root + "/default-account", directory: root)
    }
}

extension String {
    func trimmedLine() -> String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == "\r" || last == " " { text = text.dropLast() }
        return String(text)
    }
}
