internal import GKText

/// IRCX AUTH parameter escaping, byte-exact (protocol.md §1.2).
///
/// Seven bytes are escaped: NUL `\0`, TAB `\t`, LF `\n`, CR `\r`, space `\b`, comma `\c`, backslash `\\`. Every other
/// byte, including `:` and 0x80-0xFF, goes out raw. Lines are bytes (Latin-1 on the wire); nothing here decodes
/// UTF-8.
public enum AuthEscaping {
    @inlinable @inline(__always)
    static func escapeLetter(for byte: UInt8) -> UInt8? {
        switch byte {
        case 0x00: return UInt8(ascii: "0")
        case 0x09: return UInt8(ascii: "t")
        case 0x0A: return UInt8(ascii: "n")
        case 0x0D: return UInt8(ascii: "r")
        case 0x20: return UInt8(ascii: "b")
        case 0x2C: return UInt8(ascii: "c")
        case 0x5C: return UInt8(ascii: "\\")
        default: return nil
        }
    }

    @inlinable @inline(__always)
    static func unescapedByte(for letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "0"): return 0x00
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "b"): return 0x20
        case UInt8(ascii: "c"): return 0x2C
        case UInt8(ascii: "\\"): return 0x5C
        default: return nil
        }
    }

    /// Escapes `bytes` for use as an AUTH parameter. The result never contains NUL, TAB, CR, LF, space or comma.
    @inlinable
    public static func escape(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        for byte in bytes {
            if let letter = escapeLetter(for: byte) {
                out.append(UInt8(ascii: "\\"))
                out.append(letter)
            } else {
                out.append(byte)
            }
        }
        return out
    }

    /// Unescapes an AUTH parameter the way MSNLD/irc7 does: an unknown escape `\x` is kept as both characters and a
    /// trailing lone backslash is kept (protocol.md §1.2). Never fails.
    @inlinable
    public static func unescape(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard let letter = iterator.next() else {
                out.append(byte)
                break
            }
            if let decoded = unescapedByte(for: letter) {
                out.append(decoded)
            } else {
                out.append(byte)
                out.append(letter)
            }
        }
        return out
    }

    /// Unescapes strictly: an unknown escape or a trailing lone backslash is a protocol violation. No MSN Chat server
    /// produces either, so a client that meets one is not looking at a GateKeeper token.
    public static func strictUnescape(_ bytes: some Collection<UInt8>) throws(GateKeeperError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var offset = 0
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            defer { offset += 1 }
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard let letter = iterator.next() else {
                throw GateKeeperError(.badEscape, "a lone backslash ends the escaped data at byte \(offset)")
            }
            guard let decoded = unescapedByte(for: letter) else {
                throw GateKeeperError(
                    .badEscape, "unknown escape \\\(Hex.printable(letter)) at byte \(offset) of the escaped data")
            }
            out.append(decoded)
            offset += 1
        }
        return out
    }
}
