/// One GKSSP token: the 16-byte header and the body for its sequence number (protocol.md §1.3).
///
/// ```
/// offset size field
///  0      6   "GKSSP\0"
///  6      2   reserved (uninitialised memory in the original OCX; ignored on decode, zero on encode)
///  8      4   version, uint32 little-endian: 1, 2 or 3
/// 12      4   sequence, uint32 little-endian: 1 init, 2 challenge, 3 response
/// 16      …   body: none (seq 1), 8-byte challenge (seq 2), 16-byte HMAC [+ 16-byte GUID for v2/v3] (seq 3)
/// ```
public struct GateKeeperToken: Equatable, Sendable {
    /// The message a token carries, by sequence number.
    public enum Message: Equatable, Sendable {
        /// Sequence 1, client to server: no body.
        case initiate
        /// Sequence 2, server to client: the 8-byte random challenge.
        case challenge([UInt8])
        /// Sequence 3, client to server: the 16-byte HMAC, and for v2/v3 the client GUID.
        case response(digest: [UInt8], guid: GateKeeperGUID?)

        public var sequence: UInt32 {
            switch self {
            case .initiate: return 1
            case .challenge: return 2
            case .response: return 3
            }
        }
    }

    /// `"GKSSP\0"`.
    public static let signature: [UInt8] = [0x47, 0x4B, 0x53, 0x53, 0x50, 0x00]
    /// Bytes in the common header.
    public static let headerLength = 16
    /// Bytes in a server challenge (protocol.md §1.3).
    public static let challengeLength = 8
    /// Bytes in the HMAC-MD5 answer.
    public static let digestLength = 16
    /// The largest token of any kind (seq 3, v2/v3): 16 + 16 + 16.
    public static let maximumLength = 48

    public let version: GateKeeperVersion
    public let message: Message
    /// The two reserved header bytes as read; zero for tokens we build.
    public let reserved: (UInt8, UInt8)

    /// Builds a token, checking that the body fits its version: an 8-byte challenge, a 16-byte digest, and a GUID
    /// exactly when the version sends one.
    public init(version: GateKeeperVersion, message: Message) throws(GateKeeperError) {
        switch message {
        case .initiate:
            break
        case .challenge(let challenge):
            guard challenge.count == Self.challengeLength else {
                throw GateKeeperError(.invalidArgument, "a challenge is 8 bytes, not \(challenge.count)")
            }
        case .response(let digest, let guid):
            guard digest.count == Self.digestLength else {
                throw GateKeeperError(.invalidArgument, "a GateKeeper answer is 16 bytes, not \(digest.count)")
            }
            guard (guid != nil) == version.sendsGUID else {
                throw GateKeeperError(
                    .invalidArgument,
                    version.sendsGUID
                        ? "a version \(version.rawValue) answer carries a GUID" : "a version 1 answer carries no GUID")
            }
        }
        self.version = version
        self.message = message
        self.reserved = (0, 0)
    }

    private init(version: GateKeeperVersion, message: Message, reserved: (UInt8, UInt8)) {
        self.version = version
        self.message = message
        self.reserved = reserved
    }

    public var sequence: UInt32 { message.sequence }

    /// The token's exact length for its version and sequence.
    public static func expectedLength(version: GateKeeperVersion, sequence: UInt32) -> Int? {
        switch sequence {
        case 1: return headerLength
        case 2: return headerLength + challengeLength
        case 3: return headerLength + digestLength + (version.sendsGUID ? GateKeeperGUID.byteCount : 0)
        default: return nil
        }
    }

    /// The raw token bytes (unescaped).
    public func encoded() -> [UInt8] {
        var out = Self.signature
        out.reserveCapacity(Self.maximumLength)
        out.append(reserved.0)
        out.append(reserved.1)
        Self.appendLittleEndian(version.rawValue, to: &out)
        Self.appendLittleEndian(sequence, to: &out)
        switch message {
        case .initiate:
            break
        case .challenge(let challenge):
            out += challenge
        case .response(let digest, let guid):
            out += digest
            if let guid { out += guid.wireBytes }
        }
        return out
    }

    /// Decodes raw (already unescaped) token bytes, strictly: the length must be exact for the version and sequence.
    public init(decoding bytes: some Collection<UInt8>) throws(GateKeeperError) {
        let bytes = Array(bytes)
        guard bytes.count >= Self.headerLength else {
            throw GateKeeperError(
                .tokenTooShort, "a GKSSP token is at least 16 bytes; this one is \(bytes.count)")
        }
        guard bytes[0..<6].elementsEqual(Self.signature) else {
            throw GateKeeperError(.badSignature, "the token does not start with the GKSSP signature")
        }
        let rawVersion = Self.readLittleEndian(bytes, at: 8)
        guard let version = GateKeeperVersion(rawValue: rawVersion) else {
            throw GateKeeperError(.unsupportedVersion, "GateKeeper version \(rawVersion) is not 1, 2 or 3")
        }
        let sequence = Self.readLittleEndian(bytes, at: 12)
        guard let expected = Self.expectedLength(version: version, sequence: sequence) else {
            throw GateKeeperError(.unexpectedSequence, "GKSSP sequence \(sequence) is not 1, 2 or 3")
        }
        guard bytes.count >= expected else {
            throw GateKeeperError(
                .tokenTooShort,
                "a version \(version.rawValue) sequence \(sequence) token is \(expected) bytes; this one is \(bytes.count)"
            )
        }
        guard bytes.count == expected else {
            throw GateKeeperError(
                .tokenTooLong,
                "a version \(version.rawValue) sequence \(sequence) token is \(expected) bytes; this one is \(bytes.count)"
            )
        }
        let message: Message
        switch sequence {
        case 1:
            message = .initiate
        case 2:
            message = .challenge(Array(bytes[16..<24]))
        default:
            let guid = version.sendsGUID ? GateKeeperGUID(uncheckedWireBytes: Array(bytes[32..<48])) : nil
            message = .response(digest: Array(bytes[16..<32]), guid: guid)
        }
        self.init(version: version, message: message, reserved: (bytes[6], bytes[7]))
    }

    public static func == (lhs: GateKeeperToken, rhs: GateKeeperToken) -> Bool {
        lhs.version == rhs.version && lhs.message == rhs.message && lhs.reserved == rhs.reserved
    }

    static func appendLittleEndian(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    static func readLittleEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }
}
