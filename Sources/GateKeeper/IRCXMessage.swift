/// One IRC/IRCX protocol line as bytes: optional prefix, command, parameters (the last may be a `:` trailing one).
///
/// Lines are bytes, never decoded as UTF-8: MSN Chat servers read and write one byte per character (protocol.md
/// §1.2). Construction refuses anything that could smuggle a second line (CR, LF) or that IRC cannot carry (NUL), so
/// ``serialized()`` always yields exactly one well-formed line.
public struct IRCXMessage: Equatable, Sendable {
    /// The longest line accepted, excluding its terminator. RFC 1459 allows 512 bytes with CRLF; MSNLD/irc7 and
    /// irc7-com read up to `MaxInputBytes` = 1024 (protocol.md §2.2, [S5/S6 DefaultServer.json]), and a Passport blob
    /// line can exceed 512, so 1024 is the bound here.
    public static let maximumLineLength = 1024

    public let prefix: [UInt8]?
    public let command: [UInt8]
    public let parameters: [[UInt8]]
    /// Whether the last parameter is written as a `:` trailing parameter even when it need not be.
    public let forcesTrailing: Bool

    /// Builds a message, refusing parameters that would break the line: a NUL, CR or LF anywhere; a space, a leading
    /// `:` or emptiness in any parameter but the last.
    public init(
        prefix: [UInt8]? = nil, command: some Collection<UInt8>, parameters: [[UInt8]] = [], forcesTrailing: Bool = false
    ) throws(GateKeeperError) {
        let command = Array(command)
        guard !command.isEmpty, command.allSatisfy({ Self.isCommandByte($0) }) else {
            throw GateKeeperError(.invalidArgument, "an IRC command is letters or digits only")
        }
        if let prefix {
            guard !prefix.isEmpty, !prefix.contains(where: { Self.isForbidden($0) || $0 == 0x20 }) else {
                throw GateKeeperError(.invalidArgument, "an IRC prefix cannot be empty or hold spaces or line breaks")
            }
        }
        for (index, parameter) in parameters.enumerated() {
            guard !parameter.contains(where: Self.isForbidden) else {
                throw GateKeeperError(.invalidArgument, "an IRC parameter cannot hold NUL, CR or LF")
            }
            if index < parameters.count - 1 {
                guard !parameter.isEmpty, parameter.first != UInt8(ascii: ":"), !parameter.contains(0x20) else {
                    throw GateKeeperError(
                        .invalidArgument, "only the last IRC parameter may be empty, start with ':' or hold spaces")
                }
            }
        }
        self.prefix = prefix
        self.command = command
        self.parameters = parameters
        self.forcesTrailing = forcesTrailing
    }

    /// Parses one line. A trailing CRLF, LF or CR is removed first; runs of spaces separate parameters.
    public init(parsing line: some Collection<UInt8>) throws(GateKeeperError) {
        var bytes = Array(line)
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard bytes.count <= Self.maximumLineLength else {
            throw GateKeeperError(
                .lineTooLong, "the line is \(bytes.count) bytes; at most \(Self.maximumLineLength) are accepted")
        }
        if let bad = bytes.firstIndex(where: Self.isForbidden) {
            throw GateKeeperError(.malformedLine, "the line holds a NUL, CR or LF at byte \(bad)")
        }
        var index = 0
        func skipSpaces() { while index < bytes.count && bytes[index] == 0x20 { index += 1 } }
        func word() -> [UInt8] {
            let start = index
            while index < bytes.count && bytes[index] != 0x20 { index += 1 }
            return Array(bytes[start..<index])
        }
        skipSpaces()
        var prefix: [UInt8]? = nil
        if index < bytes.count && bytes[index] == UInt8(ascii: ":") {
            index += 1
            prefix = word()
            guard !prefix!.isEmpty else { throw GateKeeperError(.malformedLine, "the line has an empty prefix") }
            skipSpaces()
        }
        let command = word()
        guard !command.isEmpty else { throw GateKeeperError(.malformedLine, "the line has no command") }
        guard command.allSatisfy(Self.isCommandByte) else {
            throw GateKeeperError(.malformedLine, "the command is not letters or digits")
        }
        var parameters: [[UInt8]] = []
        var trailing = false
        while true {
            skipSpaces()
            guard index < bytes.count else { break }
            if bytes[index] == UInt8(ascii: ":") {
                parameters.append(Array(bytes[(index + 1)...]))
                trailing = true
                break
            }
            parameters.append(word())
        }
        self.prefix = prefix
        self.command = command
        self.parameters = parameters
        self.forcesTrailing = trailing
    }

    /// The command in upper case as a String (commands are ASCII), for comparisons such as `"AUTH"` or `"910"`.
    public var commandName: String {
        String(decoding: command.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    /// A numeric reply's code (`001`, `910`...), or nil for a named command.
    public var numeric: Int? {
        guard command.count == 3, command.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return command.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// The line with its CRLF terminator, exactly as it goes on the wire.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        if let prefix {
            out.append(UInt8(ascii: ":"))
            out += prefix
            out.append(0x20)
        }
        out += command
        for (index, parameter) in parameters.enumerated() {
            out.append(0x20)
            let isLast = index == parameters.count - 1
            if isLast
                && (forcesTrailing || parameter.isEmpty || parameter.first == UInt8(ascii: ":") || parameter.contains(0x20))
            {
                out.append(UInt8(ascii: ":"))
            }
            out += parameter
        }
        out += [0x0D, 0x0A]
        return out
    }

    @inline(__always)
    static func isForbidden(_ byte: UInt8) -> Bool { byte == 0x00 || byte == 0x0A || byte == 0x0D }

    @inline(__always)
    static func isCommandByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
