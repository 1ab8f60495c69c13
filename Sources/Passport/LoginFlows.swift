internal import GKText

/// What a login yields: the two Passport tokens the chat server needs and every cookie seen on the way.
public struct PassportTickets: Sendable, Equatable {
    /// PassportTicket: the `t=` value (the chat site's MSPAuth).
    public var ticket: String
    /// PassportProfile: the `p=` value (the chat site's MSPProf).
    public var profile: String
    /// Unix time the latest Passport cookie expires, when the server said (Expires / Max-Age).
    public var cookieExpiry: Int64?
}

extension PassportSession {
    /// Where a 3xx `response` to a request for `url` points, resolved; throws when it points nowhere usable.
    func redirectTarget(_ response: HTTPResponse, from url: PassportURL, _ who: String) throws(PassportError) -> PassportURL {
        guard let location = response.header("Location"), let next = url.resolving(location) else {
            throw PassportError(.unreadable, "\(who) redirected without a usable Location")
        }
        return next
    }

    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]
}

/// Passport 1.4 "Tweener" (protocol.md §3a): the nexus names the DA; the DA takes the credentials in a
/// `Passport1.4` Authorization header and answers with `from-PP` in one of the forms servers use.
///
/// The password's path is narrow on purpose: it goes to the DA, and on from there only when the DA says
/// `da-status=redir` (or the nexus's own DA answers 302) **and** the new host is the DA's own or one the network
/// lists in `da_hosts`, over https. An answer that cannot be read is final: the password is sent once per login.
public enum TweenerLogin {
    /// Asks the nexus where the DA is (`PassportURLs: …,DALogin=host/path,…`).
    public static func discoverDA(_ session: PassportSession, nexus: PassportURL) throws(PassportError) -> PassportURL {
        let response = try session.send(HTTPRequest(url: nexus))
        if (500..<600).contains(response.status) {
            throw PassportError(.server, "the Passport nexus \(nexus.host) answered \(response.status)", hint: "the server is in trouble: try again later (gkpass refresh retries this with backoff)")
        }
        guard (200..<300).contains(response.status) else {
            throw PassportError(.unreadable, "the Passport nexus \(nexus.host) answered \(response.status) instead of PassportURLs")
        }
        guard let header = response.header("PassportURLs") else {
            throw PassportError(.unreadable, "the Passport nexus \(nexus.host) answered \(response.status) without a PassportURLs header")
        }
        guard let text = PassportHeaders.daLoginURL(header), let url = PassportURL(text) else {
            throw PassportError(.unreadable, "the Passport nexus \(nexus.host) sent no usable https DALogin (PassportURLs: \(header.prefix(200)))")
        }
        return url
    }

    /// Signs in at `da`, following redirects that the DA asks for to hosts the network trusts with the password:
    /// `da`'s own host and `daHosts` (lower-case host names).
    public static func signIn(
        _ session: PassportSession, da: PassportURL, member: String, password: String, challenge: String? = nil, daHosts: Set<String> = []
    ) throws(PassportError) -> PassportTickets {
        let authorization = PassportHeaders.tweenerAuthorization(member: member, password: password, challenge: challenge)
        var url = da
        for _ in 0...session.maximumHops {
            let response = try session.send(HTTPRequest(url: url, headers: [("Authorization", authorization)]))
            let where_ = "the Passport DA \(url.host)"
            switch response.status {
            case 200:
                guard let info = response.header("Authentication-Info") else {
                    throw PassportError(.unreadable, "\(where_) answered 200 without an Authentication-Info header, so without tickets")
                }
                guard case .success(let t, let p) = PassportHeaders.status(info) else {
                    throw PassportError(.unreadable, "\(where_) answered 200 with tickets gkpass cannot read (Authentication-Info: \(shape(info)))")
                }
                let expiry = session.jar.cookies.filter { $0.name == "MSPAuth" || $0.name == "MSPProf" }.compactMap(\.expires).max()
                return PassportTickets(ticket: t, profile: p, cookieExpiry: expiry)
            case let status where PassportSession.redirectStatuses.contains(status):
                url = try followable(response, from: url, da: da, daHosts: daHosts)
            case 401:
                let header = response.header("WWW-Authenticate") ?? response.header("Authentication-Info")
                let hint = "check the member name and password, then run gkpass login again (refresh does not retry a rejection)"
                if case .failed(let reason, _) = header.flatMap({ PassportHeaders.status($0) }) {
                    throw PassportError(.rejected, "the server rejected the member name or password" + (reason.map { " (it said: \"\($0)\")" } ?? ""), hint: hint)
                }
                throw PassportError(.rejected, "the server rejected the member name or password (401" + (header.map { ", " + shape($0) } ?? "") + ")", hint: hint)
            case 500..<600:
                throw PassportError(.server, "\(where_) answered \(response.status)", hint: "the server is in trouble, not your account: try again later (gkpass refresh retries this with backoff)")
            default:
                throw PassportError(.unreadable, "\(where_) answered \(response.status), which a DA never does")
            }
        }
        throw PassportError(.redirectLoop, "the Passport DA redirected more than \(session.maximumHops) times")
    }

