import GateKeeper
import Testing

@Suite("GateKeeper GUIDs")
struct GateKeeperGUIDTests {
    @Test("raw 3A75B0EB… displays as EBB0753A… (S13 docs §3.D)")
    func displayVector() throws {
        let guid = try #require(GateKeeperGUID(wireBytes: bytes(hex: "3A75B0EB27629DD8144F8AC5013C77B2")))
        #expect(guid.displayString == "EBB0753A6227D89D144F8AC5013C77B2")
        #expect(guid.canonicalString == "EBB0753A-6227-D89D-144F-8AC5013C77B2")
    }

    @Test(
        "parses the canonical form, braces, lower case and 32 bare digits alike",
        arguments: [
            "D6976AC3-D30A-4249-B168-07102BBA1896", "{D6976AC3-D30A-4249-B168-07102BBA1896}",
            "d6976ac3-d30a-4249-b168-07102bba1896", "D6976AC3D30A4249B16807102BBA1896",
        ])
    func parses(text: String) throws {
        let guid = try GateKeeperGUID(parsing: text)
        #expect(hex(guid.wireBytes) == "c36a97d60ad34942b16807102bba1896")
        #expect(guid.displayString == "D6976AC3D30A4249B16807102BBA1896")
    }

    @Test(
        "refuses malformed GUID text",
        arguments: [
            "", "D6976AC3", "D6976AC3-D30A-4249-B168-07102BBA189", "D6976AC3-D30A-4249-B168-07102BBA18966",
            "D6976AC3D-30A-4249-B168-07102BBA1896", "G6976AC3-D30A-4249-B168-07102BBA1896", "{D6976AC3D30A4249B16807102BBA1896",
        ])
    func refuses(text: String) throws {
        #expect(throws: GateKeeperError.self) { try GateKeeperGUID(parsing: text) }
    }

    @Test("the zero GUID is sixteen zero bytes")
    func zero() throws {
        #expect(GateKeeperGUID.zero.wireBytes == [UInt8](repeating: 0, count: 16))
        #expect(GateKeeperGUID.zero.isZero)
        #expect(GateKeeperGUID.zero.displayString == String(repeating: "0", count: 32))
    }

    @Test("display and wire order convert both ways")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let guid = try #require(GateKeeperGUID(wireBytes: rng.bytes(16)))
            #expect(GateKeeperGUID(displayBytes: guid.displayBytes) == guid)
            #expect(try GateKeeperGUID(parsing: guid.canonicalString) == guid)
            #expect(try GateKeeperGUID(parsing: guid.displayString) == guid)
        }
    }
}
