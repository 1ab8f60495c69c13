internal import CSecret
internal import Glibc

/// Tickets in the desktop keyring through libsecret (design.md §6).
///
/// Attributes (`service=gkpass`, `account`, `network`, `kind`, `expires`) are not secret; the secret is the item's
/// value. Every call has a deadline: a `GCancellable` that a timer cancels, so a hung keyring yields `.timeout`
/// instead of a hung command. Nothing here unlocks or prompts: a locked collection is reported as `.locked`.
public final class SecretServiceStore: TicketStore {
    public let kind = StoreKind.secretService
    /// Seconds each libsecret call may take.
    public let deadline: Double
    /// The session bus's address (from the environment, or the user's `$XDG_RUNTIME_DIR/bus`).
    let busAddress: String
    private var connected: UnsafeMutablePointer<SecretService>?

    /// The Secret Service on the session bus. Throws `.unavailable` when there is no bus. Nothing is asked of the
    /// bus yet: libsecret connects (and negotiates its session) on the first call that needs it, so the hot read
    /// (``readSecret(account:kind:)``) never pays for it; a missing provider or a timeout surfaces there.
    public init(environment: [String: String], deadline: Double = 5) throws(StoreError) {
        self.deadline = deadline
        guard let address = SessionBus.address(environment: environment) else {
            throw StoreError(
                .unavailable, "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus is missing",
                hint: "log in to a desktop session, or use --store file")
        }
        // GDBus reads the address from the environment; setting it here is what makes cron find the user's bus.
        // The address is not a secret.
        if environment["DBUS_SESSION_BUS_ADDRESS"]?.isEmpty ?? true { setenv("DBUS_SESSION_BUS_ADDRESS", address, 1) }
        busAddress = address
    }

    /// libsecret's service proxy, connected on first use. Throws `.unavailable` when there is no provider,
    /// `.timeout` when it does not answer within `deadline`.
    func service() throws(StoreError) -> UnsafeMutablePointer<SecretService> {
        if let connected { return connected }
        if let why = gk_secret_load() {
            throw StoreError(.unavailable, "cannot load libsecret (\(String(cString: why)))", hint: "install libsecret-1-0, or use --store file")
        }
        // Collections are not loaded up front (the default one is looked up by alias when it matters): loading every
        // collection and its items costs D-Bus round trips.
        let flags = SecretServiceFlags(rawValue: SECRET_SERVICE_OPEN_SESSION.rawValue)
        guard let service = try call("connecting to the Secret Service", { c, e in gk_secret_service_get_sync(flags, c, e) })
        else { throw StoreError(.unavailable, "no Secret Service on the session bus") }
        connected = service
        return service
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
        let watchdog = Watchdog(seconds: deadline, cancellable: box)
        var error: UnsafeMutablePointer<GError>? = nil
        let result = body(box.pointer, &error)
        watchdog.finish()
        if let error {
            defer { gk_g_error_free(error) }
            throw translate(error, doing: doing, deadline: deadline)
        }
        return result
    }

    /// Cancels a call's GCancellable when its deadline passes: one short-lived thread waiting on a condition
    /// variable. (It replaced a Dispatch timer, whose start-up cost each `gkpass ticket` about a millisecond.)
    final class Watchdog: @unchecked Sendable {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        var done = false
        var thread = pthread_t()
        let until: timespec
        let cancellable: CancellableBox

        init(seconds: Double, cancellable: CancellableBox) {
            self.cancellable = cancellable
            pthread_mutex_init(mutex, nil)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(condition, &attributes)
            pthread_condattr_destroy(&attributes)
            until = MonotonicClock.moment(after: seconds)
            let retained = Unmanaged.passRetained(self).toOpaque()
            if pthread_create(&thread, nil, { raw in
                let watchdog = Unmanaged<Watchdog>.fromOpaque(raw!).takeRetainedValue()
                watchdog.watch()
                return nil
            }, retained) != 0 {
                Unmanaged<Watchdog>.fromOpaque(retained).release()
                done = true  // no watchdog: the call simply has no deadline
            }
        }

        func watch() {
            pthread_mutex_lock(mutex)
            var deadline = until
            while !done {
                if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT {
                    if !done { gk_g_cancellable_cancel(cancellable.pointer) }
                    break
                }
            }
            pthread_mutex_unlock(mutex)
        }

        func finish() {
            pthread_mutex_lock(mutex)
            let started = !done
            done = true
            pthread_cond_signal(condition)
            pthread_mutex_unlock(mutex)
            if started { pthread_join(thread, nil) }
        }

        deinit {
            pthread_cond_destroy(condition)
            pthread_mutex_destroy(mutex)
            condition.deallocate()
            mutex.deallocate()
        }
    }

