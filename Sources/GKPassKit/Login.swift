internal import FoundationEssentials
public import Passport
public import TicketStore
internal import GKText

/// `gkpass login`: run the network's Passport flow, collect every cookie, and store the ticket set. Nothing is
/// stored unless the whole flow succeeds, so a failed login never touches a good stored ticket.
public struct Login {
    public var account: String
    public var network: Network
    public var storeChoice: StoreChoice
    public var rememberPassword: Bool
    public var lockTimeout: Double
    /// Seconds each HTTPS request may take in all (connect within a third of it, at most 10 s).
    public var requestTimeout: Int = 30
    /// Unix time, read once per command.
    public var now: Int64

    public init(account: String, network: Network, storeChoice: StoreChoice, rememberPassword: Bool, lockTimeout: Double = 30, now: Int64) {
        self.account = account
        self.network = network
        self.storeChoice = storeChoice
        self.rememberPassword = rememberPassword
        self.lockTimeout = lockTimeout
        self.now = now
    }

    public struct Outcome {
        public var tickets: TicketSet
        public var store: StoreKind
        public var requests: Int
    }

    /// Logs in with `password` and stores the result through `ladder`.
    public func run(password: SecretBytes, ladder: StoreLadder, trace: ((String) -> Void)?, warn: (String) -> Void) throws(GKPassError) -> Outcome {
        // The store is opened first: if the tickets could not be kept, the password is never sent. Nothing is
        // written to it until the whole flow has succeeded.
        let store = try ladder.storeForWriting(storeChoice, warn: warn)
        let (set, requests) = try obtain(password: password, ladder: ladder, trace: trace)
        do {
            let lock = try AccountLock(store: ladder.fileStore, account: account, timeout: lockTimeout)
            defer { withExtendedLifetime(lock) {} }
            try keep(set, password: rememberPassword ? password : nil, in: store, ladder: ladder)
        } catch {
            throw GKPassError(store: error)
        }
        return Outcome(tickets: set, store: store.kind, requests: requests)
    }

    /// The network part: the Passport flow and the chat-site step, nothing stored. Returns the tickets and the
    /// number of HTTPS requests made.
    public func obtain(password: SecretBytes, ladder: StoreLadder, trace: ((String) -> Void)?) throws(GKPassError) -> (TicketSet, Int) {
        // libcurl and the header builder need text; the String lives only for this flow.
        let text = password.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        do {
            let client = try HTTPClient(options: .init(
                caFile: network.caFile, connectTimeout: min(10, max(1, requestTimeout / 3)), totalTimeout: requestTimeout,
                userAgent: "gkpass/\(GKPassVersion.string)"))
            let session = PassportSession(client: client, now: now)
            session.trace = trace
            let set = try signIn(session: session, password: text, nexusCache: NexusCache(store: ladder.fileStore), trace: trace)
            return (set, session.requestCount)
        } catch {
            throw GKPassError(passport: error, while: "logging in \(account) to \(network.name)")
        }
    }

    /// The storage part, for a caller that holds the account's lock: the ticket set (and a password to remember),
    /// the store record with the ticket's expiry (what `list` shows while the keyring is locked), and the default
    /// account when there is none yet.
    public func keep(_ set: TicketSet, password: SecretBytes?, in store: any ItemStore, ladder: StoreLadder) throws(StoreError) {
        try store.write(set.metadata, secret: set.encoded())
        if let password {
            try store.write(ItemMetadata(account: account, network: network.name, kind: .password, expires: nil), secret: password)
        }
        try ladder.fileStore.record(StoreRecord(store: store.kind, expires: TicketSet.format(set.expires)), account: account)
        if try ladder.fileStore.defaultAccount() == nil { try ladder.fileStore.setDefaultAccount(account) }
    }

