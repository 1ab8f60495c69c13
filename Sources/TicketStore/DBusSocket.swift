internal import Glibc

/// A connection to the session bus over its Unix socket, for ``DBusWire``'s messages: connect, authenticate with
/// EXTERNAL, and wait for replies. Every wait has the same deadline; nothing here blocks past it.
final class DBusSocket {
    private let fd: Int32
    /// Seconds the whole read may take, and when they run out (``MonotonicClock``).
    private let deadline: Double
    private let until: Double
    private var framer = DBusFramer()
    private var authenticated = false
    /// Set when the bus refused EXTERNAL: GDBus would try its other mechanisms, so the caller can hand over.
    private(set) var authenticationRejected = false
    private var nextSerial: UInt32 = 1

    /// Connects (no message is sent yet). Throws `.unavailable` when nothing listens there.
    init(_ socket: DBusAddress.UnixSocket, deadline: Double) throws(StoreError) {
        self.deadline = deadline
        until = MonotonicClock.now() + deadline
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StoreError(.unavailable, "cannot create a socket for the session bus: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = (socket.abstract ? [0] : []) + socket.path
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + path.count + (socket.abstract ? 0 : 1))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        guard connected == 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(fd)
            throw StoreError(.unavailable, "cannot connect to the D-Bus session bus (\(why))", hint: "check DBUS_SESSION_BUS_ADDRESS, or use --store file")
        }
    }

    deinit { Glibc.close(fd) }

    /// A serial for the next message.
    func serial() -> UInt32 {
        defer { nextSerial += 1 }
        return nextSerial
    }

    /// Writes every byte (the socket is blocking; messages here are a few hundred bytes).
    func send(_ bytes: [UInt8]) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError(.unavailable, "the D-Bus session bus closed the connection (\(String(cString: strerror(errno))))")
            }
            offset += written
        }
    }

    /// Reads what the socket has, waiting until the deadline; throws `.timeout` past it and `.unavailable` at EOF.
    private func receive(_ doing: String) throws(StoreError) -> [UInt8] {
        while true {
            let left = Int((until - MonotonicClock.now()) * 1000)
            guard left > 0 else {
                throw StoreError(.timeout, "the keyring did not answer within \(Int(deadline)) s while \(doing)",
                    hint: "is the keyring daemon stuck? Use --store file to bypass it")
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, Int(Int32.max))))
            if ready < 0 {
                if errno == EINTR { continue }
                throw StoreError(.unavailable, "waiting for the session bus failed (\(String(cString: strerror(errno))))")
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw StoreError(.unavailable, "reading from the session bus failed (\(String(cString: strerror(errno))))")
            }
            guard count > 0 else { throw StoreError(.unavailable, "the D-Bus session bus closed the connection while \(doing)") }
            return Array(chunk.prefix(count))
        }
    }

    /// The reply to `serial` (a method return or an error); other messages (signals such as NameAcquired) are
    /// skipped. The bus's authentication answer is read first, once.
    func reply(to serial: UInt32, doing: String) throws(StoreError) -> DBusMessage {
        func malformed(_ error: DBusWire.Malformed) -> StoreError {
            StoreError(.unavailable, "the session bus sent a \(error) while \(doing)")
        }
        while !authenticated {
            let answer: (DBusAuthentication.Reply, consumed: Int)?
            do { answer = try DBusAuthentication.reply(framer.buffer) } catch { throw malformed(error) }
            guard let answer else {
                framer.append(try receive(doing))
                continue
            }
            guard answer.0 == .ok else {
                authenticationRejected = true
                throw StoreError(.unavailable, "the D-Bus session bus refused gkpass's credentials (\(answer.0))")
            }
            framer.buffer.removeFirst(answer.consumed)
            authenticated = true
        }
        while true {
            let next: DBusMessage?
            do { next = try framer.next() } catch { throw malformed(error) }
            if let message = next {
                if (message.kind == .methodReturn || message.kind == .error) && message.replySerial == serial { return message }
                continue
            }
            framer.append(try receive(doing))
        }
    }
}
