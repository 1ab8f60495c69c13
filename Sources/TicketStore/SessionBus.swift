internal import Glibc
internal import GKText

/// Finding the user's D-Bus session bus without ever starting one, and checking who runs it before anything is
/// sent to it (design.md §6, "Trust only your own bus").
///
/// cron jobs and systemd services have no `DBUS_SESSION_BUS_ADDRESS`, but a logged-in user's bus socket is at
/// `$XDG_RUNTIME_DIR/bus`. Whatever the address, a bus run by another user would receive the ticket and a
/// remembered password: ``trusted(_:uid:)`` refuses it before libsecret connects.
public enum SessionBus {
    /// The bus address to use, or nil when there is none. An explicit address wins; otherwise
    /// `$XDG_RUNTIME_DIR/bus` (or `/run/user/UID/bus`) if it is a socket owned by the user.
    public static func address(environment: [String: String], uid: UInt32? = nil) -> String? {
        let uid = uid ?? getuid()
        if let explicit = environment["DBUS_SESSION_BUS_ADDRESS"], !explicit.isEmpty { return explicit }
        let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/user/\(uid)"
        let socket = runtime + "/bus"
        var info = stat()
        guard lstat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, info.st_uid == uid else { return nil }
        return "unix:path=" + escape(socket)
    }

    /// One entry of a D-Bus address (`transport:key=value,key=value`), values unescaped.
    public struct Entry: Equatable, Sendable {
        public var transport: String
        public var keys: [String: String]
    }

