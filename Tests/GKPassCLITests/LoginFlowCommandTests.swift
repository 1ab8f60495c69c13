import Foundation
import GKPassTestSupport
import Testing

/// `gkpass login` through config.toml networks: both flows, the nexus cache, the second DA, every failure the
/// sandbox can produce, --cacert, and the terminal prompt. Real binaries, real TLS on loopback.
@Suite("gkpass login: flows, config, failures (binary, sandbox)", .serialized)
struct LoginFlowCommandTests {
    typealias Context = LoginCommandTests.Context

    static let alice = #"{"accounts": [{"member": "alice@passport.test", "password": "wonder, land", "nickname": "Alice", "puid": "00AA00AA00AA00AA", "da": "secondary"}]}"#

    /// A context whose config.toml names the sandbox twice: `tw` (Tweener) and `form` (web).
    static func context(_ arguments: [String] = [], extra: String = "") throws -> (Context, String) {
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-accounts-\(UUID().uuidString).json").path
        try alice.write(toFile: accounts, atomically: true, encoding: .utf8)
        let context = try Context(["--accounts", accounts] + arguments)
        let endpoints = context.sandbox.endpoints
        let chat = endpoints["chat_site_url"] as! String
        let config = """
            [networks.tw]
            flow = "tweener"
            nexus_url = "\(endpoints["nexus_url"] as! String)"
            chat_room_url = "\(chat)?rm=TheLobby"
            ca_file = "\(context.sandbox.caFile)"

            [networks.form]
            flow = "web"
            login_url = "\(endpoints["web_login_url"] as! String)"
            chat_room_url = "\(chat)?rm=TheLobby"
            ca_file = "\(context.sandbox.caFile)"
            \(extra)
            """
        let path = context.state + "-config.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return (context, path)
    }

    static func login(_ context: Context, config: String, _ arguments: [String], password: String = "sandbox-demo\n") throws -> Binary.Result {
        var environment = context.environment(keyring: false)
        environment["GKPASS_CONFIG"] = config
        return try Binary.run("gkpass", ["login"] + arguments + ["--password-stdin", "--store", "file"], input: Array(password.utf8), environment: environment)
    }

    static func requests(_ result: Binary.Result) -> [String] {
        result.stderr.split(separator: "\n").filter { $0.hasPrefix("gkpass: > GET ") || $0.hasPrefix("gkpass: > POST ") }.map(String.init)
    }

