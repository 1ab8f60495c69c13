import Crypto
import GateKeeper
import Testing

@Suite("GateKeeper HMAC-MD5 answer")
struct GateKeeperHMACTests {
    @Test("published vector 1: null challenge, v2 (MSNLD/irc7 GateKeeperTests)")
    func vector1() throws {
        let answer = GateKeeperHMAC().answer(challenge: [UInt8](repeating: 0, count: 8), version: .v2, host: [])
        #expect(hex(answer) == "51323ae222b32b8ba34cc4d0be30c5dd")
    }

    @Test("published vector 2: null challenge, v3, host 1.2.3.4")
    func vector2() throws {
        let answer = GateKeeperHMAC().answer(
            challenge: [UInt8](repeating: 0, count: 8), version: .v3, host: Array("1.2.3.4".utf8))
        #expect(hex(answer) == "9ea5b9a84dbd1d4177284ec15d29282b")
    }

    @Test("the worked message-3 example's digest (challenge 01..08, host localhost)")
    func workedExample() throws {
        let answer = GateKeeperHMAC().answer(
            challenge: bytes(hex: "0102030405060708"), version: .v3, host: Array("localhost".utf8))
        #expect(hex(answer) == "279a49b56166014bbdaf9a4263124877")
    }

    @Test("the RFC 2104 construction over Insecure.MD5 agrees with swift-crypto's HMAC<Insecure.MD5> on random messages")
    func agreesWithGenericHMAC() {
        let hmac = GateKeeperHMAC()
        let key = SymmetricKey(data: GateKeeperHMAC.key)
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 8, 15, 16, 55, 56, 63, 64, 65, 128, 1000] {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = HMAC<Insecure.MD5>.authenticationCode(for: message, using: key).withUnsafeBytes { Array($0) }
            #expect(hmac.mac(message) == expected, "\(length) bytes")
        }
    }

    @Test("v1 and v2 ignore the host; v3 depends on it")
    func hostOnlyForV3() throws {
        let hmac = GateKeeperHMAC()
        let challenge = bytes(hex: "0001020304050607")
        #expect(hmac.answer(challenge: challenge, version: .v1, host: Array("a".utf8))
                == hmac.answer(challenge: challenge, version: .v2, host: Array("b".utf8)))
        #expect(hmac.answer(challenge: challenge, version: .v3, host: Array("a".utf8))
                != hmac.answer(challenge: challenge, version: .v3, host: Array("b".utf8)))
    }

    @Test("hosts are truncated to 15 bytes by default, and not when switched off")
    func truncation() throws {
        let hmac = GateKeeperHMAC()
        let challenge = bytes(hex: "0001020304050607")
        let long = Array("chat.example-network.org".utf8)
        let fifteen = Array(long.prefix(15))
        #expect(hmac.answer(challenge: challenge, version: .v3, host: long)
                == hmac.answer(challenge: challenge, version: .v3, host: fifteen))
        #expect(hmac.answer(challenge: challenge, version: .v3, host: long, truncateHost: false)
                != hmac.answer(challenge: challenge, version: .v3, host: fifteen))
        // At the boundary: 15 bytes are untouched, 16 lose one.
        #expect(GateKeeperHMAC.message(challenge: challenge, version: .v3, host: fifteen).count == 8 + 15)
        #expect(GateKeeperHMAC.message(challenge: challenge, version: .v3, host: fifteen + [0x41]).count == 8 + 15)
        #expect(
            GateKeeperHMAC.message(challenge: challenge, version: .v3, host: fifteen + [0x41], truncateHost: false)
                .count == 8 + 16)
    }
}
