import GKPassKit
import GateKeeper
import Testing

@Suite("gatekeeper respond use case")
struct GateKeeperResponderTests {
    func challengeLine(_ package: String, version: GateKeeperVersion, challenge: [UInt8] = [UInt8](repeating: 0, count: 8)) -> [UInt8] {
        let token = try! GateKeeperToken(version: version, message: .challenge(challenge))
        return AuthMessage(packageName: Array(package.utf8), step: .sequence, data: token.encoded()).serialized()
    }

    func responder(package: GateKeeperPackage? = nil, host: String? = "1.2.3.4", guid: GateKeeperGUID? = nil) -> GateKeeperResponder {
        GateKeeperResponder(expectedPackage: package, host: host.map { Array($0.utf8) }, truncateHost: true, guid: guid)
    }

    @Test("answers in the package spelling the server used")
    func spelling() throws {
        let r = responder(guid: .zero)
        let challenge = try r.parse(line: challengeLine("gatekeeper", version: .v3))
        let answer = try r.answer(challenge)
        #expect(answer.starts(with: Array("AUTH gatekeeper S :GKSSP".utf8)))
        #expect(answer.suffix(2) == [0x0D, 0x0A])
    }

    @Test("a version 4 challenge is answered as version 3 (host hashed, GUID sent) with 4 in the header, as irc7-sspi does")
    func version4() throws {
        // Challenge: GKSSP\0, reserved 00 00, version 4, sequence 2, eight zero bytes (protocol.md §1.3).
        let raw: [UInt8] = Array("GKSSP".utf8) + [0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        let line = AuthMessage(packageName: Array("GateKeeperPassport".utf8), step: .sequence, data: raw).serialized()
        let r = responder(host: "1.2.3.4")
        let challenge = try r.parse(line: line)
        #expect(challenge.headerVersion == 4 && challenge.token.version == .v3)
        let answer = try r.answer(challenge)
        let data = try #require(try AuthMessage(IRCXMessage(parsing: answer))).data
        // Header with version 4 and sequence 3; the digest is protocol.md §6 vector 2 (v3, host 1.2.3.4); zero GUID.
        let expected = "474b5353500000000400000003000000" + "9ea5b9a84dbd1d4177284ec15d29282b" + String(repeating: "00", count: 16)
        #expect(data.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() == expected)
        // Like version 3 it needs the host.
        do {
            _ = try responder(host: nil).answer(challenge)
            Issue.record("answered a version 4 challenge without a host")
        } catch {
            #expect(error.exitCode == .usage && error.message.contains("version 4"))
        }
        // Versions 0 and 5 are still not GateKeeper.
        for version: UInt8 in [0, 5] {
            var other = raw
            other[8] = version
            #expect(throws: GKPassError.self) {
                try r.parse(line: AuthMessage(packageName: Array("GateKeeper".utf8), step: .sequence, data: other).serialized())
            }
        }
    }

    @Test("version 3 without a host is a usage error (exit 2); v1 and v2 need no host")
    func hostNeeded() throws {
        let r = responder(host: nil, guid: .zero)
        do {
            _ = try r.answer(try r.parse(line: challengeLine("GateKeeper", version: .v3)))
            Issue.record("answered without a host")
        } catch {
            #expect(error.exitCode == .usage)
        }
        #expect(try r.answer(try r.parse(line: challengeLine("GateKeeper", version: .v2))).count > 0)
    }

    @Test("a GUID with GateKeeperPassport is a usage error; Passport needs no guest GUID")
    func passportGUID() throws {
        let withGUID = responder(guid: try GateKeeperGUID(parsing: "D6976AC3-D30A-4249-B168-07102BBA1896"))
        let challenge = try withGUID.parse(line: challengeLine("GateKeeperPassport", version: .v3))
        #expect(!withGUID.needsGuestGUID(for: challenge))
        do { _ = try withGUID.answer(challenge); Issue.record("accepted") } catch { #expect(error.exitCode == .usage) }
        let plain = responder()
        #expect(!plain.needsGuestGUID(for: challenge))
        #expect(plain.needsGuestGUID(for: try plain.parse(line: challengeLine("GateKeeper", version: .v3))))
        #expect(!plain.needsGuestGUID(for: try plain.parse(line: challengeLine("GateKeeper", version: .v1))))
    }

    static let badInput: [String] = [
        "PING :abc\r\n",
        ":srv 910 nick GateKeeper :Authentication failed\r\n",
        "AUTH GateKeeper I :GKSSP\\0\\0\\0\r\n",
        "AUTH GateKeeper S :OK\r\n",
        "AUTH NTLM S :TlRMTVNTUAAB\r\n",
        "AUTH GateKeeper S :GKSSP\\0\\0\\0\\q\r\n",
        "AUTH GateKeeper S :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{2}\\0\\0\\0\u{1}\u{2}\r\n",
        "AUTH GateKeeper S :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{1}\\0\\0\\0\r\n",
        "AUTH\r\n",
        "\r\n",
    ]

    @Test("input that is not a challenge is exit 1 with a one-line message", arguments: badInput)
    func badLines(text: String) {
        do {
            _ = try responder(guid: .zero).parse(line: Array(text.utf8))
            Issue.record("parsed \(text)")
        } catch {
            #expect(error.exitCode == .failure)
            #expect(!error.message.contains("\n"))
        }
    }

    @Test("--package is an expectation: a challenge for the other package is refused")
    func expectation() {
        #expect(throws: GKPassError.self) {
            try responder(package: .gateKeeperPassport).parse(line: challengeLine("GateKeeper", version: .v3))
        }
    }
}