    @Test("tweener: the nexus once, then the cached DA (one request fewer); a member on the second DA follows the redirect")
    func tweener() throws {
        let (context, config) = try Self.context()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let first = try Self.login(context, config: config, ["demo@passport.test", "--network", "tw", "-v"])
        #expect(first.status == 0, "\(first.stderr)")
        let firstRequests = Self.requests(first)
        #expect(firstRequests.first?.contains("/rdr/pprdr.asp") == true, "\(firstRequests)")
        let second = try Self.login(context, config: config, ["demo@passport.test", "--network", "tw", "-v"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("from the cache"))
        let secondRequests = Self.requests(second)
        #expect(!secondRequests.contains { $0.contains("pprdr.asp") })
        #expect(secondRequests.count == firstRequests.count - 1, "\(firstRequests) vs \(secondRequests)")
        // Every cookie, the layout, and the chat-site values landed in the store.
        let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: context.ticketFile))) as! [String: Any]
        let set = try JSONSerialization.jsonObject(with: Data((item["secret"] as! String).utf8)) as! [String: Any]
        #expect(set["network"] as? String == "tw" && set["blob_layout"] as? String == "ticket-profile")
        #expect((set["cookies"] as? [String: String])?["MSNChatNN"] == "Demo")
        // The secondary-DA member, with a comma and a space in the password (escaped in the Authorization header).
        let alice = try Self.login(context, config: config, ["alice@passport.test", "--network", "tw"], password: "wonder, land\n")
        #expect(alice.status == 0, "\(alice.stderr)")
        #expect(context.sandbox.log.contains("redirected"), "\(context.sandbox.log)")
        let wrong = try Self.login(context, config: config, ["alice@passport.test", "--network", "tw"], password: "wonder land\n")
        #expect(wrong.status == 4 && wrong.stderr.contains("rejected the member name or password"), "\(wrong.stderr)")
    }

    @Test("web: each ec= code is a sentence and the right exit code", arguments: [
        ("nobody@passport.test", "x", Int32(4), "not a Passport (ec=e5b)"),
        ("demo@passport.test", "wrong", Int32(4), "rejected the password for this member name (ec=e5a)"),
        ("not-an-address", "x", Int32(2), "not a valid e-mail address (ec=e5d)"),
        ("@passport.test", "x", Int32(2), "part of the member name is missing (ec=e5e)"),
    ])
    func webCodes(member: String, password: String, status: Int32, message: String) throws {
        let (context, config) = try Self.context()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let result = try Self.login(context, config: config, [member, "--network", "form"], password: password + "\n")
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: context.ticketFile))
    }

    @Test("sandbox faults: slow (timeout), malformed headers, redirect loop are exit 7 with what happened", arguments: [
        (["--fault", "slow", "--slow-seconds", "5"], ["--timeout", "1"], "timed out"),
        (["--fault", "malformed-headers"], [], ""),
        (["--fault", "redirect-loop"], [], "redirected more than"),
        (["--fault", "http-5xx"], [], "try again later"),
        (["--fault", "drop"], [], ""),
    ])
    func faults(sandbox: [String], flags: [String], message: String) throws {
        for network in ["tw", "form"] {
            let (context, config) = try Self.context(sandbox)
            defer { try? FileManager.default.removeItem(atPath: config) }
            let result = try Self.login(context, config: config, ["demo@passport.test", "--network", network] + flags)
            #expect(result.status == 7, "\(network) \(sandbox): \(result.stderr)")
            #expect(message.isEmpty || result.stderr.contains(message), "\(network) \(sandbox): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count <= 2, "one line and at most a hint: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: context.ticketFile))
        }
    }

    @Test("config: mistakes exit 2 with file:line; a config others can write is refused (6); default_network and GKPASS_NETWORK")
    func config() throws {
        let (context, config) = try Self.context(extra: "colour = \"blue\"")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let bad = try Self.login(context, config: config, ["demo@passport.test", "--network", "tw"])
        #expect(bad.status == 2 && bad.stderr.contains("\(config):12: unknown key colour in [networks.form]"), "\(bad.stderr)")
        var text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "colour = \"blue\"", with: "")
        text = "default_network = \"form\"\n" + text
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o666)
        let loose = try Self.login(context, config: config, ["demo@passport.test"])
        #expect(loose.status == 6 && loose.stderr.contains("writable by others"), "\(loose.stderr)")
        chmod(config, 0o644)
        let byDefault = try Self.login(context, config: config, ["demo@passport.test", "-v"])
        #expect(byDefault.status == 0 && byDefault.stderr.contains("on form;") && byDefault.stderr.contains("POST "), "\(byDefault.stderr)")
        let unknown = try Self.login(context, config: config, ["demo@passport.test", "--network", "nowhere"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown network nowhere") && unknown.stderr.contains("sandbox, tw, form"), "\(unknown.stderr)")
    }

    @Test("--cacert: a CA that did not sign the server is a TLS error (7) that says so; the right CA overrides a wrong ca_file")
    func cacert() throws {
        let (context, config) = try Self.context()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let other = try SandboxProcess()  // another sandbox: another CA
        defer { other.stop() }
        let untrusted = try Self.login(context, config: config, ["demo@passport.test", "--network", "form", "--cacert", other.caFile])
        #expect(untrusted.status == 7, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("TLS: the certificate of 127.0.0.1:") && untrusted.stderr.contains("signed by a CA this network does not trust"), "\(untrusted.stderr)")
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: context.sandbox.caFile, with: other.caFile)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try Self.login(context, config: config, ["demo@passport.test", "--network", "form"]).status == 7)
        let fixed = try Self.login(context, config: config, ["demo@passport.test", "--network", "form", "--cacert", context.sandbox.caFile])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let missing = try Self.login(context, config: config, ["demo@passport.test", "--network", "form", "--cacert", "/nonexistent.pem"])
        #expect(missing.status == 2)
    }

    @Test("the terminal prompt does not echo, and the password never reaches the screen")
    func prompt() throws {
        let context = try Context()
        // python3's pty module gives gkpass a real controlling terminal; the script waits for the prompt before
        // typing, as a person would, and prints everything the terminal showed.
        let script = """
            import os, pty, sys, select, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen = b""
            def until(marker, limit=20):
                global seen
                end = time.time() + limit
                while marker not in seen and time.time() < end:
                    if select.select([fd], [], [], 0.2)[0]:
                        try: chunk = os.read(fd, 4096)
                        except OSError: break
                        if not chunk: break
                        seen += chunk
            until(b"Password for")
            time.sleep(0.2)
            os.write(fd, b"sandbox-demo\\n")
            until(b"logged in")
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(seen.decode("utf-8", "replace"))
            sys.exit(os.WEXITSTATUS(status))
            """
        let result = try Binary.run(
            "/usr/bin/python3", ["-c", script, Binary.directory.path + "/gkpass", "login", "demo@passport.test", "--network", "sandbox", "--store", "file"],
            environment: context.environment(keyring: false), absolute: true)
        let screen = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(screen) \(result.stderr)")
        #expect(screen.contains("Password for demo@passport.test: "))
        #expect(screen.contains("logged in demo@passport.test"))
        #expect(!screen.contains("sandbox-demo"), "the password was echoed: \(screen)")
    }
}
