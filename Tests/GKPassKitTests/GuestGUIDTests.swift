import GKPassKit
import GateKeeper
import Testing

@Suite("Stable guest GUID")
struct GuestGUIDTests {
    @Test("derivation matches an independent HMAC-SHA256 computation (Python hmac)")
    func vector() throws {
        let guid = try GuestGUID.derive(machineID: Array("0123456789abcdef0123456789abcdef\n".utf8), uid: 1000)
        #expect(guid.displayString == "C94DAD7644FF4B90AD2D1A57D295514C")
    }

    @Test("different users and machines get different GUIDs; the same pair always the same")
    func stability() throws {
        let machine = Array("0123456789abcdef0123456789abcdef".utf8)
        let other = Array("fedcba9876543210fedcba9876543210".utf8)
        #expect(try GuestGUID.derive(machineID: machine, uid: 1) == GuestGUID.derive(machineID: machine, uid: 1))
        #expect(try GuestGUID.derive(machineID: machine, uid: 1) != GuestGUID.derive(machineID: machine, uid: 2))
        #expect(try GuestGUID.derive(machineID: machine, uid: 1) != GuestGUID.derive(machineID: other, uid: 1))
    }

    @Test("the GUID is a version 4, RFC 4122 variant GUID and never the zero GUID")
    func shape() throws {
        let guid = try GuestGUID.derive(machineID: Array("0123456789abcdef0123456789abcdef".utf8), uid: 0)
        #expect(guid.displayBytes[6] >> 4 == 4)
        #expect(guid.displayBytes[8] >> 6 == 2)
        #expect(!guid.isZero)
    }

    @Test("a malformed machine ID is refused", arguments: ["", "xyz", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg"])
    func refuses(machineID: String) {
        #expect(throws: GKPassError.self) { try GuestGUID.derive(machineID: Array(machineID.utf8), uid: 0) }
    }
}
