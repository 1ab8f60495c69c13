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

    /// The default account (`gkpass switch`; the first login sets it).
    public func defaultAccount() throws(StoreError) -> String? {
        try prepareDirectories()
        guard var bytes = try FileStore.readPrivateFile(root + "/default-account") else { return nil }
        defer { SecretBytes.wipe(&bytes) }
        let name = String(decoding: bytes, as: UTF8.self).trimmedLine()
        return name.isEmpty ? nil : name
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
