import GateKeeper
import Testing

@Suite("GKSSP tokens")
struct GateKeeperTokenTests {
    @Test("the v3 init token is the 16 bytes of protocol.md §5")
    func initBytes() throws {
        let token = try GateKeeperToken(version: .v3, message: .initiate)
        #expect(token.encoded() == bytes(hex: "474B5353500000000300000001000000"))
    }

    @Test("decodes the §5 challenge and reads the 8 challenge bytes")
    func decodesChallenge() throws {
        let token = try GateKeeperToken(decoding: bytes(hex: "474B5353500000000300000002000000 00202C5C0A0D0941"))
        #expect(token.version == .v3)
        #expect(token.sequence == 2)
        #expect(token.message == .challenge(bytes(hex: "00202C5C0A0D0941")))
    }

    @Test("reserved bytes are ignored on decode (JD, EV, CC CC seen in the wild)", arguments: ["4A44", "4556", "CCCC", "0372"])
    func reservedIgnored(reserved: String) throws {
        let token = try GateKeeperToken(decoding: bytes(hex: "474B535350 00" + reserved + "0100000001000000"))
        #expect(token.version == .v1)
        #expect(token.message == .initiate)
    }

    @Test("every version and sequence round-trips through encode and decode")
    func roundTrips() throws {
        var rng = SplitMix64(seed: 3)
        for version in GateKeeperVersion.allCases {
            let guid = version.sendsGUID ? GateKeeperGUID(wireBytes: rng.bytes(16)) : nil
            for message: GateKeeperToken.Message in [
                .initiate, .challenge(rng.bytes(8)), .response(digest: rng.bytes(16), guid: guid),
            ] {
                let token = try GateKeeperToken(version: version, message: message)
                let encoded = token.encoded()
                #expect(encoded.count == GateKeeperToken.expectedLength(version: version, sequence: message.sequence))
                #expect(try GateKeeperToken(decoding: encoded) == token)
            }
        }
    }

    @Test("message lengths: 16, 24, 32 for v1 answers, 48 for v2/v3 answers")
    func lengths() throws {
        #expect(GateKeeperToken.expectedLength(version: .v1, sequence: 1) == 16)
        #expect(GateKeeperToken.expectedLength(version: .v2, sequence: 2) == 24)
        #expect(GateKeeperToken.expectedLength(version: .v1, sequence: 3) == 32)
        #expect(GateKeeperToken.expectedLength(version: .v2, sequence: 3) == 48)
        #expect(GateKeeperToken.expectedLength(version: .v3, sequence: 3) == 48)
    }

    static let malformed: [(String, String, GateKeeperError.Kind)] = [
        ("empty", "", .tokenTooShort),
        ("15 bytes", "474B53535000000003000000010000", .tokenTooShort),
        ("bad signature", "474B5353510000000300000001000000", .badSignature),
        ("signature without NUL", "474B5353502000000300000001000000", .badSignature),
        ("version 0", "474B5353500000000000000001000000", .unsupportedVersion),
        ("version 4", "474B5353500000000400000001000000", .unsupportedVersion),
        ("big-endian version (S2's doc error)", "474B5353500000000000000300000001", .unsupportedVersion),
        ("sequence 0", "474B5353500000000300000000000000", .unexpectedSequence),
        ("sequence 4", "474B5353500000000300000004000000", .unexpectedSequence),
        ("init with a body", "474B5353500000000300000001000000 00", .tokenTooLong),
        ("challenge of 7 bytes", "474B5353500000000300000002000000 01020304050607", .tokenTooShort),
        ("challenge of 9 bytes", "474B5353500000000300000002000000 010203040506070809", .tokenTooLong),
        ("v1 answer with a GUID", "474B5353500000000100000003000000" + String(repeating: "00", count: 32), .tokenTooLong),
        ("v3 answer without a GUID", "474B5353500000000300000003000000" + String(repeating: "00", count: 16), .tokenTooShort),
        ("v3 answer one byte long", "474B5353500000000300000003000000" + String(repeating: "00", count: 33), .tokenTooLong),
    ]

    @Test("malformed tokens get a typed remote error", arguments: malformed)
    func malformedTokens(name: String, hexBytes: String, kind: GateKeeperError.Kind) throws {
        do {
            _ = try GateKeeperToken(decoding: bytes(hex: hexBytes))
            Issue.record("\(name) decoded")
        } catch {
            #expect(error.kind == kind, "\(name): \(error)")
            #expect(error.blame == .remote)
        }
    }

    @Test("building a token with the wrong body for its version is a local error")
    func buildMisuse() throws {
        #expect(throws: GateKeeperError.self) { try GateKeeperToken(version: .v3, message: .challenge([1, 2, 3])) }
        #expect(throws: GateKeeperError.self) {
            try GateKeeperToken(version: .v3, message: .response(digest: [UInt8](repeating: 0, count: 16), guid: nil))
        }
        #expect(throws: GateKeeperError.self) {
            try GateKeeperToken(version: .v1, message: .response(digest: [UInt8](repeating: 0, count: 16), guid: .zero))
        }
        #expect {
            _ = try GateKeeperToken(version: .v2, message: .response(digest: [1], guid: .zero))
        } throws: { ($0 as? GateKeeperError)?.blame == .local }
    }

    @Test("random bytes never crash the decoder")
    func fuzzish() throws {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<5000 {
            var input = rng.bytes(Int.random(in: 0...60, using: &rng))
            if input.count >= 16 && Bool.random(using: &rng) {
                input.replaceSubrange(0..<6, with: GateKeeperToken.signature)
                input[8] = UInt8.random(in: 0...4, using: &rng)
                input[9] = 0; input[10] = 0; input[11] = 0
            }
            _ = try? GateKeeperToken(decoding: input)
        }
    }
}
