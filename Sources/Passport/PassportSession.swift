internal import Crypto
internal import GKText

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
            if let body = request.body { trace("> (body) \(Redaction.form(String(decoding: body, as: UTF8.self)))") }
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

/// Replaces secrets in trace lines with a keyed fingerprint, keeping the shape around them: header field names,
/// `da-status=success`, cookie names and attributes, and each secret's length. Enough to tell two values apart
/// within one run and to see what a server answered; nothing that can be checked against a guess.
///
/// The fingerprint is HMAC-SHA256 under a key drawn at random once per process and never written anywhere, cut
/// to 8 hex digits: without the key, a fingerprint says nothing about the value (an unkeyed hash of a password
/// falls to a dictionary in seconds).
public enum Redaction {
    /// The per-run key: 256 random bits from the system's generator, made on first use.
    static let key = SymmetricKey(size: .bits256)

    /// `‹redacted:1a2b3c4d len=12›` for `value` (its UTF-8 length).
    public static func fingerprint(_ value: some StringProtocol) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(value.utf8), using: key)
        let hex = Hex.encode(mac.prefix(4), uppercase: false)
        return "‹redacted:\(hex) len=\(value.utf8.count)›"
    }

    /// `‹12 bytes›`: only the length, for error messages that show what a server answered.
    public static func length(_ value: some StringProtocol) -> String { "‹\(value.utf8.count) bytes›" }

    static let secretHeaders: Set<String> = ["cookie", "authorization", "authentication-info", "www-authenticate"]
    static let secretParameters: Set<String> = ["t", "p", "passwd", "pwd", "password", "login", "sign-in"]
    /// Passport1.4 fields whose values are protocol words, URLs of the service or its messages, never credentials.
    static let publicPassportFields: Set<String> = [
        "da-status", "dastatus", "tname", "ru", "orgverb", "orgurl", "srealm", "ts", "prompt", "cburl", "cbtxt", "lc", "id",
        "tw", "fs", "kv", "kpp", "ver", "rn", "tpf", "ct", "rver", "wp", "elapsed-time",
    ]

    public static func header(_ name: String, _ value: String) -> String {
        header(name, value, secret: fingerprint)
    }

    /// A header with its secrets replaced by `secret(value)`: Passport1.4 headers field by field, cookies by name,
    /// Location as a URL; any other secret-bearing header whole.
    public static func header(_ name: String, _ value: String, secret: (Substring) -> String) -> String {
        let lowered = name.lowercased()
        switch lowered {
        case "set-cookie":
            // Keep the cookie's name and attributes, hide its value.
            let parts = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            let pair = parts[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return pair[0] + "=" + secret(pair.count > 1 ? pair[1] : "") + (parts.count > 1 ? ";" + parts[1] : "")
        case "cookie":
            return value.split(separator: ";").map { item in
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return pair[0].trimmedSpaces() + "=" + secret(pair.count > 1 ? pair[1] : "")
            }.joined(separator: "; ")
        case "authorization", "authentication-info", "www-authenticate":
            return passport(value, secret: secret) ?? secret(Substring(value))
        case "location":
            return url(value, secret: secret)
        default:
            return secretHeaders.contains(lowered) ? secret(Substring(value)) : value
        }
    }

    /// A `Passport1.4 …` header field by field: names kept, protocol words kept, every other value replaced;
    /// `from-PP` keeps its `t=`/`p=` structure. Nil when the header is not Passport1.4.
    public static func passport(_ value: String, secret: (Substring) -> String) -> String? {
        guard let fields = PassportHeaders.fields(value) else { return nil }
        let rendered = fields.map { field -> String in
            guard let text = field.value else { return field.key }
            let key = field.key.lowercased()
            if publicPassportFields.contains(key) { return field.key + "=" + text }
            if key == "from-pp" {
                let inner = text.split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
                    let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    return pair.count == 2 && (pair[0] == "t" || pair[0] == "p") ? pair[0] + "=" + secret(pair[1]) : secret(item)
                }
                return field.key + "='" + inner.joined(separator: "&") + "'"
            }
            return field.key + "=" + secret(Substring(text))
        }
        return "Passport1.4 " + rendered.joined(separator: ",")
    }

    /// A form body (`login=…&passwd=…&id=2260`) with the values of member names, passwords and tickets
    /// fingerprinted and the rest shown.
    public static func form(_ body: String) -> String { String(url("?" + body, secret: fingerprint).dropFirst()) }

    /// A URL with the values of t, p and password-like query parameters fingerprinted.
    public static func url(_ text: String) -> String { url(text, secret: fingerprint) }

    static func url(_ text: String, secret: (Substring) -> String) -> String {
        guard let question = text.firstIndex(of: "?") else { return text }
        let query = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, secretParameters.contains(pair[0].lowercased()) else { return String(item) }
            return pair[0] + "=" + secret(pair[1])
        }
        return text[...question] + query.joined(separator: "&")
    }
}
