/// The D-Bus wire format (D-Bus Specification 0.41: "Message Protocol", "Authentication Protocol", "Server
/// Addresses"), as far as a Secret Service read needs it: method calls out; method returns, errors and signals in.
///
/// Pure: bytes in, bytes or values out; the socket lives in ``DBusSocket``. Why gkpass speaks it itself on its hot
/// read instead of through GDBus: connecting GDBus (type system, worker thread, a SASL exchange line by line, then
/// Hello) is a millisecond of every `gkpass ticket`, and loading GLib at all is another. Here the whole handshake,
/// Hello and the first call leave in one write. Incoming messages are untrusted input: every length is checked
/// against the bytes present and against ``DBusFramer/maximumMessage``, and anything this reader does not
/// understand is an error, never a guess (FuzzDBusMessage).
public enum DBusWire {
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { "malformed D-Bus message: \(reason)" }
    }
}

/// One D-Bus message as read from the bus.
public struct DBusMessage: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case methodCall = 1, methodReturn = 2, error = 3, signal = 4
    }

    public static let noReplyExpected: UInt8 = 0x01

    public var kind: Kind
    public var flags: UInt8
    public var serial: UInt32
    public var replySerial: UInt32?
    public var errorName: String?
    /// The body's signature ("" for no body).
    public var signature: String
    public var body: [UInt8]
    public var bigEndian: Bool

    /// A reader over the body.
    public func bodyReader() -> DBusReader { DBusReader(body, bigEndian: bigEndian) }

    /// The first string of an error's body (its human-readable message), if it has one.
    public var errorMessage: String? {
        guard kind == .error, signature.hasPrefix("s") else { return nil }
        var reader = bodyReader()
        return try? reader.string()
    }

    /// A method call, little-endian, ready to send. `body` must have been written by a ``DBusWriter`` (whose
    /// offsets start 8-aligned, as the body does) and match `signature`.
    public static func methodCall(
        serial: UInt32, destination: String?, path: String, interface: String?, member: String,
        signature: String = "", body: [UInt8] = [], flags: UInt8 = 0
    ) -> [UInt8] {
        var header = DBusWriter()
        header.byte(UInt8(ascii: "l"))
        header.byte(Kind.methodCall.rawValue)
        header.byte(flags)
        header.byte(1)  // protocol version
        header.uint32(UInt32(body.count))
        header.uint32(serial)
        header.array(elementAlignment: 8) { fields in
            func field(_ code: UInt8, _ type: String, _ value: String) {
                fields.structure { entry in
                    entry.byte(code)
                    entry.signature(type)
                    if type == "g" { entry.signature(value) } else { entry.string(value) }
                }
            }
            field(1, "o", path)
            if let interface { field(2, "s", interface) }
            field(3, "s", member)
            if let destination { field(6, "s", destination) }
            if !signature.isEmpty { field(8, "g", signature) }
        }
        header.pad(to: 8)
        return header.bytes + body
    }
}

