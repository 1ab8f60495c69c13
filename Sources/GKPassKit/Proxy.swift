internal import Glibc
internal import GateKeeper
public import TicketStore

/// `gkpass proxy`: a local, plain IRC endpoint for ordinary clients, and a bridge: one client connection, as many
/// upstream connections as its rooms' servers (each logged in with GateKeeperPassport from the stored ticket). The
/// routing (which line goes where, what the client sees, reconnecting) is ``BridgeRouter``'s; this file holds the
/// sockets: one thread per client, poll(2) over the client, its upstreams and a pipe from the worker threads that
/// open upstreams and ask the directory (docs/benchmarks.md says why this is not SwiftNIO).
///
/// Access: only processes of the user who runs the proxy may use it. A loopback TCP client's socket owner is
/// looked up in the kernel (``SocketOwner``) right after accept, before a byte is read or sent; a Unix socket client
/// is checked with SO_PEERCRED. With `allowRemote` the check is the proxy password instead (the IRC PASS).
public struct Proxy: Sendable {
    /// Where the proxy listens: a TCP address (port 0: chosen by the system) or a Unix socket path.
    public enum Listen: Sendable, Equatable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// `HOST:PORT`, `[V6]:PORT` (port 0 allowed) or `unix:PATH`.
        public init?(_ text: String) {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard !path.isEmpty, path.utf8.count < 108, !path.utf8.contains(0) else { return nil }
                self = .unix(path: path)
                return
            }
            // Network.Endpoint wants a real port: parse with port 1 in place of 0.
            if let endpoint = Network.Endpoint(text) {
                self = .tcp(host: endpoint.host, port: endpoint.port)
            } else if text.hasSuffix(":0"), let endpoint = Network.Endpoint(String(text.dropLast()) + "1") {
                self = .tcp(host: endpoint.host, port: 0)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .tcp(let host, let port): Network.Endpoint(host: host, port: port).description
            case .unix(let path): "unix:" + path
            }
        }
    }

    /// A bound, listening socket.
    public struct Listener: Sendable {
        public let fd: Int32
        /// What the proxy prints after `listening `: the bound address (with the chosen port) or `unix:PATH`.
        public let address: String
        let isUnix: Bool
        /// A warning for stderr (a Unix socket in a shared sticky directory such as /tmp).
        public var warning: String? = nil
    }

    /// Receives the proxy's log lines; `always` lines are the one per client connect and one per disconnect,
    /// the others are for --verbose. No line ever holds a PASS value or a secret.
    public typealias Log = @Sendable (_ line: String, _ always: Bool) -> Void

    public var listen: Listen
    /// The account when the client sends no PASS naming one.
    public var defaultAccount: String?
    /// Overrides the ticket's network.
    public var networkName: String?
    public var environment: [String: String]
    public var timeout: Double = 30
    /// Seconds of upstream silence before the proxy PINGs it; twice this and the upstream is given up.
    public var keepAlive: Double = 90
    /// A ticket with less than this left is refreshed before a client's upstream logs in.
    public var refreshWithin: Int64 = 600
    /// Listen on addresses other than loopback; clients are then checked by ``password``, not by UID.
    public var allowRemote = false
    /// With ``allowRemote``: what every client must send as PASS.
    public var password: SecretBytes?
    /// The user whose processes may connect (loopback TCP and Unix socket).
    public var ownerUID: UInt32 = getuid()
    /// Simultaneous clients; one more gets an ERROR line and is closed.
    public var maximumClients = 16
    /// Bytes queued toward one client (it reads slower than its rooms talk) before it is dropped. 1 MiB holds a
    /// LIST of a few thousand rooms or several full NAMES replies on top of what the kernel's socket buffer
    /// already absorbs; 16 clients at the limit cost 16 MiB. From a quarter of it on, the client is not read (what
    /// it sends would only add replies it does not read) until the queue is down to a sixteenth.
    public var maximumQueuedToClient = 1 << 20
    /// Bytes queued toward one server for one client (the server reads slower than the client sends). Back-pressure
    /// keeps the queue far below it: at a quarter of it the proxy stops reading the client, and reads again once the
    /// queue is down to a sixteenth, so TCP slows the client down as a direct connection would; lines that wait
    /// for a room's placement or an upstream's login are held to a quarter as well. Reaching it all the same (which
    /// the pause leaves no way to) drops the client rather than let the proxy's memory grow. A server that reads
    /// nothing for ``keepAlive`` seconds while lines wait for it is dropped and reconnected, like one that stops
    /// answering.
    public var maximumQueuedToServer = 64 << 10
    /// Ends ``serve(_:log:)``: a signal handler writes the signal's number to ``Stop/writeFD``.
    public var stop: Stop?

    /// A pipe a signal handler may write one byte to (the signal's number; write(2) is async-signal-safe). The
    /// accept loop polls it; once it has, ``isRequested`` is true and every session says goodbye within its poll
    /// timeout (a second).
    public final class Stop: @unchecked Sendable {
        public let writeFD: Int32
        let readFD: Int32
        let mutex = PThreadMutex()
        var requested = false
        /// The byte read from the pipe: the signal that stopped the proxy.
        public private(set) var signalNumber: Int32 = 0

        public init?() {
            guard let (read, write) = wakeUpPipe() else { return nil }
            readFD = read
            writeFD = write
        }

        var isRequested: Bool { mutex.locked { requested } }

        /// Called by the accept loop when the pipe is readable.
        func take() {
            var byte: UInt8 = 0
            let n = Glibc.read(readFD, &byte, 1)
            mutex.locked {
                requested = true
                if n == 1 { signalNumber = Int32(byte) }
            }
        }
    }

    public init(listen: Listen, defaultAccount: String?, networkName: String?, environment: [String: String]) {
        self.listen = listen
        self.defaultAccount = defaultAccount
        self.networkName = networkName
        self.environment = environment
    }

    /// Binds and listens.
    public func bind() throws(GKPassError) -> Listener {
        switch listen {
        case .tcp(let host, let port): return try bindTCP(host: host, port: port)
        case .unix(let path): return try bindUnix(path)
        }
    }

    /// Resolves `host` (a name such as `localhost` too) and binds the first of its addresses that binds. Without
    /// ``allowRemote`` every address it resolves to must be loopback.
    func bindTCP(host: String, port: Int) throws(GKPassError) -> Listener {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw GKPassError(.usage, "cannot resolve --listen \(host) (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        var entries: [UnsafeMutablePointer<addrinfo>] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            entries.append(entry)
            next = entry.pointee.ai_next
        }
        if !allowRemote {
            for entry in entries {
                let address = Self.socketAddress(entry.pointee.ai_addr, length: entry.pointee.ai_addrlen)
                guard address?.isLoopback == true else {
                    throw GKPassError(.usage, "\(host) is not loopback (\(address.map { "\($0)" } ?? "an unknown family")): anyone who reaches it would chat as you",
                        hint: "add --allow-remote with --password-file if that is what you want")
                }
            }
        }
        var reason = "no address"
        for entry in entries {
            let fd = socket(entry.pointee.ai_family, entry.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { reason = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard Glibc.bind(fd, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 else {
                reason = String(cString: strerror(errno))
                close(fd)
                continue
            }
            guard let bound = SocketOwner.address(fd, peer: false) else {
                close(fd)
                continue
            }
            return Listener(fd: fd, address: bound.description, isUnix: false)
        }
        throw GKPassError(.failure, "cannot listen on \(listen): \(reason)")
    }

    static func socketAddress(_ pointer: UnsafeMutablePointer<sockaddr>?, length: socklen_t) -> SocketAddress? {
        guard let pointer else { return nil }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(Int(length), $0.count))) }
        return SocketAddress(storage)
    }

    /// A Unix socket at `path`, mode 0600 from the start (umask around bind, then chmod). An existing socket of
    /// ours that nobody listens on (a proxy that was killed) is replaced; anything else there is refused.
    func bindUnix(_ path: String) throws(GKPassError) -> Listener {
        // Whoever can write the directory could replace the socket with one of theirs between two starts (and
        // collect what clients send): refused, as other unsafe paths are. A sticky one (/tmp) keeps others from
        // removing ours, but they can still take the name first: a warning.
        var directory = "."
        if let slash = path.lastIndex(of: "/") { directory = slash == path.startIndex ? "/" : String(path[..<slash]) }
        var warning: String?
        var folder = stat()
        if stat(directory, &folder) == 0, folder.st_mode & 0o022 != 0 {
            let mode = String(folder.st_mode & 0o7777, radix: 8)
            guard folder.st_mode & S_ISVTX != 0 else {
                throw GKPassError(.unsafe, "\(directory) is writable by others (mode \(mode)): they could replace the socket unix:\(path)",
                    hint: "put it in a directory only you can write, such as $XDG_RUNTIME_DIR")
            }
            warning = "\(directory) is shared (mode \(mode)): another user could take unix:\(path) before the proxy does; a directory only you can write, such as $XDG_RUNTIME_DIR, is safer"
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw GKPassError(.unsafe, "\(path) exists and is not a socket; refusing to replace it")
            }
            guard info.st_uid == geteuid() else {
                throw GKPassError(.unsafe, "\(path) is a socket of uid \(info.st_uid); refusing to replace it")
            }
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let live = probe >= 0 && Self.withUnixAddress(path, { connect(probe, $0, $1) }) == 0
            if probe >= 0 { close(probe) }
            if live { throw GKPassError(.failure, "another process is listening on \(path)") }
            guard unlink(path) == 0 else {
                throw GKPassError(.failure, "cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
            }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw GKPassError(.failure, "cannot create a socket: \(String(cString: strerror(errno)))") }
        // The socket file is created by bind with 0777 & ~umask: make that 0600 so there is no moment when others
        // could connect, then chmod in case the file system ignores the umask.
        let saved = umask(0o177)
        let bound = Self.withUnixAddress(path) { Glibc.bind(fd, $0, $1) }
        let bindError = errno
        umask(saved)
        guard bound == 0 else {
            close(fd)
            throw GKPassError(.failure, "cannot listen on unix:\(path): \(String(cString: strerror(bindError)))")
        }
        guard chmod(path, 0o600) == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(path)
            throw GKPassError(.failure, "cannot listen on unix:\(path): \(reason)")
        }
        return Listener(fd: fd, address: "unix:" + path, isUnix: true, warning: warning)
    }

    static func withUnixAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Clients connected now, and the number the next one gets in the log.
    final class Clients: @unchecked Sendable {
        let mutex = PThreadMutex()
        var active = 0
        var counter = 0
        /// The account each session chats as (lower-cased member name), and its client number: one client per
        /// account, since the server would end a second login as a nickname collision.
        var accounts: [String: Int] = [:]
    }

    /// Accepts clients, one thread each, after the access check and the client limit, until ``stop`` is written
    /// to: then it closes the listener, waits (at most 3 s) until every session has told its client and servers
    /// and logged its disconnect line, and returns.
    public func serve(_ listener: Listener, log: @escaping Log) {
        let clients = Clients()
        while true {
            if let stop {
                var pollers = [pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stop.readFD, events: Int16(POLLIN), revents: 0)]
                if poll(&pollers, 2, -1) < 0 { continue }
                if pollers[1].revents != 0 {
                    stop.take()
                    close(listener.fd)
                    let deadline = ChatConnection.now() + 3
                    while clients.mutex.locked({ clients.active }) > 0 && ChatConnection.now() < deadline { usleep(20_000) }
                    return
                }
            }
            let client = accept(listener.fd, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { usleep(10_000); continue }
                log("accept failed: \(String(cString: strerror(errno)))", false)
                usleep(100_000)
                continue
            }
            let number = clients.mutex.locked { () -> Int in
                clients.counter += 1
                return clients.counter
            }
            // Who it is, before a byte is read or sent.
            let peer: String
            let refusal: String?
            if listener.isUnix {
                let uid = SocketOwner.unixPeer(of: client)
                peer = "\(listener.address) (uid \(uid.map(String.init) ?? "unknown"))"
                refusal = uid == ownerUID ? nil : "this proxy serves uid \(ownerUID) only"
            } else {
                let address = SocketOwner.address(client, peer: true)
                let text = address?.description ?? "an unknown address"
                if allowRemote {
                    peer = text
                    refusal = nil
                } else if let owner = SocketOwner.tcpPeer(of: client) {
                    peer = "\(text) (uid \(owner.uid))"
                    refusal = owner.uid == ownerUID ? nil : "this proxy serves uid \(ownerUID) only"
                } else {
                    peer = "\(text) (uid unknown)"
                    refusal = "this proxy serves uid \(ownerUID) only"
                }
            }
            log("client \(number) connected from \(peer)", true)
            // The log line goes first: once the refusal is sent the client may look for it.
            if let refusal {
                log("client \(number) disconnected: refused, \(refusal)", true)
                Self.refuseAndClose(client, refusal)
                continue
            }
            let admitted = clients.mutex.locked { () -> Bool in
                guard clients.active < maximumClients else { return false }
                clients.active += 1
                return true
            }
            guard admitted else {
                let reason = "too many clients (at most \(maximumClients))"
                log("client \(number) disconnected: refused, \(reason)", true)
                Self.refuseAndClose(client, reason)
                continue
            }
            let session = ProxySession(proxy: self, client: client, number: number, log: log, clients: clients)
            PThread.detach {
                let reason = session.run()
                log("client \(number) disconnected: \(reason)", true)
                session.closeClient()
                clients.mutex.locked {
                    clients.active -= 1
                    clients.accounts = clients.accounts.filter { $0.value != number }
                }
            }
        }
    }

    /// Refused connections whose close is still waiting for the client's side (see ``refuseAndClose(_:_:)``).
    static let lingering = Clients()
    static let maximumLingering = 64

    /// One ERROR line, then close. A client that sent its registration at once would get a reset if the proxy
    /// closed with those bytes unread, and a reset can discard the ERROR line before the client reads it; so the
    /// proxy stops writing (FIN after the ERROR line) and reads and drops what the client sends until it closes
    /// too, for at most 2 seconds, on its own thread (at most 64 such at once; beyond that, closed at once).
    static func refuseAndClose(_ fd: Int32, _ reason: String) {
        let line = ProxySession.oneLine("ERROR :Closing link (gkpass: \(reason))")
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        shutdown(fd, Int32(SHUT_WR))
        let linger = lingering.mutex.locked { () -> Bool in
            guard lingering.active < maximumLingering else { return false }
            lingering.active += 1
            return true
        }
        guard linger else {
            close(fd)
            return
        }
        PThread.detach {
            let deadline = ChatConnection.now() + 2
            var sink = [UInt8](repeating: 0, count: 4096)
            while true {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let remaining = Int32((deadline - ChatConnection.now()) * 1000)
                guard remaining > 0, poll(&poller, 1, remaining) > 0 else { break }
                let n = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { break }
            }
            close(fd)
            lingering.mutex.locked { lingering.active -= 1 }
        }
    }
}

