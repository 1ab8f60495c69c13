internal import GKText

/// Parsers for the Passport 1.4 headers (protocol.md §3a; MS-PASS 2.2). All pure: a header value in, a value out.
public enum PassportHeaders {
    /// The `PassportURLs` nexus header: `DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,…`.
    /// Keys are case-sensitive as sent; the first of a repeated key wins.
    public static func passportURLs(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmedSpaces()
            if result[key] == nil { result[key] = pair[1].trimmedSpaces() }
        }
        return result
    }

    /// The DA login URL from a nexus reply: `DALogin` has no scheme in real replies, so `https://` is added; a
    /// value that names another scheme is refused (a Passport password never goes over plain HTTP).
    public static func daLoginURL(_ header: String) -> String? {
        guard let value = passportURLs(header)["DALogin"], !value.isEmpty else { return nil }
        if value.lowercased().hasPrefix("https://") { return value }
        if value.contains("://") { return nil }
        return "https://" + value
    }

    /// One `Passport1.4 k=v,k='v,with,commas',flag` header as ordered fields. Values may be single-quoted, and
    /// then hold commas, `&` and `=` (`from-PP='t=…&p=…'`); a value splits at the first `=` only. Nil when the
    /// scheme is not Passport1.4.
    public static func fields(_ header: String) -> [(key: String, value: String?)]? {
        let scheme = "passport1.4"
        let text = header.trimmedSpaces()
        guard text.prefix(scheme.count).lowercased() == scheme else { return nil }
        var fields: [(key: String, value: String?)] = []
        var rest = Substring(text.dropFirst(scheme.count))
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard !rest.isEmpty else { break }
            let keyEnd = rest.firstIndex { $0 == "=" || $0 == "," } ?? rest.endIndex
            let key = rest[..<keyEnd].trimmedSpaces()
            rest = rest[keyEnd...]
            guard rest.first == "=" else {
                fields.append((key, nil))
                continue
            }
            rest = rest.dropFirst()
            if rest.first == "'" {
                let body = rest.dropFirst()
                let close = body.firstIndex(of: "'") ?? body.endIndex
                fields.append((key, String(body[..<close])))
                rest = close < body.endIndex ? body[body.index(after: close)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                fields.append((key, rest[..<end].trimmedSpaces()))
                rest = rest[end...]
            }
        }
        return fields
    }

    /// What a DA said in `Authentication-Info` or `WWW-Authenticate`.
    public enum Status: Equatable, Sendable {
        /// `da-status=success`: the ticket, and the profile (empty when the server gives none).
        case success(ticket: String, profile: String)
        /// `da-status=redir`: resend the same Authorization to the Location (if it is one of the network's DAs).
        case redirect
        /// `da-status=failed` or `failed-noretry`: `cbtxt`, decoded, is the server's reason.
        case failed(reason: String?, noRetry: Bool)
    }

    /// Reads `da-status` (or the `dastatus` spelling one msnp-wiki revision shows) and its companions, keys in any
    /// order and case. Nil when the header says nothing a client can act on (no status, an unknown status, a
    /// success without a ticket).
    public static func status(_ header: String) -> Status? {
        guard let fields = fields(header) else { return nil }
        func value(_ name: String) -> String? { fields.first { $0.key.lowercased() == name }?.value ?? nil }
        guard let status = value("da-status") ?? value("dastatus") else { return nil }
        switch status.lowercased() {
        case "success":
            guard let fromPP = value("from-pp"), let (ticket, profile) = tokens(fromPP: fromPP) else { return nil }
            return .success(ticket: ticket, profile: profile)
        case "redir":
            return .redirect
        case "failed", "failed-noretry":
            return .failed(reason: value("cbtxt").flatMap { PercentEncoding.decode($0) }, noRetry: status.lowercased() == "failed-noretry")
        default:
            return nil
        }
    }

    /// The ticket and profile in a `from-PP` value, in the three forms servers send (protocol.md §3a step 4):
    /// `t=TICKET&p=PROFILE` in any order (MS-PASS, MSN 2003 captures), `t=TICKET` alone, and a bare `TOKEN`
    /// (Messenger revival servers: the token is the ticket; there is no profile). Tokens are raw: base64 padding
    /// `=` stays inside a value, `&` separates fields. Nil for an empty ticket, a profile without a ticket, or a
    /// token with spaces or quotes in it.
    public static func tokens(fromPP value: String) -> (ticket: String, profile: String)? {
        let items = value.split(separator: "&", omittingEmptySubsequences: false)
        var ticket: Substring?, profile: Substring?, keyed = false
        for item in items {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == "t" || pair[0] == "p" else { continue }
            keyed = true
            if pair[0] == "t" && ticket == nil { ticket = pair[1] }
            if pair[0] == "p" && profile == nil { profile = pair[1] }
        }
        if !keyed { ticket = Substring(value) }
        guard let ticket, !ticket.isEmpty, isToken(ticket), isToken(profile ?? "") else { return nil }
        return (String(ticket), String(profile ?? ""))
    }

    /// Printable ASCII without space, quote, comma or `&`: what Passport tokens are made of, and what can travel
    /// in a cookie, a URL query and an IRCX line without escaping.
    static func isToken(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x27 && $0 != 0x22 && $0 != 0x2C && $0 != 0x26 }
    }

    /// The Tweener `Authorization` header (MS-PASS 2.2.7 order: sign-in, pwd, OrgVerb, OrgURL, then the challenge
    /// fields). `sign-in` and `pwd` are percent-escaped, commas included.
    public static func tweenerAuthorization(
        member: String, password: String, orgURL: String = "http://messenger.msn.com", challenge: String? = nil
    ) -> String {
        var header = "Passport1.4 OrgVerb=GET,OrgURL=\(PercentEncoding.encode(orgURL)),sign-in=\(PercentEncoding.encode(member)),pwd=\(PercentEncoding.encode(password))"
        if let challenge, !challenge.isEmpty { header += "," + challenge }
        return header
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmedSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
