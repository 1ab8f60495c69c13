internal import GKText

/// A strict reader for the part of TOML 1.0 that config.toml uses: comments, `[table]` headers, bare, quoted and
/// dotted keys, basic and literal strings, decimal integers, booleans and arrays of those. Anything else (floats,
/// dates, multi-line strings, inline tables, arrays of tables) is refused with its line, never half-read. Every
/// value carries the line it was defined on, so config errors can say where they are.
///
/// Why not TOMLKit (the TOML package on our list): it imports Foundation, which links ICU into the `gkpass`
/// binary: 25 MB -> 80 MB, and `gkpass ticket`, run per connection, from 5.7 ms to 15 ms (measured).
/// Pure: bytes in, a tree or a `TOMLError` out.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A table: keys in file order, each with its value and line.
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var value: TOMLValue
        public var line: Int
        public init(value: TOMLValue, line: Int) {
            self.value = value
            self.line = line
        }
    }

    /// The line of the header (or first key) that created it; 0 for the root.
    public var line: Int
    public private(set) var keys: [String] = []
    private var entries: [String: Entry] = [:]
    /// Defined by a `[header]` (a second header for it is an error), not only implied by a longer one.
    var isExplicit = false

    public init(line: Int) { self.line = line }

    public subscript(key: String) -> Entry? { entries[key] }

    mutating func set(_ key: String, _ entry: Entry) {
        if entries[key] == nil { keys.append(key) }
        entries[key] = entry
    }
}

public struct TOMLError: Error, Sendable, Equatable {
    public var line: Int
    public var message: String
}

public enum TOMLReader {
    /// Documents larger than this are refused before parsing.
    public static let maximumSize = 1 << 20
    /// Parts of one dotted key or table header (`networks.NAME.key` is 3): bounds the recursion that inserts it.
    public static let maximumKeyDepth = 16
    /// Keys and table headers in one document: a config has tens. Bounds the time a hostile file can take (tables
    /// are values, so each insert copies its path; 30,000 tables took 78 s before this limit).
    public static let maximumEntries = 2048

    public static func parse(_ bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        guard bytes.count <= maximumSize else { throw TOMLError(line: 1, message: "larger than any config (1 MiB)") }
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var root = TOMLTable(line: 0)
        /// Nesting of arrays, bounded so hostile input cannot exhaust the stack.
        var depth = 0
        /// Keys and headers read so far (``TOMLReader/maximumEntries``).
        var entries = 0

        mutating func countEntry() throws(TOMLError) {
            entries += 1
            guard entries <= TOMLReader.maximumEntries else {
                throw fail("more than \(TOMLReader.maximumEntries) keys and tables: larger than any gkpass config")
            }
        }

        init(bytes: [UInt8]) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

        func describe(_ byte: UInt8?) -> String {
            guard let byte else { return "the end of the file" }
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
            return "byte 0x" + String(byte, radix: 16)
        }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 { index += 1 }
        }

        mutating func skipComment() throws(TOMLError) {
            guard peek == UInt8(ascii: "#") else { return }
            while let byte = peek, byte != 0x0A {
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { break }
                if (byte < 0x20 && byte != 0x09) || byte == 0x7F { throw fail("control character in a comment") }
                index += 1
            }
        }

