/// One `Set-Cookie` header (RFC 6265 §5.2, the parts a Passport login needs), parsed leniently the way browsers do:
/// the name and value up to the first `;`, then attributes. Values keep `=` (base64 padding) and are not decoded.
public struct SetCookie: Equatable, Sendable {
    public var name: String
    public var value: String
    /// Lower-cased, without a leading dot; nil for a host-only cookie.
    public var domain: String?
    public var path: String?
    /// Seconds from the response, if `Max-Age` was given (it wins over `Expires`).
    public var maxAge: Int64?
    /// Unix time from `Expires`, if it parsed.
    public var expires: Int64?
    public var secure: Bool
    public var httpOnly: Bool

    /// Nil for headers with no `name=` (which browsers ignore too).
    public init?(header: String) {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        guard let first = parts.first, let equals = first.firstIndex(of: "=") else { return nil }
        let name = first[..<equals].trimmedSpaces()
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        self.name = name
        self.value = first[first.index(after: equals)...].trimmedSpaces()
        secure = false
        httpOnly = false
        for attribute in parts.dropFirst() {
            let pair = attribute.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].trimmedSpaces().lowercased()
            let value = pair.count > 1 ? pair[1].trimmedSpaces() : ""
            switch key {
            case "domain":
                let lowered = value.lowercased()
                domain = lowered.hasPrefix(".") ? String(lowered.dropFirst()) : (lowered.isEmpty ? nil : lowered)
            case "path": path = value.hasPrefix("/") ? value : nil
            case "max-age": maxAge = Int64(value)
            case "expires": expires = HTTPDate.parse(value)
            case "secure": secure = true
            case "httponly": httpOnly = true
            default: continue
            }
        }
    }

    /// When the cookie stops being valid (Unix time), from Max-Age (relative to `now`) or Expires; nil for a
    /// session cookie.
    public func expiry(now: Int64) -> Int64? {
        if let maxAge { return now + maxAge }
        return expires
    }
}

/// HTTP dates: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the RFC 850 / cookie variants with dashes.
public enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Unix time, or nil when the text is not a date.
    public static func parse(_ text: String) -> Int64? {
        // Tokens: day-of-month, month name, year, hh:mm:ss; the weekday and "GMT" are ignored.
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "," })
        var day: Int64?, month: Int64?, year: Int64?, time: (Int64, Int64, Int64)?
        for token in tokens {
            let lower = token.lowercased()
            if let index = months.firstIndex(of: String(lower.prefix(3))), lower.count >= 3, lower.allSatisfy(\.isLetter) {
                month = Int64(index + 1)
            } else if token.contains(":") {
                let parts = token.split(separator: ":").compactMap { Int64($0) }
                if parts.count == 3 { time = (parts[0], parts[1], parts[2]) }
            } else if let number = Int64(token) {
                if token.count <= 2 && day == nil { day = number } else { year = number < 100 ? number + (number < 70 ? 2000 : 1900) : number }
            }
        }
        guard let day, let month, let year, let (h, m, s) = time, (1...31).contains(day), h < 24, m < 60, s < 61 else {
            return nil
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + h * 3600 + m * 60 + s
    }
}
