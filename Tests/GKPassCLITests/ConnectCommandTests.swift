import Foundation
import GKPassTestSupport
import Testing

/// `gkpass connect`, the real binary against the real sandbox's IRCX server: both packages, every GateKeeper
/// version, the directory, and each way the server can say no.
@Suite("gkpass connect (binary, sandbox)", .serialized)
struct ConnectCommandTests {
    typealias Context = LoginCommandTests.Context

    /// A sandbox, a stored demo ticket, and config networks `v1`…`v3` that point at the sandbox's IRCX server with
    /// that GateKeeper version.
    static func loggedIn(_ arguments: [String] = []) throws -> (Context, [String: String]) {
        let context = try Context(arguments)
        let login = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false)
        #expect(login.status == 0, "\(login.stderr)")
        let config = (1...3).map { context.sandbox.webNetworkTable("v\($0)", extra: ["gatekeeper_version = \($0)"]) }.joined()
        let path = context.state + "-config.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        var environment = context.environment(keyring: false)
        environment["GKPASS_CONFIG"] = path
        return (context, environment)
    }

    static func connect(_ arguments: [String], _ environment: [String: String]) throws -> Binary.Result {
        try Binary.run("gkpass", ["connect"] + arguments, environment: environment)
    }

    static func json(_ result: Binary.Result) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any] ?? [:]
    }

    @Test("GateKeeperPassport with the stored ticket, for every GateKeeper version; the server names the PUID and nickname")
    func passport() throws {
        let (context, environment) = try Self.loggedIn()
        for version in 1...3 {
            let result = try Self.connect(["--network", "v\(version)", "--json"], environment)
            #expect(result.status == 0, "v\(version): \(result.stderr)")
            let object = try Self.json(result)
            #expect(object["package"] as? String == "GateKeeperPassport" && object["version"] as? Int == version)
            #expect(object["user"] as? String == "0001A2B3C4D5E6F7" && object["nickname"] as? String == "Demo", "\(object)")
        }
        #expect(context.sandbox.log.components(separatedBy: "ircx registered nick=Demo").count == 4, "\(context.sandbox.log)")
    }

    @Test("guests: AUTH GateKeeper with the stable guest GUID, every version, a > nickname, and a room")
    func guest() throws {
        let (context, environment) = try Self.loggedIn()
        defer { withExtendedLifetime(context) {} }
        var users: Set<String> = []
        for version in 1...3 {
            let result = try Self.connect(["--guest", "--network", "v\(version)", "--nick", "probe\(version)", "--room", "%#Lobby", "--json"], environment)
            #expect(result.status == 0, "v\(version): \(result.stderr)")
            let object = try Self.json(result)
            #expect(object["package"] as? String == "GateKeeper" && object["nickname"] as? String == ">probe\(version)")
            #expect(object["room"] as? String == "%#Lobby")
            if version > 1 { users.insert(object["user"] as? String ?? "") }
        }
        #expect(users.count == 1, "the guest GUID is stable: \(users)")
    }

    @Test("the sandbox network goes through its directory for a room; --verbose shows the exchange and no secret")
    func directoryAndTrace() throws {
        let (context, environment) = try Self.loggedIn()
        let result = try Self.connect(["--room", "%#TheLobby", "-v"], environment)
        #expect(result.status == 0, "\(result.stderr)")
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(output.hasPrefix("connected to 127.0.0.1:\(context.sandbox.ircxPort) (sandbox) as Demo: GateKeeperPassport v3"))
        #expect(output.contains("joined %#TheLobby"))
        #expect(result.stderr.contains("> FINDS %#TheLobby") && result.stderr.contains(" 613 "))
        #expect(result.stderr.contains("> PROP $ MSNREGCOOKIE :‹redacted:"))
        let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: context.ticketFile))) as! [String: Any]
        let set = try JSONSerialization.jsonObject(with: Data((item["secret"] as! String).utf8)) as! [String: Any]
        for secret in [set["ticket"] as! String, set["profile"] as! String, (set["cookies"] as! [String: String])["MSNREGCookie"]!] {
            #expect(!result.stderr.contains(secret), "a secret reached the trace")
        }
    }

    @Test("a directory that places a room on a host outside the network's servers is refused: the ticket is not sent there")
    func foreignDirectoryAnswer() throws {
        let (context, environment) = try Self.loggedIn(["--room-server", "127.0.0.5:6667"])
        let refused = try Self.connect(["--room", "%#Elsewhere"], environment)
        #expect(refused.status == 7, "\(refused.stderr)")
        #expect(refused.stderr.contains("placed %#Elsewhere on 127.0.0.5, which is not one of network sandbox's servers"), "\(refused.stderr)")
        // Listed in servers, the host is tried (and, nothing listening there, cannot be reached).
        var listed = environment
        let path = context.state + "-servers.toml"
        try context.sandbox.webNetworkTable(
            "listed", extra: ["directory = \"127.0.0.1:\(context.sandbox.ircxPort)\"", "servers = [\"127.0.0.1\", \"127.0.0.5\"]"]
        ).write(toFile: path, atomically: true, encoding: .utf8)
        listed["GKPASS_CONFIG"] = path
        let tried = try Self.connect(["--network", "listed", "--room", "%#Elsewhere"], listed)
        #expect(tried.status == 7 && !tried.stderr.contains("not one of") && tried.stderr.contains("127.0.0.5"), "\(tried.stderr)")
    }

    @Test("910 after the blob is a refused ticket (4); 910 after the answer is a refused answer (1)")
    func refusals() throws {
        let (context, environment) = try Self.loggedIn()
        defer { withExtendedLifetime(context) {} }
        // Another sandbox with another PassportV4 secret: our ticket is not one of its own.
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-secret-\(UUID().uuidString)").path
        try "another secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let stranger = try SandboxProcess(["--secret-file", secret])
        defer { stranger.stop() }
        let ticket = try Self.connect(["--server", "127.0.0.1:\(stranger.ircxPort)"], environment)
        #expect(ticket.status == 4 && ticket.stderr.contains("refused the Passport ticket (910"), "\(ticket.stderr)")
        let picky = try SandboxProcess(["--fault", "wrong-challenge"])
        defer { picky.stop() }
        let answer = try Self.connect(["--server", "127.0.0.1:\(picky.ircxPort)"], environment)
        #expect(answer.status == 1 && answer.stderr.contains("refused the GateKeeper answer (910"), "\(answer.stderr)")
        let guest = try Self.connect(["--guest", "--network", "v3", "--server", "127.0.0.1:\(picky.ircxPort)"], environment)
        #expect(guest.status == 1 && guest.stderr.contains("refused the GateKeeper answer"), "\(guest.stderr)")
    }

    @Test("no ticket 3, expired ticket 4, nothing listening 7, a server that stalls 7, bad flags 2")
    func failures() throws {
        let context = try Context()
        let environment = context.environment(keyring: false)
        let none = try Self.connect(["nobody@passport.test"], environment)
        #expect(none.status == 3, "\(none.stderr)")
        let expiring = try Context()
        #expect(try expiring.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        try StoredTicketFile.expire(expiring.ticketFile)
        let expired = try Self.connect([], expiring.environment(keyring: false))
        #expect(expired.status == 4 && expired.stderr.contains("expired"), "\(expired.stderr)")
        let (sandboxed, loggedIn) = try Self.loggedIn()
        defer { withExtendedLifetime(sandboxed) {} }
        // A port nobody listens on: bind one, note it, close it.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(probe)
        let refused = try Self.connect(["--server", "127.0.0.1:\(port)"], loggedIn)
        #expect(refused.status == 7 && refused.stderr.contains("cannot connect to 127.0.0.1:\(port)"), "\(refused.stderr)")
        let slow = try SandboxProcess(["--fault", "slow", "--slow-seconds", "5"])
        defer { slow.stop() }
        let stalled = try Self.connect(["--server", "127.0.0.1:\(slow.ircxPort)", "--timeout", "1"], loggedIn)
        #expect(stalled.status == 7 && stalled.stderr.contains("did not answer in time"), "\(stalled.stderr)")
        #expect(try Self.connect(["--server", "nohost"], loggedIn).status == 2)
        #expect(try Self.connect(["--guest", "demo@passport.test"], loggedIn).status == 2)
    }
}
