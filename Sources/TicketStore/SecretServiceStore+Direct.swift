internal import Glibc

/// The hot read of `gkpass ticket`, spoken to the Secret Service directly on the bus socket (``DBusWire``): one
/// write carries the authentication, Hello and SearchItems; then OpenSession, GetSecret, and a Close that needs no
/// answer. libsecret also adds three AddMatch, StartServiceByName, two GetNameOwner and a property GetAll, and
/// GDBus a line-by-line handshake and a worker thread. The session's Diffie-Hellman runs in OpenSSL
/// (``SecretTransport``) instead of libgcrypt. Same API, same items, same encrypted transfer: only cheaper.
///
/// Everything that is not the common case steps aside to libsecret
/// (``SecretServiceStore/readSecretThroughLibsecret(account:kind:)``): a bus address that is not a Unix socket, a
/// bus that refuses EXTERNAL, several matching items or a locked one (libsecret picks the newest, and reports
/// locks), and a provider that does not offer the encrypted algorithm (libsecret falls back to `plain`, which gkpass
/// does not speak itself).
extension SecretServiceStore {
    enum DirectRead {
        case found(SecretBytes)
        case absent
        case askLibsecret
    }

    static let busName = "org.freedesktop.secrets"
    static let servicePath = "/org/freedesktop/secrets"
    static let unknownMethod = "org.freedesktop.DBus.Error.UnknownMethod"

