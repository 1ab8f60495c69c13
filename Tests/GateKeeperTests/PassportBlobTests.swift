import GateKeeper
import Testing

@Suite("Passport blob framing")
struct PassportBlobTests {
    @Test("the §5 example: 15-char ticket and 21-char profile")
    func protocolExample() throws {
        let blob = PassportBlob(first: Array("ABCABCABCABCABC".utf8), second: Array(String(repeating: "xyz", count: 7).utf8))
        #expect(blob.encoded() == Array("0000000FABCABCABCABCABC00000015xyzxyzxyzxyzxyzxyzxyz".utf8))
    }

    @Test("lengths are uppercase and count bytes, not characters")
    func uppercaseBytes() throws {
        let blob = PassportBlob(first: [UInt8](repeating: 0x41, count: 0x2B), second: Array("é".utf8))
        let encoded = blob.encoded()
        #expect(Array(encoded.prefix(8)) == Array("0000002B".utf8))
        #expect(Array(encoded[(8 + 0x2B)..<(16 + 0x2B)]) == Array("00000002".utf8))
    }

    @Test("decodes either hex case, as the irc7 servers do")
    func decodesLowercase() throws {
        let blob = try PassportBlob(decoding: Array("0000000aABCDEFGHIJ00000000".utf8))
        #expect(blob.first == Array("ABCDEFGHIJ".utf8))
        #expect(blob.second.isEmpty)
    }

    @Test("trailing bytes are ignored by the decoder and counted for strict callers")
    func trailing() throws {
        let bytes = Array("00000001A00000001BXYZ".utf8)
        let blob = try PassportBlob(decoding: bytes)
        #expect(blob.first == [0x41] && blob.second == [0x42])
        #expect(PassportBlob.trailingByteCount(of: bytes) == 3)
        #expect(PassportBlob.trailingByteCount(of: Array("zz".utf8)) == nil)
    }

    static let malformed: [String] = [
        "", "0000000", "0000000G", "-0000001A00000001B", "00000002A", "00000001A", "00000001A0000001B",
        "00000001A00000002B", "FFFFFFFFAB", " 0000001A00000001B", "0x000001A00000001B",
    ]

    @Test("malformed blobs are refused without reading past the end", arguments: malformed)
    func refuses(text: String) throws {
        do {
            _ = try PassportBlob(decoding: Array(text.utf8))
            Issue.record("decoded \(text)")
        } catch {
            #expect(error.kind == .malformedBlob)
        }
    }

    @Test("errors and descriptions never show the credential bytes")
    func noSecretsInText() throws {
        let blob = PassportBlob(first: Array("SECRETTICKET".utf8), second: Array("SECRETPROFILE".utf8))
        #expect(!blob.description.contains("SECRET"))
        #expect {
            _ = try PassportBlob(decoding: Array("0000000CSECRETTICKET000000FFSECRETPROFILE".utf8))
        } throws: { !String(describing: $0).contains("SECRET") }
    }

    @Test("layouts are named as in design.md §5")
    func layouts() throws {
        #expect(PassportBlob.Layout(rawValue: "ticket-profile") == .ticketProfile)
        #expect(PassportBlob.Layout(rawValue: "profile-nickname") == .profileNickname)
    }

    @Test("random strings round-trip")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<300 {
            let blob = PassportBlob(
                first: rng.bytes(Int.random(in: 0...600, using: &rng)),
                second: rng.bytes(Int.random(in: 0...600, using: &rng)))
            #expect(try PassportBlob(decoding: blob.encoded()) == blob)
        }
    }
}
