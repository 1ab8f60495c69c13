internal import Glibc
internal import GKText

/// What the file store keeps about an account whatever store holds its items: which store that is (design.md §6:
/// later reads go to the same place) and when its ticket expires. The expiry is here because the Secret Service
/// items no longer carry it in their attributes (they do not change while an item lives; the expiry is inside the
/// secret), and `gkpass list` must show it while the keyring is locked.
///
/// `accounts/<account>`, one `key value` pair a line after the store's name:
/// ```
/// secret-service
/// expires 2026-11-27T13:00:00Z
/// ```
/// Records written before the expiry moved here have the first line only.
public struct StoreRecord: Sendable, Equatable {
    public var store: StoreKind
    /// The ticket's expiry (ISO 8601 UTC) at the last login or refresh; nil in older records.
    public var expires: String?

    public init(store: StoreKind, expires: String?) {
        self.store = store
        self.expires = expires
    }

    func encoded() -> [UInt8] {
        Array((store.rawValue + "\n" + (expires.map { "expires \($0)\n" } ?? "")).utf8)
    }

    /// nil for a record whose first line names no store.
    init?(decoding bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { String($0).trimmedLine() }
        guard let first = lines.first, let store = StoreKind(rawValue: first) else { return nil }
        self.store = store
        expires = lines.dropFirst().first { $0.hasPrefix("expires ") }.map { String($0.dropFirst("expires ".count)) }
    }
}

extension FileStore {
    var recordsDirectory: String { root + "/accounts" }

    /// What is recorded about `account`, or nil when it has not logged in (or logged out).
    public func record(account: String) throws(StoreError) -> StoreRecord? {
        try prepareDirectories()
        try FileStore.ensurePrivateDirectory(recordsDirectory, createParents: false)
        guard var bytes = try FileStore.readPrivateFile(recordsDirectory + "/" + FileStore.fileName(for: account)) else { return nil }
        defer { SecretBytes.wipe(&bytes) }
        return StoreRecord(decoding: bytes)
    }

    /// Which store holds `account`'s items, as recorded at login.
    public func recordedStore(account: String) throws(StoreError) -> StoreKind? {
        try record(account: account)?.store
    }

    public func record(_ record: StoreRecord, account: String) throws(StoreError) {
        try prepareDirectories()
        try FileStore.ensurePrivateDirectory(recordsDirectory, createParents: false)
        try FileStore.atomicWrite(record.encoded(), to: recordsDirectory + "/" + FileStore.fileName(for: account), directory: recordsDirectory)
    }

    /// Every account that has logged in (and not logged out): the recorded-store files.
    public func recordedAccounts() throws(StoreError) -> [String] {
        try prepareDirectories()
        try FileStore.ensurePrivateDirectory(recordsDirectory, createParents: false)
        let names = DirectoryEntries.names(in: recordsDirectory) ?? []
        return names.compactMap { $0.hasPrefix(".") ? nil : FileStore.accountName(fromFileName: $0) }.sorted()
    }

    /// Forgets which store holds `account` (after logout).
    public func forgetRecord(account: String) throws(StoreError) {
        try prepareDirectories()
        if unlink(recordsDirectory + "/" + FileStore.fileName(for: account)) != 0 && errno != ENOENT {
            throw StoreError(.io, "cannot remove the store record of \(account): \(FileStore.errorText())")
        }
    }

    /// The inverse of ``fileName(for:)``.
    static func accountName(fromFileName name: String) -> String? { PercentEncoding.decode(name) }

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
