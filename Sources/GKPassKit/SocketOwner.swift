internal import Glibc
internal import GKText

/// One end of a TCP connection: family, address bytes in network order (4 or 16), port.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Family: Sendable, Equatable { case ipv4, ipv6 }
    public var family: Family
    /// 4 bytes (IPv4) or 16 (IPv6), network order, as in `sin_addr` / `sin6_addr`.
    public var address: [UInt8]
    public var port: UInt16

    public init(family: Family, address: [UInt8], port: UInt16) {
        precondition(address.count == (family == .ipv4 ? 4 : 16))
        self.family = family
        self.address = address
        self.port = port
    }

    /// From a `sockaddr_in` / `sockaddr_in6` as the kernel wrote it; nil for other families.
    init?(_ storage: sockaddr_storage) {
        var storage = storage
        let bytes = withUnsafeBytes(of: &storage) { Array($0) }
        let port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        switch Int32(storage.ss_family) {
        case AF_INET: self.init(family: .ipv4, address: Array(bytes[4..<8]), port: port)
        case AF_INET6: self.init(family: .ipv6, address: Array(bytes[8..<24]), port: port)
        default: return nil
        }
    }

    /// 127.0.0.0/8, ::1, or ::ffff:127.x.y.z.
    public var isLoopback: Bool {
        switch family {
        case .ipv4: return address[0] == 127
        case .ipv6:
            if address == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF && address[12] == 127
        }
    }

    /// `::ffff:a.b.c.d` as the IPv4 address it maps; nil for anything else.
    public var unmappedIPv4: SocketAddress? {
        guard family == .ipv6, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF else { return nil }
        return SocketAddress(family: .ipv4, address: Array(address[12..<16]), port: port)
    }

    public var description: String {
        switch family {
        case .ipv4: return address.map(String.init).joined(separator: ".") + ":\(port)"
        case .ipv6:
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: address) }
            inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            return "[" + String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "]:\(port)"
        }
    }
}

/// The kernel's sock_diag for INET sockets (linux/inet_diag.h), as identd and `ss -e` use it: ask for the one
/// socket with a given 4-tuple and read `idiag_uid`, the UID that created it. Pure bytes in, bytes out; the netlink
/// socket is in ``SocketOwner``.
///
/// Request: `struct nlmsghdr` (16 bytes: len, type SOCK_DIAG_BY_FAMILY = 20, flags NLM_F_REQUEST, seq, pid 0) +
/// `struct inet_diag_req_v2` (56 bytes: family, IPPROTO_TCP, no extensions, pad, states, `inet_diag_sockid`).
/// `inet_diag_sockid` is sport, dport (network order), src[16], dst[16], interface, cookie[2]; without NLM_F_DUMP
/// the kernel looks the socket up whose *local* end is src:sport and remote end dst:dport
/// (`inet_diag_find_one_icsk`). The cookie INET_DIAG_NOCOOKIE (all ones) matches any socket.
/// Reply: `nlmsghdr` + `struct inet_diag_msg` (family, state, timer, retrans, sockid (48), expires, rqueue,
/// wqueue, uid, inode) + attributes; or NLMSG_ERROR (type 2) with a negative errno.
public enum InetDiag {
    public static let netlinkSockDiag: Int32 = 4  // NETLINK_SOCK_DIAG
    static let sockDiagByFamily: UInt16 = 20  // SOCK_DIAG_BY_FAMILY
    static let nlmsgError: UInt16 = 2  // NLMSG_ERROR
    static let nlmFRequest: UInt16 = 1  // NLM_F_REQUEST
    static let headerLength = 16
    static let requestLength = 56
    static let messageLength = 72  // inet_diag_msg without attributes
    static let familyIPv4: UInt8 = 2  // AF_INET
    static let familyIPv6: UInt8 = 10  // AF_INET6
    static let protocolTCP: UInt8 = 6  // IPPROTO_TCP

    public enum Reply: Sendable, Equatable {
        /// The socket's owner (`idiag_uid`).
        case owner(UInt32)
        /// The kernel said no: ENOENT (no such socket), EPERM, ...
        case error(Int32)
    }

