/// Percent-encoding by bytes, for Passport headers, form bodies and query strings.
public enum PercentEncoding {
    /// Escapes every byte but RFC 3986 unreserved characters. MS-PASS 2.2.7 requires `sign-in` and `pwd` to be
    /// UTF-8 with unsafe characters escaped, and a comma in the password MUST be escaped: this escapes all of them.
    public static func encode(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append(UnicodeScalar(UInt8(ascii: "%")))
                out.unicodeScalars.append(UnicodeScalar(digits[Int(byte >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(digits[Int(byte & 0xF)]))
            }
        }
        return out
    }

    /// Decodes `%XX` (and `+` as a space when `plusIsSpace`); nil on a broken escape or invalid UTF-8.
    public static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(), let h = hex(high), let l = hex(low) else {
                    return nil
                }
                bytes.append(h << 4 | l)
            } else if byte == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(0x20)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `a=1&b=2` into pairs, form-decoded; malformed pairs are skipped.
    public static func queryItems(_ query: some StringProtocol) -> [(name: String, value: String)] {
        query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0], plusIsSpace: true),
                let value = decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else { return nil }
            return (name, value)
        }
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }
}