    /// Where a DA's 3xx may take the password next, or why it may not: the answer must say `da-status=redir` (a
    /// bare 302 only from `da` itself, the DA the nexus named), and the target must be https on `da`'s host or
    /// one of `daHosts`.
    public static func followable(_ response: HTTPResponse, from url: PassportURL, da: PassportURL, daHosts: Set<String>) throws(PassportError) -> PassportURL {
        let info = response.header("Authentication-Info")
        let saysRedirect = info.flatMap { PassportHeaders.status($0) } == .redirect
        let location = response.header("Location") ?? ""
        guard let next = url.resolving(location) else {
            throw PassportError(.unreadable, "the Passport DA \(url.host) redirected without a usable Location")
        }
        guard saysRedirect || (response.status == 302 && url == da) else {
            throw PassportError(
                .unreadable,
                "the Passport DA \(url.host) answered \(response.status) to \(next.host) without da-status=redir; the password is not sent there")
        }
        guard next.scheme == "https" else {
            throw PassportError(.unreadable, "the Passport DA \(url.host) redirected the sign-in to plain http://\(next.host); the password never goes over plain HTTP")
        }
        guard next.host == da.host || daHosts.contains(next.host) else {
            throw PassportError(
                .unreadable, "the Passport DA \(url.host) redirected the sign-in to \(next.host), which is not one of this network's DAs; the password was not sent there",
                hint: "if \(next.host) really is the network's second DA, add it to the network's da_hosts in config.toml")
        }
        return next
    }

    /// A Passport header as the server sent it, with every value that may be a secret shown as its length only.
    static func shape(_ header: String) -> String {
        Redaction.passport(header, secret: Redaction.length) ?? Redaction.length(header)
    }
}

/// The web sign-in MSN Chat used (protocol.md §3b): post the form to `post.srf` with the site ID and return URL,
/// follow redirects until the return URL comes back with `t=` (and `p=`, unless the server issues no profile).
public enum WebLogin {
    /// Returns the tickets and the return URL they came back on (the chat-site step starts there).
    public static func signIn(
        _ session: PassportSession, postURL: PassportURL, siteID: String, returnURL: String, member: String, password: String
    ) throws(PassportError) -> (tickets: PassportTickets, landing: PassportURL) {
        var form = "login=\(PercentEncoding.encode(member))&passwd=\(PercentEncoding.encode(password))"
        form += "&id=\(PercentEncoding.encode(siteID))&ru=\(PercentEncoding.encode(returnURL))&sec=0&mspp_shared=0"
        var bytes = Array(form.utf8)
        defer { bytes.withUnsafeMutableBytes { raw in for i in raw.indices { raw[i] = 0 } } }
        var request = HTTPRequest(method: "POST", url: postURL, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: bytes)
        for _ in 0...session.maximumHops {
            let response = try session.send(request)
            switch response.status {
            case let status where PassportSession.redirectStatuses.contains(status):
                let next = try session.redirectTarget(response, from: request.url, "the Passport sign-in")
                // t= is the ticket (KB Q299644: t, p and f are reserved on return URLs); servers that issue no
                // profile return t= alone.
                if let t = next.queryValue("t"), !t.isEmpty {
                    let p = next.queryValue("p") ?? ""
                    let expiry = session.jar.cookies.filter { $0.name == "MSPAuth" || $0.name == "MSPProf" }.compactMap(\.expires).max()
                    return (PassportTickets(ticket: t, profile: p, cookieExpiry: expiry), next)
                }
                if let code = next.queryValue("ec") {
                    let (message, rejected) = WebLoginError.describe(code)
                    throw PassportError(rejected ? .rejected : .configuration, message)
                }
                request = HTTPRequest(url: next)
            case 500..<600:
                throw PassportError(.server, "the Passport sign-in at \(request.url.host) answered \(response.status); try again later")
            default:
                throw PassportError(.unreadable, "the Passport sign-in at \(request.url.host) answered \(response.status) instead of returning to the site")
            }
        }
        throw PassportError(.redirectLoop, "the Passport sign-in redirected more than \(session.maximumHops) times")
    }
}

/// The chat-site step (protocol.md §3c): follow the room page through `msnredir.asp` (which sets MSNChatNN) to the
/// control page, and read its PARAMs.
public enum ChatSiteStep {
    /// What the control page gave. (Not `Result`, which would shadow `Swift.Result` inside this type.)
    public struct Collected: Sendable, Equatable {
        /// The control's PARAMs: PassportTicket, PassportProfile, MSNREGCookie, NickName, Server, …
        public var params: [String: String]
        /// The MSNChatNN cookie, when the site set one.
        public var nickname: String?
    }

    public static func run(_ session: PassportSession, room: PassportURL) throws(PassportError) -> Collected {
        var url = room
        for _ in 0...session.maximumHops {
            let response = try session.send(HTTPRequest(url: url))
            switch response.status {
            case 200:
                let params = ChatPage.params(response.body)
                guard params["PassportTicket"] != nil || params["MSNREGCookie"] != nil else {
                    throw PassportError(.unreadable, "the chat page at \(url.host) carries no chat control PARAMs")
                }
                return Collected(params: params, nickname: session.jar.value("MSNChatNN").flatMap { PercentEncoding.decode($0) })
            case let status where PassportSession.redirectStatuses.contains(status):
                let next = try session.redirectTarget(response, from: url, "the chat site")
                if next.path.hasSuffix("/login.srf") || next.path.hasSuffix("/post.srf") {
                    throw PassportError(.unreadable, "the chat site sent us back to sign in: it did not accept the tickets")
                }
                url = next
            case 500..<600:
                throw PassportError(.server, "the chat site \(url.host) answered \(response.status); try again later")
            default:
                throw PassportError(.unreadable, "the chat site \(url.host) answered \(response.status)")
            }
        }
        throw PassportError(.redirectLoop, "the chat site redirected more than \(session.maximumHops) times")
    }
}