/// Writes D-Bus values with their alignment (little-endian). Offsets count from the writer's start, which must be
/// 8-aligned in the message (the header's start, or the body's).
public struct DBusWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func uint32(_ value: UInt32) {
        pad(to: 4)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A string or an object path: length, UTF-8, NUL.
    public mutating func string(_ value: String) {
        uint32(UInt32(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
        bytes.append(0)
    }

    public mutating func signature(_ value: String) {
        bytes.append(UInt8(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
        bytes.append(0)
    }

    /// An array: its byte length (patched in afterwards), padding to the element alignment, the elements.
    public mutating func array(elementAlignment: Int, _ elements: (inout DBusWriter) -> Void) {
        uint32(0)
        let lengthAt = bytes.count - 4
        pad(to: elementAlignment)
        let start = bytes.count
        elements(&self)
        withUnsafeBytes(of: UInt32(bytes.count - start).littleEndian) { raw in
            for (index, byte) in raw.enumerated() { bytes[lengthAt + index] = byte }
        }
    }

    /// A struct or dict entry: 8-aligned.
    public mutating func structure(_ members: (inout DBusWriter) -> Void) {
        pad(to: 8)
        members(&self)
    }

    /// `ay`.
    public mutating func byteArray(_ value: [UInt8]) {
        array(elementAlignment: 1) { $0.bytes.append(contentsOf: value) }
    }
}

/// Reads D-Bus values with their alignment from a body (or a header), checking every length.
public struct DBusReader: Sendable {
    let bytes: [UInt8]
    public private(set) var offset = 0
    let bigEndian: Bool
    /// How deep containers nest here; the specification allows 64, a Secret Service reply needs 3.
    var depth = 0

    public init(_ bytes: [UInt8], bigEndian: Bool, offset: Int = 0) {
        self.bytes = bytes
        self.bigEndian = bigEndian
        self.offset = offset
    }

    public var isAtEnd: Bool { offset == bytes.count }

    mutating func align(_ alignment: Int) throws(DBusWire.Malformed) {
        let next = (offset + alignment - 1) / alignment * alignment
        guard next <= bytes.count else { throw DBusWire.Malformed("padding runs past the end") }
        offset = next
    }

    public mutating func byte() throws(DBusWire.Malformed) -> UInt8 {
        guard offset < bytes.count else { throw DBusWire.Malformed("a byte past the end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func uint32() throws(DBusWire.Malformed) -> UInt32 {
        try align(4)
        guard bytes.count - offset >= 4 else { throw DBusWire.Malformed("a 32-bit number past the end") }
        let value = bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return bigEndian ? value.byteSwapped : value
    }

    mutating func text(length: Int) throws(DBusWire.Malformed) -> String {
        guard length >= 0, bytes.count - offset > length else { throw DBusWire.Malformed("a string of \(length) bytes past the end") }
        let slice = bytes[offset..<offset + length]
        guard bytes[offset + length] == 0, !slice.contains(0) else { throw DBusWire.Malformed("a string without its NUL, or with one inside") }
        guard let text = String(validating: slice, as: UTF8.self) else { throw DBusWire.Malformed("a string that is not UTF-8") }
        offset += length + 1
        return text
    }

    /// A string or an object path.
    public mutating func string() throws(DBusWire.Malformed) -> String {
        let length = try uint32()
        guard length < UInt32(Int32.max) else { throw DBusWire.Malformed("a string of \(length) bytes") }
        return try text(length: Int(length))
    }

    public mutating func signature() throws(DBusWire.Malformed) -> String {
        try text(length: Int(try byte()))
    }

    /// An array: the elements `element` reads until the array's byte length is used up.
    public mutating func array<Element>(
        elementAlignment: Int, _ element: (inout DBusReader) throws(DBusWire.Malformed) -> Element
    ) throws(DBusWire.Malformed) -> [Element] {
        let length = Int(try uint32())
        guard length <= 1 << 26 else { throw DBusWire.Malformed("an array of \(length) bytes") }
        try align(elementAlignment)
        guard bytes.count - offset >= length else { throw DBusWire.Malformed("an array of \(length) bytes past the end") }
        guard depth < 32 else { throw DBusWire.Malformed("containers nested too deep") }
        let end = offset + length
        var elements: [Element] = []
        depth += 1
        defer { depth -= 1 }
        while offset < end {
            let before = offset
            elements.append(try element(&self))
            guard offset > before, offset <= end else { throw DBusWire.Malformed("an array element that overruns its array") }
        }
        return elements
    }

    /// `ay`.
    public mutating func byteArray() throws(DBusWire.Malformed) -> [UInt8] {
        let length = Int(try uint32())
        guard length <= 1 << 26, bytes.count - offset >= length else { throw DBusWire.Malformed("a byte array of \(length) bytes past the end") }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// The start of a struct or dict entry.
    public mutating func structure() throws(DBusWire.Malformed) { try align(8) }

    /// Skips one value of a basic type (what a header field of no interest holds).
    mutating func skipBasic(_ type: String) throws(DBusWire.Malformed) {
        switch type {
        case "y": _ = try byte()
        case "b", "i", "u": _ = try uint32()
        case "n", "q":
            try align(2)
            guard bytes.count - offset >= 2 else { throw DBusWire.Malformed("a 16-bit number past the end") }
            offset += 2
        case "x", "t", "d":
            try align(8)
            guard bytes.count - offset >= 8 else { throw DBusWire.Malformed("a 64-bit number past the end") }
            offset += 8
        case "s", "o": _ = try string()
        case "g": _ = try signature()
        default: throw DBusWire.Malformed("a header field of type \(type)")
        }
    }
}

/// Cuts the byte stream from the bus into messages.
public struct DBusFramer: Sendable {
    /// Larger messages are refused: a Secret Service reply for one item is a few hundred bytes.
    public static let maximumMessage = 1 << 20
    var buffer: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: some Collection<UInt8>) { buffer.append(contentsOf: bytes) }

    /// Bytes received but not yet part of a whole message.
    public var pending: Int { buffer.count }

    /// The next whole message, or nil until more bytes arrive.
    public mutating func next() throws(DBusWire.Malformed) -> DBusMessage? {
        guard buffer.count >= 16 else { return nil }
        let bigEndian: Bool
        switch buffer[0] {
        case UInt8(ascii: "l"): bigEndian = false
        case UInt8(ascii: "B"): bigEndian = true
        default: throw DBusWire.Malformed("endianness byte \(buffer[0])")
        }
        guard buffer[3] == 1 else { throw DBusWire.Malformed("protocol version \(buffer[3])") }
        // Read in place: this runs on every chunk that arrives while a message is incomplete.
        func word(_ at: Int) -> UInt32 {
            let value = UInt32(buffer[at]) | UInt32(buffer[at + 1]) << 8 | UInt32(buffer[at + 2]) << 16 | UInt32(buffer[at + 3]) << 24
            return bigEndian ? value.byteSwapped : value
        }
        let bodyLength = Int(word(4)), serial = word(8), fieldsLength = Int(word(12))
        guard bodyLength <= Self.maximumMessage, fieldsLength <= Self.maximumMessage else {
            throw DBusWire.Malformed("a message of \(bodyLength + fieldsLength) bytes")
        }
        let headerEnd = 16 + fieldsLength, bodyStart = (headerEnd + 7) / 8 * 8, total = bodyStart + bodyLength
        guard total <= Self.maximumMessage else { throw DBusWire.Malformed("a message of \(total) bytes") }
        guard buffer.count >= total else { return nil }
        let message = Array(buffer[0..<total])
        buffer.removeFirst(total)

        guard let kind = DBusMessage.Kind(rawValue: message[1]) else { throw DBusWire.Malformed("message type \(message[1])") }
        guard serial != 0 else { throw DBusWire.Malformed("serial 0") }
        var parsed = DBusMessage(kind: kind, flags: message[2], serial: serial, replySerial: nil, errorName: nil, signature: "", body: Array(message[bodyStart...]), bigEndian: bigEndian)
        var fields = DBusReader(Array(message[0..<headerEnd]), bigEndian: bigEndian, offset: 12)
        _ = try fields.array(elementAlignment: 8) { (reader: inout DBusReader) throws(DBusWire.Malformed) -> Void in
            try reader.structure()
            let code = try reader.byte()
            let type = try reader.signature()
            switch (code, type) {
            case (4, "s"): parsed.errorName = try reader.string()
            case (5, "u"): parsed.replySerial = try reader.uint32()
            case (8, "g"): parsed.signature = try reader.signature()
            case (4, _), (5, _), (8, _): throw DBusWire.Malformed("header field \(code) of type \(type)")
            default: try reader.skipBasic(type)
            }
        }
        guard fields.isAtEnd else { throw DBusWire.Malformed("bytes after the header fields") }
        guard message[headerEnd..<bodyStart].allSatisfy({ $0 == 0 }) else { throw DBusWire.Malformed("header padding that is not zero") }
        if kind == .methodReturn || kind == .error, parsed.replySerial == nil { throw DBusWire.Malformed("a reply without a reply serial") }
        if kind == .error, parsed.errorName == nil { throw DBusWire.Malformed("an error without a name") }
        guard parsed.signature.isEmpty == parsed.body.isEmpty else { throw DBusWire.Malformed("a body that does not match its signature") }
        return parsed
    }
}

/// The client side of the authentication protocol for a Unix socket: EXTERNAL (the kernel vouches for our UID).
public enum DBusAuthentication {
    /// The NUL byte, AUTH EXTERNAL with the UID in hex-encoded decimal, and BEGIN: sent in one go, as sd-bus does;
    /// the bus answers `OK <guid>` and then reads messages.
    public static func request(uid: UInt32) -> [UInt8] {
        let hex = String(uid).utf8.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
        return [0] + Array("AUTH EXTERNAL \(hex)\r\nBEGIN\r\n".utf8)
    }

    public enum Reply: Sendable, Equatable {
        case ok
        case rejected(String)
    }

    /// The bus's answer, once its first line (ending in CRLF) is in `bytes`; nil while incomplete. Returns how many
    /// bytes the line took, so what follows can go to the framer.
    public static func reply(_ bytes: [UInt8]) throws(DBusWire.Malformed) -> (Reply, consumed: Int)? {
        guard let newline = bytes.firstIndex(of: 0x0A) else {
            guard bytes.count < 512 else { throw DBusWire.Malformed("an authentication line of \(bytes.count) bytes") }
            return nil
        }
        guard newline > 0, bytes[newline - 1] == 0x0D else { throw DBusWire.Malformed("an authentication line without CRLF") }
        let line = String(decoding: bytes[..<(newline - 1)], as: UTF8.self)
        if line.hasPrefix("OK ") { return (.ok, newline + 1) }
        return (.rejected(line), newline + 1)
    }
}

/// `unix:path=` and `unix:abstract=` from a bus address (several may be listed, separated by `;`).
public enum DBusAddress {
    public struct UnixSocket: Sendable, Equatable {
        public var path: [UInt8]
        public var abstract: Bool
    }

    /// The first Unix socket in `address`, or nil when it names none this reader can use (tcp:, unixexec:,
    /// launchd:, systemd:..., which GDBus handles instead).
    public static func unixSocket(_ address: String) -> UnixSocket? {
        for entry in address.split(separator: ";") {
            guard entry.hasPrefix("unix:") else { continue }
            for pair in entry.dropFirst(5).split(separator: ",") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let key = pair[..<equals], value = pair[pair.index(after: equals)...]
                guard key == "path" || key == "abstract", let path = unescape(value), !path.isEmpty, path.count < 108 else { continue }
                return UnixSocket(path: path, abstract: key == "abstract")
            }
        }
        return nil
    }

    /// Undoes the `%XX` escaping of address values.
    static func unescape(_ value: Substring) -> [UInt8]? {
        var result: [UInt8] = []
        var bytes = value.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else { result.append(byte); continue }
            guard let high = bytes.next().flatMap(Hex.digit), let low = bytes.next().flatMap(Hex.digit) else { return nil }
            result.append(high << 4 | low)
        }
        return result
    }
}
