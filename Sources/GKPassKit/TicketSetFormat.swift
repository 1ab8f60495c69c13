import TicketStore

/// Renderings of a ticket set for other programs (`gkpass ticket`, `gkpass export`) and people (`gkpass status`).
/// Pure: a set (and a cookie domain) in, text out. Only what the login collected is printed; nothing is invented.
public enum TicketSetFormat {
    public static func expires(_ set: TicketSet) -> String { TicketSet.format(set.expires) }

    /// Values the login read from the chat page's PARAMs (protocol.md §2.4), not HTTP cookies.
    public static let pageParameters: Set<String> = ["MSNREGCookie", "SubscriberInfo", "UserRole", "NickName", "MSNProfile", "Server"]

    /// The HTTP cookies of the set (what the chat site set: MSPAuth, MSPProf, MSNChatNN, …), sorted by name.
    public static func httpCookies(_ set: TicketSet) -> [(name: String, value: String)] {
        set.cookies.filter { !pageParameters.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The chat page's values, sorted by name.
    public static func pageValues(_ set: TicketSet) -> [(name: String, value: String)] {
        set.cookies.filter { pageParameters.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// POSIX shell single quotes; a quote inside becomes '\''.
    public static func shellQuote(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// `export NAME='value'` lines: the account, network, times, ticket and profile, then every cookie and chat
    /// page value the login collected as `GKPASS_<NAME>` (upper case, ASCII letters and digits, `_` for the rest),
    /// or `GKPASS_COOKIE_<NAME>` where that name is gkpass's own or another cookie's.
    public static func environment(_ set: TicketSet) -> String {
        var pairs = [
            ("GKPASS_ACCOUNT", set.account), ("GKPASS_NETWORK", set.network), ("GKPASS_OBTAINED", TicketSet.format(set.obtained)),
            ("GKPASS_EXPIRES", TicketSet.format(set.expires)), ("GKPASS_TICKET", set.ticket), ("GKPASS_PROFILE", set.profile),
        ]
        // A cookie never overrides gkpass's own variables nor another cookie: a cookie called TICKET (or two whose
        // names differ only in punctuation) gets GKPASS_COOKIE_<NAME> (then _2, _3, …) instead.
        var taken = Set(pairs.map(\.0))
        for (name, value) in set.cookies.sorted(by: { $0.key < $1.key }) {
            let safe = name.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? String($0) : "_" }.joined()
            var variable = "GKPASS_" + safe
            var suffix = 1
            while taken.contains(variable) {
                variable = "GKPASS_COOKIE_" + safe + (suffix > 1 ? "_\(suffix)" : "")
                suffix += 1
            }
            taken.insert(variable)
            pairs.append((variable, value))
        }
        return pairs.map { "export \($0.0)=\(shellQuote($0.1))\n" }.joined()
    }

    /// A Netscape cookies.txt (what `curl -b` and `wget --load-cookies` read) for `domain`: the HTTP cookies only,
    /// secure, path `/`, expiring with the ticket. Values with a tab or newline cannot be written and are refused.
    public static func netscape(_ set: TicketSet, domain: String) -> String? {
        var out = "# Netscape HTTP Cookie File\n# gkpass export for \(set.account) on \(set.network); contains secrets.\n"
        let expiry = Int64(set.expires.timeIntervalSince1970)
        for (name, value) in httpCookies(set) {
            guard !(name + value).contains(where: { $0 == "\t" || $0.isNewline }) else { return nil }
            out += "\(domain)\tFALSE\t/\tTRUE\t\(expiry)\t\(name)\t\(value)\n"
        }
        return out
    }

    /// `Cookie: a=b; c=d`, the HTTP cookies in one request header.
    public static func cookieHeader(_ set: TicketSet) -> String {
        "Cookie: " + httpCookies(set).map { "\($0.name)=\($0.value)" }.joined(separator: "; ") + "\n"
    }
}
