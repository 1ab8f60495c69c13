/// Hexadecimal digits, for the D-Bus address escapes and the key-exchange prime. (GateKeeper and Passport have
/// their own: TicketStore depends on neither, design.md §2.)
enum Hex {
    /// The value of one hex digit (either case), or nil.
    static func digit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The bytes a literal of an even number of hex digits spells; anything else is a programming error.
    static func bytes(_ literal: String) -> [UInt8] {
        let digits = literal.utf8.map { unit -> UInt8 in
            guard let value = digit(unit) else { preconditionFailure("not a hex digit in \(literal)") }
            return value
        }
        precondition(digits.count % 2 == 0, "an odd number of hex digits in \(literal)")
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }
}
