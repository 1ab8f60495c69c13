import Foundation
import GateKeeper
import NIOCore

/// A session's outbound side on a NIO channel. Writes are thread-safe (other sessions send into this one).
final class ChannelSessionConnection: SessionConnection {
    let channel: any Channel
    let delay: TimeAmount?

    init(channel: any Channel, delay: TimeAmount?) {
        self.channel = channel
        self.delay = delay
    }

    func send(_ bytes: [UInt8]) {
        let buffer = ByteBuffer(bytes: bytes)
        if let delay {
            let channel = self.channel
            channel.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(buffer, promise: nil) }
        } else {
            channel.writeAndFlush(buffer, promise: nil)
        }
    }

    func close() { channel.close(promise: nil) }
}

/// Frames IRCX lines off a TCP stream and feeds them to an ``IRCXSession``.
final class IRCXHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A connection that has not registered within this time is closed (slow-loris guard).
    static let registrationTimeout = TimeAmount.seconds(60)

    let configuration: SandboxConfiguration
    let network: ChatNetwork
    let log: @Sendable (String) -> Void
    private var framer = IRCXLineFramer()
    private var session: IRCXSession?
    /// With the stall-reading fault: whether this connection has had its stall.
    private var stalled = false
    private var random = SystemRandomNumberGenerator()

    init(configuration: SandboxConfiguration, network: ChatNetwork, log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.network = network
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = context.remoteAddress?.ipAddress ?? "unknown"
        let delay = configuration.faults.contains(.slow) ? TimeAmount.milliseconds(Int64(configuration.slowSeconds * 1000)) : nil
        let session = IRCXSession(
            configuration: configuration, network: network,
            connection: ChannelSessionConnection(channel: context.channel, delay: delay), peerAddress: peer, log: log)
        self.session = session
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.registrationTimeout) {
            if !session.registered && !session.isClosed { session.closeLink("Registration timeout") }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let session, let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        framer.append(bytes)
        do {
            while !session.isClosed, let line = try framer.nextLine() {
                let challenge = configuration.fixedChallenge ?? (0..<8).map { _ in UInt8.random(in: 0...255, using: &random) }
                let guid = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
                session.receive(line: line, now: Int64(Date().timeIntervalSince1970), challenge: challenge, randomGUID: guid)
                if !stalled, configuration.faults.contains(.stallReading), session.registered, line.starts(with: Array("PRIVMSG ".utf8)) {
                    stall(context)
                }
            }
        } catch {
            session.closeLink("Input line too long")
        }
    }

    /// The stall-reading fault: no more reads from the socket for `slowSeconds` (what is already read is handled),
    /// so what the client sends meanwhile fills the kernel's buffers and then waits on the client's side.
    private func stall(_ context: ChannelHandlerContext) {
        stalled = true
        let channel = context.channel
        let pause = TimeAmount.milliseconds(Int64(configuration.slowSeconds * 1000))
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in
            channel.eventLoop.scheduleTask(in: pause) {
                channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.teardown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session?.teardown()
        context.close(promise: nil)
    }
}
