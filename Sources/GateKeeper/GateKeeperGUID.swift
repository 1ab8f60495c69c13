internal import GKText

/// A client GUID as GateKeeper v2/v3 sends it: 16 raw bytes in Windows in-memory `GUID` order (protocol.md §1.5).
///
/// Windows order stores Data1 (4 bytes), Data2 and Data3 (2 bytes each) little-endian and Data4 (8 bytes) as is. The
/// display form the server prints is the canonical big-endian reading: raw `3A75B0EB27629DD8…` displays as
/// `EBB0753A6227D89D…`.
public struct GateKeeperGUID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes exactly as they go on the wire.
    public let wireBytes: [UInt8]

    /// The all-zero GUID that GateKeeperPassport sends (protocol.md §2.1).
    public static let zero = GateKeeperGUID(uncheckedWireBytes: [UInt8](repeating: 0, count: 16))

    /// The number of bytes in a GUID.
    public static let byteCount = 16

    init(uncheckedWireBytes: [UInt8]) { self.wireBytes = uncheckedWireBytes }

    /// A GUID from its 16 wire bytes (Windows order), or nil when `wireBytes` is not 16 bytes long.
    public init?(wireBytes: some Collection<UInt8>) {
        guard wireBytes.count == Self.byteCount else { return nil }
        self.wireBytes = Array(wireBytes)
    }

    /// A GUID from the 16 bytes of its display (canonical, big-endian) order.
    public init?(displayBytes: some Collection<UInt8>) {
        guard displayBytes.count == Self.byteCount else { return nil }
        self.wireBytes = Self.swapFields(Array(displayBytes))
    }

    /// Parses the canonical text form `D6976AC3-D30A-4249-B168-07102BBA1896` (braces allowed, either case) or the same
    /// 32 hex digits without dashes, both in display order.
    public init(parsing text: some StringProtocol) throws(GateKeeperError) {
        var body = Array(text.utf8)
        if body.first == UInt8(ascii: "{") && body.last == UInt8(ascii: "}") {
            body = Array(body.dropFirst().dropLast())
        }
        let hexDigits: [UInt8]
        if body.count == 36 {
            let dashes = [8, 13, 18, 23]
            guard dashes.allSatisfy({ body[$0] == UInt8(ascii: "-") }) else {
                throw GateKeeperError(.invalidArgument, "a GUID's dashes go after digits 8, 12, 16 and 20")
            }
            hexDigits = body.enumerated().filter { !dashes.contains($0.offset) }.map(\.element)
        } else if body.count == 32 {
            hexDigits = body
        } else {
            throw GateKeeperError(
                .invalidArgument,
                "a GUID is 32 hex digits, optionally as 8-4-4-4-12 with dashes and braces (got \(body.count) characters)"
            )
        }
        guard let display = Hex.decode(hexDigits) else {
            throw GateKeeperError(.invalidArgument, "a GUID holds only the hex digits 0-9 and A-F")
        }
        self.wireBytes = Self.swapFields(display)
    }

    /// The bytes in display (canonical) order.
    public var displayBytes: [UInt8] { Self.swapFields(wireBytes) }

    /// 32 uppercase hex digits, no dashes: how servers print the GUID in `AUTH GateKeeper * <GUID>@GateKeeper 0`.
    public var displayString: String { Hex.encode(displayBytes) }

    /// The canonical `8-4-4-4-12` uppercase form.
    public var canonicalString: String {
        let hex = Array(displayString.utf8)
        var out: [UInt8] = []
        for (index, digit) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { out.append(UInt8(ascii: "-")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { canonicalString }

    public var isZero: Bool { wireBytes.allSatisfy { $0 == 0 } }

    /// Reverses Data1, Data2 and Data3; the swap is its own inverse.
    static func swapFields(_ bytes: [UInt8]) -> [UInt8] {
        [bytes[3], bytes[2], bytes[1], bytes[0], bytes[5], bytes[4], bytes[7], bytes[6]] + bytes[8..<16]
    }
}
