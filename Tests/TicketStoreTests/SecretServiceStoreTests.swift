import CLoader
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

    /// The sample ticket item under a fresh account name, written to `store`.
    func storedSet(in store: SecretServiceStore) throws -> SampleItem {
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
        var expected = set.metadata
        expected.expires = nil
        #expect(metadata == expected, "the expiry is in the document, not in the attributes")
        #expect(secret.copyBytes() == set.document)
        #expect(try store.readSecret(account: name, kind: .ticket)?.copyBytes() == secret.copyBytes(), "the path-only read agrees")
        #expect(try store.readSecret(account: "nobody-\(UUID().uuidString)", kind: .ticket) == nil)

        var newer = set
        newer.expires = "2030-03-17T17:46:40Z"
        try store.write(newer.metadata, secret: newer.encoded())
        #expect(try #require(try store.read(account: name, kind: .ticket)).secret.copyBytes() == newer.document)
        #expect(try store.list().filter { $0.account == name }.count == 1, "one item: the write replaced it")

        #expect(try store.delete(account: name, kind: .ticket))
        #expect(try !store.delete(account: name, kind: .ticket))
        #expect(try store.read(account: name, kind: .ticket) == nil)
    }

    /// What `secret-tool search --all` prints about the gkpass items of `account` (it writes the attributes to
    /// stderr and the secrets to stdout): one entry per item, each the lines from its `[object path]` on.
    static func items(of account: String) throws -> [[String]] {
        let run = try Spawn.run("/usr/bin/secret-tool", ["search", "--all", "service", "gkpass", "account", account], timeout: 30)
        var entries: [[String]] = []
        for line in String(decoding: run.stdout + run.stderr, as: UTF8.self).split(separator: "\n").map(String.init) {
            if line.hasPrefix("[") { entries.append([line]) } else if !entries.isEmpty { entries[entries.count - 1].append(line) }
        }
        return entries
    }

    @Test("a write replaces the account's item in place: the same object, no expires attribute, the new document")
    func replacedInPlace() throws {
        let store = try store()
        var set = try storedSet(in: store)
        defer { _ = try? store.delete(account: set.account, kind: .ticket) }
        let before = try Self.items(of: set.account)
        try #require(before.count == 1, "\(before)")
        #expect(!before[0].contains { $0.hasPrefix("attribute.expires") }, "the expiry is in the document, not an attribute: \(before[0])")
        set.expires = "2030-03-17T17:46:40Z"
        try store.write(set.metadata, secret: set.encoded())
        let after = try Self.items(of: set.account)
        #expect(after.count == 1 && after.first?.first == before[0][0], "replaced in place, not created anew and the old one deleted: \(before) \(after)")
        #expect(try #require(try store.readSecret(account: set.account, kind: .ticket)).copyBytes() == set.document)
    }

    @Test("an item written the old way (expires as an attribute) is read, and the first new write replaces it, leaving exactly one")
    func legacyItem() throws {
        let store = try store()
        var set = sampleSet
        set.account = "legacy-\(UUID().uuidString.prefix(8))@passport.test"
        defer { _ = try? store.delete(account: set.account, kind: .ticket) }
        let stored = try Spawn.run(
            "/usr/bin/secret-tool",
            ["store", "--label=gkpass ticket (old)", "service", "gkpass", "account", set.account, "network", set.network, "kind", "ticket",
             "expires", set.expires],
            input: set.encoded().copyBytes(), timeout: 30)
        try #require(stored.status == 0, "\(String(decoding: stored.stderr, as: UTF8.self))")
        #expect(try #require(try store.readSecret(account: set.account, kind: .ticket)).copyBytes() == set.document)
        let (metadata, _) = try #require(try store.read(account: set.account, kind: .ticket))
        #expect(metadata.expires == set.expires, "the old attribute is still read")
        #expect(try store.list().contains { $0.account == set.account })

        var newer = set
        newer.expires = "2030-03-17T17:46:40Z"
        try store.write(newer.metadata, secret: newer.encoded())
        let items = try Self.items(of: set.account)
        #expect(items.count == 1, "\(items)")
        #expect(items.first.map { entry in !entry.contains { $0.hasPrefix("attribute.expires") } } == true, "\(items)")
        #expect(try #require(try store.readSecret(account: set.account, kind: .ticket)).copyBytes() == newer.document)
    }

    @Test("another network's item, or one another program stored, is replaced by the next write: one item remains")
    func otherItems() throws {
        let store = try store()
        let set = try storedSet(in: store)
        defer { _ = try? store.delete(account: set.account, kind: .ticket) }
        let stored = try Spawn.run(
            "/usr/bin/secret-tool", ["store", "--label=second", "service", "gkpass", "account", set.account, "kind", "ticket", "network", "other"],
            input: set.encoded().copyBytes(), timeout: 30)
        #expect(stored.status == 0)
        #expect(try Self.items(of: set.account).count == 2)
        #expect(try store.readSecret(account: set.account, kind: .ticket) != nil, "two items: the full read answers, newest first")
        try store.write(set.metadata, secret: set.encoded())
        let items = try Self.items(of: set.account)
        #expect(items.count == 1 && items.first?.contains("attribute.network = \(set.network)") == true, "\(items)")
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
        #expect(Array(data) == set.document)
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

/// libsecret's errors are told apart by GError domain and code, never by their text (which GLib translates).
@Suite("Secret Service error classification")
struct SecretServiceErrorTests {
    func classify(_ domain: GQuark, _ code: Int32, _ message: String) -> StoreError {
        let text = strdup(message)
        defer { free(text) }
        var error = GError(domain: domain, code: code, message: text)
        return SecretServiceStore.translate(&error, doing: "testing", deadline: 5)
    }

    @Test("cancelled and timed out are timeouts; no owner is no provider; SECRET_ERROR_IS_LOCKED is locked; words decide nothing")
    func classification() throws {
        try SecretServiceStore.loadLibrary()
        let io = gk_g_io_error_quark(), dbus = gk_g_dbus_error_quark(), secret = gk_secret_error_get_quark()
        #expect(classify(io, Int32(G_IO_ERROR_CANCELLED.rawValue), "Operation was cancelled").kind == .timeout)
        #expect(classify(io, Int32(G_IO_ERROR_TIMED_OUT.rawValue), "x").kind == .timeout)
        #expect(classify(dbus, Int32(G_DBUS_ERROR_NO_REPLY.rawValue), "x").kind == .timeout)
        let unknown = classify(dbus, Int32(G_DBUS_ERROR_SERVICE_UNKNOWN.rawValue), "Le nom org.freedesktop.secrets n'est fourni par aucun fichier .service")
        #expect(unknown.kind == .unavailable && unknown.message.contains("no Secret Service provider"), "\(unknown)")
        #expect(classify(dbus, Int32(G_DBUS_ERROR_NAME_HAS_NO_OWNER.rawValue), "x").message.contains("no Secret Service provider"))
        let refused = classify(io, Int32(G_IO_ERROR_CONNECTION_REFUSED.rawValue), "Could not connect: Connection refused")
        #expect(refused.kind == .unavailable && refused.message.contains("cannot connect to the D-Bus session bus"), "\(refused)")
        #expect(classify(secret, Int32(SECRET_ERROR_IS_LOCKED.rawValue), "Cannot get secret of a locked object").kind == .locked)
        #expect(classify(io, Int32(G_IO_ERROR_DBUS_ERROR.rawValue), "GDBus.Error:org.freedesktop.Secret.Error.IsLocked: Cannot get secret").kind == .locked)
        // The text says "locked" and "ServiceUnknown", the code says neither.
        let worded = classify(secret, Int32(SECRET_ERROR_PROTOCOL.rawValue), "received an invalid ServiceUnknown reply from a locked keyring")
        #expect(worded.kind == .unavailable && worded.message.contains("the keyring failed while testing"), "\(worded)")
    }
}

/// The deadline thread behind every libsecret call (no keyring needed: it cancels GCancellables). It sleeps until the
/// earliest armed deadline and is woken only by a sooner one, so these check that a sooner deadline, and one armed
/// while nothing else is, still fire in time.
@Suite("libsecret call deadlines (Watchdog)", .serialized)
struct WatchdogTests {
    typealias Watchdog = SecretServiceStore.Watchdog

    /// Whether `box` is cancelled within `seconds` (polled; the deadlines under test are a fraction of that).
    func cancelled(_ box: SecretServiceStore.CancellableBox, within seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if gk_g_cancellable_is_cancelled(box.pointer) != 0 { return true }
            usleep(10_000)
        }
        return gk_g_cancellable_is_cancelled(box.pointer) != 0
    }

    @Test("a deadline sooner than the one the thread sleeps until wakes it; the later one is left alone")
    func soonerDeadline() throws {
        try SecretServiceStore.loadLibrary()
        let late = SecretServiceStore.CancellableBox(), soon = SecretServiceStore.CancellableBox()
        let lateID = Watchdog.shared.arm(late, seconds: 60)
        defer { Watchdog.shared.disarm(lateID) }
        usleep(100_000)  // the thread is asleep until the 60 s deadline by now
        let soonID = Watchdog.shared.arm(soon, seconds: 0.2)
        defer { Watchdog.shared.disarm(soonID) }
        #expect(cancelled(soon, within: 10), "the 0.2 s deadline did not fire while the thread slept until the 60 s one")
        #expect(gk_g_cancellable_is_cancelled(late.pointer) == 0)
    }

    @Test("a deadline armed while nothing is armed wakes the idle thread; a disarmed one never fires")
    func idleThread() throws {
        try SecretServiceStore.loadLibrary()
        let gone = SecretServiceStore.CancellableBox()
        Watchdog.shared.disarm(Watchdog.shared.arm(gone, seconds: 0.1))
        usleep(400_000)  // past that deadline: the thread woke, found nothing due, and waits for the next arm
        #expect(gk_g_cancellable_is_cancelled(gone.pointer) == 0)
        let next = SecretServiceStore.CancellableBox()
        let id = Watchdog.shared.arm(next, seconds: 0.2)
        defer { Watchdog.shared.disarm(id) }
        #expect(cancelled(next, within: 10), "a deadline armed after the thread went idle did not fire")
    }
}
