import GKPassTestSupport
import Foundation
import GateKeeper
import Testing

/// The real `gkpass-sandbox` binary, driven only by independent clients: curl for HTTPS and raw sockets for IRCX,
/// answering GateKeeper with the published vectors (protocol.md §6), never with gkpass's own code.
@Suite("gkpass-sandbox (real binary, curl and raw sockets)", .serialized)
struct SandboxEndToEndTests {
    static let published: [UInt8] = [0x9e, 0xa5, 0xb9, 0xa8, 0x4d, 0xbd, 0x1d, 0x41, 0x77, 0x28, 0x4e, 0xc1, 0x5d, 0x29, 0x28, 0x2b]  // vector 2
    static let publishedV2: [UInt8] = [0x51, 0x32, 0x3a, 0xe2, 0x22, 0xb3, 0x2b, 0x8b, 0xa3, 0x4c, 0xc4, 0xd0, 0xbe, 0x30, 0xc5, 0xdd]  // vector 1

    /// A sandbox whose challenge is all zeros and whose name is 1.2.3.4, so vector 2 is the right v3 answer.
    static func vectorSandbox(_ extra: [String] = []) throws -> SandboxProcess {
        try SandboxProcess(["--fixed-challenge", "0000000000000000", "--server-name", "1.2.3.4"] + extra)
    }

    static func tweenerTickets(_ sandbox: SandboxProcess, member: String = "demo%40passport.test", password: String = "sandbox-demo") throws -> (t: String, p: String) {
        let result = try Run.curl([
            "--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null",
            "-H", "Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=\(member),pwd=\(password),lc=1033",
            sandbox.httpsOrigin + "/login2.srf",
        ])
        let info = try #require(result.stdout.split(separator: "\r\n").first { $0.hasPrefix("Authentication-Info:") })
        let fromPP = info[info.range(of: "from-PP='")!.upperBound...].prefix { $0 != "'" }
        return (String(fromPP[fromPP.range(of: "t=")!.upperBound..<fromPP.range(of: "&p=")!.lowerBound]),
                String(fromPP[fromPP.range(of: "&p=")!.upperBound...]))
    }

    /// `AUTH <package> S :<escaped>` built by hand from literal bytes.
    static func authLine(_ package: String, _ step: String, _ raw: [UInt8]) -> [UInt8] {
        Array("AUTH \(package) \(step) :".utf8) + AuthEscaping.escape(raw) + [0x0D, 0x0A]
    }

    static func header(version: UInt8, sequence: UInt8) -> [UInt8] {
        Array("GKSSP".utf8) + [0, 0, 0, version, 0, 0, 0, sequence, 0, 0, 0]
    }

    /// GateKeeperPassport v3 by hand; returns the socket after the server's final AUTH line (or nil if refused).
    static func passportLogin(_ sandbox: SandboxProcess, tickets: (t: String, p: String)) throws -> (LineSocket, String?) {
        let socket = try LineSocket(port: sandbox.ircxPort)
        socket.send("IRCVERS IRC8 MSN-OCX!9.02.0310.2401 EN-US")
        _ = socket.expect(" 800 ")
        socket.send(authLine("GateKeeperPassport", "I", header(version: 3, sequence: 1)))
        let challenge = socket.line() ?? []
        #expect(challenge == Array("AUTH GateKeeperPassport S :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{2}\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0".utf8))
        socket.send(authLine("GateKeeperPassport", "S", header(version: 3, sequence: 3) + published + [UInt8](repeating: 0, count: 16)))
        guard socket.text() == "AUTH GateKeeperPassport S :OK" else { return (socket, nil) }
        let blob = String(format: "%08X%@%08X%@", tickets.t.utf8.count, tickets.t, tickets.p.utf8.count, tickets.p)
        socket.send("AUTH GateKeeperPassport S :" + blob)
        return (socket, socket.text())
    }

