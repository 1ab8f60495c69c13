import Foundation
import GKPassTestSupport
import Testing

/// The stores' promises under pressure, through the real binary: concurrent writers and readers never see a
/// torn item, and a writer killed at any moment leaves the old ticket or the new one.
@Suite("Stores under concurrency and SIGKILL (binary, sandbox, keyring)", .serialized)
struct StoreConcurrencyTests {
    typealias Context = LoginCommandTests.Context

    static func passwordFile(_ context: Context) throws -> String {
        let path = context.state + "-pw"
        try "sandbox-demo\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    static func loginArguments(_ passwordFile: String) -> [String] {
        ["login", "demo@passport.test", "--network", "sandbox", "--password-file", passwordFile, "--store", "file"]
    }

    /// A sandbox, a private password file, and one completed login to start from.
    struct Setup {
        let context: Context
        let password: String
        let gkpass = Binary.directory.appendingPathComponent("gkpass").path
        var environment: [String: String] { context.environment(keyring: false) }

        init() throws {
            context = try Context()
            password = try StoreConcurrencyTests.passwordFile(context)
            #expect(try login() == 0)
        }

        /// Starts `gkpass` with `arguments` (default: a login) and returns its pid.
        func start(_ arguments: [String]? = nil) throws -> pid_t {
            try Spawn.start(gkpass, arguments ?? StoreConcurrencyTests.loginArguments(password), environment: environment, captureStdout: false).pid
        }

        func login() throws -> Int32 { Spawn.wait(try start(), timeout: 60) }

        func cleanUp() { try? FileManager.default.removeItem(atPath: password) }
    }

    /// The stored item parses and holds a complete ticket document.
    static func itemIsWhole(_ context: Context) throws -> Bool {
        let data = try Data(contentsOf: URL(fileURLWithPath: context.ticketFile))
        guard let item = try JSONSerialization.jsonObject(with: data) as? [String: Any], let secret = item["secret"] as? String,
            let document = try JSONSerialization.jsonObject(with: Data(secret.utf8)) as? [String: Any]
        else { return false }
        return (document["ticket"] as? String)?.isEmpty == false && (document["profile"] as? String)?.isEmpty == false
    }

    @Test("20 logins and 20 readers of one account at once: every process succeeds and the item is never torn")
    func concurrent() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let pids = try (0..<40).map { index in try setup.start(index % 2 == 0 ? nil : ["ticket", "demo@passport.test"]) }
        let statuses = pids.map { Spawn.wait($0, timeout: 120) }
        #expect(statuses.allSatisfy { $0 == 0 }, "exit statuses: \(statuses)")
        #expect(try Self.itemIsWhole(setup.context))
    }

    @Test("a login killed with SIGKILL at random moments leaves a whole ticket, old or new, every time")
    func killedWriters() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let context = setup.context
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<25 {
            let pid = try setup.start()
            usleep(UInt32.random(in: 0...120_000, using: &generator))
            kill(pid, SIGKILL)
            Spawn.wait(pid, timeout: 30)
            #expect(try Self.itemIsWhole(context), "a killed writer left a torn item")
            // A reader right after a kill still gets a usable ticket.
            #expect(try Binary.run("gkpass", ["ticket"], environment: setup.environment).status == 0)
        }
        // The lock dies with its holder: a fresh login is not blocked by any killed one, and it sweeps away the
        // temporary files (copies of a ticket) that killed writers left between create and rename.
        #expect(try setup.login() == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: context.state + "/gkpass/items").filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty, "stale temporary files: \(leftovers)")
    }

    @Test("the same against the Secret Service: a login killed at random moments leaves exactly one usable ticket item",
        .enabled(if: ProcessInfo.processInfo.environment["GNOME_KEYRING_CONTROL"] != nil))
    func killedSecretServiceWriters() throws {
        let context = try Context()
        let password = try Self.passwordFile(context)
        defer { try? FileManager.default.removeItem(atPath: password) }
        let environment = context.environment()
        let arguments = ["login", "demo@passport.test", "--network", "sandbox", "--password-file", password, "--store", "secret-service"]
        #expect(try Binary.run("gkpass", arguments, environment: environment).status == 0)
        defer { _ = try? Binary.run("gkpass", ["logout", "demo@passport.test"], environment: environment) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<15 {
            let pid = try Spawn.start(Binary.directory.path + "/gkpass", arguments, environment: environment, captureStdout: false).pid
            usleep(UInt32.random(in: 0...150_000, using: &generator))
            kill(pid, SIGKILL)
            Spawn.wait(pid, timeout: 30)
            let ticket = try Binary.run("gkpass", ["ticket", "demo@passport.test", "--format", "json"], environment: environment)
            #expect(ticket.status == 0, "\(ticket.stderr)")
            let document = try JSONSerialization.jsonObject(with: Data(ticket.stdout)) as? [String: Any]
            #expect((document?["ticket"] as? String)?.isEmpty == false, "a killed writer left an unusable item")
        }
        // A completed login afterwards leaves one ticket item: stale duplicates from killed writers are replaced.
        #expect(try Binary.run("gkpass", arguments, environment: environment).status == 0)
        let items = try Binary.run("/usr/bin/secret-tool", ["search", "--all", "service", "gkpass", "account", "demo@passport.test", "kind", "ticket"],
            environment: environment, absolute: true)
        let count = (String(decoding: items.stdout, as: UTF8.self) + items.stderr).components(separatedBy: "attribute.kind = ticket").count - 1
        #expect(count == 1, "\(items.stderr)")
    }
}
