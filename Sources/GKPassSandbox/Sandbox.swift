import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Starts the sandbox's servers, writes `endpoints.json`, prints the `ready` line, and runs until stopped
/// (design.md §8).
public final class Sandbox: Sendable {
    public struct Options: Sendable {
        public var stateDirectory: String
        public var listen: String
        public var httpsPort: Int
        public var ircxPort: Int
        public var configuration: SandboxConfiguration
        /// Event-loop threads serving every listener and connection (nil: one per core).
        public var eventLoops: Int?

        public init(
            stateDirectory: String, listen: String, httpsPort: Int, ircxPort: Int, configuration: SandboxConfiguration,
            eventLoops: Int? = nil
        ) {
            self.stateDirectory = stateDirectory
            self.listen = listen
            self.httpsPort = httpsPort
            self.ircxPort = ircxPort
            self.configuration = configuration
            self.eventLoops = eventLoops
        }
    }

    /// The state directory when none is given: `$GKPASS_SANDBOX_STATE`, else `${XDG_RUNTIME_DIR:-/tmp}/gkpass-sandbox-$UID`.
    public static func defaultStateDirectory(environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let explicit = environment["GKPASS_SANDBOX_STATE"], !explicit.isEmpty { return explicit }
        let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return runtime + "/gkpass-sandbox-\(getuid())"
    }

    public let configuration: SandboxConfiguration
    public let endpointsFile: String
    let group: MultiThreadedEventLoopGroup
    /// The HTTPS listeners (the chat servers are in `chatServers`).
    let channels: [any Channel]
    /// The chat servers, by index: each can be restarted (``restartChatServer(_:after:)``).
    let chatServers: [ChatServer]
    let listenHost: String
    let box: ConfigurationBox
    /// STATE_DIR/sandbox.lock, flock'ed for the sandbox's whole life (closed, so released, only when it exits).
    let lockFD: Int32

    private init(
        configuration: SandboxConfiguration, endpointsFile: String, group: MultiThreadedEventLoopGroup, channels: [any Channel],
        chatServers: [ChatServer], listenHost: String, box: ConfigurationBox, lockFD: Int32
    ) {
        self.lockFD = lockFD
        self.configuration = configuration
        self.endpointsFile = endpointsFile
        self.group = group
        self.channels = channels
        self.chatServers = chatServers
        self.listenHost = listenHost
        self.box = box
    }

    /// One of the chat servers: its listener, the connections it accepted, and its nicknames and rooms
    /// (``ChatNetwork``), all replaced when it restarts, as a real server's would be.
    final class ChatServer: Sendable {
        struct State {
            var network: ChatNetwork
            var listener: (any Channel)?
            var connections: [ObjectIdentifier: any Channel] = [:]
            var generation = 0
        }
        let index: Int
        let name: String
        let state: Mutex<State>

        init(index: Int, name: String) {
            self.index = index
            self.name = name
            state = Mutex(State(network: ChatNetwork(name: name, index: index)))
        }

        var network: ChatNetwork { state.withLock { $0.network } }
        var port: Int? { state.withLock { $0.listener?.localAddress?.port } }