    func signIn(session: PassportSession, password: String, nexusCache: NexusCache?, trace: ((String) -> Void)?) throws(PassportError) -> TicketSet {
        var tickets: PassportTickets
        var room: PassportURL?
        switch network.flow {
        case .tweener:
            guard let nexus = network.nexusURL.flatMap(PassportURL.init) else {
                throw PassportError(.configuration, "network \(network.name) has no nexus URL")
            }
            tickets = try tweenerSignIn(session, nexus: nexus, password: password, cache: nexusCache, trace: trace)
            if let chat = network.chatRoomURL, var url = PassportURL(chat) {
                // t= and p= on the return URL, as the web flow's DA would put them; no p= when there is no profile.
                url.query += (url.query.isEmpty ? "" : "&") + "t=\(PercentEncoding.encode(tickets.ticket))"
                    + (tickets.profile.isEmpty ? "" : "&p=\(PercentEncoding.encode(tickets.profile))")
                room = url
            }
        case .web:
            guard let post = network.webLoginURL.flatMap(PassportURL.init), let chat = network.chatRoomURL else {
                throw PassportError(.configuration, "network \(network.name) has no web login or chat room URL")
            }
            let result = try WebLogin.signIn(session, postURL: post, siteID: network.siteID, returnURL: chat, member: account, password: password)
            tickets = result.tickets
            room = result.landing
        }
        var cookies: [String: String] = [:]
        for cookie in session.jar.cookies { cookies[cookie.name] = cookie.value }
        if let room {
            let chat = try ChatSiteStep.run(session, room: room)
            for (name, value) in chat.params where ["MSNREGCookie", "SubscriberInfo", "UserRole", "NickName", "MSNProfile", "Server"].contains(name) {
                cookies[name] = value
            }
            if let nickname = chat.nickname { cookies["MSNChatNN"] = nickname }
        }
        let expires = tickets.cookieExpiry ?? (now + network.ticketLifetime)
        return TicketSet(
            account: account, network: network.name, obtained: Date(timeIntervalSince1970: Double(now)),
            expires: Date(timeIntervalSince1970: Double(expires)), ticket: tickets.ticket, profile: tickets.profile, cookies: cookies,
            blobLayout: network.blobLayout.rawValue)
    }
}

extension Login {
    /// Tweener: the DA from the nexus cache when fresh, else from the nexus. Only when a cached DA cannot be reached
    /// at all (nothing was sent) is the cache dropped and the nexus asked once; any answer from it, readable or
    /// not, is final, so the password is sent once per login.
    func tweenerSignIn(_ session: PassportSession, nexus: PassportURL, password: String, cache: NexusCache?, trace: ((String) -> Void)?) throws(PassportError) -> PassportTickets {
        if let cached = cache?.lookup(network: network.name, nexus: nexus.description, now: now), let da = PassportURL(cached.da) {
            trace?("nexus: DA \(da.host) from the cache (\(AccountSummary.describe(remaining: max(1, now - cached.fetched))) old)")
            do {
                return try TweenerLogin.signIn(session, da: da, member: account, password: password, daHosts: Set(network.daHosts))
            } catch where error.kind == .unreachable {
                trace?("nexus: the cached DA failed (\(error.message)); asking the nexus")
                cache?.forget(network: network.name)
            }
        }
        let da = try TweenerLogin.discoverDA(session, nexus: nexus)
        cache?.remember(network: network.name, nexus: nexus.description, da: da.description, now: now)
        do {
            return try TweenerLogin.signIn(session, da: da, member: account, password: password, daHosts: Set(network.daHosts))
        } catch where error.kind == .unreachable {
            // Say where the address came from: it is in no file of the user's.
            throw PassportError(
                .unreachable, error.message + " (the DA the nexus \(nexus.host) named in its DALogin)",
                hint: "the nexus sent DALogin=\(da.host):\(da.port)\(da.path); if that host is wrong, the network's nexus is misconfigured")
        }
    }
}

extension GKPassError {
    /// Passport failures in the exit codes of design.md §4.
    public init(passport error: PassportError, while doing: String) {
        let code: ExitCode
        switch error.kind {
        case .rejected: code = .reauthenticate
        case .unreachable, .network, .tls, .server, .unreadable, .redirectLoop, .library: code = .network
        case .configuration: code = .usage
        }
        self.init(code, "\(error.message) while \(doing)", hint: error.hint, transient: error.isTransient)
    }
}
