internal import Glibc
public import GateKeeper
public import TicketStore

/// `gkpass proxy`: a local, plain IRC endpoint for ordinary clients. Each client connection gets its own upstream
/// connection, logged in with GateKeeperPassport from the stored ticket; after registration every line is relayed
/// both ways unchanged, except what the proxy must answer itself (CAP, its own keep-alive PONGs) and JOINs that
/// the network's directory places on another server.
public struct Proxy: Sendable {
    public var listen: Network.Endpoint
    /// The account when the client sends no PASS.
    public var defaultAccount: String?
    /// Overrides the ticket's network.
    public var networkName: String?
    public var environment: [String: String]
    public var timeout: Double = 30
    /// Seconds of upstream silence before the proxy PINGs it; twice this and the upstream is given up.
    public var keepAlive: Double = 90
    /// A ticket with less than this left is refreshed before a client's upstream logs in.
    public var refreshWithin: Int64 = 600

    public init(listen: Network.Endpoint, defaultAccount: String?, networkName: String?, environment: [String: String]) {
        self.listen = listen
        self.defaultAccount = defaultAccount
        self.networkName = networkName
        self.environment = environment
    }

    /// Binds and listens; returns the socket and the bound port (for port 0).
    public func bind() throws(GKPassError) -> (fd: Int32, port: Int) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(listen.host, String(listen.port), &hints, &list) == 0, let entry = list else {
            throw GKPassError(.usage, "--listen takes a numeric address such as 127.0.0.1:6667, not \(listen)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(entry.pointee.ai_family, entry.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw GKPassError(.failure, "cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(fd, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw GKPassError(.failure, "cannot listen on \(listen): \(reason)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = withUnsafeBytes(of: storage) { raw -> Int in
            // sin_port and sin6_port sit at the same offset, in network order.
            Int(raw[2]) << 8 | Int(raw[3])
        }
        return (fd, port)
    }

    /// Accepts clients forever, one thread each. `log` gets one line per client event (no secrets).
    public func serve(fd: Int32, log: @escaping @Sendable (String) -> Void) -> Never {
        while true {
            let client = accept(fd, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { usleep(10_000); continue }
                log("accept failed: \(String(cString: strerror(errno)))")
                usleep(100_000)
                continue
            }
            let session = ProxySession(proxy: self, client: client, log: log)
            Thread.detach { session.run() }
        }
    }
}

/// One client connection and its upstream. Confined to its own thread.
final class ProxySession: @unchecked Sendable {
    let proxy: Proxy
    let client: Int32
    let log: @Sendable (String) -> Void
    var clientFramer = IRCXLineFramer(maximumLineLength: 1024)
    static let serverName = "gkpass"
    static let keepAliveToken = "gkpass-keepalive"

    init(proxy: Proxy, client: Int32, log: @escaping @Sendable (String) -> Void) {
        self.proxy = proxy
        self.client = client
        self.log = log
    }

    deinit { close(client) }

    func sendClient(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    func sendClient(_ text: String) { _ = sendClient(Array((text + "\r\n").utf8)) }

    /// Tells the client why, and ends its connection.
    func refuse(_ message: String, nick: String = "*") {
        sendClient(":\(Self.serverName) NOTICE \(nick) :gkpass: \(message)")
        sendClient("ERROR :Closing link (gkpass: \(message))")
        log("client refused: \(message)")
    }

    /// The next client line within `deadline`; nil on close or timeout.
    func clientLine(deadline: Double) -> [UInt8]? {
        while true {
            let next: [UInt8]?
            do { next = try clientFramer.nextLine() } catch { return nil }
            if let next { return next }
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let remaining = Int32((deadline - ChatConnection.now()) * 1000)
            guard remaining > 0, poll(&poller, 1, remaining) > 0 else { return nil }
            guard readClient() else { return nil }
        }
    }

    func readClient() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n > 0 { clientFramer.append(chunk[..<n]); return true }
            if n < 0 && errno == EINTR { continue }
            return false
        }
    }

    func run() {
        // 1. The client registers with us: NICK, USER, and optionally PASS naming the account.
        var nick: String?
        var user = false
        var account = proxy.defaultAccount
        var pass: String?
        let deadline = ChatConnection.now() + proxy.timeout
        while nick == nil || !user {
            guard let line = clientLine(deadline: deadline), let message = try? IRCXMessage(parsing: line) else { return }
            let first = message.parameters.first.map { String(decoding: $0, as: UTF8.self) }
            switch message.commandName {
            case "CAP":
                if first?.uppercased() == "LS" { sendClient(":\(Self.serverName) CAP * LS :") }
            // Kept aside, never echoed nor logged: it may be a password typed into the wrong field.
            case "PASS": pass = first
            case "NICK": nick = first
            case "USER": user = true
            case "QUIT": return
            case "PING": sendClient(":\(Self.serverName) PONG \(Self.serverName) :\(first ?? "")")
            default: sendClient(":\(Self.serverName) 451 \(nick ?? "*") :You have not registered")
            }
        }
        let clientNick = nick ?? "*"
        // 2. The account's ticket and network. PASS picks the account only when it names a stored one exactly;
        // anything else is ignored, so what a client sends as PASS never reaches an error, the log or a server.
        let ladder = StoreLadder(environment: proxy.environment)
        if let pass, !pass.isEmpty, (try? ladder.fileStore.recordedAccounts())?.contains(pass) == true { account = pass }
        let set: TicketSet
        let network: Network
        do {
            let member = try StoredTicket.account(account, ladder: ladder)
            // A ticket about to expire is refreshed first (with the remembered password, once per account across
            // processes), so a client connecting at 3 a.m. is not turned away. Failing that, the stored ticket is
            // used if it is still valid, and the client is told why if not.
            do {
                let result = try Refresh(threshold: proxy.refreshWithin, lockTimeout: 30, retries: 1)
                    .run(account: member, password: nil, ladder: ladder, trace: nil)
                if case .refreshed = result { log("refreshed the ticket of \(member) before connecting") }
            } catch {
                log("could not refresh \(member): \(error.message)")
            }
            set = try StoredTicket.read(account: member, ladder: ladder, now: Int64(time(nil)))
            network = try Network.named(proxy.networkName ?? set.network, environment: proxy.environment)
        } catch {
            return refuse(error.message + (error.hint.map { " (\($0))" } ?? ""), nick: clientNick)
        }
        guard let first = network.server ?? network.directory else {
            return refuse("network \(network.name) has no IRCX server", nick: clientNick)
        }
        var connect = Connect(network: network, server: nil, room: nil, identity: .passport(set))
        connect.timeout = proxy.timeout
        var upstream: Connect.Opened
        do { upstream = try connect.open(first, goal: .register, trace: nil) } catch {
            return refuse(error.message, nick: clientNick)
        }
        log("client \(set.account) connected to \(first)")
        for line in upstream.linesSinceRegistration { guard sendClient(line + [0x0D, 0x0A]) else { return } }
        relay(&upstream, connect: connect, network: network, nick: clientNick)
        log("client \(set.account) disconnected")
    }

    /// Relays lines both ways until either side closes.
    func relay(_ upstream: inout Connect.Opened, connect: Connect, network: Network, nick: String) {
        var joined = false
        var lastHeard = ChatConnection.now()
        var pinged = false
        var quitting: Double?
        // The name the client knows the server by (the prefix of its welcome), for the PONGs the proxy answers.
        let serverName = upstream.linesSinceRegistration.lazy.compactMap { line -> String? in
            guard line.first == UInt8(ascii: ":"), let space = line.firstIndex(of: 0x20) else { return nil }
            return String(decoding: line[1..<space], as: UTF8.self)
        }.first ?? Self.serverName
        while true {
            // Drain complete lines first (batched into one write per direction), then wait for more.
            var toClient: [UInt8] = []
            var toServer: [UInt8] = []
            while true {
                let next: [UInt8]?
                do { next = try upstream.connection.bufferedLine() } catch {
                    sendClient("ERROR :Closing link (gkpass: \(error.message))")
                    return
                }
                guard let line = next else { break }
                lastHeard = ChatConnection.now()
                pinged = false
                if let message = try? IRCXMessage(parsing: line) {
                    if message.commandName == "PONG", message.parameters.last == Array(Self.keepAliveToken.utf8) { continue }
                    if message.numeric == 366 { joined = true }
                }
                toClient += line
                toClient += [0x0D, 0x0A]
            }
            if !toClient.isEmpty { guard sendClient(toClient) else { return } }
            while true {
                let next: [UInt8]?
                do { next = try clientFramer.nextLine() } catch {
                    sendClient("ERROR :Closing link (gkpass: line too long)")
                    try? upstream.connection.send(Array("QUIT :client sent an over-long line\r\n".utf8), deadline: ChatConnection.now() + 2)
                    return
                }
                guard let line = next else { break }
                guard let message = try? IRCXMessage(parsing: line) else { continue }
                switch message.commandName {
                case "CAP", "PASS", "USER":
                    continue  // answered at registration; the server would only say 462
                case "PING":
                    // Answered here, prefixed, as clients expect (HexChat drops a link whose PONGs carry no prefix,
                    // and MSN servers answer without one); the upstream has its own keep-alive.
                    let token = message.parameters.last.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    if let pong = try? IRCXMessage(
                        prefix: Array(serverName.utf8), command: Array("PONG".utf8), parameters: [Array(serverName.utf8), Array(token.utf8)],
                        forcesTrailing: true)
                    {
                        guard sendClient(pong.serialized()) else { return }
                    }
                    continue
                case "QUIT":
                    quitting = ChatConnection.now() + 2
                case "JOIN" where network.directory != nil:
                    if let target = message.parameters.first.map({ String(decoding: $0, as: UTF8.self) }), !target.contains(","), target != "0" {
                        if !toServer.isEmpty {
                            do { try upstream.connection.send(toServer, deadline: ChatConnection.now() + proxy.timeout) } catch { return }
                            toServer = []
                        }
                        switch redirect(&upstream, room: target, connect: connect, network: network, alreadyJoined: joined) {
                        case .stay: break
                        case .moved: break
                        case .refused(let text):
                            sendClient(":\(Self.serverName) NOTICE \(nick) :gkpass: \(text)")
                            continue
                        case .lost(let text):
                            sendClient("ERROR :Closing link (gkpass: \(text))")
                            return
                        }
                    }
                default: break
                }
                toServer += line
                toServer += [0x0D, 0x0A]
            }
            if !toServer.isEmpty {
                do { try upstream.connection.send(toServer, deadline: ChatConnection.now() + proxy.timeout) } catch { return }
            }
            var pollers = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream.connection.descriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&pollers, 2, 1000)
            if ready < 0 && errno != EINTR { return }
            if pollers[0].revents != 0 && !readClient() {
                // The client left without QUIT: say it for them.
                try? upstream.connection.send(Array("QUIT :client closed\r\n".utf8), deadline: ChatConnection.now() + 2)
                return
            }
            if pollers[1].revents != 0 {
                let open = (try? upstream.connection.fill()) ?? false
                if !open {
                    while let line = try? upstream.connection.bufferedLine() { _ = sendClient(line + [0x0D, 0x0A]) }
                    if quitting == nil { sendClient("ERROR :Closing link (gkpass: the server closed the connection)") }
                    return
                }
            }
            let now = ChatConnection.now()
            if let quitting, now > quitting { return }
            if now - lastHeard > proxy.keepAlive {
                if pinged && now - lastHeard > 2 * proxy.keepAlive {
                    sendClient("ERROR :Closing link (gkpass: the server stopped answering)")
                    return
                }
                if !pinged {
                    pinged = true
                    log("keep-alive PING to \(upstream.connection.endpoint) after \(Int(now - lastHeard)) s of silence")
                    try? upstream.connection.send(Array("PING :\(Self.keepAliveToken)\r\n".utf8), deadline: now + proxy.timeout)
                }
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
            log("client moved to \(target) for \(room)")
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
