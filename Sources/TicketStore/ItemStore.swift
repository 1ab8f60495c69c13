/// What a stored item is.
public enum ItemKind: String, Sendable, CaseIterable, Codable {
    /// The Passport ticket set: GKPassKit's `TicketSet` document, which the stores keep as opaque secret bytes.
    case ticket
    /// A remembered password (`gkpass login --remember-password`), for unattended refresh.
    case password
}

/// Which store holds an item.
public enum StoreKind: String, Sendable, CaseIterable, Codable {
    case secretService = "secret-service"
    case file
}

/// Everything about an item that is not secret: what `gkpass list` shows, and what the Secret Service keeps in
/// clear attributes (design.md §6).
public struct ItemMetadata: Sendable, Equatable, Codable {
    public var account: String
    public var network: String
    public var kind: ItemKind
    /// ISO 8601 UTC (`2026-11-27T13:00:00Z`), or nil for items that do not expire (passwords).
    public var expires: String?

    public init(account: String, network: String, kind: ItemKind, expires: String?) {
        self.account = account
        self.network = network
        self.kind = kind
        self.expires = expires
    }
}

/// A place tickets and passwords live. Both implementations replace items atomically: a reader sees the old item
/// or the new one, never neither and never a mix. (Not named after its module: a type called `TicketStore` would
/// hide the module's name, so `TicketStore.StoreError` could not be written.)
public protocol ItemStore: AnyObject {
    var kind: StoreKind { get }
    /// The item for `account` of `kind`, or nil when there is none.
    func read(account: String, kind: ItemKind) throws(StoreError) -> (metadata: ItemMetadata, secret: SecretBytes)?
    /// Stores `secret` under `metadata`, replacing any item for the same account and kind.
    func write(_ metadata: ItemMetadata, secret: SecretBytes) throws(StoreError)
    /// Removes the item; false when there was none (which is not an error: logout is idempotent).
    @discardableResult
    func delete(account: String, kind: ItemKind) throws(StoreError) -> Bool
    /// Every gkpass item's metadata; reads no secrets, so it works while a keyring is locked.
    func list() throws(StoreError) -> [ItemMetadata]
    /// Only the secret of the item (the hot path of `gkpass ticket`); stores may answer it faster than `read`.
    func readSecret(account: String, kind: ItemKind) throws(StoreError) -> SecretBytes?
}

extension ItemStore {
    public func readSecret(account: String, kind: ItemKind) throws(StoreError) -> SecretBytes? {
        try read(account: account, kind: kind)?.secret
    }
}