    @Test("starts on loopback with port 0, writes endpoints.json and a private CA, and stops cleanly on SIGTERM")
    func lifecycle() throws {
        let sandbox = try SandboxProcess()
        #expect(sandbox.readyLine.hasPrefix("ready https=https://127.0.0.1:"))
        for key in ["ca_file", "nexus_url", "web_login_url", "chat_site_url", "ircx", "directory"] { #expect(sandbox.endpoints[key] != nil, "\(key)") }
        let ca = try FileManager.default.attributesOfItem(atPath: sandbox.stateDirectory + "/ca.key")
        #expect((ca[.posixPermissions] as? Int) == 0o600)
        let dir = try FileManager.default.attributesOfItem(atPath: sandbox.stateDirectory)
        #expect((dir[.posixPermissions] as? Int) == 0o700)
        let endpoints = sandbox.stateDirectory + "/endpoints.json"
        #expect(sandbox.terminate() == 0, "SIGTERM right after ready stops the sandbox cleanly")
        #expect(!FileManager.default.fileExists(atPath: endpoints), "a stopped sandbox leaves no endpoints.json behind")
        sandbox.stop()
    }

    @Test("a second sandbox on a running one's state directory exits 8 naming its pid, and leaves its endpoints.json alone")
    func oneSandboxPerStateDirectory() throws {
        let first = try SandboxProcess()
        defer { first.stop() }
        let endpoints = first.stateDirectory + "/endpoints.json"
        let before = try String(contentsOfFile: endpoints, encoding: .utf8)
        let second = try Spawn.run(
            SandboxProcess.binDirectory.appendingPathComponent("gkpass-sandbox").path, ["--state-dir", first.stateDirectory], timeout: 30)
        let message = String(decoding: second.stderr, as: UTF8.self)
        #expect(second.status == 8, "\(message)")
        #expect(message.contains("pid \(first.pid)") && message.contains("--state-dir"), "\(message)")
        #expect(message.split(separator: "\n").count == 1, "one line: \(message)")
        #expect(second.stdout.isEmpty, "no ready line")
        #expect(try String(contentsOfFile: endpoints, encoding: .utf8) == before, "the first sandbox's endpoints.json is untouched")
        #expect(first.isRunning)

        // Someone else's endpoints.json (another pid) is not removed when the sandbox stops.
        let foreign = before.replacingOccurrences(of: "\"pid\" : \(first.pid)", with: "\"pid\" : 1")
        #expect(foreign != before)
        try foreign.write(toFile: endpoints, atomically: true, encoding: .utf8)
        #expect(first.terminate() == 0)
        #expect(FileManager.default.fileExists(atPath: endpoints), "endpoints.json naming pid 1 is not the sandbox's to remove")
    }

    @Test("a killed sandbox's state directory is taken over by the next one, which rewrites endpoints.json")
    func staleStateDirectory() throws {
        let killed = try SandboxProcess()
        kill(killed.pid, SIGKILL)
        Spawn.wait(killed.pid, timeout: 10)
        let next = try SandboxProcess(stateDirectory: killed.stateDirectory)
        defer { next.stop() }
        #expect(next.endpoints["pid"] as? Int == Int(next.pid))
        #expect(try String(contentsOfFile: killed.stateDirectory + "/sandbox.lock", encoding: .utf8) == "\(next.pid)\n")
    }

    @Test("curl trusts it with --cacert and not without; the nexus answers PassportURLs")
    func tlsAndNexus() throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let untrusted = try Run.curl(["-o", "/dev/null", sandbox.httpsOrigin + "/rdr/pprdr.asp"])
        #expect(untrusted.status == 60, "curl must refuse the sandbox's certificate without its CA: \(untrusted.stderr)")
        let nexus = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", sandbox.httpsOrigin + "/rdr/pprdr.asp"])
        #expect(nexus.status == 0, "\(nexus.stderr)")
        let port = sandbox.httpsOrigin.split(separator: ":").last!
        #expect(nexus.stdout.contains("PassportURLs: DARealm=Passport.Net,DALogin=127.0.0.1:\(port)/login2.srf,"))
        let byName = try Run.curl(["--cacert", sandbox.caFile, "-o", "/dev/null", "-w", "%{http_code}", "https://localhost:\(port)/rdr/pprdr.asp"])
        #expect(byName.stdout == "200", "the certificate names localhost too: \(byName.stderr)")
    }

