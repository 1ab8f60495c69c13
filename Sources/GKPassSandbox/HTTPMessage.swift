/// A request as the site logic sees it: already framed by the HTTP server, nothing decoded that matters.
public struct SiteRequest: Sendable {
    public var method: String
    /// The path without the query.
    public var path: String
    /// The raw query string (after `?`), undecoded.
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
            query = ""
        }
        self.headers = headers
        self.body = body
    }

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// Query parameters, then for form POSTs body parameters.
    public var parameters: [(String, String)] {
        var pairs = FormEncoding.parse(query)
        if method == "POST", header("Content-Type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            pairs += FormEncoding.parse(String(decoding: body, as: UTF8.self))
        }
        return pairs
    }

    public func parameter(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }

    /// Cookies from every `Cookie:` header (`a=b; c=d`), first value wins.
    public var cookies: [String: String] {
        var result: [String: String] = [:]
        for header in headers where header.name.lowercased() == "cookie" {
            for pair in header.value.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let key = parts[0].trimmed()
                if result[key] == nil { result[key] = parts[1].trimmed() }
            }
        }
        return result
    }
}

public struct SiteResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = Array(body.utf8)
    }

    public static func redirect(_ location: String, extra: [(name: String, value: String)] = []) -> SiteResponse {
        SiteResponse(status: 302, headers: [("Location", location)] + extra, body: "")
    }

    public static func html(_ body: String, status: Int = 200, extra: [(name: String, value: String)] = []) -> SiteResponse {
        SiteResponse(status: status, headers: [("Content-Type", "text/html; charset=utf-8")] + extra, body: body)
    }

    public static func text(_ status: Int, _ body: String) -> SiteResponse {
        SiteResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: body + "\n")
    }

    public static func reason(for status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 302: return "Found"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 413: return "Payload Too Large"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmed() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
