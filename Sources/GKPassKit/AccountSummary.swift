public import TicketStore

/// What `gkpass list` and `gkpass check` know about an account without reading any secret, so this works while the
/// keyring is locked: the item metadata (clear attributes in the Secret Service) and the store record, which holds
/// the ticket's expiry (Secret Service items keep it inside the secret; older items also in an attribute).
public struct AccountSummary: Sendable, Equatable {
    public var account: String
    public var network: String
    public var store: StoreKind
    /// ISO 8601 UTC.
    public var expires: String?
    /// Seconds left at `now` (negative when expired); nil when unknown.
    public var remaining: Int64?
    public var isDefault: Bool
    public var remembersPassword: Bool

    /// Every recorded account's ticket metadata. Accounts whose store has no ticket are left out.
    public static func all(ladder: StoreLadder, now: Int64) throws(GKPassError) -> [AccountSummary] {
        let accounts: [String]
        let defaultAccount: String?
        do {
            accounts = try ladder.fileStore.recordedAccounts()
            defaultAccount = try ladder.fileStore.defaultAccount()
        } catch { throw GKPassError(store: error) }
        var listings: [StoreKind: [ItemMetadata]] = [:]
        var result: [AccountSummary] = []
        for account in accounts {
            let record: StoreRecord?
            do { record = try ladder.fileStore.record(account: account) } catch { throw GKPassError(store: error) }
            let store = try ladder.store(recorded: record?.store)
            if listings[store.kind] == nil {
                do { listings[store.kind] = try store.list() } catch { throw GKPassError(store: error) }
            }
            let items = listings[store.kind]!.filter { $0.account == account }
            guard let ticket = items.first(where: { $0.kind == .ticket }) else { continue }
            let expires = record?.expires ?? ticket.expires
            let remaining = expires.flatMap { TicketSet.parse($0) }.map { Int64($0.timeIntervalSince1970) - now }
            result.append(AccountSummary(
                account: account, network: ticket.network, store: store.kind, expires: expires, remaining: remaining,
                isDefault: account == defaultAccount, remembersPassword: items.contains { $0.kind == .password }))
        }
        return result
    }

    /// "3h 12m", "45s", "expired".
    public static func describe(remaining: Int64?) -> String {
        guard let remaining else { return "unknown" }
        guard remaining > 0 else { return "expired" }
        let days = remaining / 86_400, hours = remaining % 86_400 / 3600, minutes = remaining % 3600 / 60
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(remaining)s"
    }
}

extension AccountSummary: Encodable {
    enum CodingKeys: String, CodingKey {
        case account, network, store, isDefault = "default", remembersPassword = "remembers_password", expires
        case remainingSeconds = "remaining_seconds"
    }

    /// Every key always present; `expires` and `remaining_seconds` are null when unknown, and the seconds never
    /// go below zero.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(account, forKey: .account)
        try container.encode(network, forKey: .network)
        try container.encode(store.rawValue, forKey: .store)
        try container.encode(isDefault, forKey: .isDefault)
        try container.encode(remembersPassword, forKey: .remembersPassword)
        try container.encode(expires, forKey: .expires)
        try container.encode(remaining.map { max($0, 0) }, forKey: .remainingSeconds)
    }

    /// `gkpass list --json`: one JSON array of the accounts and a newline.
    public static func json(_ summaries: [AccountSummary]) throws(GKPassError) -> String { try JSONOutput.line(summaries) }
}
