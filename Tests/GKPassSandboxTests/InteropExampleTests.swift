import GKPassTestSupport
import Foundation
import Testing

/// contrib/examples/gatekeeper-guest.sh, the interop example in the README, run for real: bash and the built gkpass
/// against the built sandbox, watched by a second client on a raw socket.
@Suite("Interop example: a bash guest client using gkpass gatekeeper", .serialized)
struct InteropExampleTests {
    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("contrib/examples/gatekeeper-guest.sh").path
    }()

    @Test("the script authenticates, joins, and its message reaches another client in the room")
    func guestScript() throws {
        let sandbox = try SandboxProcess(["--fixed-challenge", "0000000000000000"])
        defer { sandbox.stop() }
        // The observer: a v2 guest answering with published vector 1 (v2 does not hash the host).
        let observer = try LineSocket(port: sandbox.ircxPort)
        observer.send(SandboxEndToEndTests.authLine("GateKeeper", "I", SandboxEndToEndTests.header(version: 2, sequence: 1)))
        _ = observer.line()
        observer.send(SandboxEndToEndTests.authLine("GateKeeper", "S", SandboxEndToEndTests.header(version: 2, sequence: 3) + SandboxEndToEndTests.publishedV2 + [UInt8](repeating: 7, count: 16)))
        #expect(observer.text()?.hasPrefix("AUTH GateKeeper * ") == true)
        observer.send("NICK >Observer")
        observer.send("USER o 0 * :o")
        _ = observer.expect(" 376 ")
        observer.send("JOIN %#Lobby")
        _ = observer.expect(" 366 ")

        let gkpass = SandboxProcess.binDirectory.appendingPathComponent("gkpass").path
        let run = try Run.program("/usr/bin/env", ["GKPASS=\(gkpass)", "bash", Self.script, "127.0.0.1", String(sandbox.ircxPort), "%#Lobby", "Scripted", "hello from bash"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("authenticated as "))
        #expect(run.stdout.contains("joined %#Lobby"))
        #expect(observer.expect("PRIVMSG")?.hasSuffix("PRIVMSG %#Lobby :hello from bash") == true)
        #expect(observer.expect("QUIT") != nil)
    }

    @Test("the script exits 4 when the server refuses the answer")
    func refused() throws {
        let sandbox = try SandboxProcess(["--fault", "wrong-challenge"])
        defer { sandbox.stop() }
        let gkpass = SandboxProcess.binDirectory.appendingPathComponent("gkpass").path
        let run = try Run.program("/usr/bin/env", ["GKPASS=\(gkpass)", "bash", Self.script, "127.0.0.1", String(sandbox.ircxPort), "%#Lobby", "Scripted"])
        #expect(run.status == 4)
        #expect(run.stderr.contains("910"))
    }
}