    public struct MalformedReply: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The request for the socket whose local end is `local` and remote end `remote` (both of one family).
    public static func request(local: SocketAddress, remote: SocketAddress, sequence: UInt32) -> [UInt8] {
        precondition(local.family == remote.family)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + requestLength)
        appendNative(UInt32(headerLength + requestLength), to: &bytes)
        appendNative(sockDiagByFamily, to: &bytes)
        appendNative(nlmFRequest, to: &bytes)
        appendNative(sequence, to: &bytes)
        appendNative(UInt32(0), to: &bytes)  // nlmsg_pid: the kernel
        bytes += [local.family == .ipv4 ? familyIPv4 : familyIPv6, protocolTCP, 0, 0]
        appendNative(UInt32.max, to: &bytes)  // idiag_states: any
        bytes += sockID(local: local, remote: remote)
        return bytes
    }

    /// The owner named by a reply to ``request(local:remote:sequence:)`` with `sequence`, checking that the reply
    /// is about that very socket.
    public static func reply(_ bytes: [UInt8], sequence: UInt32, local: SocketAddress, remote: SocketAddress) throws(MalformedReply) -> Reply {
        guard bytes.count >= headerLength else { throw MalformedReply(description: "a reply of \(bytes.count) bytes") }
        let length = Int(native(UInt32.self, bytes, 0))
        let type = native(UInt16.self, bytes, 4)
        guard length >= headerLength, length <= bytes.count else { throw MalformedReply(description: "a message length of \(length) in \(bytes.count) bytes") }
        guard native(UInt32.self, bytes, 8) == sequence else { throw MalformedReply(description: "a reply to another request") }
        if type == nlmsgError {
            guard length >= headerLength + 4 else { throw MalformedReply(description: "a short error message") }
            return .error(-Int32(bitPattern: native(UInt32.self, bytes, headerLength)))
        }
        guard type == sockDiagByFamily else { throw MalformedReply(description: "message type \(type)") }
        guard length >= headerLength + messageLength else { throw MalformedReply(description: "a short inet_diag_msg (\(length) bytes)") }
        let body = headerLength
        guard bytes[body] == (local.family == .ipv4 ? familyIPv4 : familyIPv6),
            Array(bytes[(body + 4)..<(body + 40)]) == Array(sockID(local: local, remote: remote)[0..<36])
        else { throw MalformedReply(description: "a reply about another socket") }
        return .owner(native(UInt32.self, bytes, body + 4 + 48 + 12))
    }

    /// `inet_diag_sockid`: ports and addresses in network order, interface 0, INET_DIAG_NOCOOKIE.
    static func sockID(local: SocketAddress, remote: SocketAddress) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(local.port >> 8), UInt8(local.port & 0xFF), UInt8(remote.port >> 8), UInt8(remote.port & 0xFF)]
        bytes += local.address + [UInt8](repeating: 0, count: 16 - local.address.count)
        bytes += remote.address + [UInt8](repeating: 0, count: 16 - remote.address.count)
        appendNative(UInt32(0), to: &bytes)
        appendNative(UInt32.max, to: &bytes)
        appendNative(UInt32.max, to: &bytes)
        return bytes
    }

    static func appendNative<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    static func native<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<(offset + MemoryLayout<T>.size)]) }
        return value
    }
}

/// `/proc/net/tcp` and `/proc/net/tcp6`: one row per socket, `sl local_address rem_address st ... uid ...`, where
/// an address is each 32-bit word of it printed `%08X` as the host stores it, then `:%04X` of the port. The owner
/// of a connection's peer socket is the uid of the row whose local address is the peer and remote address is us.
public enum ProcNetTCP {
    /// The uid column of the row for the socket with local end `local` and remote end `remote`; nil if none.
    public static func owner(in table: String, local: SocketAddress, remote: SocketAddress, littleEndian: Bool = 1.littleEndian == 1) -> UInt32? {
        let wantLocal = text(local, littleEndian: littleEndian)
        let wantRemote = text(remote, littleEndian: littleEndian)
        for row in table.split(separator: "\n").dropFirst() {
            let fields = row.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, fields[1].uppercased() == wantLocal, fields[2].uppercased() == wantRemote else { continue }
            return UInt32(fields[7])
        }
        return nil
    }

