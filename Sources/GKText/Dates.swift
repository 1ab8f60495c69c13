/// Days from and to the proleptic Gregorian calendar (Howard Hinnant's algorithms), in Unix time: the arithmetic
/// under ``HTTPDate`` and ``UTCTimestamp``, without Foundation's calendar machinery.
enum CivilTime {
    /// Days since 1970-01-01 of a civil date (`month` 1...12, `day` 1...31; not checked against the month).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (days since 1970-01-01).
    static func date(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// The store's and the JSON output's time stamps: ISO 8601 UTC with seconds and a `Z` suffix,
/// `2026-11-26T13:00:00Z`, in Unix seconds. Computed by hand: Foundation's ISO 8601 style sets up calendar
/// machinery on first use, which cost `gkpass ticket` milliseconds.
public enum UTCTimestamp {
    /// `2026-11-26T13:00:00Z` for a Unix time (a four-digit year at least, zero-padded).
    public static func format(_ seconds: Int64) -> String {
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (year, month, day) = CivilTime.date(days: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
            + "-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }

    /// Whether `text` has the shape ``format(_:)`` writes (`dddd-dd-ddTdd:dd:ddZ`, digits not checked).
    public static func hasFormatShape(_ text: String) -> Bool {
        let b = Array(text.utf8)
        return b.count == 20 && b[4] == 0x2D && b[7] == 0x2D && b[10] == 0x54 && b[13] == 0x3A && b[16] == 0x3A && b[19] == 0x5A
    }

    /// Reads what ``format(_:)`` writes (years 0000-9999); nil for anything else, including other ISO 8601
    /// spellings (offsets, fractions), which callers may hand to a full parser.
    public static func parse(_ text: String) -> Int64? {
        guard hasFormatShape(text) else { return nil }
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return CivilTime.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
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
        // Four-digit years only: a longer one would overflow the arithmetic (and no server sends one).
        guard let day, let month, let year, let (h, m, s) = time, (1...31).contains(day), (0...9999).contains(year),
            h < 24, m < 60, s < 61
        else { return nil }
        return CivilTime.days(year: year, month: month, day: day) * 86_400 + h * 3600 + m * 60 + s
    }
}