/// One client connection and its upstreams. Confined to its own thread, but for the worker threads it starts, which
/// only read `proxy` and call `log`.
final class ProxySession: @unchecked Sendable {
    let proxy: Proxy
    let client: Int32
    let number: Int
    let log: Proxy.Log
    /// The proxy's sessions, to claim this one's account.
    let clients: Proxy.Clients
    var clientFramer = IRCXLineFramer(maximumLineLength: 1024)
    /// What ``readClient()`` receives into, kept: a new 16 KiB array per read was an allocation and a clear per round.
    var readBuffer = [UInt8](repeating: 0, count: 16_384)
    static let serverName = "gkpass"
    /// Seconds a client waits for another client of the same account to finish leaving (see `run()`).
    static let accountHandover: Double = 5

    init(proxy: Proxy, client: Int32, number: Int, log: @escaping Proxy.Log, clients: Proxy.Clients) {
        self.clients = clients
        self.proxy = proxy
        self.client = client
        self.number = number
        self.log = log
        // Non-blocking: a client that stops reading must never stall this thread (see the queue limits).
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        Self.noDelay(client)
    }

    /// Turns Nagle's algorithm off on a TCP socket (a Unix socket refuses the option, harmlessly). The bridge
    /// already writes each side's queue with one send per poll round, so Nagle only delays: with it, a send smaller
    /// than a segment (on loopback that is every one below 64 KiB) waits while the last is unacknowledged, and the
    /// server may acknowledge late (delayed ACK), having nothing to answer to a PRIVMSG. The benchmark's own
    /// clients set TCP_NODELAY, and so does the proxy now.
    static func noDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Closed when ``run()`` returns, not when the session goes: a worker thread still opening an upstream keeps the
    /// session alive for up to the timeout, and the client must not wait that long for its close.
    var clientClosed = false

