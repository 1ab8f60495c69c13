import GateKeeper
import Testing

@Suite("IRCX AUTH escaping")
struct AuthEscapingTests {
    @Test(
        "escapes exactly the seven bytes of protocol.md §1.2",
        arguments: [
            (UInt8(0x00), "\\0"), (0x09, "\\t"), (0x0A, "\\n"), (0x0D, "\\r"), (0x20, "\\b"), (0x2C, "\\c"),
            (0x5C, "\\\\"),
        ])
    func escapesTable(byte: UInt8, escaped: String) throws {
        #expect(AuthEscaping.escape([byte]) == Array(escaped.utf8))
        #expect(AuthEscaping.unescape(Array(escaped.utf8)) == [byte])
    }

    @Test("every other byte goes out raw, including ':' and high bytes")
    func otherBytesRaw() throws {
        let special: Set<UInt8> = [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x2C, 0x5C]
        for byte in UInt8.min...UInt8.max where !special.contains(byte) {
            #expect(AuthEscaping.escape([byte]) == [byte])
        }
    }

    @Test("the §5 challenge example escapes byte for byte")
    func protocolExample() throws {
        let token = bytes(hex: "474B5353500000000300000002000000 00202C5C0A0D0941")
        #expect(AuthEscaping.escape(token) == wire("GKSSP\\0\\0\\0<0x03>\\0\\0\\0<0x02>\\0\\0\\0\\0\\b\\c\\\\\\n\\r\\tA"))
    }

    @Test("unknown escapes are kept as both characters; a trailing backslash is kept")
    func lenientUnknown() throws {
        #expect(AuthEscaping.unescape(Array("a\\xb".utf8)) == Array("a\\xb".utf8))
        #expect(AuthEscaping.unescape(Array("ab\\".utf8)) == Array("ab\\".utf8))
        #expect(AuthEscaping.unescape(Array("\\\\0".utf8)) == Array("\\0".utf8))
    }

    @Test("strict unescaping refuses unknown escapes and a lone trailing backslash")
    func strictRefuses() throws {
        #expect(throws: GateKeeperError.self) { try AuthEscaping.strictUnescape(Array("a\\xb".utf8)) }
        #expect(throws: GateKeeperError.self) { try AuthEscaping.strictUnescape(Array("ab\\".utf8)) }
        do {
            _ = try AuthEscaping.strictUnescape(Array("ab\\q".utf8))
            Issue.record("expected badEscape")
        } catch {
            #expect(error.kind == .badEscape)
            #expect(error.blame == .remote)
            #expect(error.description.contains("byte 2"))
        }
        #expect(try AuthEscaping.strictUnescape(Array("\\0\\b\\\\".utf8)) == [0, 0x20, 0x5C])
    }

    @Test("random bytes survive escape then unescape (both modes), and escaped output holds no separators")
    func roundTripProperty() throws {
        var rng = SplitMix64(seed: 0x6B70_6173)
        for length in 0..<300 {
            let input = rng.bytes(length)
            let escaped = AuthEscaping.escape(input)
            #expect(!escaped.contains(where: { [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x2C].contains($0) }))
            #expect(AuthEscaping.unescape(escaped) == input)
            #expect(try AuthEscaping.strictUnescape(escaped) == input)
        }
    }
}
