internal import GKText

/// Text from servers and libraries on its way to a terminal: `cbtxt` and `ec=` messages, IRC numerics, keyring
/// errors. Control characters are shown, not obeyed: an escape sequence from a server must not recolour, retitle
/// or rewrite the user's terminal, and a CR or LF must not forge a second line of gkpass output.
public enum TerminalText {
    /// `text` with C0 controls, DEL and C1 controls written as `\xNN` (`\u{NN}` for C1), and `\` doubled when it
    /// could be read as such an escape. Everything printable, non-ASCII letters included, is kept.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x00..<0x20, 0x7F: out += "\\x" + hex(scalar.value)
            case 0x80..<0xA0: out += "\\u{" + hex(scalar.value) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
    }

    /// Two uppercase hex digits of a scalar below U+0100 (only controls come here).
    static func hex(_ value: UInt32) -> String { Hex.encode([UInt8(truncatingIfNeeded: value)]) }
}
