/// Hexadecimal digits, for the `%XX` escapes of D-Bus addresses. (GateKeeper and Passport have their own:
/// TicketStore depends on neither, design.md §2.)
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
}