    func call<T>(_ doing: String, _ body: (UnsafeMutablePointer<GCancellable>, UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T) throws(StoreError) -> T {
        try Self.call(deadline, doing, body)
    }

    /// GLib errors in words a user understands; the raw text follows for the curious.
    static func translate(_ error: UnsafeMutablePointer<GError>, doing: String, deadline: Double) -> StoreError {
        let raw = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        if error.pointee.domain == gk_g_io_error_quark()
            && (error.pointee.code == Int32(G_IO_ERROR_CANCELLED.rawValue) || error.pointee.code == Int32(G_IO_ERROR_TIMED_OUT.rawValue)) {
            return StoreError(.timeout, "the keyring did not answer within \(Int(deadline)) s while \(doing)",
                hint: "is the keyring daemon stuck? Use --store file to bypass it")
        }
        if raw.contains("ServiceUnknown") || raw.contains("was not provided by any .service files") || raw.contains("org.freedesktop.secrets") && raw.contains("not") {
            return StoreError(.unavailable, "no Secret Service provider (gnome-keyring, KeePassXC…) is running on the session bus (\(raw))",
                hint: "start your keyring, or use --store file")
        }
        if raw.contains("Could not connect") || raw.contains("No such file") || raw.contains("Connection refused") {
            return StoreError(.unavailable, "cannot connect to the D-Bus session bus while \(doing) (\(raw))",
                hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
        }
        if raw.lowercased().contains("locked") {
            return StoreError(.locked, "the keyring is locked (\(raw))", hint: unlockHint)
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

    /// Items matching `pairs` (locked ones included, secrets not loaded), newest first.
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
        // Newest first: by expiry attribute, then by creation time.
        return items.sorted { a, b in
            let ea = Self.metadata(of: a)?.expires ?? "", eb = Self.metadata(of: b)?.expires ?? ""
            return ea != eb ? ea > eb : gk_secret_item_get_created(a) > gk_secret_item_get_created(b)
        }
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

    // MARK: - TicketStore

    public func read(account: String, kind: ItemKind) throws(StoreError) -> (metadata: ItemMetadata, secret: SecretBytes)? {
        let items = try search(["service": "gkpass", "account": account, "kind": kind.rawValue])
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

    /// The secret alone: the direct read (SecretServiceStore+Direct.swift), or when that steps aside, libsecret in the
    /// round trips `secret-tool lookup` makes.
    public func readSecret(account: String, kind: ItemKind) throws(StoreError) -> SecretBytes? {
        switch try readSecretDirectly(account: account, kind: kind) {
        case .found(let secret): return secret
        case .absent: return nil
        case .askLibsecret: return try readSecretThroughLibsecret(account: account, kind: kind)
        }
    }

    /// SearchItems for object paths, then GetSecret for the one unlocked item, with no item proxy (building one costs
    /// an AddMatch and a GetAll). Anything unusual (several items, a locked one among them) takes the full `read`,
    /// which picks the newest.
    func readSecretThroughLibsecret(account: String, kind: ItemKind) throws(StoreError) -> SecretBytes? {
        let service = try service()
        let table = Self.attributes(["service": "gkpass", "account": account, "kind": kind.rawValue])
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
        func count(_ list: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?) -> Int {
            guard let list else { return 0 }
            var n = 0
            while list[n] != nil { n += 1 }
            return n
        }
        let open = count(unlocked), closed = count(locked)
        if open == 0 && closed == 0 { return nil }
        if open != 1 || closed != 0 { return try read(account: account, kind: kind)?.secret }
        guard let path = unlocked?[0],
            let value = try call("reading \(account) from the keyring", { c, e in gk_secret_service_get_secret_for_dbus_path_sync(service, path, c, e) })
        else {
            throw StoreError(.locked, "the keyring would not release the secret for \(account)", hint: Self.unlockHint)
        }
        defer { gk_secret_value_unref(UnsafeMutableRawPointer(value)) }
        var length = 0
        guard let bytes = gk_secret_value_get(value, &length) else { return nil }
        return SecretBytes(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    public func write(_ metadata: ItemMetadata, secret: SecretBytes) throws(StoreError) {
        try ensureUnlocked()
        let service = try service()
        var pairs = ["service": "gkpass", "account": metadata.account, "network": metadata.network, "kind": metadata.kind.rawValue]
        if let expires = metadata.expires { pairs["expires"] = expires }
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
        // The new item exists now; only then remove older items for the same account and kind (another expiry
        // or network makes a separate item), so a reader always finds one.
        let items = try search(["service": "gkpass", "account": metadata.account, "kind": metadata.kind.rawValue])
        defer { items.forEach { gk_g_object_unref($0) } }
        // Only items that are readably someone else's go: an item whose attributes did not load (a proxy created
        // in the same instant as the item) may be the one just stored, and deleting it would leave none. If the
        // new item cannot be told apart at all, nothing is deleted; the next write tidies up.
        guard items.contains(where: { Self.metadata(of: $0) == metadata }) else { return }
        for item in items {
            guard let other = Self.metadata(of: item), other != metadata else { continue }
            _ = try call("removing an older keyring item") { c, e in gk_secret_item_delete_sync(item, c, e) }
        }
    }

    @discardableResult
    public func delete(account: String, kind: ItemKind) throws(StoreError) -> Bool {
        let items = try search(["service": "gkpass", "account": account, "kind": kind.rawValue])
        defer { items.forEach { gk_g_object_unref($0) } }
        guard !items.isEmpty else { return false }
        try ensureUnlocked()
        for item in items {
            _ = try call("removing \(account) from the keyring") { c, e in gk_secret_item_delete_sync(item, c, e) }
        }
        return true
    }

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