        /// Consumes a newline (LF or CRLF) if there is one.
        mutating func newline() -> Bool {
            if peek == 0x0A { index += 1; line += 1; return true }
            if peek == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 2; line += 1; return true }
            return false
        }

        /// Spaces, an optional comment, then a newline or the end.
        mutating func endOfLine() throws(TOMLError) {
            skipSpace()
            try skipComment()
            guard peek == nil || newline() else { throw fail("unexpected \(describe(peek)) after the value; one key = value per line") }
        }

        /// Blank lines and comments (between array elements).
        mutating func skipBlank() throws(TOMLError) {
            while true {
                skipSpace()
                try skipComment()
                if !newline() { return }
            }
        }

        mutating func document() throws(TOMLError) -> TOMLTable {
            var current: [String] = []
            while true {
                skipSpace()
                try skipComment()
                if newline() { continue }
                guard let byte = peek else { return root }
                if byte == UInt8(ascii: "[") {
                    index += 1
                    if peek == UInt8(ascii: "[") { throw fail("arrays of tables ([[...]]) are not used in a gkpass config") }
                    skipSpace()
                    try countEntry()
                    let path = try key()
                    skipSpace()
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ] to close the table header, found \(describe(peek))") }
                    index += 1
                    try defineTable(path)
                    current = path
                    try endOfLine()
                } else {
                    let keyLine = line
                    try countEntry()
                    let path = try key()
                    skipSpace()
                    guard peek == UInt8(ascii: "=") else { throw fail("expected = after the key \(path.joined(separator: ".")), found \(describe(peek))") }
                    index += 1
                    skipSpace()
                    let value = try self.value()
                    try insert(current + path, value, line: keyLine)
                    try endOfLine()
                }
            }
        }

        // MARK: Keys

        mutating func key() throws(TOMLError) -> [String] {
            var parts: [String] = []
            while true {
                skipSpace()
                guard let byte = peek else { throw fail("expected a key, found the end of the file") }
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    parts.append(try basicString())
                } else if byte == UInt8(ascii: "'") {
                    index += 1
                    parts.append(try literalString())
                } else {
                    let start = index
                    while let c = peek, Self.isBareKey(c) { index += 1 }
                    guard index > start else { throw fail("expected a key, found \(describe(peek))") }
                    parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                }
                skipSpace()
                guard peek == UInt8(ascii: ".") else { return parts }
                guard parts.count < TOMLReader.maximumKeyDepth else {
                    throw fail("a key of more than \(TOMLReader.maximumKeyDepth) dotted parts is not used in a gkpass config")
                }
                index += 1
            }
        }

        static func isBareKey(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }

        // MARK: Values

        mutating func value() throws(TOMLError) -> TOMLValue {
            guard let byte = peek else { throw fail("expected a value after =, found the end of the file") }
            switch byte {
            case UInt8(ascii: "\""):
                if bytes[index...].starts(with: Array("\"\"\"".utf8)) { throw fail("multi-line strings are not used in a gkpass config") }
                index += 1
                return .string(try basicString())
            case UInt8(ascii: "'"):
                if bytes[index...].starts(with: Array("'''".utf8)) { throw fail("multi-line strings are not used in a gkpass config") }
                index += 1
                return .string(try literalString())
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                for (word, result) in [("true", true), ("false", false)] where bytes[index...].starts(with: Array(word.utf8)) {
                    index += word.utf8.count
                    if let next = peek, Self.isBareKey(next) { break }
                    return .boolean(result)
                }
                throw fail("expected a value (a \"string\", a number, true or false)")
            case UInt8(ascii: "["):
                return try array()
            case UInt8(ascii: "{"):
                throw fail("inline tables are not used in a gkpass config; write a [table] instead")
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .integer(try integer())
            default:
                throw fail("expected a value (a \"string\", a number, true or false), found \(describe(byte))")
            }
        }

        mutating func array() throws(TOMLError) -> TOMLValue {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 32 else { throw fail("arrays nested too deeply") }
            index += 1
            var elements: [TOMLValue] = []
            while true {
                try skipBlank()
                if peek == UInt8(ascii: "]") { index += 1; return .array(elements) }
                elements.append(try value())
                try skipBlank()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                guard peek == UInt8(ascii: "]") else { throw fail("expected , or ] in the array, found \(describe(peek))") }
                index += 1
                return .array(elements)
            }
        }

        mutating func integer() throws(TOMLError) -> Int64 {
            let start = index
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            var previousUnderscore = true
            while let c = peek, (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "_") {
                if c == UInt8(ascii: "_") && previousUnderscore { throw fail("an underscore in a number must sit between digits") }
                previousUnderscore = c == UInt8(ascii: "_")
                index += 1
            }
            if let c = peek, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "x"), UInt8(ascii: "o"), UInt8(ascii: "b")].contains(c) {
                throw fail("only whole decimal numbers are used in a gkpass config (no floats, dates or 0x/0o/0b)")
            }
            let digits = bytes[digitsStart..<index].filter { $0 != UInt8(ascii: "_") }
            guard !digits.isEmpty, !previousUnderscore else { throw fail("expected digits") }
            guard digits.count == 1 || digits.first != UInt8(ascii: "0") else { throw fail("a number may not start with 0") }
            guard let number = Int64(String(decoding: bytes[start..<index].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)) else {
                throw fail("the number is too large")
            }
            return number
        }

        /// After the opening quote; handles the escapes of TOML 1.0.
        mutating func basicString() throws(TOMLError) -> String {
            var out: [UInt8] = []
            while true {
                guard let byte = peek else { throw fail("the string is not closed before the end of the file") }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return try utf8(out)
                case UInt8(ascii: "\\"):
                    guard let escape = peek else { throw fail("the string is not closed before the end of the file") }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "u"), UInt8(ascii: "U"):
                        let count = escape == UInt8(ascii: "u") ? 4 : 8
                        var code: UInt32 = 0
                        var digits = 0
                        while digits < count, index + digits < bytes.count, let digit = Hex.value(of: bytes[index + digits]) {
                            code = code << 4 | UInt32(digit)
                            digits += 1
                        }
                        guard digits == count, let scalar = Unicode.Scalar(code) else { throw fail("\\\(Character(UnicodeScalar(escape))) needs \(count) hex digits naming a Unicode scalar") }
                        index += count
                        out.append(contentsOf: Array(String(scalar).utf8))
                    default:
                        throw fail("unknown escape \\\(describe(escape)) in a string")
                    }
                case 0x0A, 0x0D:
                    throw fail("the string is not closed on its line")
                default:
                    if (byte < 0x20 && byte != 0x09) || byte == 0x7F { throw fail("control character in a string; write it as an escape") }
                    out.append(byte)
                }
            }
        }

        /// After the opening quote: no escapes.
        mutating func literalString() throws(TOMLError) -> String {
            let start = index
            while let byte = peek, byte != UInt8(ascii: "'") {
                if byte == 0x0A || byte == 0x0D { throw fail("the string is not closed on its line") }
                if (byte < 0x20 && byte != 0x09) || byte == 0x7F { throw fail("control character in a string") }
                index += 1
            }
            guard peek != nil else { throw fail("the string is not closed before the end of the file") }
            let text = try utf8(Array(bytes[start..<index]))
            index += 1
            return text
        }

        func utf8(_ bytes: [UInt8]) throws(TOMLError) -> String {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("the string is not valid UTF-8") }
            return text
        }

        // MARK: Tree

        mutating func defineTable(_ path: [String]) throws(TOMLError) {
            let line = self.line
            try Self.update(&root, path[...], line: line) { (table: inout TOMLTable) throws(TOMLError) in
                if table.isExplicit { throw TOMLError(line: line, message: "[\(path.joined(separator: "."))] is defined twice") }
                table.isExplicit = true
            }
        }

        mutating func insert(_ path: [String], _ value: TOMLValue, line: Int) throws(TOMLError) {
            let key = path.last!
            try Self.update(&root, path.dropLast()[...], line: line) { (table: inout TOMLTable) throws(TOMLError) in
                if let existing = table[key] {
                    throw TOMLError(line: line, message: "\(path.joined(separator: ".")) is already set on line \(existing.line)")
                }
                table.set(key, .init(value: value, line: line))
            }
        }

        /// Walks (creating) the tables along `path` and applies `body` to the last.
        static func update(
            _ table: inout TOMLTable, _ path: ArraySlice<String>, line: Int, _ body: (inout TOMLTable) throws(TOMLError) -> Void
        ) throws(TOMLError) {
            guard let first = path.first else { return try body(&table) }
            var child: TOMLTable
            switch table[first]?.value {
            case nil: child = TOMLTable(line: line)
            case .table(let existing): child = existing
            case .some(let other):
                throw TOMLError(line: line, message: "\(first) is \(other.typeName) (line \(table[first]!.line)), not a table")
            }
            try update(&child, path.dropFirst(), line: line, body)
            table.set(first, .init(value: .table(child), line: table[first]?.line ?? line))
        }
    }
}
