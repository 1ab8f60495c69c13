import Foundation
import GKPassTestSupport
import GateKeeper
import Testing

/// `gkpass ticket` and `gkpass logout`, the real binaries, after a real login against the sandbox.
@Suite("gkpass ticket and logout (binary, sandbox)", .serialized)
struct TicketCommandTests {
    typealias Context = LoginCommandTests.Context

    static func loggedIn(_ sandboxArguments: [String] = []) throws -> Context {
        let context = try Context(sandboxArguments)
        let login = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"])
        #expect(login.status == 0, "\(login.stderr)")
        return context
    }

    static func gkpass(_ context: Context, _ arguments: [String], input: [UInt8] = []) throws -> Binary.Result {
        try Binary.run("gkpass", arguments, input: input, environment: context.environment(keyring: false))
    }

    @Test("blob is the %08X framing of the stored ticket and profile, with no newline into a pipe; auth is its escaped AUTH line")
    func blobAndAuth() throws {
        let context = try Self.loggedIn()
        let json = try JSONSerialization.jsonObject(with: Data(try Self.gkpass(context, ["ticket", "--format", "json"]).stdout)) as! [String: Any]
        let t = json["ticket"] as! String, p = json["profile"] as! String
        let blob = try Self.gkpass(context, ["ticket"])
        #expect(blob.status == 0)
        #expect(blob.stdout == Array(String(format: "%08X%@%08X%@", t.utf8.count, t, p.utf8.count, p).utf8))
        let auth = try Self.gkpass(context, ["ticket", "--format", "auth"])
        #expect(auth.stdout.starts(with: Array("AUTH GateKeeperPassport S :".utf8)) && auth.stdout.suffix(2) == [0x0D, 0x0A])
        #expect(try AuthMessage(IRCXMessage(parsing: auth.stdout))?.data == blob.stdout)
        #expect(String(decoding: try Self.gkpass(context, ["ticket", "--format", "ticket"]).stdout, as: UTF8.self) == t + "\n")
        #expect(String(decoding: try Self.gkpass(context, ["ticket", "--format", "profile"]).stdout, as: UTF8.self) == p + "\n")
    }

    @Test("the fast path (no argument parser) prints exactly what the parser path prints, for every format and spelling")
    func fastPath() throws {
        let context = try Self.loggedIn()
        for format in ["blob", "auth", "ticket", "profile", "json", "env"] {
            // A trailing "--" is not a form the fast path takes, so that run goes through argument-parser.
            let parsed = try Self.gkpass(context, ["ticket", "--format", format, "--"])
            #expect(parsed.status == 0, "\(parsed.stderr)")
            for arguments in [["ticket", "--format", format], ["ticket", "--format=\(format)"], ["ticket", "demo@passport.test", "--format", format],
                              ["ticket", "--format", format, "demo@passport.test"]] {
                #expect(try Self.gkpass(context, arguments).stdout == parsed.stdout, "\(arguments)")
            }
        }
        let bad = try Self.gkpass(context, ["ticket", "--format", "yaml"])
        #expect(bad.status == 2 && bad.stderr.contains("yaml"), "mistakes still get the parser's message: \(bad.stderr)")
        #expect(try Self.gkpass(context, ["ticket", "a", "b"]).status == 2)
        #expect(try Self.gkpass(context, ["ticket", "nobody@passport.test"]).status == 3)
    }

    @Test("a name given twice in the environment has its first value, the one getenv (GDBus, libcurl) sees")
    func repeatedEnvironmentName() throws {
        let context = try Self.loggedIn()
        let elsewhere = context.state + "/elsewhere"
        #expect(mkdir(elsewhere, 0o700) == 0)
        let rest = context.environment(keyring: false).filter { $0.key != "XDG_STATE_HOME" }.map { "\($0.key)=\($0.value)" }
        let path = Binary.directory.appendingPathComponent("gkpass").path
        let first = try Spawn.run(path, ["ticket"], entries: ["XDG_STATE_HOME=" + context.state] + rest + ["XDG_STATE_HOME=" + elsewhere])
        #expect(first.status == 0 && !first.stdout.isEmpty, "\(String(decoding: first.stderr, as: UTF8.self))")
        let second = try Spawn.run(path, ["ticket"], entries: ["XDG_STATE_HOME=" + elsewhere] + rest + ["XDG_STATE_HOME=" + context.state])
        #expect(second.status == 3, "the store named first is empty: \(String(decoding: second.stderr, as: UTF8.self))")
    }

    @Test("env output survives eval in a POSIX shell")
    func env() throws {
        let context = try Self.loggedIn()
        let ticket = String(decoding: try Self.gkpass(context, ["ticket", "--format", "ticket"]).stdout, as: UTF8.self).trimmingCharacters(in: .newlines)
        let shell = try Binary.run("/bin/sh", ["-c", "eval \"$('\(Binary.directory.path)/gkpass' ticket --format env)\" && printf '%s|%s' \"$GKPASS_TICKET\" \"$GKPASS_ACCOUNT\""],
            environment: context.environment(keyring: false), absolute: true)
        #expect(String(decoding: shell.stdout, as: UTF8.self) == ticket + "|demo@passport.test")
    }

