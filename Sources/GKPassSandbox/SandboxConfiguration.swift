public import GateKeeper

/// Faults tests can switch on per run (design.md §8). Each is documented in `gkpass-sandbox --help`.
public enum SandboxFault: String, CaseIterable, Sendable {
    /// Every HTTP response and IRCX reply waits `--slow-seconds` first.
    case slow
    /// Passport and chat-site endpoints answer 503 Service Unavailable.
    case http5xx = "http-5xx"
    /// HTTP connections are closed after the request is read, with no response.
    case drop
    /// HTTP responses carry a header line with no colon, which a conforming client must refuse.
    case malformedHeaders = "malformed-headers"
    /// The login endpoints redirect to themselves forever.
    case redirectLoop = "redirect-loop"
    /// Tickets are issued already expired; the IRCX server refuses them with 910.
    case expiredTickets = "expired-tickets"
    /// The IRCX server checks GateKeeper answers against other bytes than the challenge it sent: every answer
    /// is refused with 910.
    case wrongChallenge = "wrong-challenge"
    /// The IRCX server's challenge token has a broken signature, which a client must refuse to answer.
    case malformedChallenge = "malformed-challenge"
    /// HTTP responses stop in the middle of the header block and the connection closes.
    case truncatedHeaders = "truncated-headers"
    /// HTTP responses carry a 1 MiB header line.
    case hugeHeader = "huge-header"
    /// The server certificate expired yesterday (signed by the sandbox CA, names right).
    case expiredCertificate = "expired-certificate"
    /// The server certificate names another host (signed by the sandbox CA, dates right).
    case wrongHostCertificate = "wrong-host-certificate"
    /// The Tweener DA sends every sign-in to a DA on another loopback address (a second HTTPS listener, same CA):
    /// the redirect a client must not follow with the password unless that host is on its list (issue 15).
    case daOffsiteRedirect = "da-offsite-redirect"
    /// The Tweener DA sends every sign-in to a plain `http:` DA (a second, unencrypted listener).
    case daPlainRedirect = "da-plain-redirect"
    /// The IRCX server stops reading a client's connection for `--slow-seconds` at its first PRIVMSG, then reads on:
    /// a busy server whose event loop falls behind (lines wait in the kernel's buffers, then in the sender's).
    case stallReading = "stall-reading"

    public var summary: String {
        switch self {
        case .slow: return "delay every HTTP response and IRCX reply by --slow-seconds"
        case .http5xx: return "Passport and chat-site endpoints answer 503"
        case .drop: return "close HTTP connections without answering"
        case .malformedHeaders: return "send HTTP responses with a header line that has no colon"
        case .redirectLoop: return "login endpoints redirect to themselves forever"
        case .expiredTickets: return "issue tickets that are already expired (IRCX refuses them with 910)"
        case .wrongChallenge: return "check GateKeeper answers against the wrong bytes (every answer gets 910)"
        case .malformedChallenge: return "send a GateKeeper challenge with a broken GKSSP signature"
        case .truncatedHeaders: return "close HTTP connections in the middle of the response headers"
        case .hugeHeader: return "send HTTP responses with a 1 MiB header line"
        case .expiredCertificate: return "serve a TLS certificate that expired yesterday"
        case .wrongHostCertificate: return "serve a TLS certificate for another host name"
        case .daOffsiteRedirect: return "the DA redirects sign-ins to a DA on another loopback address (127.0.0.2)"
        case .daPlainRedirect: return "the DA redirects sign-ins to a DA over plain http"
        case .stallReading: return "the IRCX server stops reading a client for --slow-seconds at its first PRIVMSG"
        }
    }
}

/// How the Tweener DA words a successful sign-in (protocol.md §3a step 4). Real servers differ, and a client must
/// take all three; the sandbox speaks one per run so tests can show that it does.
public enum PassportDialect: String, CaseIterable, Sendable {
    /// MS-PASS and MSN 2003 captures: `from-PP='t=TICKET&p=PROFILE'`, with the `tname`s and `ru`.
    case msn2003
    /// Messenger revival servers: `from-PP='TOKEN'`. The token is the ticket; there is no profile.
    case bareToken = "bare-token"
    /// `from-PP='t=TICKET'` alone: a ticket and no profile.
    case tOnly = "t-only"

    /// Whether this dialect issues a profile (`p=`, MSPProf). When it does not, the chat site and the IRCX server
    /// take a ticket alone, as a server of that kind must: it has nothing else to give its clients.
    public var issuesProfile: Bool {
        switch self {
        case .msn2003: return true
        case .bareToken, .tOnly: return false
        }
    }
}

