import Foundation
import GKPassTestSupport
import Testing

/// `gkpass proxy` when a server reads more slowly than the client sends: the sandbox's `stall-reading` fault stops
/// reading the proxy's upstream for a while at its first PRIVMSG, as a busy server's event loop would.
@Suite("gkpass proxy back-pressure (binary, sandbox --fault stall-reading)", .serialized)
struct ProxyBackPressureTests {
    typealias Context = LoginCommandTests.Context
    typealias ProxyProcess = ProxyCommandTests.ProxyProcess

    /// 16 MiB of numbered 440-byte lines to `room`, then `last`: far more than the kernel's socket buffers take
    /// while the server does not read, so the rest must wait in the proxy's queue, or in the client.
    static let lines = 38_400
    static func burst(to room: String) -> [UInt8] {
        let padding = String(repeating: "x", count: 400)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines * 450)
        for index in 0..<lines { bytes += Array("PRIVMSG \(room) :\(index) \(padding)\r\n".utf8) }
        return bytes + Array("PRIVMSG \(room) :last\r\n".utf8)
    }

    static func loggedIn(_ sandboxArguments: [String]) throws -> Context {
        let context = try Context(sandboxArguments)
        let login = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false)
        #expect(login.status == 0, "\(login.stderr)")
        return context
    }

    /// A proxied client registered and in `room`, its sends bounded (a proxy that never reads again fails the
    /// test instead of hanging it).
    static func client(_ proxy: ProxyProcess, room: String) throws -> LineSocket {
        let client = try LineSocket(port: proxy.port)
        var limit = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        client.send("NICK a")
        client.send("USER a 0 * :a")
        _ = client.expect(" 376 ")
        client.send("JOIN \(room)")
        #expect(client.expect(" 366 ") != nil, "\(proxy.stderr)")
        return client
    }

    @Test("a server that stops reading for 2 s: the proxy stops reading the client instead of closing it, and every line arrives, in order")
    func slowServer() throws {
        let context = try Self.loggedIn(["--fault", "stall-reading", "--slow-seconds", "2"])
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let guest = try ProxyCommandTests.guest(port: context.sandbox.ircxPort, nick: ">counter", room: "#flood")
        let client = try Self.client(proxy, room: "#flood")
        // One blocking send: it returns once the proxy has taken everything (the pause holds it meanwhile).
        client.send(Self.burst(to: "#flood"))
        // The server read it all, in order, and the client is still connected: NAMES goes through the proxy to the
        // server, whose 366 comes after every line before it.
        client.send("NAMES #flood")
        let after = client.expect(" 366 ", within: 100)
        #expect(after != nil, "the client was closed or never answered: \(proxy.stderr)")
        var received = 0, inOrder = true
        while let line = guest.text(), !line.hasSuffix(" :last") {
            guard let range = line.range(of: "PRIVMSG #flood :") else { continue }
            if Int(line[range.upperBound...].prefix { $0 != " " }) != received { inOrder = false }
            received += 1
        }
        #expect(received == Self.lines && inOrder, "the guest got \(received) of \(Self.lines) lines, in order: \(inOrder)")
        #expect(!proxy.stderr.contains("waited for the server") && !proxy.stderr.contains("disconnected"), "\(proxy.stderr)")
        #expect(context.sandbox.log.contains("ircx registered nick=Demo"))
    }

    /// Writes `bytes` to `fd` from a thread of its own (the send blocks while the proxy pauses); the semaphore is
    /// signalled when it is done.
    static func sendInBackground(_ fd: Int32, _ bytes: [UInt8]) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                offset += n
            }
            done.signal()
        }.start()
        return done
    }

    @Test("a server that reads nothing for the keep-alive time while lines wait, though it talks: dropped and reconnected, the client stays")
    func stuckServer() throws {
        let context = try Self.loggedIn(["--fault", "stall-reading", "--slow-seconds", "60"])
        let proxy = try ProxyProcess(["--keepalive", "2"], environment: context.environment(keyring: false))
        let client = try Self.client(proxy, room: "#stuck")
        // A guest keeps the room busy (PART and JOIN every 0.2 s, which the stalled server still sends on), so the
        // keep-alive never finds the server silent: only the unread queue can tell that it is stuck.
        let guest = try ProxyCommandTests.guest(port: context.sandbox.ircxPort, nick: ">busy", room: "#stuck")
        let stop = DispatchSemaphore(value: 0)
        let guestFD = guest.fd
        Thread {
            while stop.wait(timeout: .now() + 0.2) == .timedOut {
                let bytes = Array("PART #stuck\r\nJOIN #stuck\r\n".utf8)
                _ = bytes.withUnsafeBytes { send(guestFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }.start()
        defer { stop.signal() }
        let sent = Self.sendInBackground(client.fd, Self.burst(to: "#stuck"))
        // The guest's PARTs and JOINs keep coming, so the wait is bounded by time, not by silence.
        let end = Date().addingTimeInterval(30)
        var lost: String?
        while lost == nil, Date() < end, let line = client.text() {
            if line.contains("lost the connection") { lost = line }
        }
        #expect(lost?.contains("(the server read nothing for 2 s while ") == true, "\(lost ?? "nothing") \(proxy.stderr)")
        #expect(!proxy.stderr.contains("it stopped answering"), "\(proxy.stderr)")
        // The rest of the burst now meets a server that is reconnecting: a NOTICE for each line, which the client
        // reads (the proxy reads the client only as fast as it does), and then it is still connected.
        while sent.wait(timeout: .now()) == .timedOut, Date() < end, client.line() != nil {}
        client.send("PING :still-here")
        var pong: String?
        while pong == nil, Date() < end + 10, let line = client.text() { if line.contains("PONG") { pong = line } }
        #expect(pong?.hasSuffix(":still-here") == true, "\(proxy.stderr)")
        #expect(!proxy.stderr.contains("client 1 disconnected"), "\(proxy.stderr)")
    }
}
