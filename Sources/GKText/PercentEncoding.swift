/// Percent-encoding by bytes (`%XX`): Passport headers, form bodies and query strings (RFC 3986), and the stores'
/// own spellings (file names, D-Bus addresses), which keep other bytes as they are.
///
/// `encode` and `decode` are `@inlinable` so that each caller gets them specialised for its String or Substring. Called
/// unspecialised across the module boundary, each first use asked the Swift runtime for the argument's UTF8View
/// iterator conformance by name, and each such lookup scans every conformance record in the binary (some 4,300):
/// two of the six scans of a `gkpass ticket` read (docs/benchmarks.md, "Conformance scans, and the floor").
public enum PercentEncoding {
    /// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Escapes every byte but RFC 3986 unreserved characters. MS-PASS 2.2.7 requires `sign-in` and `pwd` to be
    /// UTF-8 with unsafe characters escaped, and a comma in the password MUST be escaped: this escapes all of them.
    @inlinable
    public static func encode(_ text: some StringProtocol) -> String {
        encode(text, keeping: isUnreserved)
    }

    /// Escapes every byte for which `keeping` is false as `%XX` (upper- or lowercase digits).
    @inlinable
    public static func encode(_ text: some StringProtocol, keeping: (UInt8) -> Bool, lowercase: Bool = false) -> String {
        let digits = lowercase ? Hex.lowerDigits : Hex.upperDigits
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if keeping(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` (either case; and `+` as a space when `plusIsSpace`); nil on a broken escape or invalid UTF-8.
    @inlinable
    public static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(), let h = Hex.value(of: high), let l = Hex.value(of: low) else {
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
}
