import Foundation
import NIOCore
import NIOHTTP1

/// Serves ``PassportSite`` over HTTP/1.1 (TLS is below it in the pipeline).
///
/// Requests are framed by NIOHTTP1's decoder; responses are written here as bytes rather than through
/// `HTTPResponseEncoder`, because the `malformed-headers` fault must put bytes on the wire that no encoder would.
final class SiteHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    /// Bodies larger than this get 413: the forms the sandbox serves are a few hundred bytes.
    static let maximumBodySize = 64 * 1024
    /// A connection that sends nothing for this long is closed (the handshake included): slow-loris protection that
    /// still leaves keep-alive clients time between requests. Longer than the slowest `slow` fault a test would use.
    static let idleTimeout = TimeAmount.seconds(15)

    let site: PassportSite
    /// `https` or `http`, for the log: the listener's scheme, which the request itself does not say.
    let scheme: String
    let log: @Sendable (String) -> Void
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodyTooLarge = false

    init(site: PassportSite, scheme: String, log: @escaping @Sendable (String) -> Void) {
        self.site = site
        self.scheme = scheme
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            bodyTooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maximumBodySize {
                bodyTooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            respond(context: context, to: requestHead)
        }
    }

    private func respond(context: ChannelHandlerContext, to requestHead: HTTPRequestHead) {
        let faults = site.configuration.faults
        let request = SiteRequest(
            method: requestHead.method.rawValue, target: requestHead.uri,
            headers: requestHead.headers.map { ($0.name, $0.value) }, body: body)
        // Whatever happens next, the password has reached this listener: say which one, never what it was. Tests
        // count these per host to show where a client sent a password and where it did not.
        if PassportSite.carriesPassword(request) {
            let local = context.localAddress
            log(
                "password-request host=\(local?.ipAddress ?? "-") port=\(local?.port.map(String.init) ?? "-") "
                    + "path=\(Self.loggable(request.path)) scheme=\(scheme)")
        }
        if faults.contains(.drop) {
            context.close(promise: nil)
            return
        }
        let response: SiteResponse
        if bodyTooLarge {
            response = .text(413, "The request body is too large.")
        } else {
            let now = Int64(Date().timeIntervalSince1970)
            var (siteResponse, event) = site.handle(request, now: now)
            // RFC 9110 §6.6.1: an origin server with a clock sends Date. (--clock-offset skews it, for tests of
            // clients that compare clocks.)
            siteResponse.headers.append(("Date", site.cookieDate(now + site.configuration.clockOffset)))
            response = siteResponse
            if let event {
                log("http \(event.kind) member=\(event.member ?? "-") result=\(event.result)")
            }
        }
        let keepAlive = requestHead.isKeepAlive && !bodyTooLarge
        var bytes = Self.serialize(response, keepAlive: keepAlive, malformed: faults.contains(.malformedHeaders))
        var closeAfter = !keepAlive
        if faults.contains(.hugeHeader) {
            // After the status line: a header line of 1 MiB.
            let statusEnd = bytes.firstIndex(of: 0x0A)! + 1
            bytes.insert(contentsOf: Array("X-Padding: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 1 << 20) + [0x0D, 0x0A], at: statusEnd)
        }
        if faults.contains(.truncatedHeaders) {
            // The status line and half of the next header, then the connection closes.
            let statusEnd = bytes.firstIndex(of: 0x0A)! + 1
            bytes = Array(bytes[..<min(bytes.count, statusEnd + 8)])
            closeAfter = true
        }
        let close = closeAfter
        let write = {
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes))).assumeIsolated().whenComplete { _ in
                if close { context.close(promise: nil) }
            }
        }
        if faults.contains(.slow) {
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(site.configuration.slowSeconds * 1000))) {
                write()
            }
        } else {
            write()
        }
    }

    /// A request path as one log token: at most 200 bytes, anything but visible ASCII as `%XX` (NIO refuses most
    /// such bytes already; the log must stay one event per line whatever arrives).
    static func loggable(_ path: String) -> String {
        var out = ""
        for byte in path.utf8.prefix(200) {
            if (0x21...0x7E).contains(byte) {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func serialize(_ response: SiteResponse, keepAlive: Bool, malformed: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(SiteResponse.reason(for: response.status))\r\n"
        text += "Server: gkpass-sandbox\r\n"
        if malformed { text += "This header line has no colon\r\n" }
        for header in response.headers { text += "\(header.name): \(header.value)\r\n" }
        text += "Content-Length: \(response.body.count)\r\n"
        text += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        text += "\r\n"
        return Array(text.utf8) + response.body
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Bad requests get the status a real server gives, then the connection is closed; the process stays up.
        let status: Int
        switch error as? HTTPParserError {
        case .some(.headerOverflow): status = 431
        case .some: status = 400
        case .none:
            context.close(promise: nil)
            return
        }
        let bytes = Self.serialize(.text(status, "Malformed request."), keepAlive: false, malformed: false)
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
