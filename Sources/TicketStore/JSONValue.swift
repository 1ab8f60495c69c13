internal import GKText

/// A JSON reader for gkpass's own small documents (the file store's item files here, and GKPassKit's ticket
/// document through package access), so that `gkpass ticket` decodes without Foundation's JSONDecoder: its first
/// use sets up generic and protocol machinery that cost the per-connection read about a quarter of a millisecond a
/// document. RFC 8259, strict: one value, whitespace around it, nothing else; strings must be valid UTF-8 with
/// valid escapes; nesting at most ``maximumDepth`` deep. The writers stay JSONEncoder (they run once per login).
package enum JSONValue: Equatable {
    case string(String)
    /// The number's text as it appeared (the store's documents only hold small integers).
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in document order; a repeated name keeps its last value (as JSONDecoder does).
    case object([String: JSONValue])

    package static let maximumDepth = 32

    package struct Malformed: Error {}

    package init(parsing bytes: some Collection<UInt8>) throws(Malformed) {
        var reader = Reader(bytes: Array(bytes))
        // The copy may hold a secret: cleared whatever the outcome.
        defer { SecretBytes.wipe(&reader.bytes) }
        reader.skipSpace()
        self = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw Malformed() }
    }

    package subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    package var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    package var int: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    private struct Reader {
        var bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws(Malformed) {
            for byte in literal.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw Malformed() }
                index += 1
            }
        }

        mutating func value(depth: Int) throws(Malformed) -> JSONValue {
            guard depth < JSONValue.maximumDepth, index < bytes.count else { throw Malformed() }
            switch bytes[index] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func object(depth: Int) throws(Malformed) -> JSONValue {
            index += 1
            var members: [String: JSONValue] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Malformed() }
                let name = try string()
                skipSpace()
                try expect(":")
                skipSpace()
                members[name] = try value(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw Malformed() }
                index += 1
                if bytes[index - 1] == UInt8(ascii: "}") { return .object(members) }
                guard bytes[index - 1] == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        mutating func array(depth: Int) throws(Malformed) -> JSONValue {
            index += 1
            var elements: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                skipSpace()
                elements.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw Malformed() }
                index += 1
                if bytes[index - 1] == UInt8(ascii: "]") { return .array(elements) }
                guard bytes[index - 1] == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Malformed) -> String {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let leadingZero = index < bytes.count && bytes[index] == UInt8(ascii: "0")
            let whole = digits()
            guard whole > 0, !(leadingZero && whole > 1) else { throw Malformed() }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw Malformed() }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw Malformed() }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func hex4() throws(Malformed) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Malformed() }
            var value: UInt32 = 0
            for byte in bytes[index..<(index + 4)] {
                guard let digit = Hex.value(of: byte) else { throw Malformed() }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        mutating func string() throws(Malformed) -> String {
            index += 1
            var out: [UInt8] = []
            while true {
                guard index < bytes.count else { throw Malformed() }
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: out, as: UTF8.self) else { throw Malformed() }
                    return text
                case 0x00..<0x20:
                    throw Malformed()
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Malformed() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A high surrogate must be followed by an escaped low one.
                            try expect("\\u")
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
                        out += Array(String(Character(unicode)).utf8)
                    default:
                        throw Malformed()
                    }
                default:
                    out.append(byte)
                }
            }
        }
    }
}
