import Foundation
import GKPassTestSupport
import Testing

/// `gkpass login`, the real binary against the real sandbox, storing into a private XDG_STATE_HOME and (inside
/// scripts/with-keyring) the real gnome-keyring.
@Suite("gkpass login (binary, sandbox)", .serialized)
struct LoginCommandTests {
    final class Context {
        let sandbox: SandboxProcess
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-login-\(UUID().uuidString)").path
        /// `commands`: the sandbox takes `restart-chat` on stdin (``SandboxProcess/restartChat(_:seconds:)``).
        init(_ arguments: [String] = [], commands: Bool = false) throws { sandbox = try SandboxProcess(arguments, commands: commands) }
        deinit {
            sandbox.stop()
            try? FileManager.default.removeItem(atPath: state)
        }

        /// The test's environment with the sandbox and store pointed at private places; keyring variables kept
        /// unless `keyring` is false.
        func environment(keyring: Bool = true) -> [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment["GKPASS_SANDBOX_STATE"] = sandbox.stateDirectory
            environment["XDG_STATE_HOME"] = state
            if !keyring {
                for key in ["DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL"] { environment[key] = nil }
                environment["XDG_RUNTIME_DIR"] = state + "/no-runtime"
            }
            return environment
        }

        func login(_ arguments: [String], password: String? = "sandbox-demo\n", keyring: Bool = true) throws -> Binary.Result {
            try Binary.run("gkpass", ["login"] + arguments, input: Array((password ?? "").utf8), environment: environment(keyring: keyring))
        }

        var ticketFile: String { state + "/gkpass/items/demo@passport.test.ticket.json" }
    }

