internal import CLoader
internal import GKText

/// The parts of an http(s) URL the login flows need, parsed by bytes (no Foundation URL, which normalises).
public struct PassportURL: Equatable, Sendable, CustomStringConvertible {
    public var scheme: String
    /// Lower-cased host; IPv6 literals without brackets.
    public var host: String
    public var port: Int
    /// Starts with `/`.
    public var path: String
    /// Without the `?`; empty when absent.
    public var query: String

    public init?(_ text: String) {
        guard let schemeEnd = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { return nil }
        var rest = text[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        guard !authority.contains("@") else { return nil }  // no credentials in URLs
        var port = scheme == "https" ? 443 : 80
        var host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            authority = authority[authority.index(after: close)...]
            if authority.hasPrefix(":") {
                guard let value = Int(authority.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            } else if !authority.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            host = authority
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" }) else { return nil }
        var pathAndQuery = rest[authorityEnd...]
        if pathAndQuery.isEmpty { pathAndQuery = "/" }
        if pathAndQuery.hasPrefix("?") { pathAndQuery = "/" + pathAndQuery }
        let question = pathAndQuery.firstIndex(of: "?")
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.path = String(question.map { pathAndQuery[..<$0] } ?? pathAndQuery)
        self.query = question.map { String(pathAndQuery[pathAndQuery.index(after: $0)...]) } ?? ""
    }

    /// A `Location` value resolved against this URL as RFC 3986 §5.2 says (`?q` against `/a/b` is `/a/b?q`; dot
    /// segments removed), by libcurl's URL API: the parser that will fetch the result. Nil when libcurl cannot be
    /// loaded, when libcurl refuses the value, or when the result is not an http(s) URL this type accepts.
    public func resolving(_ location: String) -> PassportURL? {
        // An empty reference or a fragment alone names this same document (RFC 3986 §5.2.2: base path and query).
        // libcurl 7.88 resolves `#s` to the base's directory instead, so these do not go to it.
        if location.isEmpty || location.hasPrefix("#") { return self }
        guard gk_curl_load() == nil, let url = CURLURL() else { return nil }
        guard url.set(description), url.set(location) else { return nil }
        return url.string.flatMap(PassportURL.init)
    }

    public var origin: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return "\(scheme)://\(hostText)" + (port == defaultPort ? "" : ":\(port)")
    }

    public var description: String { origin + path + (query.isEmpty ? "" : "?" + query) }

    /// The first value of query parameter `name`, form-decoded.
    public func queryValue(_ name: String) -> String? {
        PercentEncoding.queryItems(query).first { $0.name == name }?.value
    }
}

/// One libcurl URL handle (`CURLU`), owned here and freed on deinit (style.md "For gkpass" 13). Setting a URL on a
/// handle that holds one resolves it against the one held. Requires a successful `gk_curl_load()`.
private struct CURLURL: ~Copyable {
    private let handle: OpaquePointer

    init?() {
        guard let handle = gk_curl_url() else { return nil }
        self.handle = handle
    }

    deinit { gk_curl_url_cleanup(handle) }

    /// Sets the whole URL, or resolves a relative one against the URL already set. False when libcurl refuses it.
    func set(_ text: String) -> Bool {
        gk_curl_url_set(handle, CURLUPART_URL, text, 0) == CURLUE_OK
    }

    /// The whole URL as libcurl normalised it.
    var string: String? {
        var text: UnsafeMutablePointer<CChar>?
        guard gk_curl_url_get(handle, CURLUPART_URL, &text, 0) == CURLUE_OK, let text else { return nil }
        defer { gk_curl_free(text) }
        return String(cString: text)
    }
}
