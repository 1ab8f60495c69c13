/// Reads the MSN Chat control's `<PARAM NAME="…" VALUE="…">` tags out of a chat page (protocol.md §2.4): the
/// tickets, MSNREGCookie, NickName, Server, SubscriberInfo, UserRole. A scraper of hostile HTML: bounded,
/// case-insensitive, tolerant of quoting styles, never executing anything.
public enum ChatPage {
    /// Pages larger than this are not scanned.
    public static let maximumSize = 1 << 20

    /// PARAM name -> value (entities decoded); the first occurrence of a name wins.
    public static func params(_ html: [UInt8]) -> [String: String] {
        guard html.count <= maximumSize else { return [:] }
        // Scan a lower-cased copy (ASCII only, so indices stay aligned) and take values from the original bytes.
        let lowered = html.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        var result: [String: String] = [:]
        var index = 0
        let open = Array("<param".utf8)
        while let start = lowered[index...].firstRange(of: open) {
            guard let end = lowered[start.upperBound...].firstIndex(of: UInt8(ascii: ">")) else { break }
            let tag = start.upperBound..<end
            // A PARAM without a name carries nothing the control could read (fuzzing found `name= value=…`).
            if let name = attribute("name", in: tag, lowered: lowered, original: html), !name.isEmpty,
                let value = attribute("value", in: tag, lowered: lowered, original: html), result[name] == nil
            {
                result[name] = decodeEntities(value)
            }
            index = end
        }
        return result
    }

    /// `name="v"`, `name='v'` or `name=v` inside the tag's byte range.
    static func attribute(_ name: String, in tag: Range<Int>, lowered: [UInt8], original: [UInt8]) -> String? {
        let key = Array(name.utf8)
        var from = tag.lowerBound
        while let found = lowered[from..<tag.upperBound].firstRange(of: key) {
            from = found.upperBound
            let before = found.lowerBound > tag.lowerBound ? lowered[found.lowerBound - 1] : 0x20
            guard before == 0x20 || before == 0x09 || before == 0x0A || before == 0x0D else { continue }
            var i = found.upperBound
            while i < tag.upperBound && lowered[i] == 0x20 { i += 1 }
            guard i < tag.upperBound, lowered[i] == UInt8(ascii: "=") else { continue }
            i += 1
            while i < tag.upperBound && lowered[i] == 0x20 { i += 1 }
            guard i < tag.upperBound else { return "" }
            let quote = original[i]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                guard let close = original[(i + 1)..<tag.upperBound].firstIndex(of: quote) else { return nil }
                return String(decoding: original[(i + 1)..<close], as: UTF8.self)
            }
            let end = original[i..<tag.upperBound].firstIndex { $0 == 0x20 || $0 == 0x09 || $0 == UInt8(ascii: "/") } ?? tag.upperBound
            return String(decoding: original[i..<end], as: UTF8.self)
        }
        return nil
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let tail = rest[amp...]
            if let semi = tail.firstIndex(of: ";"), tail.distance(from: tail.startIndex, to: semi) <= 10 {
                let entity = tail[tail.index(after: tail.startIndex)..<semi]
                let decoded: String?
                switch entity {
                case "amp": decoded = "&"
                case "lt": decoded = "<"
                case "gt": decoded = ">"
                case "quot": decoded = "\""
                case "apos", "#39": decoded = "'"
                default:
                    if entity.hasPrefix("#x"), let code = UInt32(entity.dropFirst(2), radix: 16), let scalar = UnicodeScalar(code) {
                        decoded = String(scalar)
                    } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = UnicodeScalar(code) {
                        decoded = String(scalar)
                    } else {
                        decoded = nil
                    }
                }
                if let decoded {
                    out += decoded
                    rest = tail[tail.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = tail.dropFirst()
        }
        return out + rest
    }
}

/// The web sign-in's `ec=` error codes (protocol.md §3b), as messages.
public enum WebLoginError {
    /// The user-facing reason for `code`, and whether it means the credentials were rejected (exit 4) rather
    /// than the form being incomplete (exit 2).
    public static func describe(_ code: String) -> (message: String, rejected: Bool) {
        switch code.lowercased() {
        case "e5a": return ("the server rejected the password for this member name (ec=e5a)", true)
        case "e5b": return ("the server says this e-mail address is not a Passport (ec=e5b)", true)
        case "e5d": return ("the server says the member name is not a valid e-mail address (ec=e5d)", false)
        case "e5e": return ("the server says part of the member name is missing (ec=e5e)", false)
        case "e1": return ("the server says the sign-in form was incomplete (ec=e1)", false)
        case "e2": return ("the server says no member name was given (ec=e2)", false)
        case "e3": return ("the server says no password was given (ec=e3)", false)
        default: return ("the server refused the sign-in with error code \(code)", true)
        }
    }
}
