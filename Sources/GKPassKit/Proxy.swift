internal import Glibc
internal import GateKeeper
public import TicketStore

/// `gkpass proxy`: a local, plain IRC endpoint for ordinary clients. Each client connection gets its own upstream
/// connection, logged in with GateKeeperPassport from the stored ticket; after registration every line is relayed
/// both ways unchanged, except what the proxy must answer itself (CAP, its own keep-alive PONGs) and JOINs that
/// the network's directory places on another server.
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
    /// already absorbs; 16 clients at the limit cost 16 MiB.
    public var maximumQueuedToClient = 1 << 20
    /// Bytes queued toward the server for one client (the server reads slower than the client sends) before the
    /// client is dropped. 64 KiB is over a hundred full 512-byte lines: far past what an IRC server accepts
    /// before its own flood control ends the connection.
    public var maximumQueuedToServer = 64 << 10

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
        return Listener(fd: fd, address: "unix:" + path, isUnix: true)
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
    }

    /// Accepts clients forever, one thread each, after the access check and the client limit.
    public func serve(_ listener: Listener, log: @escaping Log) -> Never {
        let clients = Clients()
        while true {
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
            if let refusal {
                Self.refuseAndClose(client, refusal)
                log("client \(number) disconnected: refused, \(refusal)", true)
                continue
            }
            let admitted = clients.mutex.locked { () -> Bool in
                guard clients.active < maximumClients else { return false }
                clients.active += 1
                return true
            }
            guard admitted else {
                let reason = "too many clients (at most \(maximumClients))"
                Self.refuseAndClose(client, reason)
                log("client \(number) disconnected: refused, \(reason)", true)
                continue
            }
            let session = ProxySession(proxy: self, client: client, number: number, log: log)
            Thread.detach {
                let reason = session.run()
                log("client \(number) disconnected: \(reason)", true)
                clients.mutex.locked { clients.active -= 1 }
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
        let line = Array("ERROR :Closing link (gkpass: \(reason))\r\n".utf8)
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
        Thread.detach {
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

/// One client connection and its upstream. Confined to its own thread.
final class ProxySession: @unchecked Sendable {
    let proxy: Proxy
    let client: Int32
    let number: Int
    let log: Proxy.Log
    var clientFramer = IRCXLineFramer(maximumLineLength: 1024)
    static let serverName = "gkpass"
    static let keepAliveToken = "gkpass-keepalive"

    init(proxy: Proxy, client: Int32, number: Int, log: @escaping Proxy.Log) {
        self.proxy = proxy
        self.client = client
        self.number = number
        self.log = log
        // Non-blocking: a client that stops reading must never stall this thread (see the queue limits).
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(client) }

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

    @discardableResult
    func sendClient(_ text: String) -> Bool { sendClient(Array((text + "\r\n").utf8)) }

    /// Tells the client why, and ends its connection; returns the reason for the log.
    func refuse(_ message: String, nick: String = "*") -> String {
        sendClient(":\(Self.serverName) NOTICE \(nick) :gkpass: \(message)")
        sendClient("ERROR :Closing link (gkpass: \(message))")
        log("client \(number) refused: \(message)", false)
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
            guard remaining > 0 else { return nil }
            let ready = poll(&poller, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, readClient() else { return nil }
        }
    }

    /// Reads what the client sent; false when it closed (or broke) the connection.
    func readClient() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n > 0 { clientFramer.append(chunk[..<n]); return true }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return true }
            return false
        }
    }

    /// Serves the client until either side leaves; returns why, for the disconnect log line.
    func run() -> String {
        // 1. The client registers with us: NICK, USER, and optionally PASS (an account name, or with
        // --allow-remote the proxy password).
        var nick: String?
        var user = false
        var pass: [UInt8]?
        let deadline = ChatConnection.now() + proxy.timeout
        while nick == nil || !user {
            guard let line = clientLine(deadline: deadline) else { return "left before registering" }
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
        let member: String
        do { member = try StoredTicket.account(account, ladder: ladder) } catch {
            return refuse(error.message + (error.hint.map { " (\($0))" } ?? ""), nick: clientNick)
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
        case .opened(var opened, let connect, let network):
            log("client \(number): \(member) connected to \(opened.connection.endpoint)", false)
            var isupport = ISupport(network: network.name)
            for line in opened.linesSinceRegistration.flatMap({ isupport.pass($0) }) {
                guard sendClient(line + [0x0D, 0x0A]) else { return "the client stopped reading" }
            }
            return relay(&opened, connect: connect, network: network, nick: clientNick, isupport: isupport)
        case .rejected(let message):
            // The server's words first (they may say the blob was sliced the wrong way), then what to do.
            return refuse("\(message); run gkpass login \(member) for a new ticket", nick: clientNick)
        case .failed(let message):
            return refuse(message, nick: clientNick)
        }
    }

    /// What an IRC client must know to use MSN rooms, which the original servers never said (they send no 005):
    /// `%#Name` and `%&Name` are channels, `.` is the IRCX owner. One 005 goes right after the server's 004, with
    /// the server's own prefix; a server that does send 005 keeps its lines, and ours follows them, refining its
    /// tokens rather than losing them. Pure: welcome lines in, welcome lines out.
    struct ISupport {
        let tokens: [String]
        var sent = false

        init(network: String) {
            tokens = ["CHANTYPES=%#&", "PREFIX=(qov).@+", "NETWORK=\(network.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })",
                      "CASEMAPPING=ascii", "CHANNELLEN=200", "NICKLEN=64", "IRCX"]
        }

        /// `line`, followed by our 005 when it is the server's 004 (once).
        mutating func pass(_ line: [UInt8]) -> [[UInt8]] {
            guard !sent, let message = try? IRCXMessage(parsing: line), message.numeric == 4 else { return [line] }
            sent = true
            guard let isupport = try? IRCXMessage(
                prefix: message.prefix ?? Array("gkpass".utf8), command: Array("005".utf8),
                parameters: [message.parameters.first ?? Array("*".utf8)] + tokens.map { Array($0.utf8) }
                    + [Array("are supported by this server (gkpass proxy)".utf8)],
                forcesTrailing: true)
            else { return [line] }
            return [line, Array(isupport.serialized().dropLast(2))]
        }
    }

    enum Attempt {
        case opened(Connect.Opened, Connect, Network)
        /// 910: the server refused the Passport ticket.
        case rejected(String)
        case failed(String)
    }

    /// Reads the stored ticket and logs in upstream with it.
    func login(_ member: String) -> Attempt {
        let ladder = StoreLadder(environment: proxy.environment)
        let set: TicketSet
        let network: Network
        do {
            set = try StoredTicket.read(account: member, ladder: ladder, now: Int64(time(nil)))
            network = try Network.named(proxy.networkName ?? set.network, environment: proxy.environment)
        } catch {
            return .failed(error.message + (error.hint.map { " (\($0))" } ?? ""))
        }
        guard let first = network.server ?? network.directory else { return .failed("network \(network.name) has no IRCX server") }
        var connect = Connect(network: network, server: nil, room: nil, identity: .passport(set))
        connect.timeout = proxy.timeout
        do { return .opened(try connect.open(first, goal: .register, trace: nil), connect, network) } catch {
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

    /// Relays lines both ways until either side closes; returns why. Lines wait in two bounded queues, written as
    /// each socket takes them: a side that stops reading never stalls the other, and one that falls more than its
    /// queue's limit behind ends the client's connection.
    func relay(_ upstream: inout Connect.Opened, connect: Connect, network: Network, nick: String, isupport: ISupport) -> String {
        var isupport = isupport
        var joined = false
        var lastHeard = ChatConnection.now()
        var pinged = false
        var quitting: Double?
        var toClient = OutboundQueue(limit: proxy.maximumQueuedToClient)
        var toServer = OutboundQueue(limit: proxy.maximumQueuedToServer)
        // The name the client knows the server by (the prefix of its welcome), for the PONGs the proxy answers.
        let serverName = upstream.linesSinceRegistration.lazy.compactMap { line -> String? in
            guard line.first == UInt8(ascii: ":"), let space = line.firstIndex(of: 0x20) else { return nil }
            return String(decoding: line[1..<space], as: UTF8.self)
        }.first ?? Self.serverName
        /// Says goodbye to the server for the client and returns `reason`. What the server still sends is read
        /// and dropped until it closes (at most 2 s): closing with unread bytes would reset the connection, and
        /// the reset can make the server lose the QUIT.
        func leave(_ reason: String, quit: String? = nil) -> String {
            guard let quit else { return reason }
            let deadline = ChatConnection.now() + 2
            try? upstream.connection.send(Array("QUIT :\(quit)\r\n".utf8), deadline: deadline)
            shutdown(upstream.connection.descriptor, Int32(SHUT_WR))
            while true {
                var poller = pollfd(fd: upstream.connection.descriptor, events: Int16(POLLIN), revents: 0)
                let remaining = Int32((deadline - ChatConnection.now()) * 1000)
                guard remaining > 0, poll(&poller, 1, remaining) > 0, (try? upstream.connection.fill()) == true else { break }
                while (try? upstream.connection.bufferedLine()) != nil {}
            }
            return reason
        }
        while true {
            // Complete lines from the server go to the client's queue...
            while true {
                let next: [UInt8]?
                do { next = try upstream.connection.bufferedLine() } catch {
                    _ = toClient.flush(write(client))
                    sendClient("ERROR :Closing link (gkpass: \(error.message))")
                    return leave(error.message, quit: "gkpass: \(error.message)")
                }
                guard let line = next else { break }
                lastHeard = ChatConnection.now()
                pinged = false
                if let message = try? IRCXMessage(parsing: line) {
                    if message.commandName == "PONG", message.parameters.last == Array(Self.keepAliveToken.utf8) { continue }
                    if message.numeric == 366 { joined = true }
                }
                for line in isupport.pass(line) {
                    toClient.append(line)
                    toClient.append([0x0D, 0x0A])
                }
            }
            // ...and the client's to the server's.
            while true {
                let next: [UInt8]?
                do { next = try clientFramer.nextLine() } catch {
                    sendClient("ERROR :Closing link (gkpass: line too long)")
                    return leave("sent an over-long line", quit: "client sent an over-long line")
                }
                guard let line = next else { break }
                guard let message = try? IRCXMessage(parsing: line) else { continue }
                switch message.commandName {
                case "CAP", "PASS", "USER":
                    continue  // answered at registration; the server would only say 462
                case "PING":
                    // Answered here, prefixed, as clients expect (HexChat drops a link whose PONGs carry no prefix,
                    // and MSN servers answer without one); the upstream has its own keep-alive.
                    let token = message.parameters.last ?? []
                    if let pong = try? IRCXMessage(
                        prefix: Array(serverName.utf8), command: Array("PONG".utf8), parameters: [Array(serverName.utf8), token],
                        forcesTrailing: true)
                    {
                        toClient.append(pong.serialized())
                    }
                    continue
                case "QUIT":
                    quitting = ChatConnection.now() + 2
                case "JOIN" where network.directory != nil:
                    if let target = message.parameters.first.map({ String(decoding: $0, as: UTF8.self) }), !target.contains(","), target != "0" {
                        // What the client said before the JOIN reaches the server first.
                        do { try upstream.connection.send(toServer.takeAll(), deadline: ChatConnection.now() + proxy.timeout) } catch {
                            return error.message
                        }
                        switch redirect(&upstream, room: target, connect: connect, network: network, alreadyJoined: joined) {
                        case .stay: break
                        case .moved: break
                        case .refused(let text):
                            toClient.append(Array(":\(Self.serverName) NOTICE \(nick) :gkpass: \(text)\r\n".utf8))
                            continue
                        case .lost(let text):
                            _ = toClient.flush(write(client))
                            sendClient("ERROR :Closing link (gkpass: \(text))")
                            return text
                        }
                    }
                default: break
                }
                toServer.append(line)
                toServer.append([0x0D, 0x0A])
            }
            guard toClient.flush(write(client)) else { return leave("the connection to the client broke", quit: "client closed") }
            guard toServer.flush(write(upstream.connection.descriptor)) else {
                sendClient("ERROR :Closing link (gkpass: the connection to the server broke)")
                return "the connection to the server broke"
            }
            if toClient.isOverLimit {
                // One try, not waiting: this client is not reading.
                let error = Array("ERROR :Closing link (gkpass: the client fell \(toClient.count) bytes behind; at most \(toClient.limit) are kept)\r\n".utf8)
                _ = error.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                return leave("fell more than \(toClient.limit) bytes behind the server", quit: "gkpass: client too slow")
            }
            if toServer.isOverLimit {
                _ = toClient.flush(write(client))
                sendClient("ERROR :Closing link (gkpass: more than \(toServer.limit) bytes wait for the server; slow down)")
                return leave("more than \(toServer.limit) bytes waited for the server", quit: "gkpass: client flood")
            }
            var pollers = [
                pollfd(fd: client, events: Int16(POLLIN) | (toClient.isEmpty ? 0 : Int16(POLLOUT)), revents: 0),
                pollfd(fd: upstream.connection.descriptor, events: Int16(POLLIN) | (toServer.isEmpty ? 0 : Int16(POLLOUT)), revents: 0),
            ]
            let ready = poll(&pollers, 2, 1000)
            if ready < 0 && errno != EINTR { return leave("poll failed", quit: "gkpass: internal error") }
            if pollers[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !readClient() {
                // The client left without QUIT: say it for them.
                if quitting != nil { return "quit" }
                return leave("closed by the client", quit: "client closed")
            }
            if pollers[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let open = (try? upstream.connection.fill()) ?? false
                if !open {
                    while let line = try? upstream.connection.bufferedLine() { toClient.append(line + [0x0D, 0x0A]) }
                    _ = toClient.flush(write(client))
                    if quitting != nil { return "quit" }
                    sendClient("ERROR :Closing link (gkpass: the server closed the connection)")
                    return "the server closed the connection"
                }
            }
            let now = ChatConnection.now()
            if let quitting, now > quitting { return "quit" }
            if now - lastHeard > proxy.keepAlive {
                if pinged && now - lastHeard > 2 * proxy.keepAlive {
                    sendClient("ERROR :Closing link (gkpass: the server stopped answering)")
                    return leave("the server stopped answering")
                }
                if !pinged {
                    pinged = true
                    log("client \(number): keep-alive PING to \(upstream.connection.endpoint) after \(Int(now - lastHeard)) s of silence", false)
                    toServer.append(Array("PING :\(Self.keepAliveToken)\r\n".utf8))
                }
            }
        }
    }

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

    enum Redirect { case stay, moved, refused(String), lost(String) }

    /// Asks the directory where `room` is; moves the upstream there when nothing is joined yet.
    func redirect(_ upstream: inout Connect.Opened, room: String, connect: Connect, network: Network, alreadyJoined: Bool) -> Redirect {
        guard let directory = network.directory else { return .stay }
        let target: Network.Endpoint
        do { target = try connect.find(room: room, directory: directory, trace: nil) } catch {
            return .refused("cannot find \(room): \(error.message)")
        }
        if target == upstream.connection.endpoint { return .stay }
        if alreadyJoined {
            return .refused("\(room) is on \(target), another server than this connection's; connect again to join it")
        }
        do {
            let moved = try connect.open(target, goal: .register, trace: nil)
            try? upstream.connection.send(Array("QUIT :moving to \(target)\r\n".utf8), deadline: ChatConnection.now() + 2)
            upstream = moved
            log("client \(number) moved to \(target) for \(room)", false)
            return .moved
        } catch {
            return .lost("cannot reach \(target) for \(room): \(error.message)")
        }
    }
}

/// POSIX threads (no Foundation in this binary).
enum Thread {
    final class Body: @unchecked Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Runs `body` on a thread nobody joins (or here, when no thread can be started).
    static func detach(_ body: @escaping @Sendable () -> Void) {
        if let thread = start(body) { pthread_detach(thread) } else { body() }
    }
}
