internal import FoundationEssentials
public import TicketStore

/// What `gkpass status` shows about one account (like `klist`): where its tickets are, when they expire, whether
/// refresh can sign in unattended, and the names (never the values) of what the login collected. Built from the
/// store by `read`, rendered by `text` and `json`; printing and the exit status stay with the CLI.
public struct StatusReport: Sendable, Equatable {
    public var account: String
    public var isDefault: Bool
    /// The network the ticket is for, and how it is configured now (nil when it is not any more).
    public var network: String
    public var flow: Network.Flow?
    public var server: Network.Endpoint?
    public var store: StoreKind
    /// Where the file store lives (only for the file store).
    public var fileStoreRoot: String?
    /// ISO 8601 UTC.
    public var obtained: String
    public var expires: String
    /// Seconds left at the time given to `read`; zero or less when expired.
    public var remaining: Int64
    public var remembersPassword: Bool
    /// The layout recorded at login, else the network's, else `ticket-profile` (design.md §5).
    public var blobLayout: String
    public var hasProfile: Bool
    /// Names of the HTTP cookies and of the chat page's values, sorted.
    public var cookies: [String]
    public var pageValues: [String]

    public var expired: Bool { remaining <= 0 }

    /// Reads the account's ticket (the given one, else the default account) from its recorded store, at `now`.
    /// Exit 3 when there is none; an expired ticket is reported, not thrown (see `expired`).
    public static func read(account given: String?, ladder: StoreLadder, now: Int64) throws(GKPassError) -> StatusReport {
        let member = try StoredTicket.account(given, ladder: ladder)
        let store = try ladder.storeForReading(account: member)
        let set: TicketSet?
        var remembers = false
        do throws(StoreError) {
            set = try store.read(account: member, kind: .ticket).map { item throws(StoreError) in try TicketSet(decoding: item.secret) }
            if set != nil { remembers = try store.list().contains { $0.account == member && $0.kind == .password } }
        } catch { throw GKPassError(store: error) }
        guard let set else { throw GKPassError(.noTicket, "no ticket for \(member)", hint: "run gkpass login \(member)") }
        let network = try? Network.named(set.network, environment: ladder.environment)
        return StatusReport(
            account: member, isDefault: (try? ladder.fileStore.defaultAccount()) == member, network: set.network,
            flow: network?.flow, server: network?.server, store: store.kind,
            fileStoreRoot: store.kind == .file ? ladder.fileStore.root : nil,
            obtained: TicketSet.format(set.obtained), expires: TicketSet.format(set.expires),
            remaining: Int64(set.expires.timeIntervalSince1970) - now, remembersPassword: remembers,
            blobLayout: set.blobLayout ?? network?.blobLayout.rawValue ?? "ticket-profile", hasProfile: !set.profile.isEmpty,
            cookies: TicketSetFormat.httpCookies(set).map(\.name), pageValues: TicketSetFormat.pageValues(set).map(\.name))
    }

    /// Labelled lines, one fact each.
    public var text: String {
        let rows: [(String, String)] = [
            ("account", account + (isDefault ? " (default)" : "")),
            ("network", network + (flow.map { " (\($0.rawValue) flow" + (server.map { "; IRCX \($0)" } ?? "") + ")" } ?? " (not configured any more)")),
            ("store", fileStoreRoot.map { "file (\($0))" } ?? store.rawValue),
            ("obtained", obtained),
            ("expires", expires + (remaining > 0 ? " (in \(AccountSummary.describe(remaining: remaining)))" : " (EXPIRED)")),
            ("password", remembersPassword ? "remembered (gkpass refresh can sign in)" : "not remembered"),
            ("tickets", hasProfile ? "ticket and profile" : "ticket only (the server gave no profile; the blob's profile is empty)"),
            ("cookies", cookies.isEmpty ? "-" : cookies.joined(separator: " ")),
            ("chat page", pageValues.isEmpty ? "-" : pageValues.joined(separator: " ")),
            ("blob", blobLayout),
        ]
        return rows.map { $0.0 + String(repeating: " ", count: max(0, 10 - $0.0.count)) + $0.1 + "\n" }.joined()
    }

    /// One JSON object and a newline: the facts of `text`, for scripts.
    public func json() throws(GKPassError) -> String { try JSONOutput.line(self) }
}

extension StatusReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case account, isDefault = "default", network, server, store, obtained, expires, remainingSeconds = "remaining_seconds"
        case expired, remembersPassword = "remembers_password", blobLayout = "blob_layout", hasProfile = "has_profile"
        case cookies, pageValues = "page_values"
    }

    /// Every key always present; `server` is null when the network is not configured any more.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(account, forKey: .account)
        try container.encode(isDefault, forKey: .isDefault)
        try container.encode(network, forKey: .network)
        try container.encode(server?.description, forKey: .server)
        try container.encode(store.rawValue, forKey: .store)
        try container.encode(obtained, forKey: .obtained)
        try container.encode(expires, forKey: .expires)
        try container.encode(max(0, remaining), forKey: .remainingSeconds)
        try container.encode(expired, forKey: .expired)
        try container.encode(remembersPassword, forKey: .remembersPassword)
        try container.encode(blobLayout, forKey: .blobLayout)
        try container.encode(hasProfile, forKey: .hasProfile)
        try container.encode(cookies, forKey: .cookies)
        try container.encode(pageValues, forKey: .pageValues)
    }
}
