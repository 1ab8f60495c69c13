internal import CLoader
internal import Glibc

/// Tickets in the desktop keyring through libsecret (design.md §6). Every Secret Service call goes through libsecret:
/// gkpass has no D-Bus code of its own.
///
/// Attributes (`service=gkpass`, `account`, `network`, `kind`) are not secret and do not change while an item lives,
/// so a write with the same attributes replaces the item in place; the secret is the item's value (for a ticket,
/// the JSON document with the times). Items written before that also carry `expires`; they are read like any other
/// and replaced by the next write. Every call has a deadline: a `GCancellable` that a timer cancels, so a hung
/// keyring yields `.timeout` instead of a hung command. Nothing here unlocks or prompts: a locked collection is
/// reported as `.locked`.
public final class SecretServiceStore: ItemStore {
    public let kind = StoreKind.secretService
    /// Seconds each libsecret call may take.
    public let deadline: Double
    /// The session bus's address as libsecret will use it, after the check of who runs it.
    public let busAddress: String
    private var connected: UnsafeMutablePointer<SecretService>?

    /// The Secret Service on the session bus. Throws `.unavailable` when there is no bus, `.untrusted` when the
    /// bus is not the user's own (``SessionBus/trusted(_:uid:)``; nothing has been sent to it then). Nothing is
    /// asked of the bus yet: libsecret connects (and negotiates its session) on the first call that needs it.
    public init(environment: [String: String], deadline: Double = 5) throws(StoreError) {
        self.deadline = deadline
        guard let address = SessionBus.address(environment: environment) else {
            // Name the socket that was looked for, as it was looked for: XDG_RUNTIME_DIR may be unset (cron).
            let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            let looked = runtime.map { "$XDG_RUNTIME_DIR/bus (\($0)/bus)" } ?? "/run/user/\(getuid())/bus (XDG_RUNTIME_DIR is unset)"
            throw StoreError(
                .unavailable, "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and \(looked) is not your socket",
                hint: "log in to a desktop session, or use --store file")
        }
        let checked = try SessionBus.trusted(address)
        // GDBus reads the address from the environment: setting it here is what makes cron find the user's bus, and
        // what makes libsecret connect to the socket just checked (symlinks resolved). The address is not a secret.
        if getenv("DBUS_SESSION_BUS_ADDRESS").map({ String(cString: $0) }) != checked { setenv("DBUS_SESSION_BUS_ADDRESS", checked, 1) }
        busAddress = checked
    }

    /// libsecret's service proxy, connected on first use. Throws `.unavailable` when there is no provider,
    /// `.timeout` when it does not answer within `deadline`.
    func service() throws(StoreError) -> UnsafeMutablePointer<SecretService> {
        if let connected { return connected }
        try Self.loadLibrary()
        // Collections are not loaded up front (the default one is looked up by alias when it matters): loading every
        // collection and its items costs D-Bus round trips. Nor is the session opened here: libsecret opens it when a
        // secret is first sent or asked for, so a read that finds no item never pays for the key exchange.
        guard let service = try call("connecting to the Secret Service", { c, e in gk_secret_service_get_sync(SECRET_SERVICE_NONE, c, e) })
        else { throw StoreError(.unavailable, "no Secret Service on the session bus") }
        connected = service
        return service
    }

    /// Loads libsecret and GLib (once per process, for every caller: Sources/CLoader); `.unavailable` names the missing
    /// library and its packages. Public for `gkpass doctor`, which reports a missing libsecret as a check of its own.
    public static func loadLibrary() throws(StoreError) {
        if let why = gk_secret_load() {
            throw StoreError(.unavailable, String(cString: why), hint: "apt install libsecret-1-0 libglib2.0-0, or use --store file")
        }
        // libsecret registers its D-Bus error names (org.freedesktop.Secret.Error.IsLocked, …) with GDBus when its
        // error domain is first asked for; before any call, so that a locked item comes back as SECRET_ERROR_IS_LOCKED.
        _ = gk_secret_error_get_quark()
    }

    /// Asks the bus for the Secret Service now (what `gkpass doctor` reports as "a provider answers").
    public func connect() throws(StoreError) { _ = try service() }

    deinit { if let connected { gk_g_object_unref(connected) } }

    // MARK: - Deadline and errors

