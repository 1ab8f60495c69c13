public import FoundationEssentials
internal import GKText
public import TicketStore

/// The secret a ticket item holds: a versioned JSON document with every cookie the login collected and the times
/// (design.md §6). Other programs read it with `secret-tool lookup service gkpass account A kind ticket`.
///
/// The document is the Kit's: the stores keep it as opaque secret bytes under an ``ItemMetadata`` (account,
/// network, kind, and the expiry as text for `gkpass list`), and never parse it.
///
/// ```json
/// {"version": 1, "account": "alice@hotmail.com", "network": "sandbox",
///  "obtained": "2026-11-26T13:00:00Z", "expires": "2026-11-27T13:00:00Z",
///  "ticket": "<t= / MSPAuth>", "profile": "<p= / MSPProf>",
///  "cookies": {"MSPAuth": "…", "MSPProf": "…", "MSNChatNN": "…", "MSNREGCookie": "…"},
///  "blob_layout": "ticket-profile"}
/// ```
/// `blob_layout` (the network's layout when the set was obtained) is optional: sets written before it existed
/// lack it, and readers fall back to the network's config.
public struct TicketSet: Sendable, Equatable {
    /// The document version this code writes; readers refuse newer ones rather than guess.
    public static let currentVersion = 1

    public var account: String
    public var network: String
    public var obtained: Date
    public var expires: Date
    /// PassportTicket: the `t=` value, stored by the chat site as MSPAuth.
    public var ticket: String
    /// PassportProfile: the `p=` value, stored by the chat site as MSPProf.
    public var profile: String
    /// Every cookie and chat-page value collected (MSNChatNN, MSNREGCookie, SubscriberInfo, UserRole, …).
    public var cookies: [String: String]
    /// The network's Passport blob layout (`ticket-profile`, `profile-nickname`) at login, so `gkpass ticket` needs
    /// no config to build the blob.
    public var blobLayout: String?

    public init(
        account: String, network: String, obtained: Date, expires: Date, ticket: String, profile: String,
        cookies: [String: String] = [:], blobLayout: String? = nil
    ) {
        self.account = account
        self.network = network
        self.obtained = obtained
        self.expires = expires
        self.ticket = ticket
        self.profile = profile
        self.cookies = cookies
        self.blobLayout = blobLayout
    }

    struct Document: Codable {
        var version: Int
        var account: String
        var network: String
        var obtained: String
        var expires: String
        var ticket: String
        var profile: String
        var cookies: [String: String]
        var blob_layout: String?
    }

    /// The item metadata that goes with this set.
    public var metadata: ItemMetadata {
        ItemMetadata(account: account, network: network, kind: .ticket, expires: Self.format(expires))
    }

    public func encoded() -> SecretBytes {
        let document = Document(
            version: Self.currentVersion, account: account, network: network, obtained: Self.format(obtained),
            expires: Self.format(expires), ticket: ticket, profile: profile, cookies: cookies, blob_layout: blobLayout)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings cannot fail.
        var data = try! encoder.encode(document)
        let secret = SecretBytes(data)
        data.withUnsafeMutableBytes { SecretBytes.wipe($0) }
        return secret
    }

    /// Reads a document ``encoded()`` wrote (or any JSON with the same members; unknown members are ignored). With
    /// ``JSONValue``, not JSONDecoder: this is the per-connection path of `gkpass ticket`.
    public init(decoding secret: SecretBytes) throws(StoreError) {
        let notOurs = StoreError(.corrupt, "the stored ticket is not a gkpass ticket document")
        let root: JSONValue
        do { root = try secret.withUnsafeBytes { bytes throws(JSONValue.Malformed) in try JSONValue(parsing: bytes) } } catch { throw notOurs }
        guard let version = root["version"]?.int, let account = root["account"]?.string, let network = root["network"]?.string,
            let obtainedText = root["obtained"]?.string, let expiresText = root["expires"]?.string,
            let ticket = root["ticket"]?.string, let profile = root["profile"]?.string, case .object(let members)? = root["cookies"]
        else { throw notOurs }
        var cookies: [String: String] = [:]
        for (name, value) in members {
            guard let text = value.string else { throw notOurs }
            cookies[name] = text
        }
        let blobLayout: String?
        switch root["blob_layout"] {
        case nil, .null?: blobLayout = nil
        case .string(let layout)?: blobLayout = layout
        default: throw notOurs
        }
        guard version <= Self.currentVersion else {
            throw StoreError(
                .corrupt, "the stored ticket is document version \(version); this gkpass reads up to \(Self.currentVersion)",
                hint: "upgrade gkpass, or log in again")
        }
        guard let obtained = Self.parse(obtainedText), let expires = Self.parse(expiresText) else {
            throw StoreError(.corrupt, "the stored ticket has unreadable times")
        }
        self.init(
            account: account, network: network, obtained: obtained, expires: expires,
            ticket: ticket, profile: profile, cookies: cookies, blobLayout: blobLayout)
    }

    /// ISO 8601 UTC with seconds, `Z` suffix: `2026-11-26T13:00:00Z` (``UTCTimestamp``).
    public static func format(_ date: Date) -> String {
        UTCTimestamp.format(Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    /// Reads what `format` writes; other ISO 8601 spellings (offsets, fractions) go to Foundation's parser.
    public static func parse(_ text: String) -> Date? {
        if UTCTimestamp.hasFormatShape(text) { return UTCTimestamp.parse(text).map { Date(timeIntervalSince1970: Double($0)) } }
        return try? Date(text, strategy: .iso8601)
    }
}
