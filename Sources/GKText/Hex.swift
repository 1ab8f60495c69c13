/// Hexadecimal digits, allocation-light: one copy for the client modules (design.md §2). The sandbox keeps its own
/// (it shares no client code).
public enum Hex {
    public static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    public static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The value of one hex digit, either case, or nil.
    @inline(__always)
    public static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Two digits per byte, high nibble first.
    public static func encode(_ bytes: some Sequence<UInt8>, uppercase: Bool = true) -> String {
        let digits = uppercase ? upperDigits : lowerDigits
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes an even-length run of hex digits (either case). Nil on any other character or an odd length.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var iterator = text.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = value(of: high), let l = value(of: low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    /// A byte shown safely in a diagnostic: printable ASCII as itself, anything else as `<0xNN>`.
    public static func printable(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return String(UnicodeScalar(byte)) }
        return "<0x" + encode([byte]) + ">"
    }
}
