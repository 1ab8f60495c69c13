internal import Glibc
public import GateKeeper

/// A TCP connection to an IRCX server with a deadline on every step: the I/O edge under `ChatClient`.
/// Non-blocking socket + poll(2); lines framed by `IRCXLineFramer` (1024-byte limit, as the servers use).
public final class ChatConnection {
    public let endpoint: Network.Endpoint
    let fd: Int32
    var framer = IRCXLineFramer()
    /// Each line both ways, for --verbose (Passport blobs and PROP values redacted by the caller's tracer).
    public var trace: ((String) -> Void)?

    /// Connects within `timeout` seconds to any address of `endpoint`.
    public init(_ endpoint: Network.Endpoint, timeout: Double) throws(GKPassError) {
        self.endpoint = endpoint
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            throw GKPassError(.network, "cannot resolve \(endpoint.host) (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        let deadline = Self.now() + timeout
        var lastError = ECONNREFUSED
        var address: UnsafeMutablePointer<addrinfo>? = first
        while let entry = address {
            address = entry.pointee.ai_next
            let socket = Glibc.socket(entry.pointee.ai_family, entry.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), entry.pointee.ai_protocol)
            guard socket >= 0 else { lastError = errno; continue }
            if connect(socket, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var poller = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                let remaining = max(0, Int32((deadline - Self.now()) * 1000))
                if poll(&poller, 1, remaining) == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error == 0 {
                        fd = socket
                        return
                    }
                    lastError = error
                } else {
                    lastError = ETIMEDOUT
                }
            } else {
                lastError = errno
            }
            close(socket)
        }
        throw GKPassError(.network, "cannot connect to \(endpoint) (\(String(cString: strerror(lastError))))")
    }

    deinit { close(fd) }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Writes all of `bytes` before `deadline` (monotonic seconds).
    public func send(_ bytes: [UInt8], deadline: Double) throws(GKPassError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let remaining = Int32((deadline - Self.now()) * 1000)
                guard remaining > 0, poll(&poller, 1, remaining) >= 0 else { throw GKPassError(.network, "\(endpoint) stopped reading (timed out)") }
                continue
            }
            throw GKPassError(.network, "the connection to \(endpoint) broke while sending (\(String(cString: strerror(errno))))")
        }
    }

    /// The next line from the server before `deadline`; nil when the server closed the connection.
    public func receive(deadline: Double) throws(GKPassError) -> IRCXMessage? {
        guard let line = try receiveLine(deadline: deadline) else { return nil }
        do { return try IRCXMessage(parsing: line) } catch {
            throw GKPassError(.network, "\(endpoint) sent a line that is not IRC (\(error))")
        }
    }

    /// The next raw line (without its terminator) before `deadline`; nil when the server closed the connection.
    public func receiveLine(deadline: Double) throws(GKPassError) -> [UInt8]? {
        while true {
            if let line = try bufferedLine() {
                if line.isEmpty { continue }
                return line
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32((deadline - Self.now()) * 1000)
            guard remaining > 0 else { throw GKPassError(.network, "\(endpoint) did not answer in time") }
            let ready = poll(&poller, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw GKPassError(.network, "\(endpoint) did not answer in time") }
            guard try fill() else { return nil }
        }
    }

    /// A complete line already received, if any.
    public func bufferedLine() throws(GKPassError) -> [UInt8]? {
        let line: [UInt8]?
        do { line = try framer.nextLine() } catch {
            throw GKPassError(.network, "\(endpoint) sent a line longer than IRCX allows")
        }
        if let line, let trace { trace("< " + Connect.printable(line)) }
        return line
    }

    /// Reads what the socket has (call when poll says readable). False when the server closed the connection.
    public func fill() throws(GKPassError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                framer.append(chunk[..<n])
                return true
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN { return true }
            throw GKPassError(.network, "the connection to \(endpoint) broke (\(String(cString: strerror(errno))))")
        }
    }

    /// The socket, for poll(2) by a relay.
    public var descriptor: Int32 { fd }
}