    func closeClient() {
        guard !clientClosed else { return }
        clientClosed = true
        close(client)
    }

    deinit { closeClient() }

    /// Writes `bytes` to the client within a few seconds; false when it does not take them.
    @discardableResult
    func sendClient(_ bytes: [UInt8]) -> Bool {
        let deadline = ChatConnection.now() + 5
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                var poller = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
                let remaining = Int32((deadline - ChatConnection.now()) * 1000)
                guard remaining > 0, poll(&poller, 1, remaining) > 0 else { return false }
                continue
            }
            return false
        }
        return true
    }

    /// One line of ours to the client. Its text may quote an error that quotes a server, config or chat-page
    /// value: the bytes IRCXMessage refuses (CR, LF, NUL) become spaces, so it stays one line of our choosing.
    @discardableResult
    func sendClient(_ text: String) -> Bool { sendClient(Self.oneLine(text)) }

    static func oneLine(_ text: String) -> [UInt8] {
        Array(text.utf8).map { $0 == 0x00 || $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 } + [0x0D, 0x0A]
    }

    /// Tells the client why, and ends its connection; returns the reason for the log.
    func refuse(_ message: String, nick: String = "*") -> String {
        // The sender is gkpass already: no "gkpass: " in the text. The caller logs the disconnect line (with
        // this reason), always: no second line here.
        sendClient(":\(Self.serverName) NOTICE \(nick) :\(message)")
        sendClient("ERROR :Closing link (gkpass: \(message))")
        return "refused, " + message
    }

    /// The next client line within `deadline`; nil on close or timeout.
    func clientLine(deadline: Double) -> [UInt8]? {
        while true {
            let next: [UInt8]?
            do { next = try clientFramer.nextLine() } catch { return nil }
            if let next { return next }
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let remaining = Int32((deadline - ChatConnection.now()) * 1000)
            guard remaining > 0, !isStopping else { return nil }
            // A second at most, to see a stop in time.
            let ready = poll(&poller, 1, min(remaining, 1000))
            if ready == 0 { continue }
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, readClient() else { return nil }
        }
    }

    /// Reads what the client sent; false when it closed (or broke) the connection.
    func readClient() -> Bool {
        while true {
            let n = readBuffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n > 0 { clientFramer.append(readBuffer[..<n]); return true }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return true }
            return false
        }
    }

    /// A NOTICE for the client right after the server's welcome.
    var afterWelcome: String?

    /// The proxy is stopping (SIGINT, SIGTERM): each session tells its client and servers and ends.
    var isStopping: Bool { proxy.stop?.isRequested ?? false }

    /// What a client gets when the proxy stops, and what its servers get as QUIT.
    static let stoppedError = "ERROR :Closing link (gkpass proxy stopped)"
    static let stoppedQuit = "gkpass proxy stopped"

    /// Serves the client until either side leaves; returns why, for the disconnect log line.
    func run() -> String {
        // 1. The client registers with us: NICK, USER, and optionally PASS (an account name, or with
        // --allow-remote the proxy password).
        var nick: String?
        var user = false
        var pass: [UInt8]?
        let deadline = ChatConnection.now() + proxy.timeout
        while nick == nil || !user {
            guard let line = clientLine(deadline: deadline) else {
                if isStopping {
                    sendClient(Self.stoppedError)
                    return "the proxy stopped"
                }
                return "left before registering"
            }
            guard let message = try? IRCXMessage(parsing: line) else { continue }
            let first = message.parameters.first.map { String(decoding: $0, as: UTF8.self) }
            switch message.commandName {
            case "CAP":
                if first?.uppercased() == "LS" { sendClient(":\(Self.serverName) CAP * LS :") }
            // Kept aside, never echoed nor logged: it may be a password typed into the wrong field.
            case "PASS": pass = message.parameters.first
            case "NICK": nick = first
            case "USER": user = true
            case "QUIT": return "quit before registering"
            case "PING": sendClient(":\(Self.serverName) PONG \(Self.serverName) :\(first ?? "")")
            default: sendClient(":\(Self.serverName) 451 \(nick ?? "*") :You have not registered")
            }
        }
        let clientNick = nick ?? "*"
        if proxy.allowRemote {
            guard let expected = proxy.password, let pass, ProxyAccess.passwordMatches(pass, expected) else {
                // A second before a wrong password is answered (this client's thread only: the others go on), so
                // guessing over the network is slow.
                if pass != nil { usleep(1_000_000) }
                return refuse(pass == nil ? "this proxy needs a password (PASS)" : "wrong password (PASS)", nick: clientNick)
            }
        }
        // 2. The account's ticket and network. A loopback client's PASS picks the account only when it names a
        // stored one exactly; anything else is ignored, so what a client sends as PASS never reaches an error,
        // the log or a server.
        let ladder = StoreLadder(environment: proxy.environment)
        let account = ProxyAccess.account(
            pass: pass.map { String(decoding: $0, as: UTF8.self) }, storedAccounts: { (try? ladder.fileStore.recordedAccounts()) ?? [] },
            defaultAccount: proxy.defaultAccount, remote: proxy.allowRemote)
        // A PASS that named no stored account is said once after the welcome (never its value: it may be a
        // password), so a user who meant an account learns why they chat as another.
        let passUnused = !proxy.allowRemote && pass.map { !$0.isEmpty && account != String(decoding: $0, as: UTF8.self) } ?? false
        let member: String
        do { member = try StoredTicket.account(account, ladder: ladder) } catch {
            return refuse(error.message + (error.hint.map { " (\($0))" } ?? ""), nick: clientNick)
        }
        if passUnused { afterWelcome = "PASS is not a stored account; using \(member)" }
        // One client per account, before anything goes upstream: a second login would take the same nickname and
        // the server would refuse it (433), which clients retry forever. A client that reconnects (irssi's
        // /reconnect) opens its new connection while the old one's QUIT is still going upstream, so the account's
        // holder gets a few seconds to finish leaving before the newcomer is refused.
        var holder: Int?
        let patience = ChatConnection.now() + Self.accountHandover
        while true {
            holder = clients.mutex.locked { () -> Int? in
                if let holder = clients.accounts[member.lowercased()] { return holder }
                clients.accounts[member.lowercased()] = number
                return nil
            }
            guard holder != nil, ChatConnection.now() < patience, !isStopping else { break }
            usleep(50_000)
        }
        if let holder {
            return refuse("\(member) is already connected through this proxy (client \(holder)); PASS another account", nick: clientNick)
        }
        // A ticket about to expire is refreshed first (with the remembered password, once per account across
        // processes), so a client connecting at 3 a.m. is not turned away. Failing that, the stored ticket is
        // used if it is still valid, and the client is told why if not.
        refresh(member, threshold: proxy.refreshWithin, why: "before connecting")
        var attempt = login(member)
        // 910: the server refused the ticket although it looks valid here (revoked, or the server's clock is
        // ahead). With a remembered password: one forced refresh, one more login. Without: tell the user how.
        if case .rejected = attempt, refresh(member, threshold: Int64.max, why: "after the server refused it") {
            attempt = login(member)
        }
        switch attempt {
        case .opened(let opened, _, let network):
            log("client \(number): \(member) connected to \(opened.connection.endpoint)", false)
            return bridge(home: opened, network: network, member: member, nick: clientNick)
        case .rejected(let message):
            // The server's words first (they may say the blob was sliced the wrong way), then what to do.
            return refuse("\(message); run gkpass login \(member) for a new ticket", nick: clientNick)
        case .failed(let message):
            return refuse(message, nick: clientNick)
        }
    }

    enum Attempt {
        case opened(Connect.Opened, Connect, Network)
        /// 910: the server refused the Passport ticket.
        case rejected(String)
        case failed(String)
    }

    /// The account's stored ticket as a Connect (read afresh each time: a refresh in between is picked up).
    func connect(_ member: String) -> Result<(Connect, Network), LoginFailure> {
        let ladder = StoreLadder(environment: proxy.environment)
        let set: TicketSet
        let network: Network
        do {
            set = try StoredTicket.read(account: member, ladder: ladder, now: Int64(time(nil)))
            network = try Network.named(proxy.networkName ?? set.network, environment: proxy.environment)
        } catch {
            return .failure(LoginFailure(message: error.message + (error.hint.map { " (\($0))" } ?? "")))
        }
        var connect = Connect(network: network, server: nil, room: nil, identity: .passport(set))
        connect.timeout = proxy.timeout
        return .success((connect, network))
    }

    struct LoginFailure: Error { var message: String }

    /// Reads the stored ticket and logs in upstream with it: to `endpoint`, else the network's home server.
    func login(_ member: String, endpoint: Network.Endpoint? = nil) -> Attempt {
        let connect: Connect
        let network: Network
        switch self.connect(member) {
        case .success(let pair): (connect, network) = pair
        case .failure(let failure): return .failed(failure.message)
        }
        guard let target = endpoint ?? network.server ?? network.directory else { return .failed("network \(network.name) has no IRCX server") }
        do { return .opened(try connect.open(target, goal: .register, trace: nil), connect, network) } catch {
            if error.exitCode == .reauthenticate { return .rejected(error.message) }
            return .failed(error.message)
        }
    }

    /// Refreshes `member`'s ticket when it has less than `threshold` seconds left; true when there is a new one.
    @discardableResult
    func refresh(_ member: String, threshold: Int64, why: String) -> Bool {
        do {
            let result = try Refresh(threshold: threshold, lockTimeout: 30, retries: 1)
                .run(account: member, password: nil, ladder: StoreLadder(environment: proxy.environment), trace: nil)
            switch result {
            case .fresh: return false
            case .refreshed, .refreshedElsewhere:
                log("refreshed the ticket of \(member) \(why)", false)
                return true
            }
        } catch {
            log("could not refresh \(member): \(error.message)", false)
            return false
        }
    }

    /// What the worker threads hand back to the poll loop: a result, and a byte on a pipe the loop polls.
    final class Mailbox: @unchecked Sendable {
        enum Message {
            case opened(BridgeRouter.UpstreamID, Connect.Opened)
            /// Why; and what the client must be told (the ticket was refused: run gkpass login).
            case openFailed(BridgeRouter.UpstreamID, String, tell: String?)
            /// The room's server, and the addresses its name resolves to.
            case found(String, Network.Endpoint, [SocketAddress])
            case notFound(String, String, permanent: Bool)
        }
        let mutex = PThreadMutex()
        var messages: [Message] = []
        let readFD: Int32
        let writeFD: Int32

        init?() {
            guard let (read, write) = wakeUpPipe() else { return nil }
            readFD = read
            writeFD = write
        }

        deinit {
            close(readFD)
            close(writeFD)
        }

        func post(_ message: Message) {
            mutex.locked { messages.append(message) }
            var byte: UInt8 = 1
            _ = Glibc.write(writeFD, &byte, 1)
        }

        func take() -> [Message] {
            var sink = [UInt8](repeating: 0, count: 64)
            while sink.withUnsafeMutableBytes({ Glibc.read(readFD, $0.baseAddress, $0.count) }) > 0 {}
            return mutex.locked {
                defer { messages = [] }
                return messages
            }
        }
    }

    /// Opens an upstream to `endpoint` (on a worker thread): the same 910 handling as the first login, a refresh and
    /// one more try when a remembered password allows it.
    func openUpstream(_ id: BridgeRouter.UpstreamID, _ endpoint: Network.Endpoint, member: String) -> Mailbox.Message {
        var attempt = login(member, endpoint: endpoint)
        if case .rejected = attempt, refresh(member, threshold: Int64.max, why: "after \(endpoint) refused it") {
            attempt = login(member, endpoint: endpoint)
        }
        switch attempt {
        case .opened(let opened, _, _): return .opened(id, opened)
        case .rejected(let message):
            let advice = "the server refused the ticket; run gkpass login \(member) for a new one"
            return .openFailed(id, "\(message); run gkpass login \(member) for a new ticket", tell: advice)
        case .failed(let message): return .openFailed(id, Self.withoutEndpoint(message, endpoint), tell: nil)
        }
    }

    /// A failed connect's reason without the address the router's own message already names ("cannot reconnect to
    /// HOST:PORT: Connection refused", not "...: cannot connect to HOST:PORT (Connection refused)").
    static func withoutEndpoint(_ message: String, _ endpoint: Network.Endpoint) -> String {
        let prefix = "cannot connect to \(endpoint) ("
        guard message.hasPrefix(prefix), message.hasSuffix(")"), message.count > prefix.count + 1 else { return message }
        return String(message.dropFirst(prefix.count).dropLast())
    }

    /// Asks the directory where `room` is (on a worker thread).
    func findRoom(_ room: String, member: String) -> Mailbox.Message {
        switch connect(member) {
        case .failure(let failure): return .notFound(room, failure.message, permanent: false)
        case .success(let (connect, network)):
            guard let directory = network.directory else { return .notFound(room, "network \(network.name) has no directory", permanent: true) }
            do {
                let endpoint = try connect.find(room: room, directory: directory, trace: nil)
                return .found(room, endpoint, Self.resolve(endpoint))
            } catch {
                // The directory refused to place it (702, a FINDS error): no such room. Anything else (no
                // connection, a server outside the network): not now.
                return .notFound(room, error.message, permanent: error.exitCode == .failure)
            }
        }
    }

    /// The addresses `endpoint` resolves to (empty when it does not), to tell an open upstream under another name.
    static func resolve(_ endpoint: Network.Endpoint) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var next = list
        while let entry = next {
            if let address = Proxy.socketAddress(entry.pointee.ai_addr, length: entry.pointee.ai_addrlen) { addresses.append(address) }
            next = entry.pointee.ai_next
        }
        return addresses
    }

    /// At most this many upstream opens and directory questions run at once for one client.
    static let maximumWorkers = 4

    /// The bridge: the client, every upstream and the workers' mailbox on one poll(2) loop; the routing is
    /// ``BridgeRouter``'s. Lines wait in bounded queues, written as each socket takes them: a side that stops
    /// reading never stalls the others, and one that falls more than its queue's limit behind ends the client's
    /// connection. Opening an upstream or asking the directory runs on a worker thread, so a slow or unreachable
    /// server never stalls the rooms on the others.
    func bridge(home: Connect.Opened, network: Network, member: String, nick: String) -> String {
        guard let mailbox = Mailbox() else { return "cannot make a pipe: \(String(cString: strerror(errno)))" }
        var configuration = BridgeRouter.Configuration(network: network.name, home: home.connection.endpoint, usesDirectory: network.directory != nil)
        configuration.keepAlive = proxy.keepAlive
        configuration.maximumWaiting = proxy.maximumQueuedToServer / 4
        var router = BridgeRouter(configuration: configuration, clientNick: nick, now: ChatConnection.now())
        Self.noDelay(home.connection.descriptor)
        var links: [BridgeRouter.UpstreamID: ChatConnection] = [Self.homeID: home.connection]
        var toServer: [BridgeRouter.UpstreamID: OutboundQueue] = [Self.homeID: OutboundQueue(limit: proxy.maximumQueuedToServer)]
        var toClient = OutboundQueue(limit: proxy.maximumQueuedToClient)
        var quitting: Double?
        var jobs: [@Sendable () -> Mailbox.Message] = []
        var running = 0
        /// What the router says about one line, reused from line to line (see ``BridgeRouter/clientLine(_:now:into:)``).
        var outputs: [BridgeRouter.Output] = []
        /// Whether the last poll found the workers' pipe readable.
        var mailboxReadable = false
        /// Back-pressure: the client is not read while a server's queue holds a quarter of
        /// ``Proxy/maximumQueuedToServer``, or the client's own queue a quarter of ``Proxy/maximumQueuedToClient``
        /// (what it sends comes back to it: NOTICEs, replies), until each is down to a sixteenth.
        var paused = false
        func updatePause() {
            let server = toServer.values.lazy.map(\.count).max() ?? 0, client = toClient.count
            if paused {
                paused = server > proxy.maximumQueuedToServer / 16 || client > proxy.maximumQueuedToClient / 16
            } else {
                paused = server >= proxy.maximumQueuedToServer / 4 || client >= proxy.maximumQueuedToClient / 4
            }
        }
        /// When each server's queue was last empty or last taken from: a server that takes nothing for `keepAlive`
        /// seconds while lines wait is dropped (and reconnected by the router), which also lets the client go on.
        var progressed: [BridgeRouter.UpstreamID: Double] = [:]

        func perform(_ outputs: [BridgeRouter.Output]) {
            for output in outputs {
                switch output {
                case .client(let line):
                    toClient.appendLine(line)
                case .upstream(let id, let line):
                    toServer[id]?.appendLine(line)
                case .open(let id, let endpoint):
                    jobs.append { [self] in self.openUpstream(id, endpoint, member: member) }
                case .find(let room):
                    jobs.append { [self] in self.findRoom(room, member: member) }
                case .close(let id):
                    if let connection = links.removeValue(forKey: id) {
                        // What is queued (a QUIT) gets one try, not waiting.
                        _ = toServer[id]?.flush(write(connection.descriptor))
                        shutdown(connection.descriptor, Int32(SHUT_WR))
                    }
                    toServer[id] = nil
                case .quit:
                    quitting = ChatConnection.now() + 2
                case .log(let text):
                    log("client \(number): \(text)", false)
                }
            }
        }

        /// Says goodbye to every upstream for the client and returns `reason`. What the servers still send is read
        /// and dropped until they close (at most 2 s): closing with unread bytes would reset a connection, and the
        /// reset can make the server lose the QUIT.
        func leave(_ reason: String, quit: String? = nil) -> String {
            guard let quit else { return reason }
            let deadline = ChatConnection.now() + 2
            var open: [ChatConnection] = []
            for (id, connection) in links {
                let pending = toServer[id]?.takeAll() ?? []
                try? connection.send(pending + Array("QUIT :\(quit)\r\n".utf8), deadline: deadline)
                shutdown(connection.descriptor, Int32(SHUT_WR))
                open.append(connection)
            }
            while !open.isEmpty {
                var pollers = open.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
                let remaining = Int32((deadline - ChatConnection.now()) * 1000)
                guard remaining > 0, poll(&pollers, nfds_t(pollers.count), remaining) > 0 else { break }
                var still: [ChatConnection] = []
                for (index, connection) in open.enumerated() {
                    if pollers[index].revents == 0 { still.append(connection); continue }
                    if (try? connection.fill()) == true {
                        while (try? connection.bufferedLine()) != nil {}
                        still.append(connection)
                    }
                }
                open = still
            }
            return reason
        }

        /// An upstream's connection ended: what it still said goes to the router, then the loss.
        func drop(_ id: BridgeRouter.UpstreamID, _ reason: String) {
            guard let connection = links.removeValue(forKey: id) else { return }
            while let line = try? connection.bufferedLine() { perform(router.upstreamLine(id, line, now: ChatConnection.now())) }
            toServer[id] = nil
            perform(router.lost(id, reason: reason, now: ChatConnection.now()))
        }

        perform(router.opened(Self.homeID, lines: home.linesSinceRegistration, now: ChatConnection.now()))
        if let afterWelcome {
            toClient.append(Self.oneLine(":\(Self.serverName) NOTICE \(String(decoding: router.nick, as: UTF8.self)) :\(afterWelcome)"))
        }
        while true {
            // One clock reading for the lines of this round: they all arrived in the poll that just returned.
            let roundTime = ChatConnection.now()
            // Complete lines from each server go to the router...
            for id in links.keys.sorted() {
                guard let connection = links[id] else { continue }
                while links[id] === connection {
                    let next: [UInt8]?
                    do { next = try connection.bufferedLine() } catch {
                        drop(id, error.message)
                        break
                    }
                    guard let line = next else { break }
                    outputs.removeAll(keepingCapacity: true)
                    router.upstreamLine(id, line, now: roundTime, into: &outputs)
                    perform(outputs)
                }
            }
            // ...and the client's, unless paused (a queue is full enough): then they wait in our buffer, then the
            // kernel's, then the client's.
            while !paused {
                let next: [UInt8]?
                do { next = try clientFramer.nextLine() } catch {
                    _ = toClient.flush(write(client))
                    sendClient("ERROR :Closing link (gkpass: line too long)")
                    return leave("sent an over-long line", quit: "client sent an over-long line")
                }
                guard let line = next else { break }
                outputs.removeAll(keepingCapacity: true)
                router.clientLine(line, now: roundTime, into: &outputs)
                perform(outputs)
                updatePause()
            }
            // What the workers finished (each posts a byte on the pipe first, so poll has said so), and the next jobs.
            for message in mailboxReadable ? mailbox.take() : [] {
                running -= 1
                let now = ChatConnection.now()
                switch message {
                case .opened(let id, let opened):
                    // A connection nobody wants any more (the client quit meanwhile) closes when `opened` goes.
                    guard quitting == nil else { continue }
                    links[id] = opened.connection
                    Self.noDelay(opened.connection.descriptor)
                    toServer[id] = OutboundQueue(limit: proxy.maximumQueuedToServer)
                    progressed[id] = nil  // a reconnection under the same id starts afresh
                    perform(router.opened(id, lines: opened.linesSinceRegistration, now: now))
                case .openFailed(let id, let reason, let tell): perform(router.openFailed(id, reason: reason, now: now, tell: tell))
                case .found(let room, let endpoint, let addresses):
                    // The directory names servers by address, the network's config perhaps by name: a room on a
                    // server already open under another name goes there, not through a second login as the same
                    // user (which the server would end as a nickname collision).
                    let open = links.sorted { $0.key < $1.key }.first { _, connection in
                        SocketOwner.address(connection.descriptor, peer: true).map { addresses.contains($0) } ?? false
                    }
                    perform(router.found(room: room, at: open?.value.endpoint ?? endpoint))
                case .notFound(let room, let reason, let permanent): perform(router.notFound(room: room, reason: reason, permanent: permanent))
                }
            }
            while running < Self.maximumWorkers && !jobs.isEmpty {
                let job = jobs.removeFirst()
                running += 1
                PThread.detach { mailbox.post(job()) }
            }
            guard toClient.flush(write(client)) else { return leave("the connection to the client broke", quit: "client closed") }
            let flushed = ChatConnection.now()
            for id in links.keys.sorted() {
                // Flushed in place: a copy of the queue taken out of the dictionary would make the flush copy its bytes.
                guard let connection = links[id], let before = toServer[id]?.count else { continue }
                guard toServer[id]?.flush(write(connection.descriptor)) == true else { drop(id, "the connection broke"); continue }
                let after = toServer[id]?.count ?? 0
                if after == 0 || after < before || progressed[id] == nil { progressed[id] = flushed }
                if let since = progressed[id], flushed - since > proxy.keepAlive {
                    drop(id, "the server read nothing for \(Int(proxy.keepAlive)) s while \(after) bytes waited for it")
                }
            }
            updatePause()
            if toClient.isOverLimit {
                // One try, not waiting: this client is not reading.
                let error = Array("ERROR :Closing link (gkpass: the client fell \(toClient.count) bytes behind; at most \(toClient.limit) are kept)\r\n".utf8)
                _ = error.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                return leave("fell more than \(toClient.limit) bytes behind the server", quit: "gkpass: client too slow")
            }
            if let over = toServer.first(where: { $0.value.isOverLimit }) {
                _ = toClient.flush(write(client))
                sendClient("ERROR :Closing link (gkpass: more than \(over.value.limit) bytes wait for the server; slow down)")
                return leave("more than \(over.value.limit) bytes waited for the server", quit: "gkpass: client flood")
            }
            if let quitting, ChatConnection.now() > quitting || links.isEmpty { return "quit" }
            if isStopping {
                _ = toClient.flush(write(client))
                sendClient(Self.stoppedError)
                return leave("the proxy stopped", quit: Self.stoppedQuit)
            }
            let ids = links.keys.sorted()
            var pollers = [
                pollfd(fd: client, events: (paused ? 0 : Int16(POLLIN)) | (toClient.isEmpty ? 0 : Int16(POLLOUT)), revents: 0),
                pollfd(fd: mailbox.readFD, events: Int16(POLLIN), revents: 0),
            ]
            for id in ids {
                pollers.append(pollfd(fd: links[id]!.descriptor, events: Int16(POLLIN) | (toServer[id]?.isEmpty ?? true ? 0 : Int16(POLLOUT)), revents: 0))
            }
            var timeout: Int32 = 1000
            if let deadline = router.nextDeadline {
                timeout = max(0, min(timeout, Int32(((deadline - ChatConnection.now()) * 1000).rounded(.up)) + 1))
            }
            let ready = poll(&pollers, nfds_t(pollers.count), timeout)
            if ready < 0 && errno != EINTR { return leave("poll failed", quit: "gkpass: internal error") }
            mailboxReadable = pollers[1].revents != 0
            // While paused only a hang-up or an error is looked at (reading would grow the buffer the pause bounds).
            if pollers[0].revents & Int16(paused ? POLLHUP | POLLERR : POLLIN | POLLHUP | POLLERR) != 0 && (paused || !readClient()) {
                // The client left without QUIT: say it for them.
                if quitting != nil { return "quit" }
                return leave("closed by the client", quit: "client closed")
            }
            for (index, id) in ids.enumerated() where pollers[index + 2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                guard let connection = links[id] else { continue }
                let open: Bool
                do { open = try connection.fill() } catch {
                    drop(id, error.message)
                    continue
                }
                if !open { drop(id, "the server closed the connection") }
            }
            perform(router.tick(now: ChatConnection.now()))
        }
    }

    static let homeID = BridgeRouter.home

    /// A writer for ``OutboundQueue/flush(_:)``: non-blocking send to `fd`.
    func write(_ fd: Int32) -> (UnsafeRawBufferPointer) -> Int {
        { bytes in
            while true {
                let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                if n >= 0 { return n }
                if errno == EINTR { continue }
                return errno == EAGAIN ? 0 : -1
            }
        }
    }
}

/// A pipe whose write end wakes a poll(2) on its read end (the stop signal, the workers' mailbox): both ends
/// non-blocking and close-on-exec.
func wakeUpPipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [-1, -1]
    // pipe2 is not in Swift's Glibc module (it needs _GNU_SOURCE), so the flags follow; the proxy starts no program.
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    return (fds[0], fds[1])
}