    @Test("logs in over TLS, stores every cookie in a 0600 file, records the store and the default account")
    func fileStore() throws {
        let context = try Context()
        let result = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("logged in demo@passport.test on sandbox; tickets in the file store"))
        let attributes = try FileManager.default.attributesOfItem(atPath: context.ticketFile)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: context.ticketFile))) as! [String: Any]
        let secret = try JSONSerialization.jsonObject(with: Data((item["secret"] as! String).utf8)) as! [String: Any]
        let cookies = secret["cookies"] as! [String: String]
        #expect(cookies["MSNChatNN"] == "Demo" && cookies["MSNREGCookie"] != nil && cookies["MSPAuth"] == secret["ticket"] as? String)
        #expect(try String(contentsOfFile: context.state + "/gkpass/default-account", encoding: .utf8) == "demo@passport.test\n")
        #expect(!result.stderr.contains("sandbox-demo"))
    }

    @Test("a rejected password exits 4 and leaves the stored ticket byte for byte")
    func rejected() throws {
        let context = try Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: context.ticketFile))
        let result = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], password: "wrong\n")
        #expect(result.status == 4)
        #expect(result.stderr.contains("rejected the password"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: context.ticketFile)) == before)
    }

    @Test("passwords: never as an argument (2); --password-file refused when others can read it (6), taken when private; --password-fd")
    func passwordInputs() throws {
        let context = try Context()
        let argv = try context.login(["demo@passport.test", "--network", "sandbox", "--password=sandbox-demo"])
        #expect(argv.status == 2 && argv.stderr.contains("never takes a password as an argument"))
        let file = context.state + "-password"
        try "sandbox-demo\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        chmod(file, 0o644)
        let loose = try context.login(["demo@passport.test", "--network", "sandbox", "--password-file", file, "--store", "file"], password: nil)
        #expect(loose.status == 6, "\(loose.stderr)")
        chmod(file, 0o600)
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-file", file, "--store", "file"], password: nil).status == 0)
        let fd = try Binary.run(
            "/bin/sh", ["-c", "exec 3<'\(file)'; '\(Binary.directory.path)/gkpass' login demo@passport.test --network sandbox --password-fd 3 --store file"],
            environment: context.environment(), absolute: true)
        #expect(fd.status == 0, "\(fd.stderr)")
        let noTerminal = try Binary.run("/usr/bin/setsid", ["-w", Binary.directory.path + "/gkpass", "login", "demo@passport.test", "--network", "sandbox", "--store", "file"],
            environment: context.environment(), absolute: true)
        #expect(noTerminal.status == 2 && noTerminal.stderr.contains("no terminal"), "\(noTerminal.stderr)")
    }

    @Test("server trouble is exit 7: 5xx, a dropped connection, no sandbox at all")
    func transient() throws {
        for fault in ["http-5xx", "drop"] {
            let context = try Context(["--fault", fault])
            let result = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"])
            #expect(result.status == 7, "\(fault): \(result.stderr)")
        }
        let context = try Context()
        context.sandbox.stop()
        let gone = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"])
        #expect(gone.status == 7 && gone.stderr.contains("not running"), "\(gone.stderr)")
    }

    @Test("no bus: --store secret-service exits 5; auto falls back to the file store with one warning")
    func noKeyring() throws {
        let strictContext = try Context()
        let strict = try strictContext.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "secret-service"], keyring: false)
        #expect(strict.status == 5, "\(strict.stderr)")
        #expect(!strictContext.sandbox.stop().contains("http web"), "the password is not sent when the tickets could not be stored")
        let context = try Context()
        let auto = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin"], keyring: false)
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stderr.split(separator: "\n").filter { $0.contains("warning:") }.count == 1)
        #expect(FileManager.default.fileExists(atPath: context.ticketFile))
    }

    @Test("with the keyring: auto stores in the Secret Service, readable by secret-tool", .enabled(if: ProcessInfo.processInfo.environment["GNOME_KEYRING_CONTROL"] != nil))
    func keyring() throws {
        let context = try Context()
        let member = "demo@passport.test"
        let result = try context.login([member, "--network", "sandbox", "--password-stdin", "--remember-password"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("in the secret-service store"))
        #expect(!FileManager.default.fileExists(atPath: context.ticketFile))
        let ticket = try Binary.run("/usr/bin/secret-tool", ["lookup", "service", "gkpass", "account", member, "kind", "ticket"], environment: context.environment(), absolute: true)
        #expect(ticket.status == 0 && String(decoding: ticket.stdout, as: UTF8.self).contains("\"MSNChatNN\":\"Demo\""))
        let password = try Binary.run("/usr/bin/secret-tool", ["lookup", "service", "gkpass", "account", member, "kind", "password"], environment: context.environment(), absolute: true)
        #expect(String(decoding: password.stdout, as: UTF8.self) == "sandbox-demo")
        _ = try Binary.run("/usr/bin/secret-tool", ["clear", "service", "gkpass", "account", member], environment: context.environment(), absolute: true)
    }

    @Test("a session bus with no Secret Service on it: --store secret-service says so in words (5); auto falls back")
    func noService() throws {
        // A private bus with no service directories, so nothing can be activated: the state of a server or a
        // minimal container that runs D-Bus but no keyring.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-bus-\(UUID().uuidString).conf").path
        try PrivateBus.writeConfig(to: config)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let context = try Context()
        var environment = context.environment(keyring: false)
        environment["PATH"] = "/usr/bin:/bin"
        func login(_ store: String) throws -> Binary.Result {
            try Binary.run("/usr/bin/dbus-run-session", ["--config-file=\(config)", "--", Binary.directory.path + "/gkpass", "login", "demo@passport.test",
                "--network", "sandbox", "--password-stdin", "--store", store], input: Array("sandbox-demo\n".utf8), environment: environment, absolute: true)
        }
        let strict = try login("secret-service")
        #expect(strict.status == 5, "\(strict.stderr)")
        #expect(strict.stderr.contains("no Secret Service provider (gnome-keyring, KeePassXC…) is running on the session bus"), "\(strict.stderr)")
        #expect(strict.stderr.contains("hint: start your keyring, or use --store file"))
        let auto = try login("auto")
        #expect(auto.status == 0 && auto.stderr.contains("using the file store"), "\(auto.stderr)")
        #expect(FileManager.default.fileExists(atPath: context.ticketFile))
    }

    @Test("systemd credentials: $CREDENTIALS_DIRECTORY/password is read with no prompt and no stdin; refresh takes it too")
    func systemdCredential() throws {
        let context = try Context()
        let credentials = context.state + "-credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: credentials) }
        #expect(FileManager.default.createFile(atPath: credentials + "/password", contents: Data("sandbox-demo\n".utf8), attributes: [.posixPermissions: 0o600]))
        var environment = context.environment(keyring: false)
        environment["CREDENTIALS_DIRECTORY"] = credentials
        let login = try Binary.run("gkpass", ["login", "demo@passport.test", "--network", "sandbox", "--store", "file"], environment: environment)
        #expect(login.status == 0, "\(login.stderr)")
        let refresh = try Binary.run("gkpass", ["refresh", "demo@passport.test", "--if-expiring-within", "2d"], environment: environment)
        #expect(refresh.status == 0 && refresh.stderr.contains("refreshed"), "\(refresh.stderr)")
        #expect(FileManager.default.createFile(atPath: credentials + "/password", contents: Data("wrong\n".utf8), attributes: [.posixPermissions: 0o600]))
        let wrong = try Binary.run("gkpass", ["login", "demo@passport.test", "--network", "sandbox", "--store", "file"], environment: environment)
        #expect(wrong.status == 4, "the credential is what is sent: \(wrong.stderr)")
    }
}
