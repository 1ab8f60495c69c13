internal import CSecret
internal import Glibc

/// The hot read of `gkpass ticket`, spoken to the Secret Service directly over GDBus: four messages on one bus
/// connection (SearchItems, OpenSession, GetSecret, and a Close that needs no answer) where libsecret also adds
/// three AddMatch, StartServiceByName, two GetNameOwner and a property GetAll, and the session's Diffie-Hellman in
/// OpenSSL (``SecretTransport``) instead of libgcrypt. Same API, same items, same encrypted transfer: only cheaper.
///
/// Everything that is not the common case steps aside to libsecret (``SecretServiceStore/readSecretThroughLibsecret(account:kind:)``):
/// several matching items or a locked one (libsecret picks the newest, and reports locks), and a provider that does
/// not offer the encrypted algorithm (libsecret falls back to `plain`, which gkpass does not speak itself).
extension SecretServiceStore {
    enum DirectRead {
        case found(SecretBytes)
        case absent
        case askLibsecret
    }

    static let busName = "org.freedesktop.secrets"
    static let servicePath = "/org/freedesktop/secrets"

    func readSecretDirectly(account: String, kind: ItemKind) throws(StoreError) -> DirectRead {
        // The key pair (OpenSSL's start-up and one modular exponentiation) on the second core while this one
        // connects and searches.
        let keys = Concurrent { () -> Result<SecretTransport, StoreError> in Result { () throws(StoreError) in try SecretTransport() } }
        guard let connection = try call("connecting to the session bus", { c, e in g_bus_get_sync(G_BUS_TYPE_SESSION, c, e) }) else {
            throw StoreError(.unavailable, "cannot connect to the D-Bus session bus", hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
        }
        defer { g_object_unref(UnsafeMutableRawPointer(connection)) }
        let bus = DirectBus(connection: connection, timeout: Int32(min(deadline * 1000, Double(Int32.max))), deadline: deadline)

        let search = try bus.call(
            Self.servicePath, "org.freedesktop.Secret.Service", "SearchItems", Self.attributesVariant(["service": "gkpass", "account": account, "kind": kind.rawValue]),
            reply: "(aoao)", doing: "searching the keyring")
        defer { g_variant_unref(search) }
        let unlocked = Self.objectPaths(search, 0), locked = Self.objectPaths(search, 1)
        if unlocked.isEmpty && locked.isEmpty { return .absent }
        guard unlocked.count == 1, locked.isEmpty else { return .askLibsecret }

        guard case .success(let transport) = keys.wait() else { return .askLibsecret }
        let opened: OpaquePointer
        do throws(StoreError) {
            let input = transport.publicKey.withUnsafeBufferPointer { g_variant_new_fixed_array(variantType("y"), $0.baseAddress, gsize($0.count), 1) }
            var arguments = [g_variant_new_string(SecretTransport.algorithm), g_variant_new_variant(input)]
            opened = try bus.call(
                Self.servicePath, "org.freedesktop.Secret.Service", "OpenSession", g_variant_new_tuple(&arguments, gsize(arguments.count)),
                reply: "(vo)", doing: "opening a session with the keyring")
        } catch {
            if error.kind == .unavailable && error.message.contains("NotSupported") { return .askLibsecret }  // `plain` only
            throw error
        }
        defer { g_variant_unref(opened) }
        let output = g_variant_get_child_value(opened, 0)!
        defer { g_variant_unref(output) }
        let answer = g_variant_get_variant(output)!
        defer { g_variant_unref(answer) }
        guard g_variant_is_of_type(answer, variantType("ay")) != 0 else {
            throw StoreError(.corrupt, "the Secret Service answered OpenSession without a public key")
        }
        let session = Self.string(opened, 1)
        // The session ends with this read, answered or not (the service also ends it when we disconnect).
        defer { bus.send(session, "org.freedesktop.Secret.Session", "Close") }
        // The session key on the second core while the secret is on its way.
        let servicePublicKey = Self.bytes(answer)
        let sessionKey = Concurrent { () -> Result<SecretBytes, StoreError> in
            Result { () throws(StoreError) in try transport.sessionKey(servicePublicKey: servicePublicKey) }
        }

        var sessionArgument = [g_variant_new_object_path(session)]
        let reply = try bus.call(
            unlocked[0], "org.freedesktop.Secret.Item", "GetSecret", g_variant_new_tuple(&sessionArgument, gsize(sessionArgument.count)),
            reply: "((oayays))", doing: "reading \(account) from the keyring")
        defer { g_variant_unref(reply) }
        let secret = g_variant_get_child_value(reply, 0)!
        defer { g_variant_unref(secret) }
        let parameters = g_variant_get_child_value(secret, 1)!, value = g_variant_get_child_value(secret, 2)!
        defer {
            g_variant_unref(parameters)
            g_variant_unref(value)
        }
        let key = try sessionKey.wait().get()
        return .found(try transport.decrypt(key: key, parameters: Self.bytes(parameters), value: Self.bytes(value)))
    }

    /// `a{ss}` in a one-element tuple, as SearchItems takes it.
    static func attributesVariant(_ pairs: [String: String]) -> OpaquePointer {
        let builder = g_variant_builder_new(variantType("a{ss}"))!
        defer { g_variant_builder_unref(builder) }
        for (name, value) in pairs.sorted(by: { $0.key < $1.key }) {
            g_variant_builder_add_value(builder, g_variant_new_dict_entry(g_variant_new_string(name), g_variant_new_string(value)))
        }
        var arguments = [g_variant_builder_end(builder)]
        return g_variant_new_tuple(&arguments, gsize(arguments.count))
    }

    static func objectPaths(_ tuple: OpaquePointer, _ index: gsize) -> [String] {
        let array = g_variant_get_child_value(tuple, index)!
        defer { g_variant_unref(array) }
        return (0..<g_variant_n_children(array)).map { Self.string(array, $0) }
    }

    static func string(_ container: OpaquePointer, _ index: gsize) -> String {
        let child = g_variant_get_child_value(container, index)!
        defer { g_variant_unref(child) }
        return String(cString: g_variant_get_string(child, nil))
    }

    /// The bytes of an `ay` value (not secret: a public key, an IV, ciphertext).
    static func bytes(_ array: OpaquePointer) -> [UInt8] {
        var count: gsize = 0
        guard let base = g_variant_get_fixed_array(array, &count, 1) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: Int(count)))
    }
}