    /// The entries of a D-Bus address (`;`-separated; GDBus tries each in turn), or nil when it does not parse:
    /// an entry without a transport, a key without `=`, a bad `%XX` escape.
    public static func entries(_ address: String) -> [Entry]? {
        var result: [Entry] = []
        for text in address.split(separator: ";", omittingEmptySubsequences: true) {
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
            var entry = Entry(transport: String(text[..<colon]), keys: [:])
            for pair in text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex,
                    let value = unescape(pair[pair.index(after: equals)...])
                else { return nil }
                entry.keys[String(pair[..<equals])] = value
            }
            result.append(entry)
        }
        return result.isEmpty ? nil : result
    }

    /// `%XX` escapes undone (D-Bus specification, "Server Addresses"); nil for a malformed escape or non-UTF-8.
    static func unescape(_ text: Substring) -> String? { PercentEncoding.decode(text) }

    /// A value escaped for an address: the bytes the specification lets through as they are, `%XX` for the rest.
    static func escape(_ value: String) -> String {
        PercentEncoding.encode(value, keeping: { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "*"):
                return true
            default:
                return false
            }
        }, lowercase: true)
    }

    /// Checks that the bus at `address` is `uid`'s own, before anything is sent to it, and returns the address
    /// libsecret is to use: the same bus, with a socket path resolved to the one that was checked (so no symlink
    /// can be swapped between the check and GDBus's connect).
    ///
    /// - `unix:path=P`: P is a socket owned by `uid`; its directory and every directory above it belong to `uid`
    ///   or root and are writable by nobody else, unless sticky (like `/tmp`, where dbus-run-session and
    ///   dbus-launch put their sockets: there no one else can remove or rename the user's socket); and the process
    ///   listening on P (`SO_PEERCRED` of a connection opened and closed at once, no byte sent) runs as `uid`.
    /// - `unix:abstract=N`: the listener's `SO_PEERCRED` only; an abstract name has no owner or mode.
    /// - Anything else (`tcp:`, `nonce-tcp:`, `unixexec:`, `autolaunch:`, …) is refused: no peer credentials,
    ///   or a command gkpass would run.
    ///
    /// Throws `.untrusted` for a bus that is someone else's or cannot be checked (exit 5, and `--store auto` does
    /// not fall back: the address was set to that bus on purpose, by someone), `.unavailable` when nothing listens
    /// at the address (no session, so `auto` may use the file store), `.timeout` when the listener accepts no
    /// connection.
    public static func trusted(_ address: String, uid: UInt32? = nil) throws(StoreError) -> String {
        let uid = uid ?? getuid()
        guard let entries = entries(address) else {
            throw untrusted("the session bus address \(quoted(address)) does not parse")
        }
        var checked: [String] = []
        for entry in entries {
            switch entry.transport {
            case "unix":
                if let path = entry.keys["path"], entry.keys.count == 1 || (entry.keys.count == 2 && entry.keys["guid"] != nil) {
                    let real = try checkSocketPath(path, uid: uid)
                    try checkPeer(unixSocketAddress(path: real), described: real, uid: uid)
                    checked.append("unix:path=" + escape(real) + (entry.keys["guid"].map { ",guid=" + escape($0) } ?? ""))
                } else if let name = entry.keys["abstract"], entry.keys.count == 1 || (entry.keys.count == 2 && entry.keys["guid"] != nil) {
                    try checkPeer(unixSocketAddress(abstract: name), described: "the abstract socket @" + name, uid: uid)
                    checked.append("unix:abstract=" + escape(name) + (entry.keys["guid"].map { ",guid=" + escape($0) } ?? ""))
                } else {
                    throw untrusted("the session bus address \(quoted(address)) names a unix socket by neither path= nor abstract=")
                }
            default:
                throw untrusted(
                    "the session bus address \(quoted(address)) uses the \(entry.transport): transport; gkpass trusts only a local socket "
                        + "(unix:path= or unix:abstract=) whose owner it can check")
            }
        }
        // Joined by hand: the standard library's `joined(separator:)` is generic and, called from here, asked the
        // runtime for a conformance by name on every read (a scan of every conformance record in the binary).
        var joined = ""
        for entry in checked { joined += joined.isEmpty ? entry : ";" + entry }
        return joined
    }

    static func untrusted(_ message: String) -> StoreError {
        StoreError(.untrusted, message + "; nothing was sent to it", hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
    }

    static func quoted(_ text: String) -> String { "'" + text + "'" }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    /// The path checks of `unix:path=`; returns the path with every symlink resolved.
    static func checkSocketPath(_ path: String, uid: uid_t) throws(StoreError) -> String {
        guard path.hasPrefix("/") else { throw untrusted("the session bus socket \(quoted(path)) is not an absolute path") }
        guard let resolved = realpath(path, nil) else {
            throw StoreError(.unavailable, "no D-Bus session bus at \(path): \(String(cString: strerror(errno)))",
                hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
        }
        let real = String(cString: resolved)
        free(resolved)
        var info = stat()
        guard lstat(real, &info) == 0 else {
            throw StoreError(.unavailable, "no D-Bus session bus at \(real): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw untrusted("the session bus address names \(real), which is not a socket") }
        guard info.st_uid == uid else { throw untrusted("the session bus socket \(real) belongs to \(userName(info.st_uid)), not to you") }
        // The directory, and each one above it: nobody but the user or root may replace what is inside.
        var directory = real
        repeat {
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            let shown = directory.isEmpty ? "/" : directory
            guard lstat(shown, &info) == 0 else { throw untrusted("cannot examine \(shown): \(String(cString: strerror(errno)))") }
            guard info.st_uid == uid || info.st_uid == 0 else {
                throw untrusted("the session bus socket \(real) is in \(shown), which belongs to \(userName(info.st_uid))")
            }
            let sticky = info.st_mode & S_ISVTX != 0
            guard info.st_mode & 0o022 == 0 || sticky else {
                throw untrusted("the session bus socket \(real) is in \(shown), which others may write to (mode \(String(info.st_mode & 0o7777, radix: 8)))")
            }
        } while !directory.isEmpty
        return real
    }

    static func unixSocketAddress(path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        return address
    }

    static func unixSocketAddress(abstract name: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = [0] + Array(name.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        return address
    }

    /// Opens a connection to the listener, reads its credentials and closes it; nothing is written.
    static func checkPeer(_ target: sockaddr_un, described: String, uid: uid_t) throws(StoreError) {
        var target = target
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw StoreError(.io, "cannot open a socket to check the session bus: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // An abstract name counts only its own bytes; a path, the whole structure (the kernel stops at the NUL).
        let length: socklen_t
        if target.sun_path.0 == 0 {
            let name = withUnsafeBytes(of: target.sun_path) { raw in raw.dropFirst().prefix { $0 != 0 }.count }
            length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name)
        } else {
            length = socklen_t(MemoryLayout<sockaddr_un>.size)
        }
        let connected = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        if connected != 0 {
            let why = errno
            if why == EAGAIN || why == EINPROGRESS {
                throw StoreError(.timeout, "the session bus at \(described) accepts no connection (is its daemon stuck?)",
                    hint: "use --store file to bypass it")
            }
            throw StoreError(.unavailable, "cannot connect to the D-Bus session bus at \(described): \(String(cString: strerror(why)))",
                hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
        }
        var credentials = PeerCredentials()
        var size = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 else {
            throw untrusted("cannot tell who runs the session bus at \(described): \(String(cString: strerror(errno)))")
        }
        guard credentials.uid == uid else {
            throw untrusted("the session bus at \(described) is run by \(userName(credentials.uid)), not by you (\(userName(uid)))")
        }
    }
}

/// `struct ucred` (socket(7)), which Glibc's module leaves out (it is behind `_GNU_SOURCE`): what `SO_PEERCRED`
/// fills in, the credentials of the process that called listen(2).
struct PeerCredentials {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}
