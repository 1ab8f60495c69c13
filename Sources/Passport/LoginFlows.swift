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
            throw PassportError(.server, "\(who) redirected without a usable Location")
        }
        return next
    }

    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]
}

/// Passport 1.4 "Tweener" (protocol.md §3a): the nexus names the DA; the DA takes the credentials in a
/// `Passport1.4` Authorization header and answers with `from-PP='t=…&p=…'`.
public enum TweenerLogin {
    /// Asks the nexus where the DA is (`PassportURLs: …,DALogin=host/path,…`).
    public static func discoverDA(_ session: PassportSession, nexus: PassportURL) throws(PassportError) -> PassportURL {
        let response = try session.send(HTTPRequest(url: nexus))
        guard (200..<300).contains(response.status) else {
            throw PassportError(.server, "the Passport nexus \(nexus.host) answered \(response.status)" + ((500..<600).contains(response.status) ? "; try again later" : ""))
        }
        guard let header = response.header("PassportURLs"), let text = PassportHeaders.daLoginURL(header),
            let url = PassportURL(text)
        else { throw PassportError(.server, "the Passport nexus \(nexus.host) sent no usable DALogin") }
        return url
    }

    /// Signs in at `da`, following `da-status=redir` redirects with the same Authorization.
    public static func signIn(_ session: PassportSession, da: PassportURL, member: String, password: String, challenge: String? = nil) throws(PassportError) -> PassportTickets {
        let authorization = PassportHeaders.tweenerAuthorization(member: member, password: password, challenge: challenge)
        var url = da
        for _ in 0...session.maximumHops {
            let response = try session.send(HTTPRequest(url: url, headers: [("Authorization", authorization)]))
            switch response.status {
            case 200:
                guard let info = response.header("Authentication-Info"), case .success(let t, let p) = PassportHeaders.status(info) else {
                    throw PassportError(.server, "the Passport DA \(url.host) answered 200 without tickets")
                }
                return PassportTickets(ticket: t, profile: p, cookieExpiry: nil)
            case let status where PassportSession.redirectStatuses.contains(status):
                url = try session.redirectTarget(response, from: url, "the Passport DA \(url.host)")
            case 401:
                let status = (response.header("WWW-Authenticate") ?? response.header("Authentication-Info")).flatMap { PassportHeaders.status($0) }
                if case .failed(let reason, _) = status {
                    throw PassportError(.rejected, "the server rejected the member name or password" + (reason.map { ": \($0)" } ?? ""))
                }
                throw PassportError(.rejected, "the server rejected the member name or password (401)")
            case 500..<600:
                throw PassportError(.server, "the Passport DA \(url.host) answered \(response.status); try again later")
            default:
                throw PassportError(.server, "the Passport DA \(url.host) answered \(response.status), which a DA never does")
            }
        }
        throw PassportError(.redirectLoop, "the Passport DA redirected more than \(session.maximumHops) times")
    }
}

/// The web sign-in MSN Chat used (protocol.md §3b): post the form to `post.srf` with the site ID and return URL,
/// follow redirects until the return URL comes back with `t=` and `p=`.
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
                if let t = next.queryValue("t"), let p = next.queryValue("p"), !t.isEmpty {
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
                throw PassportError(.server, "the Passport sign-in at \(request.url.host) answered \(response.status) instead of returning to the site")
            }
        }
        throw PassportError(.redirectLoop, "the Passport sign-in redirected more than \(session.maximumHops) times")
    }
}

/// The chat-site step (protocol.md §3c): follow the room page through `msnredir.asp` (which sets MSNChatNN) to the
/// control page, and read its PARAMs.
public enum ChatSiteStep {
    public struct Result: Sendable, Equatable {
        /// The control's PARAMs: PassportTicket, PassportProfile, MSNREGCookie, NickName, Server, …
        public var params: [String: String]
        /// The MSNChatNN cookie, when the site set one.
        public var nickname: String?
    }

    public static func run(_ session: PassportSession, room: PassportURL) throws(PassportError) -> Result {
        var url = room
        for _ in 0...session.maximumHops {
            let response = try session.send(HTTPRequest(url: url))
            switch response.status {
            case 200:
                let params = ChatPage.params(response.body)
                guard params["PassportTicket"] != nil || params["MSNREGCookie"] != nil else {
                    throw PassportError(.server, "the chat page at \(url.host) carries no chat control PARAMs")
                }
                return Result(params: params, nickname: session.jar.value("MSNChatNN").flatMap { PercentEncoding.decode($0) })
            case let status where PassportSession.redirectStatuses.contains(status):
                let next = try session.redirectTarget(response, from: url, "the chat site")
                if next.path.hasSuffix("/login.srf") || next.path.hasSuffix("/post.srf") {
                    throw PassportError(.server, "the chat site sent us back to sign in: it did not accept the tickets")
                }
                url = next
            case 500..<600:
                throw PassportError(.server, "the chat site \(url.host) answered \(response.status); try again later")
            default:
                throw PassportError(.server, "the chat site \(url.host) answered \(response.status)")
            }
        }
        throw PassportError(.redirectLoop, "the chat site redirected more than \(session.maximumHops) times")
    }
}
