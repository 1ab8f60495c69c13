import Foundation
import GKPassTestSupport
import Testing

/// `gkpass refresh` against the real sandbox: when it signs in, when it does not, single flight across processes,
/// retries, a cron environment.
@Suite("gkpass refresh (binary, sandbox)", .serialized)
struct RefreshCommandTests {
    typealias Context = LoginCommandTests.Context

    static func logins(_ log: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("http web member=") && $0.hasSuffix("result=success") }.count
    }

    static func refresh(_ context: Context, _ arguments: [String], sandbox: SandboxProcess? = nil, input: String = "") throws -> Binary.Result {
        var environment = context.environment(keyring: false)
        if let sandbox { environment["GKPASS_SANDBOX_STATE"] = sandbox.stateDirectory }
        return try Binary.run("gkpass", ["refresh"] + arguments, input: Array(input.utf8), environment: environment)
    }

    @Test("a healthy ticket is left alone; an expiring one is refreshed with the remembered password; a rejected password is 4, tried once, and keeps the ticket")
    func policy() throws {
        let context = try Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password"], keyring: false).status == 0)
        #expect(Self.logins(context.sandbox.log) == 1)
        let healthy = try Self.refresh(context, [])
        #expect(healthy.status == 0 && healthy.stderr.contains("nothing to do"), "\(healthy.stderr)")
        #expect(Self.logins(context.sandbox.log) == 1)
        // No wait for the clock: the sandbox seals every ticket under a fresh random IV, so a new login's differs.
        let before = try Data(contentsOf: URL(fileURLWithPath: context.ticketFile))
        let expiring = try Self.refresh(context, ["--if-expiring-within", "2d"])
        #expect(expiring.status == 0 && expiring.stderr.contains("refreshed; valid until"), "\(expiring.stderr)")
        #expect(Self.logins(context.sandbox.log) == 2)
        let after = try Data(contentsOf: URL(fileURLWithPath: context.ticketFile))
        #expect(after != before)
        let quiet = try Self.refresh(context, ["--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.isEmpty)

        let wrong = try Self.refresh(context, ["--if-expiring-within", "2d", "--password-stdin"], input: "not-it\n")
        #expect(wrong.status == 4 && wrong.stderr.contains("rejected the password"), "\(wrong.stderr)")
        #expect(context.sandbox.log.components(separatedBy: "result=ec=e5a").count == 2, "tried exactly once")
        #expect(try Data(contentsOf: URL(fileURLWithPath: context.ticketFile)) == after)
        let none = try Context()
        #expect(try none.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        let noPassword = try Self.refresh(none, ["--if-expiring-within", "2d"])
        #expect(noPassword.status == 4 && noPassword.stderr.contains("--remember-password"), "\(noPassword.stderr)")
    }

    @Test("10 concurrent refresh --all processes on 20 expiring accounts sign each in exactly once")
    func singleFlight() throws {
        // Tickets from a sandbox that issues 2-minute tickets; the refresh goes to one that issues day-long ones.
        let context = try Context(["--generated-accounts", "20", "--ticket-lifetime", "120"])
        for n in 1...20 {
            let login = try context.login(["user\(n)@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password"],
                password: "password-\(n)\n", keyring: false)
            #expect(login.status == 0, "\(login.stderr)")
        }
        let fresh = try SandboxProcess(["--generated-accounts", "20"])
        defer { fresh.stop() }
        var environment = context.environment(keyring: false)
        environment["GKPASS_SANDBOX_STATE"] = fresh.stateDirectory
        let children = try (0..<10).map { _ in
            try Spawn.start(Binary.directory.path + "/gkpass", ["refresh", "--all", "--if-expiring-within", "10m", "--quiet"],
                environment: environment, captureStdout: false)
        }
        let statuses = children.map { Spawn.wait($0.pid, timeout: 120) }
        #expect(statuses.allSatisfy { $0 == 0 }, "\(statuses)")
        #expect(Self.logins(fresh.log) == 20, "\(fresh.log)")
        let again = try Self.refresh(context, ["--all", "--if-expiring-within", "10m"], sandbox: fresh)
        #expect(again.status == 0 && again.stderr.components(separatedBy: "nothing to do").count == 21, "\(again.stderr)")
    }

    @Test("transient errors are retried with backoff, then exit 7 with the ticket kept; a held account is exit 8")
    func retriesAndLocks() throws {
        let context = try Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password"], keyring: false).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: context.ticketFile))
        let broken = try SandboxProcess(["--fault", "http-5xx"])
        defer { broken.stop() }
        let failed = try Self.refresh(context, ["--if-expiring-within", "2d", "--retries", "2", "-v"], sandbox: broken)
        #expect(failed.status == 7, "\(failed.stderr)")
        #expect(failed.stderr.components(separatedBy: "retrying in").count == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("retrying in 1.0 s") && failed.stderr.contains("retrying in 2.0 s"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: context.ticketFile)) == before)
        // Another process holds the account's lock (flock(1) on the same file): exit 8 after --lock-timeout.
        let lock = context.state + "/gkpass/locks/demo@passport.test.lock"
        let held = try Binary.run("/usr/bin/flock", [lock, Binary.directory.path + "/gkpass", "refresh", "--if-expiring-within", "2d", "--lock-timeout", "1"],
            environment: context.environment(keyring: false), absolute: true)
        #expect(held.status == 8 && held.stderr.contains("another gkpass process holds demo@passport.test"), "\(held.stderr)")
    }

    @Test("from a cron-like environment (env -i, HOME and a minimal PATH only) it finds the store and config and is silent")
    func cron() throws {
        let context = try Context()
        let home = context.state + "-home"
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/.config/gkpass", withIntermediateDirectories: true)
        let endpoints = context.sandbox.endpoints
        try """
            [networks.revival]
            flow = "web"
            login_url = "\(endpoints["web_login_url"] as! String)"
            chat_room_url = "\(endpoints["chat_site_url"] as! String)?rm=TheLobby"
            ca_file = "\(context.sandbox.caFile)"
            """.write(toFile: home + "/.config/gkpass/config.toml", atomically: true, encoding: .utf8)
        let login = try Binary.run("gkpass", ["login", "demo@passport.test", "--network", "revival", "--password-stdin", "--remember-password"],
            input: Array("sandbox-demo\n".utf8), environment: ["HOME": home, "PATH": "/usr/bin:/bin"])
        #expect(login.status == 0, "\(login.stderr)")
        let ticket = home + "/.local/state/gkpass/items/demo@passport.test.ticket.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: ticket))
        let cron = try Binary.run("/usr/bin/env", ["-i", "HOME=\(home)", "PATH=/usr/bin:/bin", Binary.directory.path + "/gkpass", "refresh", "--all", "--quiet", "--if-expiring-within", "2d"], absolute: true)
        #expect(cron.status == 0 && cron.stderr.isEmpty && cron.stdout.isEmpty, "\(cron.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: ticket)) != before)
        #expect(Self.logins(context.sandbox.log) == 2)
    }

    @Test("bad flags are usage errors (2) that say what is wrong, and touch nothing", arguments: [
        (["--if-expiring-within", "soon"], "The value 'soon' is invalid for '--if-expiring-within <duration>'"),
        (["--jobs", "0"], "--jobs takes 1 to 64"),
        (["--retries", "11"], "--retries takes 0 to 10"),
        (["--timeout", "0"], "--timeout takes 1 to 300"),
        (["--all", "demo@passport.test"], "Give an ACCOUNT or --all, not both"),
        (["--all", "--password-stdin"], "--all uses remembered passwords"),
        (["--password-stdin", "--password-file", "/nonexistent"], "Choose one of"),
    ])
    func usage(arguments: [String], message: String) throws {
        let context = try Context()
        let result = try Self.refresh(context, arguments)
        #expect(result.status == 2 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(Self.logins(context.sandbox.log) == 0)
    }
}
