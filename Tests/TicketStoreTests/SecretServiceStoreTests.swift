import CSecret
import GKPassTestSupport
import Foundation
import Testing
@testable import TicketStore

/// Against a real gnome-keyring: scripts/test runs the suite inside scripts/with-keyring and sets
/// GKPASS_REQUIRE_KEYRING=1, so a missing keyring fails the run there; a bare `swift test` without one skips it.
let keyringEnvironment = ProcessInfo.processInfo.environment
let keyringRequired = keyringEnvironment["GKPASS_REQUIRE_KEYRING"] == "1"
let keyringPresent = keyringEnvironment["DBUS_SESSION_BUS_ADDRESS"] != nil && keyringEnvironment["GNOME_KEYRING_CONTROL"] != nil

@Suite("Secret Service store (real gnome-keyring)", .serialized, .enabled(if: keyringPresent || keyringRequired))
struct SecretServiceStoreTests {
    func store() throws -> SecretServiceStore { try SecretServiceStore(environment: keyringEnvironment, deadline: 5) }

    /// The sample ticket set under a fresh account name, written to `store`.
    func storedSet(in store: SecretServiceStore) throws -> TicketSet {
        var set = sampleSet
        set.account = "kr-\(UUID().uuidString.prefix(8))@passport.test"
        try store.write(set.metadata, secret: set.encoded())
        return set
    }

    @Test("store, look up, replace (one item remains), list, delete")
    func roundTrip() throws {
        let store = try store()
        let set = try storedSet(in: store)
        let name = set.account
        let (metadata, secret) = try #require(try store.read(account: name, kind: .ticket))
        #expect(metadata == set.metadata)
        #expect(try TicketSet(decoding: secret) == set)
        #expect(try store.readSecret(account: name, kind: .ticket)?.copyBytes() == secret.copyBytes(), "the path-only read agrees")
        #expect(try store.readSecret(account: "nobody-\(UUID().uuidString)", kind: .ticket) == nil)

        var newer = set
        newer.expires = Date(timeIntervalSince1970: 1_900_000_000)
        try store.write(newer.metadata, secret: newer.encoded())
        #expect(try TicketSet(decoding: try #require(try store.read(account: name, kind: .ticket)).secret) == newer)
        #expect(try store.list().filter { $0.account == name }.count == 1, "the older item was removed after the new one was stored")

        #expect(try store.delete(account: name, kind: .ticket))
        #expect(try !store.delete(account: name, kind: .ticket))
        #expect(try store.read(account: name, kind: .ticket) == nil)
    }

    @Test("the direct read (GDBus + OpenSSL's key exchange) returns the item libsecret returns, 50 sessions in a row")
    func directRead() throws {
        let store = try store()
        let set = try storedSet(in: store)
        defer { _ = try? store.delete(account: set.account, kind: .ticket) }
        let expected = try #require(try store.read(account: set.account, kind: .ticket)).secret.copyBytes()
        for _ in 0..<50 {
            guard case .found(let secret) = try store.readSecretDirectly(account: set.account, kind: .ticket) else {
                Issue.record("the direct read stepped aside for one unlocked item")
                return
            }
            #expect(secret.copyBytes() == expected)
        }
        guard case .absent = try store.readSecretDirectly(account: "nobody-\(UUID().uuidString)", kind: .ticket) else {
            Issue.record("an absent item is not reported as absent")
            return
        }
        // A second item for the account, stored by another client: the direct read steps aside, and libsecret's
        // read (newest first) still answers.
        let stored = try Spawn.run(
            "/usr/bin/secret-tool", ["store", "--label=second", "service", "gkpass", "account", set.account, "kind", "ticket", "network", "other"],
            input: set.encoded().copyBytes(), timeout: 30)
        #expect(stored.status == 0)
        guard case .askLibsecret = try store.readSecretDirectly(account: set.account, kind: .ticket) else {
            Issue.record("two items must go to libsecret's newest-first read")
            return
        }
        #expect(try store.readSecret(account: set.account, kind: .ticket) != nil)
    }

    @Test("secret-tool, an independent client, reads the stored JSON by the documented attributes")
    func secretTool() throws {
        let store = try store()
        let set = try storedSet(in: store)
        let name = set.account
        defer { _ = try? store.delete(account: name, kind: .ticket) }
        let lookup = try Spawn.run("/usr/bin/secret-tool", ["lookup", "service", "gkpass", "account", name, "kind", "ticket"], timeout: 30)
        #expect(lookup.status == 0)
        let data = lookup.stdout
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
        // Spawn (posix_spawn + waitpid): once GLib runs in this process, Foundation.Process can miss SIGCHLD.
        let run = try Spawn.run(
            root.appendingPathComponent("scripts/with-keyring").path,
            [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, "--testing-library", "swift-testing", "--filter", "LockedKeyringScenario"],
            environment: environment, timeout: 300)
        let status = run.status
        let text = String(decoding: run.stdout + run.stderr, as: UTF8.self)
        #expect(status == 0, "\(text)")
        #expect(text.contains("Test run with 1 test") && text.contains("passed"), "the scenario must really run: \(text)")
    }
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
            _ = try store.readSecret(account: set.account, kind: .ticket)
            Issue.record("read a locked item's secret")
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
        // This module's own table of libsecret functions (each module that includes CSecret's header has one).
        #expect(gk_secret_load() == nil)
        var error: UnsafeMutablePointer<GError>? = nil
        let service = try #require(gk_secret_service_get_sync(SECRET_SERVICE_LOAD_COLLECTIONS, nil, &error))
        defer { gk_g_object_unref(service) }
        let collection = try #require(gk_secret_collection_for_alias_sync(service, "default", SECRET_COLLECTION_NONE, nil, &error))
        defer { gk_g_object_unref(collection) }
        let list = gk_g_list_append(nil, collection)
        defer { gk_g_list_free(list) }
        _ = gk_secret_service_lock_sync(service, list, nil, nil, &error)
        #expect(error == nil)
        #expect(gk_secret_collection_get_locked(collection) != 0)
    }
}
