import CSecret
import Foundation
import Testing
import TicketStore

/// Against a real gnome-keyring: scripts/test runs the suite inside scripts/with-keyring and sets
/// GKPASS_REQUIRE_KEYRING=1, so a missing keyring fails the run there; a bare `swift test` without one skips it.
let keyringEnvironment = ProcessInfo.processInfo.environment
let keyringRequired = keyringEnvironment["GKPASS_REQUIRE_KEYRING"] == "1"
let keyringPresent = keyringEnvironment["DBUS_SESSION_BUS_ADDRESS"] != nil && keyringEnvironment["GNOME_KEYRING_CONTROL"] != nil

@Suite("Secret Service store (real gnome-keyring)", .serialized, .enabled(if: keyringPresent || keyringRequired))
struct SecretServiceStoreTests {
    func store() throws -> SecretServiceStore { try SecretServiceStore(environment: keyringEnvironment, deadline: 5) }

    func account() -> String { "kr-\(UUID().uuidString.prefix(8))@passport.test" }

    @Test("store, look up, replace (one item remains), list, delete")
    func roundTrip() throws {
        let store = try store()
        let name = account()
        var set = sampleSet
        set.account = name
        try store.write(set.metadata, secret: set.encoded())
        let (metadata, secret) = try #require(try store.read(account: name, kind: .ticket))
        #expect(metadata == set.metadata)
        #expect(try TicketSet(decoding: secret) == set)

        var newer = set
        newer.expires = Date(timeIntervalSince1970: 1_900_000_000)
        try store.write(newer.metadata, secret: newer.encoded())
        #expect(try TicketSet(decoding: try #require(try store.read(account: name, kind: .ticket)).secret) == newer)
        #expect(try store.list().filter { $0.account == name }.count == 1, "the older item was removed after the new one was stored")

        #expect(try store.delete(account: name, kind: .ticket))
        #expect(try !store.delete(account: name, kind: .ticket))
        #expect(try store.read(account: name, kind: .ticket) == nil)
    }

    @Test("secret-tool, an independent client, reads the stored JSON by the documented attributes")
    func secretTool() throws {
        let store = try store()
        let name = account()
        var set = sampleSet
        set.account = name
        try store.write(set.metadata, secret: set.encoded())
        defer { _ = try? store.delete(account: name, kind: .ticket) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("secret-tool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try spawnAndWait(
            "/usr/bin/secret-tool", ["lookup", "service", "gkpass", "account", name, "kind", "ticket"],
            environment: ProcessInfo.processInfo.environment, output: output)
        #expect(status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(try TicketSet(decoding: SecretBytes(Array(data))) == set)
    }

    @Test("a locked collection (in a private keyring session): locked within the deadline, list still works, no prompt")
    func locked() throws {
        // Locking is one-way here (unlocking needs a prompt, which gkpass never shows), so the scenario runs in a
        // throw-away keyring of its own: this test binary again, under scripts/with-keyring, filtered to it.
        var root = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { root.deleteLastPathComponent() }
        var environment = ProcessInfo.processInfo.environment
        environment["GKPASS_LOCKED_KEYRING_SCENARIO"] = "1"
        for key in ["DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "XDG_DATA_HOME"] { environment[key] = nil }
        // Output to a file, not a pipe: the keyring daemons of that session may outlive it holding the descriptor.
        // posix_spawn + waitpid, not Foundation.Process: once GLib runs in this process, Process misses SIGCHLD.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("locked-scenario-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try spawnAndWait(
            root.appendingPathComponent("scripts/with-keyring").path,
            [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, "--testing-library", "swift-testing", "--filter", "LockedKeyringScenario"],
            environment: environment, output: log)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(text)")
        #expect(text.contains("Test run with 1 test") && text.contains("passed"), "the scenario must really run: \(text)")
    }
}

/// Runs `path` with stdin from /dev/null and stdout+stderr to `output`; returns its exit status.
func spawnAndWait(_ path: String, _ arguments: [String], environment: [String: String], output: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    // Test threads (libdispatch workers) block most signals and the child would inherit that mask: then
    // dbus-run-session could not stop its dbus-daemon. Start the child with an empty mask and default handlers.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t(), all = sigset_t()
    sigemptyset(&empty)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard result == 0 else { throw CocoaError(.fileNoSuchFile) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Runs only inside the private keyring session that SecretServiceStoreTests.locked starts.
@Suite("Locked keyring scenario", .enabled(if: ProcessInfo.processInfo.environment["GKPASS_LOCKED_KEYRING_SCENARIO"] == "1"))
struct LockedKeyringScenario {
    @Test("reads and writes report locked at once; list still lists")
    func scenario() throws {
        let environment = ProcessInfo.processInfo.environment
        let store = try SecretServiceStore(environment: environment, deadline: 5)
        var set = sampleSet
        set.account = "locked@passport.test"
        try store.write(set.metadata, secret: set.encoded())
        try lockDefaultCollection()

        let started = Date()
        do {
            _ = try store.read(account: set.account, kind: .ticket)
            Issue.record("read a locked item")
        } catch { #expect(error.kind == .locked, "\(error)") }
        do {
            try store.write(set.metadata, secret: set.encoded())
            Issue.record("wrote into a locked collection")
        } catch { #expect(error.kind == .locked, "\(error)") }
        #expect(Date().timeIntervalSince(started) < 5, "locked is reported at once, not after a prompt or a timeout")
        #expect(try store.list().contains { $0.account == set.account }, "list reads attributes only")
    }

    /// Locks the default collection through libsecret, as a screen locker would.
    func lockDefaultCollection() throws {
        var error: UnsafeMutablePointer<GError>? = nil
        let service = try #require(secret_service_get_sync(SECRET_SERVICE_LOAD_COLLECTIONS, nil, &error))
        defer { g_object_unref(service) }
        let collection = try #require(secret_collection_for_alias_sync(service, "default", SECRET_COLLECTION_NONE, nil, &error))
        defer { g_object_unref(collection) }
        let list = g_list_append(nil, collection)
        defer { g_list_free(list) }
        _ = secret_service_lock_sync(service, list, nil, nil, &error)
        #expect(error == nil)
        #expect(secret_collection_get_locked(collection) != 0)
    }
}