    @Test("the proof: init, respond and ticket --format auth, sent by hand, log in to the sandbox's IRCX server")
    func shellOnlyIRCXLogin() throws {
        let context = try Self.loggedIn()
        let socket = try LineSocket(port: context.sandbox.ircxPort)
        socket.send(try Self.gkpass(context, ["gatekeeper", "init", "--package", "GateKeeperPassport"]).stdout)
        let challenge = try #require(socket.line())
        let answer = try Self.gkpass(context, ["gatekeeper", "respond", "--host", "127.0.0.1"], input: challenge + [0x0D, 0x0A])
        #expect(answer.status == 0, "\(answer.stderr)")
        socket.send(answer.stdout)
        #expect(socket.text() == "AUTH GateKeeperPassport S :OK")
        socket.send(try Self.gkpass(context, ["ticket", "--format", "auth"]).stdout)
        #expect(socket.text() == "AUTH GateKeeperPassport * 0001A2B3C4D5E6F7@GateKeeperPassport 0")
    }

    @Test("exit codes: expired 4, not logged in 3; logout is idempotent and then ticket says 3")
    func exitCodes() throws {
        let context = try Self.loggedIn()
        try StoredTicketFile.expire(context.ticketFile)
        let expired = try Self.gkpass(context, ["ticket"])
        #expect(expired.status == 4 && expired.stderr.contains("expired"), "\(expired.stderr)")
        #expect(FileManager.default.fileExists(atPath: context.state + "/gkpass/locks/demo@passport.test.lock"))
        #expect(try Self.gkpass(context, ["logout"]).status == 0)
        // Nothing of the account is left, its lock file included.
        #expect(!FileManager.default.fileExists(atPath: context.state + "/gkpass/locks/demo@passport.test.lock"))
        #expect(try Self.gkpass(context, ["logout", "demo@passport.test"]).status == 0)
        let gone = try Self.gkpass(context, ["ticket", "demo@passport.test"])
        #expect(gone.status == 3 && gone.stderr.contains("no ticket"))
        #expect(try Self.gkpass(context, ["ticket"]).status == 3, "no default account after logout")
        #expect(!FileManager.default.fileExists(atPath: context.ticketFile))
    }

    @Test("logout --all removes every account's tickets; --all with an account is a usage error")
    func logoutAll() throws {
        let context = try Self.loggedIn()
        #expect(try Self.gkpass(context, ["logout", "--all", "demo@passport.test"]).status == 2)
        #expect(try Self.gkpass(context, ["logout", "--all"]).status == 0)
        #expect(try Self.gkpass(context, ["ticket", "demo@passport.test"]).status == 3)
    }

    @Test("check is silent: 0 while valid, 4 when --min-remaining asks for more than is left, 3 without a ticket, 2 for a bad duration")
    func check() throws {
        let context = try Self.loggedIn()
        let valid = try Self.gkpass(context, ["check"])
        #expect(valid.status == 0 && valid.stdout.isEmpty && valid.stderr.isEmpty)
        #expect(try Self.gkpass(context, ["check", "--min-remaining", "30m"]).status == 0)
        let soon = try Self.gkpass(context, ["check", "demo@passport.test", "--min-remaining", "2d"])
        #expect(soon.status == 4 && soon.stdout.isEmpty && soon.stderr.isEmpty)
        #expect(try Self.gkpass(context, ["check", "nobody@passport.test"]).status == 3)
        #expect(try Self.gkpass(context, ["check", "--min-remaining", "soon"]).status == 2)
    }

    @Test("list shows account, network, store, expiry and the default marker, and no secret; --json parses")
    func list() throws {
        let context = try Self.loggedIn()
        let ticket = String(decoding: try Self.gkpass(context, ["ticket", "--format", "ticket"]).stdout, as: UTF8.self).trimmingCharacters(in: .newlines)
        let table = String(decoding: try Self.gkpass(context, ["list"]).stdout, as: UTF8.self)
        #expect(table.hasPrefix("   ACCOUNT"))
        #expect(table.contains("*  demo@passport.test  sandbox  file"))
        #expect(!table.contains(ticket))
        let json = try JSONSerialization.jsonObject(with: Data(try Self.gkpass(context, ["list", "--json"]).stdout)) as! [[String: Any]]
        #expect(json.count == 1)
        #expect(json[0]["account"] as? String == "demo@passport.test" && json[0]["default"] as? Bool == true && json[0]["store"] as? String == "file")
        #expect((json[0]["remaining_seconds"] as? Int ?? 0) > 3600)
        _ = try Self.gkpass(context, ["logout", "--all"])
        #expect(try Self.gkpass(context, ["list"]).stdout.isEmpty)
        #expect(String(decoding: try Self.gkpass(context, ["list", "--json"]).stdout, as: UTF8.self) == "[]\n")
    }

    @Test("switch sets the default account; an account without tickets is refused with 3")
    func switchDefault() throws {
        let context = try Self.loggedIn()
        #expect(try Self.gkpass(context, ["switch", "nobody@passport.test"]).status == 3)
        _ = try Self.gkpass(context, ["logout"])  // clears the default
        #expect(try Self.gkpass(context, ["ticket"]).status == 3)
        let again = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"])
        #expect(again.status == 0)
        #expect(try Self.gkpass(context, ["switch", "demo@passport.test"]).status == 0)
        #expect(try Self.gkpass(context, ["ticket"]).status == 0)
    }
}
