/// One login's HTTP conversation: the libcurl client, the in-memory cookie jar, a hop limit, and a trace for
/// `--verbose` in which every secret is replaced by a short fingerprint.
public final class PassportSession {
    public let client: HTTPClient
    public private(set) var jar = CookieJar()
    /// Unix time; injected so tests and the caller decide what "now" is (read once per command).
    public let now: Int64
    /// Redirects followed per flow before giving up (`.redirectLoop`).
    public let maximumHops: Int
    /// Receives one redacted line per request and response when set.
    public var trace: ((String) -> Void)?
    /// Requests made so far (the docs compare the count with curl's).
    public private(set) var requestCount = 0

    public init(client: HTTPClient, now: Int64, maximumHops: Int = 10) {
        self.client = client
        self.now = now
        self.maximumHops = maximumHops
    }

    /// Sends `request` with the jar's cookies, stores the response's cookies, traces both (redacted).
    public func send(_ request: HTTPRequest) throws(PassportError) -> HTTPResponse {
        var request = request
        if let cookie = jar.header(for: request.url, now: now) { request.headers.append(("Cookie", cookie)) }
        requestCount += 1
        if let trace {
            trace("> \(request.method) \(Redaction.url(request.url.description))")
            for header in request.headers { trace("> \(header.name): \(Redaction.header(header.name, header.value))") }
        }
        let response = try client.send(request)
        if let trace {
            trace("< \(response.status)")
            for header in response.headers { trace("< \(header.name): \(Redaction.header(header.name, header.value))") }
        }
        for value in response.headers(named: "Set-Cookie") {
            if let cookie = SetCookie(header: value) { jar.store(cookie, from: request.url, now: now) }
        }
        return response
    }
}

/// Replaces secrets with a fingerprint in trace lines: enough to tell two values apart, nothing to reuse.
public enum Redaction {
    /// `‹redacted:1a2b3c4d›`: FNV-1a of the value, 32 bits. Not a secure hash; it only distinguishes values.
    public static func fingerprint(_ value: some StringProtocol) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in value.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return "‹redacted:" + String(repeating: "0", count: 8 - hex.count) + hex + "›"
    }

    static let secretHeaders: Set<String> = ["cookie", "set-cookie", "authorization", "authentication-info"]
    static let secretParameters: Set<String> = ["t", "p", "passwd", "pwd", "password", "login", "sign-in"]

    public static func header(_ name: String, _ value: String) -> String {
        let lowered = name.lowercased()
        if lowered == "set-cookie" {
            // Keep the cookie's name and attributes, hide its value.
            let parts = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            let pair = parts[0].split(separator: "=", maxSplits: 1)
            return pair[0] + "=" + fingerprint(pair.count > 1 ? pair[1] : "") + (parts.count > 1 ? ";" + parts[1] : "")
        }
        if secretHeaders.contains(lowered) { return fingerprint(value) }
        if lowered == "location" { return url(value) }
        return value
    }

    /// A URL with the values of t, p and password-like query parameters fingerprinted.
    public static func url(_ text: String) -> String {
        guard let question = text.firstIndex(of: "?") else { return text }
        let query = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, secretParameters.contains(pair[0].lowercased()) else { return String(item) }
            return pair[0] + "=" + fingerprint(pair[1])
        }
        return text[...question] + query.joined(separator: "&")
    }
}
