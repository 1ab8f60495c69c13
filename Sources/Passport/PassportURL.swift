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

    /// A `Location` value resolved against this URL: absolute, scheme-relative, absolute-path or relative path.
    public func resolving(_ location: String) -> PassportURL? {
        if location.contains("://") { return PassportURL(location) }
        if location.hasPrefix("//") { return PassportURL(scheme + ":" + location) }
        if location.hasPrefix("/") { return PassportURL(origin + location) }
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return PassportURL(origin + directory + location)
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
