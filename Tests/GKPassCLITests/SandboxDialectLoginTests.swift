import Foundation
import GKPassTestSupport
import Testing

/// `gkpass login`, `ticket`, `connect` and `refresh` against the sandbox's Passport dialects and its hostile DA
/// faults: the whole chain for servers that issue no profile, and the sandbox's own log of which host received
/// a password. Real binaries, TLS on loopback.
@Suite("Passport dialects end to end (binary, sandbox)", .serialized)
struct SandboxDialectLoginTests {
    typealias Context = LoginCommandTests.Context

    /// config.toml with the sandbox as `tw` (Tweener) and `form` (web), both with the sandbox's IRCX server.
    static func environment(_ context: Context, extra: String = "") throws -> [String: String] {
        let endpoints = context.sandbox.endpoints
        let chat = endpoints["chat_site_url"] as! String
        let common = """
            chat_room_url = "\(chat)?rm=TheLobby"
            ca_file = "\(context.sandbox.caFile)"
            server = "127.0.0.1:\(context.sandbox.ircxPort)"
            \(extra)
            """
        let config = """
            [networks.tw]
            flow = "tweener"
            nexus_url = "\(endpoints["nexus_url"] as! String)"
            \(common)

            [networks.form]
            flow = "web"
            login_url = "\(endpoints["web_login_url"] as! String)"
            \(common)
            """
        let path = context.state + "-config.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        var environment = context.environment(keyring: false)
        environment["GKPASS_CONFIG"] = path
        return environment
    }

    static func gkpass(_ arguments: [String], _ environment: [String: String], input: String = "") throws -> Binary.Result {
        try Binary.run("gkpass", arguments, input: Array(input.utf8), environment: environment)
    }

    static func passwordRequests(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("password-request ") }.map(String.init)
    }

    @Test("servers without profiles: login in both flows, the blob ends in 00000000, connect is accepted, refresh works",
          arguments: ["bare-token", "t-only"])
    func ticketOnly(dialect: String) throws {
        let context = try Context(["--passport-dialect", dialect])
        let environment = try Self.environment(context)
        for network in ["tw", "form"] {
            let login = try Self.gkpass(
                ["login", "demo@passport.test", "--network", network, "--password-stdin", "--store", "file", "--remember-password"],
                environment, input: "sandbox-demo\n")
            #expect(login.status == 0, "\(dialect) \(network): \(login.stderr)")
            let blob = String(decoding: try Self.gkpass(["ticket"], environment).stdout, as: UTF8.self)
            #expect(blob.hasSuffix("00000000") && blob.count > 16, "\(dialect) \(network): \(blob.suffix(12))")
            #expect(try Self.gkpass(["ticket", "--format", "profile"], environment).stdout.isEmpty)
            // The IRCX server takes the profile-less blob and names the member.
            let connect = try Self.gkpass(["connect", "--json"], environment)
            #expect(connect.status == 0, "\(dialect) \(network): \(connect.stderr)")
            #expect(String(decoding: connect.stdout, as: UTF8.self).contains("\"nickname\":\"Demo\""), "\(String(decoding: connect.stdout, as: UTF8.self))")
        }
        let refresh = try Self.gkpass(["refresh", "--if-expiring-within", "400d"], environment)
        #expect(refresh.status == 0 && refresh.stderr.contains("refreshed"), "\(refresh.stderr)")
        #expect(try Self.gkpass(["connect"], environment).status == 0)
    }

    @Test("an account whose ticket is about 900 bytes logs in and is accepted through connect, in 480-byte slices")
    func longTicket() throws {
        // The sealed ticket's length moves by a block from seal to seal (its signature is escaped), and with a
        // padding of 600 ticket plus profile came to exactly 944 bytes often enough (a 960-byte blob, not more
        // than two slices) to fail the first expectation below. 700 keeps the blob well past 960 every time.
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-long-\(UUID().uuidString).json").path
        try #"{"accounts": [{"member": "long@passport.test", "password": "long-pass", "nickname": "Long", "puid": "00000000000000AB", "ticket_padding": 700}]}"#
            .write(toFile: accounts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accounts) }
        let context = try Context(["--accounts", accounts])
        let environment = try Self.environment(context)
        let login = try Self.gkpass(["login", "long@passport.test", "--network", "form", "--password-stdin", "--store", "file"], environment, input: "long-pass\n")
        #expect(login.status == 0, "\(login.stderr)")
        let auth = try Self.gkpass(["ticket", "--format", "auth"], environment)
        let lines = String(decoding: auth.stdout, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let blob = try Self.gkpass(["ticket", "--format", "blob"], environment).stdout
        #expect(blob.count > 480, "long enough to need slicing: \(blob.count) bytes")
        #expect(lines.count == blob.count / 480 + 1, "one line per 480-byte slice: \(blob.count) bytes, \(lines.map(\.count))")
        let connect = try Self.gkpass(["connect", "-v"], environment)
        #expect(connect.status == 0, "\(connect.stderr)")
        #expect(connect.stderr.components(separatedBy: "> AUTH GateKeeperPassport S :‹redacted:").count - 1 == lines.count, "\(connect.stderr)")
    }

    @Test("a DA that redirects off-site or to plain http: exit 7 naming the host, and the sandbox saw no password there")
    func hostileRedirects() throws {
        let offsite = try Context(["--fault", "da-offsite-redirect"])
        let environment = try Self.environment(offsite)
        let result = try Self.gkpass(["login", "demo@passport.test", "--network", "tw", "--password-stdin", "--store", "file"], environment, input: "sandbox-demo\n")
        #expect(result.status == 7 && result.stderr.contains("to 127.0.0.2, which is not one of this network's DAs"), "\(result.stderr)")
        let requests = Self.passwordRequests(offsite.sandbox.log)
        #expect(requests.count == 1 && requests.allSatisfy { $0.contains("host=127.0.0.1 ") }, "\(requests)")

        let plain = try Context(["--fault", "da-plain-redirect"])
        let plainEnvironment = try Self.environment(plain, extra: "da_hosts = [\"127.0.0.2\"]")
        let http = try Self.gkpass(["login", "demo@passport.test", "--network", "tw", "--password-stdin", "--store", "file"], plainEnvironment, input: "sandbox-demo\n")
        #expect(http.status == 7 && http.stderr.contains("plain http://127.0.0.1"), "\(http.stderr)")
        let plainRequests = Self.passwordRequests(plain.sandbox.log)
        #expect(plainRequests.count == 1 && !plainRequests.contains { $0.contains("scheme=http") && !$0.contains("scheme=https") }, "\(plainRequests)")
    }
}