/// Everything the sandbox's servers need to know, fixed at start-up.
public struct SandboxConfiguration: Sendable {
    /// The address clients use in URLs and the IRCX host (v3 hashes it), e.g. `127.0.0.1`.
    public var publicHost: String
    public var httpsPort: Int
    public var ircxPort: Int
    /// The IRCX server's name: numerics' prefix and the host v3 answers hash. Defaults to ``publicHost``.
    public var serverName: String
    public var truncateHost: Bool
    /// The Passport blob layout the IRCX server requires (design.md §5).
    public var blobLayout: PassportBlob.Layout
    public var accounts: [SandboxAccount]
    /// The PassportV4 secret shared by the DA, the chat site and the IRCX server.
    public var secret: String
    /// Ticket lifetime in seconds (the `ttl` field).
    public var ticketLifetime: Int
    /// The MSN Chat site ID the web-form flow must name (protocol.md §3b).
    public var siteID: String
    public var faults: Set<SandboxFault>
    public var slowSeconds: Double
    /// Tests only: every GateKeeper challenge is these 8 bytes, so a test can answer with a published vector
    /// (protocol.md §6) instead of computing the HMAC itself.
    public var fixedChallenge: [UInt8]?
    /// The directory role's answer to FINDS (`613 host port`); nil: this server's own chat role. Lets tests put a
    /// room on a second sandbox, as MSN Chat's directory put rooms on other chat servers.
    public var roomServer: (host: String, port: Int)?
    /// How many chat servers run and which hosts which room (`--chat-servers`, `--room`): FINDS answers with
    /// ``chatServers``[``ChatDirectory/serverIndex(room:)``].
    public var directory = ChatDirectory()
    /// Every chat server's address and name, server 0 first (the `ircx` and `directory` of endpoints.json), set
    /// once the listeners are bound. Empty in unit tests: FINDS then names ``publicHost``:``ircxPort``.
    public var chatServers: [ChatServerAddress] = []
    /// Seconds added to the HTTP Date header: a server whose clock is wrong, for clients that compare clocks.
    public var clockOffset: Int64 = 0
    /// How the IRCX server takes the Passport blob (protocol.md §2.2): the OCX's 480-byte slices, as irc7-sspi's
    /// server does (the default), or one line of up to 1,024 bytes, as MSNLD/irc7 does.
    public var passportSlices: PassportSlicing = .ocx
    /// How the DA words success, and whether profiles exist at all on this network.
    public var passportDialect: PassportDialect = .msn2003
    /// The DA that `da-offsite-redirect` sends sign-ins to (`https://127.0.0.2:PORT/login2.srf`), set once its
    /// listener is bound; nil without that fault.
    public var offsiteDAURL: String?
    /// The DA that `da-plain-redirect` sends sign-ins to (`http://127.0.0.1:PORT/login2.srf`), set once its listener
    /// is bound; nil without that fault.
    public var plainDAURL: String?

    public init(
        publicHost: String = "127.0.0.1", httpsPort: Int = 0, ircxPort: Int = 0, serverName: String? = nil,
        truncateHost: Bool = true, blobLayout: PassportBlob.Layout = .ticketProfile,
        accounts: [SandboxAccount] = [.demo], secret: String = PassportV4.defaultSecret, ticketLifetime: Int = 86_400,
        siteID: String = "2260", faults: Set<SandboxFault> = [], slowSeconds: Double = 3, fixedChallenge: [UInt8]? = nil
    ) {
        self.fixedChallenge = fixedChallenge
        self.publicHost = publicHost
        self.httpsPort = httpsPort
        self.ircxPort = ircxPort
        self.serverName = serverName ?? publicHost
        self.truncateHost = truncateHost
        self.blobLayout = blobLayout
        self.accounts = accounts
        self.secret = secret
        self.ticketLifetime = ticketLifetime
        self.siteID = siteID
        self.faults = faults
        self.slowSeconds = slowSeconds
    }

    /// `https://host:port` for URLs (IPv6 literals bracketed).
    public var httpsOrigin: String { Self.origin(scheme: "https", host: publicHost, port: httpsPort) }

    /// `scheme://host:port`, IPv6 literals bracketed.
    public static func origin(scheme: String, host: String, port: Int) -> String {
        "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The other loopback address `da-offsite-redirect` puts its DA on: 127.0.0.2, or 127.0.0.3 when the sandbox
    /// itself listens on 127.0.0.2. Nil when `listen` is not an IPv4 loopback address: IPv6 has only one loopback
    /// address, and an address off this machine would send the test's password somewhere real.
    public static func offsiteHost(forListenAddress listen: String) -> String? {
        let parts = listen.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127", parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
        return listen == "127.0.0.2" ? "127.0.0.3" : "127.0.0.2"
    }

    public func account(member: String) -> SandboxAccount? {
        let wanted = member.lowercased()
        return accounts.first { $0.member.lowercased() == wanted }
    }
}
