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
