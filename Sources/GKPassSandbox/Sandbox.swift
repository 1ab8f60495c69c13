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

        public init(stateDirectory: String, listen: String, httpsPort: Int, ircxPort: Int, configuration: SandboxConfiguration) {
            self.stateDirectory = stateDirectory
            self.listen = listen
            self.httpsPort = httpsPort
            self.ircxPort = ircxPort
            self.configuration = configuration
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
    let channels: [any Channel]

    private init(configuration: SandboxConfiguration, endpointsFile: String, group: MultiThreadedEventLoopGroup, channels: [any Channel]) {
        self.configuration = configuration
        self.endpointsFile = endpointsFile
        self.group = group
        self.channels = channels
    }

    static func log(_ line: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        FileHandle.standardError.write(Data("\(stamp) \(line)\n".utf8))
    }

    /// Creates the state directory (0700, ours), the certificates, and binds both servers.
    public static func start(_ options: Options) throws -> Sandbox {
        try prepareStateDirectory(options.stateDirectory)
        let authority = try CertificateAuthority.prepare(stateDirectory: options.stateDirectory, host: options.listen, faults: options.configuration.faults)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(authority.serverCertificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(authority.serverKeyPEM.utf8), format: .pem)))
        let sslContext = try NIOSSLContext(configuration: tls)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let network = ChatNetwork()
        let box = ConfigurationBox()
        let log: @Sendable (String) -> Void = { Sandbox.log($0) }

        do {
            let ircx = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    guard let configuration = box.value else { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            IRCXHandler(configuration: configuration, network: network, log: log))
                    }
                }
                .bind(host: options.listen, port: options.ircxPort).wait()
            let https = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    guard let configuration = box.value else { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        // Before TLS, so a client that stalls the handshake is dropped too (slow loris).
                        try sync.addHandler(IdleStateHandler(readTimeout: SiteHTTPHandler.idleTimeout))
                        try sync.addHandler(IdleCloser())
                        try sync.addHandler(NIOSSLServerHandler(context: sslContext))
                        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                        try sync.addHandler(SiteHTTPHandler(site: PassportSite(configuration: configuration), log: log))
                    }
                }
                .bind(host: options.listen, port: options.httpsPort).wait()

            var configuration = options.configuration
            configuration.httpsPort = https.localAddress?.port ?? options.httpsPort
            configuration.ircxPort = ircx.localAddress?.port ?? options.ircxPort
            box.set(configuration)

            let endpoints = options.stateDirectory + "/endpoints.json"
            try writeEndpoints(configuration, caFile: authority.caFile, to: endpoints)
            return Sandbox(configuration: configuration, endpointsFile: endpoints, group: group, channels: [ircx, https])
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// The one line a starter waits for, on stdout.
    public var readyLine: String {
        "ready https=\(configuration.httpsOrigin) ircx=\(configuration.publicHost):\(configuration.ircxPort) endpoints=\(endpointsFile)"
    }

    /// Closes the listeners, removes `endpoints.json` (so nobody finds a dead sandbox), stops the event loops.
    public func stop() {
        for channel in channels { try? channel.close().wait() }
        unlink(endpointsFile)
        try? group.syncShutdownGracefully()
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
        let document: [String: Any] = [
            "ca_file": caFile,
            "nexus_url": origin + PassportSite.nexusPath,
            "web_login_url": origin + PassportSite.webLoginPath,
            "chat_site_url": origin + PassportSite.chatRoomPath,
            "ircx": ircx,
            "directory": ircx,
            "server_name": configuration.serverName,
            "truncate_host": configuration.truncateHost,
            "blob_layout": configuration.blobLayout.rawValue,
            "site_id": configuration.siteID,
            "ticket_lifetime": configuration.ticketLifetime,
            "faults": configuration.faults.map(\.rawValue).sorted(),
            "passport_dialect": configuration.passportDialect.rawValue,
            "pid": Int(getpid()),
            "accounts": configuration.accounts.prefix(20).map { ["member": $0.member, "nickname": $0.nickname] },
        ]
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
