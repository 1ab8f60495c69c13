internal import FoundationEssentials
internal import GKText

/// The JSON gkpass prints for scripts (`status --json`, `list --json`, `doctor --json`, `connect --json`, and the
/// error object of a command given `--json`), through `Encodable` and `JSONEncoder`. `gkpass ticket`, the
/// per-connection hot path, does not come here: it prints the stored document as it is.
///
/// Keys are sorted (without it JSONEncoder's order is a hash order that changes from run to run); `/` is not
/// escaped; and DEL and the C1 controls (U+0080–U+009F), which JSONEncoder leaves raw, are written as `\u00XX` as
/// gkpass always did: strings from servers (nicknames, error text) must not reach a terminal as controls when the
/// JSON is looked at raw.
enum JSONOutput {
    /// `value` as one line of JSON and a newline.
    static func line(_ value: some Encodable) throws(GKPassError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch { throw GKPassError(.failure, "cannot write JSON: \(error)") }
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 1)
        var bytes = data.makeIterator()
        while let byte = bytes.next() {
            // Valid UTF-8 from the encoder: 0xC2 always leads a two-byte scalar, and U+0080–U+009F are C2 80–C2 9F.
            if byte == 0x7F {
                out += Array("\\u007f".utf8)
            } else if byte == 0xC2, let next = bytes.next() {
                if (0x80...0x9F).contains(next) { out += Array("\\u00".utf8) + Array(Hex.encode([next], uppercase: false).utf8) } else { out += [byte, next] }
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out + [0x0A], as: UTF8.self)
    }
}
