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

/// Durations on the command line: `90`, `90s`, `30m`, `2h`, `1d` (whole numbers; one unit).
public enum Duration {
    public static func seconds(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let (digits, unit) = last.isNumber ? (Substring(text), Int64(1)) : (text.dropLast(), units[last] ?? 0)
        guard unit > 0, !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int64(digits), value <= 10_000_000 else { return nil }
        return value * unit
    }
}