    func readSecretDirectly(account: String, kind: ItemKind) throws(StoreError) -> DirectRead {
        guard let socketAddress = DBusAddress.unixSocket(busAddress) else { return .askLibsecret }
        // The key pair (loading libcrypto, OpenSSL's provider, one modular exponentiation) on the second core
        // while this one connects and searches.
        let keys = Concurrent { () -> Result<SecretTransport, StoreError> in Result { () throws(StoreError) in try SecretTransport() } }
        let bus = try DBusSocket(socketAddress, deadline: deadline)

        let hello = bus.serial(), search = bus.serial()
        var query = DBusWriter()
        query.array(elementAlignment: 8) { entries in
            for (name, value) in [("account", account), ("kind", kind.rawValue), ("service", "gkpass")] {
                entries.structure { entry in
                    entry.string(name)
                    entry.string(value)
                }
            }
        }
        func searchItems(_ serial: UInt32) -> [UInt8] {
            Self.serviceCall(serial, Self.servicePath, "Service", "SearchItems", signature: "a{ss}", body: query.bytes)
        }
        try bus.send(
            DBusAuthentication.request(uid: getuid())
                + DBusMessage.methodCall(serial: hello, destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello")
                + searchItems(search))
        do {
            _ = try expect(bus.reply(to: hello, doing: "connecting to the session bus"), "s", doing: "connecting to the session bus")
        } catch {
            // A bus that wants another mechanism than EXTERNAL (a user namespace, say): GDBus knows the others.
            if bus.authenticationRejected { return .askLibsecret }
            throw error
        }
        var searched = try bus.reply(to: search, doing: "searching the keyring")
        if searched.errorName == Self.unknownMethod {
            // gnome-keyring registers a new client from an idle callback its message filter schedules, and now and
            // then handles the client's first call before that (its handler then declines, and GDBus answers
            // UnknownMethod). libsecret never shows it: its first call is a property read that needs no client.
            // By the time the error is here the client exists; asking again settles it (CI saw it once in ~300).
            let again = bus.serial()
            try bus.send(searchItems(again))
            searched = try bus.reply(to: again, doing: "searching the keyring")
        }
        if searched.errorName == Self.unknownMethod { return .askLibsecret }
        let found = try expect(searched, "aoao", doing: "searching the keyring")
        let unlocked: [String], locked: [String]
        do {
            var reader = found.bodyReader()
            unlocked = try reader.array(elementAlignment: 4) { (r: inout DBusReader) throws(DBusWire.Malformed) in try r.string() }
            locked = try reader.array(elementAlignment: 4) { (r: inout DBusReader) throws(DBusWire.Malformed) in try r.string() }
        } catch { throw Self.garbled(error, doing: "searching the keyring") }
        if unlocked.isEmpty && locked.isEmpty { return .absent }
        guard unlocked.count == 1, locked.isEmpty else { return .askLibsecret }

        guard case .success(let transport) = keys.wait() else { return .askLibsecret }
        var offer = DBusWriter()
        offer.string(SecretTransport.algorithm)
        offer.signature("ay")
        offer.byteArray(transport.publicKey)
        let open = bus.serial()
        try bus.send(Self.serviceCall(open, Self.servicePath, "Service", "OpenSession", signature: "sv", body: offer.bytes))
        let opened = try bus.reply(to: open, doing: "opening a session with the keyring")
        // A provider with `plain` only (NotSupported), or one that does not know the call: libsecret copes.
        if opened.kind == .error, opened.errorName == "org.freedesktop.DBus.Error.NotSupported" || opened.errorName == Self.unknownMethod {
            return .askLibsecret
        }
        let answer = try expect(opened, "vo", doing: "opening a session with the keyring")
        let servicePublicKey: [UInt8], session: String
        do throws(DBusWire.Malformed) {
            var reader = answer.bodyReader()
            guard try reader.signature() == "ay" else { throw DBusWire.Malformed("OpenSession's output is not a byte array") }
            servicePublicKey = try reader.byteArray()
            session = try reader.string()
        } catch { throw Self.garbled(error, doing: "opening a session with the keyring") }
        // The session key on the second core while the secret is on its way.
        let sessionKey = Concurrent { () -> Result<SecretBytes, StoreError> in
            Result { () throws(StoreError) in try transport.sessionKey(servicePublicKey: servicePublicKey) }
        }

        var sessionArgument = DBusWriter()
        sessionArgument.string(session)
        let get = bus.serial(), close = bus.serial()
        try bus.send(
            Self.serviceCall(get, unlocked[0], "Item", "GetSecret", signature: "o", body: sessionArgument.bytes)
                // The session ends with this read (the service also ends it when we disconnect).
                + Self.serviceCall(close, session, "Session", "Close", flags: DBusMessage.noReplyExpected))
        let secret = try expect(bus.reply(to: get, doing: "reading \(account) from the keyring"), "(oayays)", doing: "reading \(account) from the keyring")
        let parameters: [UInt8], value: [UInt8]
        do {
            var reader = secret.bodyReader()
            try reader.structure()
            _ = try reader.string()
            parameters = try reader.byteArray()
            value = try reader.byteArray()
        } catch { throw Self.garbled(error, doing: "reading \(account) from the keyring") }
        let key = try sessionKey.wait().get()
        return .found(try transport.decrypt(key: key, parameters: parameters, value: value))
    }

    /// A call to `member` of the Secret Service's `org.freedesktop.Secret.<interface>` on the object at `path`.
    static func serviceCall(
        _ serial: UInt32, _ path: String, _ interface: String, _ member: String, signature: String = "", body: [UInt8] = [], flags: UInt8 = 0
    ) -> [UInt8] {
        DBusMessage.methodCall(
            serial: serial, destination: busName, path: path, interface: "org.freedesktop.Secret." + interface, member: member,
            signature: signature, body: body, flags: flags)
    }

    /// The reply if it is a method return of `signature`; an error reply in words.
    func expect(_ reply: DBusMessage, _ signature: String, doing: String) throws(StoreError) -> DBusMessage {
        if reply.kind == .error { throw Self.translate(errorName: reply.errorName ?? "", message: reply.errorMessage ?? "", doing: doing, deadline: deadline) }
        guard reply.signature == signature else {
            throw StoreError(.unavailable, "the keyring answered with \(reply.signature.isEmpty ? "nothing" : reply.signature) instead of \(signature) while \(doing)")
        }
        return reply
    }

    static func garbled(_ error: DBusWire.Malformed, doing: String) -> StoreError {
        StoreError(.unavailable, "the keyring sent a \(error) while \(doing)")
    }

    /// A D-Bus error reply in words a user understands (the names libsecret and GDBus report; see ``translate(_:doing:deadline:)``).
    static func translate(errorName: String, message: String, doing: String, deadline: Double) -> StoreError {
        let raw = "\(errorName): \(message)"
        switch errorName {
        case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
            return StoreError(.unavailable, "no Secret Service provider (gnome-keyring, KeePassXC…) is running on the session bus (\(raw))",
                hint: "start your keyring, or use --store file")
        case "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout", "org.freedesktop.DBus.Error.TimedOut":
            return StoreError(.timeout, "the keyring did not answer within \(Int(deadline)) s while \(doing)",
                hint: "is the keyring daemon stuck? Use --store file to bypass it")
        case "org.freedesktop.Secret.Error.IsLocked":
            return StoreError(.locked, "the keyring is locked (\(raw))", hint: unlockHint)
        default:
            if raw.lowercased().contains("locked") { return StoreError(.locked, "the keyring is locked (\(raw))", hint: unlockHint) }
            return StoreError(.unavailable, "the keyring failed while \(doing): \(raw)")
        }
    }
}