    /// Owns one reference to a GCancellable for as long as the timer might still fire.
    final class CancellableBox: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<GCancellable>
        init() { pointer = gk_g_cancellable_new() }
        deinit { gk_g_object_unref(pointer) }
    }

    static func call<T>(
        _ deadline: Double, _ doing: String,
        _ body: (UnsafeMutablePointer<GCancellable>, UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T
    ) throws(StoreError) -> T {
        let box = CancellableBox()
        let armed = Watchdog.shared.arm(box, seconds: deadline)
        var error: UnsafeMutablePointer<GError>? = nil
        let result = body(box.pointer, &error)
        Watchdog.shared.disarm(armed)
        if let error {
            defer { gk_g_error_free(error) }
            throw translate(error, doing: doing, deadline: deadline)
        }
        return result
    }

    /// Cancels a call's GCancellable when its deadline passes: one thread for the whole process, started at the
    /// first call, asleep on a condition variable until the earliest armed deadline. A call arms it and disarms it
    /// without waiting for it: a thread per call (created, then joined) cost `gkpass ticket` a context switch per
    /// libsecret call, which on a busy machine was a good part of a millisecond each.
    final class Watchdog: @unchecked Sendable {
        static let shared = Watchdog()

        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        /// A list, not a dictionary keyed by id: a process arms a handful at most, and the first `[UInt64: …]` of a
        /// process asked the runtime for UInt64's Hashable conformance by name, a scan of every conformance record.
        private var armed: [(id: UInt64, until: timespec, cancellable: CancellableBox)] = []
        private var counter: UInt64 = 0
        private var running = false
        /// What the thread sleeps until: `nil` while it is awake (it looks at `armed` before it sleeps again) and
        /// `.forever` while nothing is armed. A new deadline wakes it only when it is sooner than that.
        private var sleeping: Sleep? = nil
        private enum Sleep { case forever, until(timespec) }

        private init() {
            pthread_mutex_init(mutex, nil)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(condition, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        /// Cancels `cancellable` in `seconds` unless disarmed first. When no thread can be started, the call
        /// simply has no deadline.
        func arm(_ cancellable: CancellableBox, seconds: Double) -> UInt64 {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            counter += 1
            let until = MonotonicClock.moment(after: seconds)
            armed.append((counter, until, cancellable))
            if !running { running = start() }
            // Calls share one deadline length, so a new one is almost never sooner than the one the thread sleeps
            // until: no wake-up then. Waking it at every call cost `gkpass ticket` a context switch, and often a move
            // to the other CPU, per libsecret call (perf stat: 8 CPU migrations per read against secret-tool's 1).
            switch sleeping {
            case .forever: pthread_cond_signal(condition)
            case .until(let wake) where Self.before(until, wake): pthread_cond_signal(condition)
            default: break
            }
            return counter
        }

        /// Forgets an armed deadline. The thread is not woken: at its next wake-up it finds nothing due.
        func disarm(_ id: UInt64) {
            pthread_mutex_lock(mutex)
            armed.removeAll { $0.id == id }
            pthread_mutex_unlock(mutex)
        }

        private func start() -> Bool {
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            defer { pthread_attr_destroy(&attributes) }
            var thread = pthread_t()
            let this = Unmanaged.passUnretained(self).toOpaque()  // `shared` lives as long as the process
            return pthread_create(&thread, &attributes, { raw in
                Unmanaged<Watchdog>.fromOpaque(raw!).takeUnretainedValue().watch()
                return nil
            }, this) == 0
        }

        private func watch() {
            pthread_mutex_lock(mutex)
            while true {
                guard var earliest = armed.map(\.until).min(by: Self.before) else {
                    sleeping = .forever
                    pthread_cond_wait(condition, mutex)
                    sleeping = nil
                    continue
                }
                sleeping = .until(earliest)
                pthread_cond_timedwait(condition, mutex, &earliest)
                sleeping = nil
                let now = MonotonicClock.moment(after: 0)
                let due = armed.filter { !Self.before(now, $0.until) }
                armed.removeAll { !Self.before(now, $0.until) }
                // Cancelled outside the lock: GLib runs the cancellation's handlers right here.
                pthread_mutex_unlock(mutex)
                for entry in due { gk_g_cancellable_cancel(entry.cancellable.pointer) }
                pthread_mutex_lock(mutex)
            }
        }

        static func before(_ a: timespec, _ b: timespec) -> Bool {
            a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec
        }
    }

    func call<T>(_ doing: String, _ body: (UnsafeMutablePointer<GCancellable>, UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T) throws(StoreError) -> T {
        try Self.call(deadline, doing, body)
    }

    /// GLib errors in words a user understands, classified by GError domain and code (never by the text, which
    /// GLib translates and rewords); the raw text follows for the curious.
    static func translate(_ error: UnsafeMutablePointer<GError>, doing: String, deadline: Double) -> StoreError {
        let raw = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        let domain = error.pointee.domain, code = error.pointee.code
        func timedOut() -> StoreError {
            StoreError(.timeout, "the keyring did not answer within \(Int(deadline)) s while \(doing)",
                hint: "is the keyring daemon stuck? Use --store file to bypass it")
        }
        func noProvider() -> StoreError {
            StoreError(.unavailable, "no Secret Service provider (gnome-keyring, KeePassXC…) is running on the session bus (\(raw))",
                hint: "start your keyring, or use --store file")
        }
        func locked() -> StoreError { StoreError(.locked, "the keyring is locked (\(raw))", hint: unlockHint) }
        if domain == gk_g_io_error_quark() {
            switch code {
            case Int32(G_IO_ERROR_CANCELLED.rawValue), Int32(G_IO_ERROR_TIMED_OUT.rawValue):
                return timedOut()
            case Int32(G_IO_ERROR_DBUS_ERROR.rawValue):
                // A D-Bus error name no domain claims: classified by that name, which is a protocol constant.
                let name = gk_g_dbus_error_get_remote_error(error).map { pointer in
                    defer { gk_g_free(pointer) }
                    return String(cString: pointer)
                }
                switch name {
                case "org.freedesktop.Secret.Error.IsLocked": return locked()
                case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner": return noProvider()
                default: break
                }
            default:
                // Connecting failed (no socket, refused, closed): the bus itself is not there.
                return StoreError(.unavailable, "cannot connect to the D-Bus session bus while \(doing) (\(raw))",
                    hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
            }
        } else if domain == gk_g_dbus_error_quark() {
            switch code {
            case Int32(G_DBUS_ERROR_SERVICE_UNKNOWN.rawValue), Int32(G_DBUS_ERROR_NAME_HAS_NO_OWNER.rawValue):
                return noProvider()
            case Int32(G_DBUS_ERROR_NO_REPLY.rawValue), Int32(G_DBUS_ERROR_TIMEOUT.rawValue), Int32(G_DBUS_ERROR_TIMED_OUT.rawValue):
                return timedOut()
            default: break
            }
        } else if domain == gk_secret_error_get_quark(), code == Int32(SECRET_ERROR_IS_LOCKED.rawValue) {
            return locked()
        }
        return StoreError(.unavailable, "the keyring failed while \(doing): \(raw)")
    }

    static let unlockHint = "unlock it by logging in to your desktop session (or: gnome-keyring-daemon --unlock, password on stdin); gkpass never prompts"

    // MARK: - Attributes

    static func attributes(_ pairs: [String: String]) -> OpaquePointer {
        let table = gk_string_table_new()
        for (key, value) in pairs { gk_string_table_insert(table, key, value) }
        return table
    }

    static func attribute(_ table: OpaquePointer, _ key: String) -> String? {
        guard let value = gk_g_hash_table_lookup(table, key) else { return nil }
        return String(cString: value.assumingMemoryBound(to: CChar.self))
    }

    static func metadata(of item: UnsafeMutablePointer<SecretItem>) -> ItemMetadata? {
        guard let table = gk_secret_item_get_attributes(item) else { return nil }
        defer { gk_g_hash_table_unref(table) }
        guard attribute(table, "service") == "gkpass", let account = attribute(table, "account"),
            let kind = attribute(table, "kind").flatMap(ItemKind.init(rawValue:))
        else { return nil }
        return ItemMetadata(account: account, network: attribute(table, "network") ?? "", kind: kind, expires: attribute(table, "expires"))
    }

    /// Items matching `pairs` (locked ones included, secrets not loaded), newest first: by modification, then
    /// creation time.
    func search(_ pairs: [String: String]) throws(StoreError) -> [UnsafeMutablePointer<SecretItem>] {
        let service = try service()
        let table = Self.attributes(pairs)
        defer { gk_g_hash_table_unref(table) }
        let list = try call("searching the keyring") { c, e in
            gk_secret_service_search_sync(service, gk_secret_schema(), table, SECRET_SEARCH_ALL, c, e)
        }
        var items: [UnsafeMutablePointer<SecretItem>] = []
        var node = list
        while let current = node {
            if let data = current.pointee.data {
                let item = data.assumingMemoryBound(to: SecretItem.self)
                gk_g_object_ref(item)
                items.append(item)
            }
            node = current.pointee.next
        }
        gk_list_free_objects(list)
        return items.sorted { a, b in
            let ma = gk_secret_item_get_modified(a), mb = gk_secret_item_get_modified(b)
            return ma != mb ? ma > mb : gk_secret_item_get_created(a) > gk_secret_item_get_created(b)
        }
    }

    /// The object paths of the items matching `pairs`, unlocked and locked (no item proxies).
    func paths(_ pairs: [String: String]) throws(StoreError) -> (unlocked: [String], locked: [String]) {
        let service = try service()
        let table = Self.attributes(pairs)
        defer { gk_g_hash_table_unref(table) }
        var unlocked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>? = nil
        var locked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>? = nil
        _ = try call("searching the keyring") { c, e in
            gk_secret_service_search_for_dbus_paths_sync(service, gk_secret_schema(), table, c, &unlocked, &locked, e)
        }
        defer {
            gk_g_strfreev(unlocked)
            gk_g_strfreev(locked)
        }
        func strings(_ list: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?) -> [String] {
            guard let list else { return [] }
            var result: [String] = []
            while let path = list[result.count] { result.append(String(cString: path)) }
            return result
        }
        return (strings(unlocked), strings(locked))
    }

    /// Throws `.locked` when the default collection is locked: checked before anything that could prompt.
    public func ensureUnlocked() throws(StoreError) {
        let service = try service()
        guard let collection = try call("opening the default keyring", { c, e in
            gk_secret_collection_for_alias_sync(service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, c, e)
        }) else {
            throw StoreError(.unavailable, "the keyring has no default collection", hint: "create one in your keyring manager (Seahorse), or use --store file")
        }
        defer { gk_g_object_unref(collection) }
        if gk_secret_collection_get_locked(collection) != 0 {
            throw StoreError(.locked, "the default keyring collection is locked", hint: Self.unlockHint)
        }
    }

    // MARK: - ItemStore

    /// The item's metadata and secret (the newest item, should there be several).
    public func read(account: String, kind: ItemKind) throws(StoreError) -> (metadata: ItemMetadata, secret: SecretBytes)? {
        let items = try search(Self.identity(account: account, kind: kind))
        defer { items.forEach { gk_g_object_unref($0) } }
        guard let item = items.first, let metadata = Self.metadata(of: item) else { return nil }
        if gk_secret_item_get_locked(item) != 0 {
            throw StoreError(.locked, "the keyring item for \(account) is locked", hint: Self.unlockHint)
        }
        _ = try call("reading \(account) from the keyring") { c, e in gk_secret_item_load_secret_sync(item, c, e) }
        guard let value = gk_secret_item_get_secret(item) else {
            throw StoreError(.locked, "the keyring would not release the secret for \(account)", hint: Self.unlockHint)
        }
        defer { gk_secret_value_unref(UnsafeMutableRawPointer(value)) }
        var length = 0
        guard let bytes = gk_secret_value_get(value, &length) else { return nil }
        return (metadata, SecretBytes(UnsafeRawBufferPointer(start: bytes, count: length)))
    }

    /// The secret alone, in `secret-tool lookup`'s round trips: SearchItems for the item's object path, then
    /// GetSecret of that path, with no item proxy (building one costs a GetAll per item). Not libsecret's own
    /// `secret_service_lookup`: for an item that is locked it asks the keyring to unlock it, which prompts; here a
    /// locked item is `.locked` at once. Anything unusual (several items) takes the full `read`, newest first.
    public func readSecret(account: String, kind: ItemKind) throws(StoreError) -> SecretBytes? {
        let service = try service()
        let (unlocked, locked) = try paths(Self.identity(account: account, kind: kind))
        if unlocked.isEmpty && locked.isEmpty { return nil }
        guard unlocked.count == 1, locked.isEmpty else {
            if unlocked.isEmpty { throw StoreError(.locked, "the keyring item for \(account) is locked", hint: Self.unlockHint) }
            return try read(account: account, kind: kind)?.secret
        }
        guard let value = try call("reading \(account) from the keyring", { c, e in gk_secret_service_get_secret_for_dbus_path_sync(service, unlocked[0], c, e) })
        else { throw StoreError(.locked, "the keyring would not release the secret for \(account)", hint: Self.unlockHint) }
        defer { gk_secret_value_unref(UnsafeMutableRawPointer(value)) }
        var length = 0
        guard let bytes = gk_secret_value_get(value, &length) else { return nil }
        return SecretBytes(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// The attributes that find an account's item of one kind.
    static func identity(account: String, kind: ItemKind) -> [String: String] {
        ["service": "gkpass", "account": account, "kind": kind.rawValue]
    }

    /// Stores the item in place: libsecret's store replaces the item with the same attributes. Other items of the
    /// account and kind (an old one with an `expires` attribute, one under another network, or one another program
    /// stored) are removed afterwards, so a reader always finds one and in the end there is one.
    public func write(_ metadata: ItemMetadata, secret: SecretBytes) throws(StoreError) {
        try ensureUnlocked()
        let service = try service()
        let pairs = ["service": "gkpass", "account": metadata.account, "network": metadata.network, "kind": metadata.kind.rawValue]
        let table = Self.attributes(pairs)
        defer { gk_g_hash_table_unref(table) }
        let value = secret.withUnsafeBytes { raw in
            gk_secret_value_new(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, metadata.kind == .ticket ? "application/json" : "text/plain")
        }
        defer { gk_secret_value_unref(UnsafeMutableRawPointer(value)) }
        let label = "gkpass \(metadata.kind.rawValue) for \(metadata.account) (\(metadata.network))"
        _ = try call("storing \(metadata.account) in the keyring") { c, e in
            gk_secret_service_store_sync(service, gk_secret_schema(), table, SECRET_COLLECTION_DEFAULT, label, value, c, e)
        }
        // The usual case ends here: one item, replaced in place.
        let identity = Self.identity(account: metadata.account, kind: metadata.kind)
        let found = try paths(identity)
        guard found.unlocked.count + found.locked.count > 1 else { return }
        let items = try search(identity)
        defer { items.forEach { gk_g_object_unref($0) } }
        // The item just stored is the newest whose attributes are exactly ours. An item whose attributes did not
        // load (a proxy created in the same instant as the item) may be that one: if none is recognisably ours,
        // nothing is deleted, and the next write tidies up.
        guard let ours = items.first(where: { Self.attributesAreExactly($0, pairs) }) else { return }
        for item in items where item != ours {
            _ = try call("removing an older keyring item") { c, e in gk_secret_item_delete_sync(item, c, e) }
        }
    }

    /// Whether the item carries exactly `pairs` (besides libsecret's own `xdg:schema`).
    static func attributesAreExactly(_ item: UnsafeMutablePointer<SecretItem>, _ pairs: [String: String]) -> Bool {
        guard let table = gk_secret_item_get_attributes(item) else { return false }
        defer { gk_g_hash_table_unref(table) }
        var expected = pairs.count
        if attribute(table, "xdg:schema") != nil { expected += 1 }
        return Int(gk_g_hash_table_size(table)) == expected && pairs.allSatisfy { attribute(table, $0.key) == $0.value }
    }

    @discardableResult
    public func delete(account: String, kind: ItemKind) throws(StoreError) -> Bool {
        let items = try search(Self.identity(account: account, kind: kind))
        defer { items.forEach { gk_g_object_unref($0) } }
        guard !items.isEmpty else { return false }
        try ensureUnlocked()
        for item in items {
            _ = try call("removing \(account) from the keyring") { c, e in gk_secret_item_delete_sync(item, c, e) }
        }
        return true
    }

    /// Every account's items, from their attributes (no secret is read, so this works while the keyring is
    /// locked). `expires` is there only on items written before it moved into the document; callers take the
    /// expiry from the store record (``FileStore/record(account:)``).
    public func list() throws(StoreError) -> [ItemMetadata] {
        let items = try search(["service": "gkpass"])
        defer { items.forEach { gk_g_object_unref($0) } }
        var seen = Set<String>()
        var result: [ItemMetadata] = []
        for item in items {
            guard let metadata = Self.metadata(of: item), seen.insert(metadata.account + "\u{0}" + metadata.kind.rawValue).inserted else { continue }
            result.append(metadata)
        }
        return result.sorted { ($0.account, $0.kind.rawValue) < ($1.account, $1.kind.rawValue) }
    }
}
