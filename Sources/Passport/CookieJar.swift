/// An in-memory cookie jar for one login, never written to disk (URLSession's would be). libcurl's cookie engine
/// also keeps cookies in memory, but hands them back only as cookies.txt lines (CURLINFO_COOKIELIST); the flows
/// read them as values (MSNChatNN, MSPAuth's expiry) and trace each hop's Set-Cookie, so the jar is ours. Domain and
/// path matching per RFC 6265 §5.1.3-5.1.4, simplified for a single login session.
public struct CookieJar: Sendable {
    public struct Cookie: Equatable, Sendable {
        public var name: String
        public var value: String
        /// The host it was set by (host-only) or the Domain attribute.
        public var domain: String
        public var hostOnly: Bool
        public var path: String
        public var secure: Bool
        /// Unix time, nil for session cookies.
        public var expires: Int64?
    }

    public private(set) var cookies: [Cookie] = []

    public init() {}

    /// Stores `setCookie` received from `url` at `now`; a cookie for a domain the host is not inside is ignored,
    /// and an expired one deletes its namesake.
    public mutating func store(_ setCookie: SetCookie, from url: PassportURL, now: Int64) {
        var domain = url.host, hostOnly = true
        if let attribute = setCookie.domain {
            guard url.host == attribute || url.host.hasSuffix("." + attribute) else { return }
            domain = attribute
            hostOnly = false
        }
        let path = setCookie.path ?? Self.defaultPath(url.path)
        cookies.removeAll { $0.name == setCookie.name && $0.domain == domain && $0.path == path }
        let expires = setCookie.expiry(now: now)
        if let expires, expires <= now { return }
        cookies.append(Cookie(name: setCookie.name, value: setCookie.value, domain: domain, hostOnly: hostOnly, path: path, secure: setCookie.secure, expires: expires))
    }

    /// The `Cookie:` header value for a request to `url`, or nil when no cookie applies.
    public func header(for url: PassportURL, now: Int64) -> String? {
        let matching = cookies.filter { cookie in
            let domainMatches = cookie.hostOnly ? url.host == cookie.domain : (url.host == cookie.domain || url.host.hasSuffix("." + cookie.domain))
            let pathMatches = url.path == cookie.path || url.path.hasPrefix(cookie.path.hasSuffix("/") ? cookie.path : cookie.path + "/")
            return domainMatches && pathMatches && (!cookie.secure || url.scheme == "https") && (cookie.expires.map { $0 > now } ?? true)
        }
        guard !matching.isEmpty else { return nil }
        return matching.sorted { $0.path.count > $1.path.count }.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    /// The newest value of cookie `name` from any domain.
    public func value(_ name: String) -> String? { cookies.last { $0.name == name }?.value }

    static func defaultPath(_ path: String) -> String {
        guard path.hasPrefix("/"), let last = path.lastIndex(of: "/"), last != path.startIndex else { return "/" }
        return String(path[..<last])
    }
}