    /// `0100007F:1F90` for 127.0.0.1:8080 on a little-endian host.
    static func text(_ address: SocketAddress, littleEndian: Bool) -> String {
        var text = ""
        var index = 0
        while index < address.address.count {
            let word = Array(address.address[index..<(index + 4)])
            text += Hex.encode(littleEndian ? word.reversed() : word)
            index += 4
        }
        return text + ":" + Hex.encode([UInt8(address.port >> 8), UInt8(address.port & 0xFF)])
    }
}

/// Who is on the other end of an accepted connection: the I/O edge around ``InetDiag`` and ``ProcNetTCP``.
public enum SocketOwner {
    public enum Method: String, Sendable { case netlink = "sock_diag", procNet = "/proc/net", peerCredentials = "SO_PEERCRED" }

    /// The UID that owns the peer of the accepted TCP socket `fd` (which must be on loopback for the answer to
    /// mean anything): sock_diag first, `/proc/net/tcp[6]` where netlink is not allowed. Nil when neither knows the
    /// socket (it was closed meanwhile, or both are denied): refuse then.
    public static func tcpPeer(of fd: Int32, methods: [Method] = [.netlink, .procNet]) -> (uid: UInt32, method: Method)? {
        guard var local = address(fd, peer: false), var peer = address(fd, peer: true), local.family == peer.family else { return nil }
        // An IPv4 client of a dual-stack listener: its own socket is AF_INET, in the IPv4 tables.
        if let local4 = local.unmappedIPv4, let peer4 = peer.unmappedIPv4 { (local, peer) = (local4, peer4) }
        for method in methods {
            switch method {
            case .netlink: if let uid = netlinkOwner(local: peer, remote: local) { return (uid, method) }
            case .procNet: if let uid = procNetOwner(local: peer, remote: local) { return (uid, method) }
            case .peerCredentials: continue
            }
        }
        return nil
    }

    /// The UID of the process at the other end of the Unix socket `fd`, from SO_PEERCRED (`struct ucred`: pid, uid,
    /// gid as 32-bit values).
    public static func unixPeer(of fd: Int32) -> UInt32? {
        var credentials: (Int32, UInt32, UInt32) = (0, UInt32.max, UInt32.max)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, length == 12 else { return nil }
        return credentials.1
    }

    static func address(_ fd: Int32, peer: Bool) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length) }
        }
        return status == 0 ? SocketAddress(storage) : nil
    }

    /// Asks NETLINK_SOCK_DIAG for the socket `local` -> `remote`; nil when netlink is denied or does not know it.
    public static func netlinkOwner(local: SocketAddress, remote: SocketAddress) -> UInt32? {
        let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), InetDiag.netlinkSockDiag)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let sequence = UInt32.random(in: 1...UInt32.max)
        let request = InetDiag.request(local: local, remote: remote, sequence: sequence)
        // No address: a netlink socket sends to the kernel (port 0) by default.
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            guard case .owner(let uid)? = try? InetDiag.reply(Array(buffer[..<n]), sequence: sequence, local: local, remote: remote) else { return nil }
            return uid
        }
    }

    /// Looks the socket `local` -> `remote` up in `/proc/net/tcp` or `tcp6`.
    public static func procNetOwner(local: SocketAddress, remote: SocketAddress) -> UInt32? {
        guard let table = readFile(local.family == .ipv4 ? "/proc/net/tcp" : "/proc/net/tcp6") else { return nil }
        return ProcNetTCP.owner(in: table, local: local, remote: remote)
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            data += chunk[..<n]
            // A table of a million sockets is 150 MB; bound the read.
            if data.count > 64 << 20 { return nil }
        }
        return String(decoding: data, as: UTF8.self)
    }
}