/// One GDBus connection to the Secret Service with the store's deadline on every call (GDBus's own timeout, so no
/// watchdog thread).
struct DirectBus {
    let connection: OpaquePointer
    let timeout: Int32
    let deadline: Double

    /// Calls `method` and returns the reply, whose type GDBus has checked against `reply`. `parameters` is a
    /// floating tuple (GDBus takes it).
    func call(_ path: String, _ interface: String, _ method: String, _ parameters: OpaquePointer?, reply: StaticString, doing: String) throws(StoreError) -> OpaquePointer {
        var error: UnsafeMutablePointer<GError>? = nil
        let result = g_dbus_connection_call_sync(
            connection, SecretServiceStore.busName, path, interface, method, parameters, variantType(reply),
            G_DBUS_CALL_FLAGS_NONE, timeout, nil, &error)
        if let error {
            defer { g_error_free(error) }
            throw SecretServiceStore.translate(error, doing: doing, deadline: deadline)
        }
        guard let result else { throw StoreError(.unavailable, "the keyring gave no answer while \(doing)") }
        return result
    }

    /// Queues `method` without waiting for an answer (GDBus's worker thread sends it). A process that exits first
    /// loses it, which is harmless here: the service ends a client's sessions when its connection closes.
    func send(_ path: String, _ interface: String, _ method: String) {
        g_dbus_connection_call(connection, SecretServiceStore.busName, path, interface, method, nil, nil, G_DBUS_CALL_FLAGS_NONE, -1, nil, nil, nil)
    }
}

/// A GVariant type from a literal: a StaticString's bytes live as long as the program, so the pointer stays valid
/// after the call that made it (a String's temporary C string would not).
func variantType(_ type: StaticString) -> OpaquePointer {
    type.utf8Start.withMemoryRebound(to: CChar.self, capacity: type.utf8CodeUnitCount + 1) { gk_variant_type($0) }
}