    @Test("Tweener: success, second-DA redirect followed by curl with the same Authorization, and 401")
    func tweener() throws {
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).json").path
        try #"{"accounts": [{"member": "far@passport.test", "password": "p,w", "nickname": "Far", "puid": "00000000000000FA", "da": "secondary"}]}"#
            .write(toFile: accounts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accounts) }
        let sandbox = try SandboxProcess(["--accounts", accounts])
        defer { sandbox.stop() }
        let tickets = try Self.tweenerTickets(sandbox)
        #expect(!tickets.t.isEmpty && !tickets.p.isEmpty)

        // curl --location-trusted resends the Authorization header to the redirect target, as Tweener clients must.
        let far = try Run.curl([
            "--cacert", sandbox.caFile, "-L", "--location-trusted", "-D", "-", "-o", "/dev/null",
            "-H", "Authorization: Passport1.4 OrgVerb=GET,sign-in=far%40passport.test,pwd=p%2Cw", sandbox.httpsOrigin + "/login2.srf",
        ])
        #expect(far.stdout.contains("HTTP/1.1 302 Found"))
        #expect(far.stdout.contains("Authentication-Info: Passport1.4 da-status=redir"))
        #expect(far.stdout.contains("/loginnet/login2.srf?lc=1033"))
        #expect(far.stdout.contains("da-status=success"))

        let wrong = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", "-H", "Authorization: Passport1.4 sign-in=demo%40passport.test,pwd=x", sandbox.httpsOrigin + "/login2.srf"])
        #expect(wrong.stdout.contains("HTTP/1.1 401 Unauthorized"))
        #expect(wrong.stdout.contains("WWW-Authenticate: Passport1.4 da-status=failed,"))
    }

    @Test("web form to chat page with curl's cookie engine: post.srf, chatroom, msnredir, PARAMs")
    func webFlow() throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let jar = FileManager.default.temporaryDirectory.appendingPathComponent("jar-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: jar) }
        let ru = (sandbox.httpsOrigin + "/chatroom.msnw?rm=TheLobby").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let result = try Run.curl([
            "--cacert", sandbox.caFile, "-L", "-c", jar, "-b", jar, "-w", "\n%{num_redirects}",
            "-d", "login=demo%40passport.test&passwd=sandbox-demo&id=2260&ru=\(ru)", sandbox.httpsOrigin + "/ppsecure/post.srf",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("\n3"), "post.srf -> chatroom -> msnredir -> chatroom")
        for name in ["PassportTicket", "PassportProfile", "MSNREGCookie", "NickName", "Server"] {
            #expect(result.stdout.contains("<PARAM NAME=\"\(name)\" VALUE="), "\(name)")
        }
        #expect(try String(contentsOfFile: jar, encoding: .utf8).contains("MSNChatNN\tDemo"))

        let bad = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", "-d", "login=demo%40passport.test&passwd=nope&id=2260&ru=\(ru)", sandbox.httpsOrigin + "/ppsecure/post.srf"])
        #expect(bad.stdout.contains("&ec=e5a\r\n"))
    }

    @Test("two raw connections log in with GateKeeperPassport (published vector), join a room and see each other's messages")
    func passportAndChat() throws {
        let sandbox = try Self.vectorSandbox(["--generated-accounts", "1"])
        defer { sandbox.stop() }
        let (first, done) = try Self.passportLogin(sandbox, tickets: try Self.tweenerTickets(sandbox))
        #expect(done == "AUTH GateKeeperPassport * 0001A2B3C4D5E6F7@GateKeeperPassport 0")
        first.send("NICK Demo")
        first.send("USER demo 0 * :Demo")
        #expect(first.expect(" 376 ") != nil)

        let (second, secondDone) = try Self.passportLogin(
            sandbox, tickets: try Self.tweenerTickets(sandbox, member: "user1%40passport.test", password: "password-1"))
        #expect(secondDone == "AUTH GateKeeperPassport * 0002000000000001@GateKeeperPassport 0")
        second.send("NICK User1")
        second.send("USER u 0 * :User1")
        #expect(second.expect(" 376 ") != nil)

        first.send("JOIN %#TheLobby")
        #expect(first.expect(" 366 ") != nil)
        second.send("JOIN %#TheLobby")
        #expect(second.expect("353") == ":1.2.3.4 353 User1 = %#TheLobby :.Demo User1")
        #expect(first.expect("JOIN") == ":User1!0002000000000001@GateKeeperPassport JOIN :%#TheLobby")
        second.send("PRIVMSG %#TheLobby :hello, Demo")
        #expect(first.expect("PRIVMSG") == ":User1!0002000000000001@GateKeeperPassport PRIVMSG %#TheLobby :hello, Demo")
        first.send("PRIVMSG %#TheLobby :welcome")
        #expect(second.expect("PRIVMSG") == ":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG %#TheLobby :welcome")
        first.send("FINDS %#TheLobby")
        #expect(first.expect(" 613 ") == ":1.2.3.4 613 Demo :127.0.0.1 \(sandbox.ircxPort)")
    }

    @Test("a guest (GateKeeper v2, published vector 1) gets the GUID it sent as its identity")
    func guestIdentity() throws {
        let sandbox = try Self.vectorSandbox()
        defer { sandbox.stop() }
        let guest = try LineSocket(port: sandbox.ircxPort)
        guest.send(Self.authLine("GateKeeper", "I", Self.header(version: 2, sequence: 1)))
        #expect(guest.line() == Array("AUTH GateKeeper S :GKSSP\\0\\0\\0\u{2}\\0\\0\\0\u{2}\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0".utf8))
        let guid: [UInt8] = [0xc3, 0x6a, 0x97, 0xd6, 0x0a, 0xd3, 0x49, 0x42, 0xb1, 0x68, 0x07, 0x10, 0x2b, 0xba, 0x18, 0x96]
        guest.send(Self.authLine("GateKeeper", "S", Self.header(version: 2, sequence: 3) + Self.publishedV2 + guid))
        #expect(guest.text() == "AUTH GateKeeper * D6976AC3D30A4249B16807102BBA1896@GateKeeper 0")
        guest.send("NICK >Visitor")
        guest.send("USER v 0 * :Visitor")
        #expect(guest.expect(" 001 ")?.hasSuffix(">Visitor!D6976AC3D30A4249B16807102BBA1896@GateKeeper") == true)
    }

    @Test("wrong answers, forged tickets and expired tickets get 910 and a closed link")
    func refusals() throws {
        let sandbox = try Self.vectorSandbox()
        defer { sandbox.stop() }
        let socket = try LineSocket(port: sandbox.ircxPort)
        socket.send(Self.authLine("GateKeeper", "I", Self.header(version: 3, sequence: 1)))
        _ = socket.line()
        socket.send(Self.authLine("GateKeeper", "S", Self.header(version: 3, sequence: 3) + Self.publishedV2 + [UInt8](repeating: 1, count: 16)))
        #expect(socket.text() == ":1.2.3.4 910 * GateKeeper :Authentication failed")
        #expect(socket.isClosedByPeer())

        let (forged, forgedReply) = try Self.passportLogin(sandbox, tickets: ("AAAA", "BBBB"))
        #expect(forgedReply == ":1.2.3.4 910 * GateKeeperPassport :Authentication failed")
        #expect(forged.isClosedByPeer())

        let expired = try Self.vectorSandbox(["--fault", "expired-tickets"])
        defer { expired.stop() }
        let (old, oldReply) = try Self.passportLogin(expired, tickets: try Self.tweenerTickets(expired))
        #expect(oldReply?.contains(" 910 ") == true)
        #expect(old.isClosedByPeer())
    }

    @Test("hostile input: a 1 MB header, TLS garbage, a 1 MB IRC line and a half-open socket; the sandbox stays up")
    func hostileInput() throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let headerFile = FileManager.default.temporaryDirectory.appendingPathComponent("big-header-\(UUID().uuidString)").path
        try ("X-Big: " + String(repeating: "a", count: 1_000_000) + "\n").write(toFile: headerFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: headerFile) }
        let big = try Run.curl(["--cacert", sandbox.caFile, "-o", "/dev/null", "-w", "%{http_code}", "-H", "@" + headerFile, sandbox.httpsOrigin + "/rdr/pprdr.asp"])
        #expect(big.stdout == "431", "\(big.stderr)")

        let port = Int(sandbox.httpsOrigin.split(separator: ":").last!)!
        let garbage = try LineSocket(port: port)
        garbage.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))  // plaintext into a TLS port
        #expect(garbage.isClosedByPeer())

        let halfOpen = try LineSocket(port: sandbox.ircxPort)  // says nothing at all
        let stalledTLS = try LineSocket(port: port)  // opens a TCP connection to the TLS port and never handshakes
        let flood = try LineSocket(port: sandbox.ircxPort)
        flood.send([UInt8](repeating: 0x41, count: 1_000_000) + [0x0D, 0x0A])
        #expect(flood.expect("ERROR :Closing Link") != nil)
        _ = halfOpen

        let after = try Run.curl(["--cacert", sandbox.caFile, "-o", "/dev/null", "-w", "%{http_code}", sandbox.httpsOrigin + "/rdr/pprdr.asp"])
        #expect(after.stdout == "200")
        let ircx = try LineSocket(port: sandbox.ircxPort)
        ircx.send("IRCVERS IRC8 X")
        #expect(ircx.expect(" 800 ") != nil)
        #expect(sandbox.isRunning)
        // The silent TLS connection is dropped after the idle timeout (15 s), not held forever.
        let started = Date()
        #expect(stalledTLS.isClosedByPeer(timeout: 40))
        #expect(Date().timeIntervalSince(started) < 40)
    }

    @Test("HTTP faults as a client sees them: 503, no answer, broken headers, redirect loops")
    func httpFaults() throws {
        let url = "/login2.srf"
        let five = try SandboxProcess(["--fault", "http-5xx"])
        defer { five.stop() }
        #expect(try Run.curl(["--cacert", five.caFile, "-o", "/dev/null", "-w", "%{http_code}", five.httpsOrigin + url]).stdout == "503")
        let drop = try SandboxProcess(["--fault", "drop"])
        defer { drop.stop() }
        #expect(try Run.curl(["--cacert", drop.caFile, "-o", "/dev/null", drop.httpsOrigin + url]).status == 52, "curl: empty reply")
        let broken = try SandboxProcess(["--fault", "malformed-headers"])
        defer { broken.stop() }
        #expect(try Run.curl(["--cacert", broken.caFile, "-o", "/dev/null", broken.httpsOrigin + url]).status == 8, "curl: weird server reply")
        let loop = try SandboxProcess(["--fault", "redirect-loop"])
        defer { loop.stop() }
        #expect(try Run.curl(["--cacert", loop.caFile, "-L", "--max-redirs", "5", "-o", "/dev/null", loop.httpsOrigin + url]).status == 47, "curl: too many redirects")
    }
}