        func accepted(_ channel: any Channel) {
            let key = ObjectIdentifier(channel)
            state.withLock { $0.connections[key] = channel }
            channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.connections.removeValue(forKey: key) } }
        }
    }

    /// Binds `server`'s listener on `port`; a connection it accepts is served with the server's current network.
    static func bindChat(_ server: ChatServer, group: MultiThreadedEventLoopGroup, host: String, port: Int, box: ConfigurationBox,
                         log: @escaping @Sendable (String) -> Void) throws -> any Channel {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard let configuration = box.value else { return channel.close() }
                server.accepted(channel)
                let network = server.network
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IRCXHandler(configuration: configuration, network: network, log: log))
                }
            }
            .bind(host: host, port: port).wait()
        server.state.withLock { $0.listener = channel }
        return channel
    }

    /// Restarts chat server `index` as a crash and a restart would: its listener and every connection it holds
    /// closed, its nicknames and rooms forgotten, and after `seconds` it listens again on the same port. For tests
    /// of clients that must survive a server going away (`restart-chat INDEX [SECONDS]` on the sandbox's stdin).
    public func restartChatServer(_ index: Int, after seconds: Double) throws {
        guard chatServers.indices.contains(index) else {
            throw SandboxError("restart-chat takes a chat server index from 0 to \(chatServers.count - 1)")
        }
        let server = chatServers[index]
        let port = configuration.chatServers[index].port
        let (listener, connections, generation) = server.state.withLock { state in
            let taken = (state.listener, Array(state.connections.values), state.generation + 1)
            state.listener = nil
            state.connections = [:]
            state.network = ChatNetwork(name: server.name, index: index)
            state.generation += 1
            return taken
        }
        try? listener?.close().wait()
        for connection in connections { connection.close(promise: nil) }
        let log: @Sendable (String) -> Void = { Sandbox.log($0) }
        log("ircx chat-server index=\(index) restart: closed \(connections.count) connection(s); listening again in \(seconds) s")
        let group = self.group, host = listenHost, box = self.box
        // Off the event loops: binding waits for one.
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            // A second restart meanwhile owns the listener now.
            guard server.state.withLock({ $0.generation }) == generation else { return }
            do {
                _ = try Sandbox.bindChat(server, group: group, host: host, port: port, box: box, log: log)
                log("ircx chat-server index=\(index) listening again port=\(port)")
            } catch {
                log("ircx chat-server index=\(index) cannot listen again on port \(port): \(error)")
            }
        }
    }

    static func log(_ line: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        FileHandle.standardError.write(Data("\(stamp) \(line)\n".utf8))
    }

    /// Creates the state directory (0700, ours), the certificates, and binds the servers: IRCX, HTTPS, and the
    /// second DA a redirect fault points at.
    public static func start(_ options: Options) throws -> Sandbox {
        let faults = options.configuration.faults
        var offsiteHost: String?
        if faults.contains(.daOffsiteRedirect) {
            guard let host = SandboxConfiguration.offsiteHost(forListenAddress: options.listen) else {
                throw SandboxError("da-offsite-redirect puts its DA on a second loopback address, so --listen must be an IPv4 loopback address (127.x.y.z), not \(options.listen)")
            }
            offsiteHost = host
        }
        try prepareStateDirectory(options.stateDirectory)
        // Before anything in the directory is written: a second sandbox must not replace the first's files.
        let lockFD = try lockStateDirectory(options.stateDirectory)
        let authority = try CertificateAuthority.prepare(
            stateDirectory: options.stateDirectory, hosts: [options.listen] + (offsiteHost.map { [$0] } ?? []), faults: faults)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(authority.serverCertificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(authority.serverKeyPEM.utf8), format: .pem)))
        let sslContext = try NIOSSLContext(configuration: tls)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.eventLoops ?? System.coreCount)
        let box = ConfigurationBox()
        let log: @Sendable (String) -> Void = { Sandbox.log($0) }

        do {
            // The chat servers: server 0 on --ircx-port (also the directory), the others on ports the system picks.
            // Each has its own nicknames and rooms (ChatNetwork); all take the same tickets and guests.
            let serverCount = options.configuration.directory.serverCount
            var chat: [(channel: any Channel, name: String)] = []
            var servers: [ChatServer] = []
            for index in 0..<serverCount {
                let name = ChatServerAddress.name(index: index, serverName: options.configuration.serverName)
                let server = ChatServer(index: index, name: name)
                let channel = try bindChat(server, group: group, host: options.listen, port: index == 0 ? options.ircxPort : 0, box: box, log: log)
                servers.append(server)
                chat.append((channel, name))
            }
            let ircx = chat[0].channel
            let https = try bindSite(group: group, host: options.listen, port: options.httpsPort, tls: sslContext, box: box, log: log) {
                PassportSite(configuration: $0)
            }
            var channels = [https]
            var configuration = options.configuration
            configuration.httpsPort = https.localAddress?.port ?? options.httpsPort
            configuration.ircxPort = ircx.localAddress?.port ?? options.ircxPort
            configuration.chatServers = chat.map {
                ChatServerAddress(host: configuration.publicHost, port: $0.channel.localAddress?.port ?? 0, name: $0.name)
            }

            // The DAs the redirect faults point at; each serves only /login2.srf, on its own origin.
            // (Their sites are made per connection from the final configuration, which by then holds their URLs.)
            let daSuffix = PassportSite.primaryDAPath.count
            if let offsiteHost {
                let offsite = try bindSite(group: group, host: offsiteHost, port: 0, tls: sslContext, box: box, log: log) {
                    PassportSite(configuration: $0, role: .otherDA(origin: String(($0.offsiteDAURL ?? "").dropLast(daSuffix))))
                }
                channels.append(offsite)
                let origin = SandboxConfiguration.origin(scheme: "https", host: offsiteHost, port: offsite.localAddress?.port ?? 0)
                configuration.offsiteDAURL = origin + PassportSite.primaryDAPath
            }
            if faults.contains(.daPlainRedirect) {
                let plain = try bindSite(group: group, host: options.listen, port: 0, tls: nil, box: box, log: log) {
                    PassportSite(configuration: $0, role: .otherDA(origin: String(($0.plainDAURL ?? "").dropLast(daSuffix))))
                }
                channels.append(plain)
                let origin = SandboxConfiguration.origin(scheme: "http", host: configuration.publicHost, port: plain.localAddress?.port ?? 0)
                configuration.plainDAURL = origin + PassportSite.primaryDAPath
            }
            box.set(configuration)
            // One line per chat server, so a log shows which port FINDS will name for which index.
            for (index, server) in configuration.chatServers.enumerated() {
                log("ircx chat-server index=\(index) name=\(server.name) port=\(server.port)")
            }

            let endpoints = options.stateDirectory + "/endpoints.json"
            try writeEndpoints(configuration, caFile: authority.caFile, to: endpoints)
            return Sandbox(
                configuration: configuration, endpointsFile: endpoints, group: group, channels: channels, chatServers: servers,
                listenHost: options.listen, box: box, lockFD: lockFD)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// Binds an HTTP listener serving the site `makeSite` builds from the final configuration; over TLS when `tls`
    /// is given, else plain HTTP (the `da-plain-redirect` DA).
    static func bindSite(
        group: MultiThreadedEventLoopGroup, host: String, port: Int, tls: NIOSSLContext?, box: ConfigurationBox,
        log: @escaping @Sendable (String) -> Void, makeSite: @escaping @Sendable (SandboxConfiguration) -> PassportSite
    ) throws -> any Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard let configuration = box.value else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // Before TLS, so a client that stalls the handshake is dropped too (slow loris).
                    try sync.addHandler(IdleStateHandler(readTimeout: SiteHTTPHandler.idleTimeout))
                    try sync.addHandler(IdleCloser())
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(
                        SiteHTTPHandler(site: makeSite(configuration), scheme: tls == nil ? "http" : "https", log: log))
                }
            }
            .bind(host: host, port: port).wait()
    }

    /// The one line a starter waits for, on stdout.
    public var readyLine: String {
        "ready https=\(configuration.httpsOrigin) ircx=\(configuration.publicHost):\(configuration.ircxPort) endpoints=\(endpointsFile)"
    }

    /// Closes the listeners, removes `endpoints.json` (so nobody finds a dead sandbox), stops the event loops.
    public func stop() {
        for channel in channels { try? channel.close().wait() }
        for server in chatServers {
            let listener = server.state.withLock { state in
                defer { state.listener = nil; state.generation += 1 }
                return state.listener
            }
            try? listener?.close().wait()
        }
        // Only while it is still ours: the lock keeps other sandboxes out of this directory, but a user may have
        // put another file there meanwhile.
        if Self.endpointsPID(endpointsFile) == getpid() { unlink(endpointsFile) }
        try? group.syncShutdownGracefully()
        close(lockFD)
    }

    /// The pid `endpoints.json` at `path` records, if it can be read.
    static func endpointsPID(_ path: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: path),
            let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let pid = document["pid"] as? Int
        else { return nil }
        return Int32(truncatingIfNeeded: pid)
    }

    /// Takes STATE_DIR/sandbox.lock (flock, exclusive, not waiting) and writes our pid in it; the lock lasts until
    /// the process exits, so it is never stale: a killed sandbox's lock is gone with it, and its endpoints.json is
    /// replaced. Held by a running sandbox: ``SandboxBusy``, naming its pid.
    static func lockStateDirectory(_ directory: String) throws -> Int32 {
        let path = directory + "/sandbox.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SandboxError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var bytes = [UInt8](repeating: 0, count: 32)
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            guard reason == EWOULDBLOCK else { throw SandboxError("cannot lock \(path): \(String(cString: strerror(reason)))") }
            let pid = n > 0 ? Int32(String(decoding: bytes[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            throw SandboxBusy(pid: pid, stateDirectory: directory)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    static func prepareStateDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw SandboxError("cannot create the state directory \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SandboxError("the state directory \(path) is not a directory")
        }
        guard info.st_uid == getuid() else {
            throw SandboxError("the state directory \(path) belongs to another user; pass --state-dir")
        }
        if info.st_mode & 0o077 != 0 { chmod(path, 0o700) }
    }

    static func writeEndpoints(_ configuration: SandboxConfiguration, caFile: String, to path: String) throws {
        let origin = configuration.httpsOrigin
        let ircx: [String: Any] = ["host": configuration.publicHost, "port": configuration.ircxPort]
        var document: [String: Any] = [
            "ca_file": caFile,
            "nexus_url": origin + PassportSite.nexusPath,
            "web_login_url": origin + PassportSite.webLoginPath,
            "chat_site_url": origin + PassportSite.chatRoomPath,
            "ircx": ircx,
            "directory": ircx,
            // Every chat server, server 0 (the `ircx` above) first; FINDS on any of them names one of these.
            "chat_servers": configuration.chatServers.map { ["host": $0.host, "port": $0.port, "name": $0.name] as [String: Any] },
            "server_name": configuration.serverName,
            "truncate_host": configuration.truncateHost,
            "blob_layout": configuration.blobLayout.rawValue,
            "passport_slices": configuration.passportSlices.rawValue,
            "site_id": configuration.siteID,
            "ticket_lifetime": configuration.ticketLifetime,
            "faults": configuration.faults.map(\.rawValue).sorted(),
            "passport_dialect": configuration.passportDialect.rawValue,
            "pid": Int(getpid()),
            "accounts": configuration.accounts.prefix(20).map { ["member": $0.member, "nickname": $0.nickname] },
        ]
        // Only with their faults: a key that is there names a listener that is there.
        if let url = configuration.offsiteDAURL { document["offsite_da_url"] = url }
        if let url = configuration.plainDAURL { document["plain_da_url"] = url }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try CertificateAuthority.write(String(decoding: data, as: UTF8.self) + "\n", to: path, mode: 0o644)
    }
}

/// Closes a connection when `IdleStateHandler` reports it idle.
final class IdleCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Set once, after both listeners are bound and their ports known; connections accepted before that are closed.
final class ConfigurationBox: Sendable {
    private let storage = Mutex<SandboxConfiguration?>(nil)
    var value: SandboxConfiguration? { storage.withLock { $0 } }
    func set(_ configuration: SandboxConfiguration) { storage.withLock { $0 = configuration } }
}
