import Glibc
import Testing
import TicketStore

@testable import GKPassKit

/// Who owns the other end of a proxy client's connection: the sock_diag encoding against bytes the kernel really
/// sent, /proc/net/tcp rows, and both lookups on a live loopback connection.
@Suite("SocketOwner, ProxyAccess, OutboundQueue")
struct SocketOwnerTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    // Captured on Linux 6.x (x86_64): a connection from 127.0.0.1:35278 (a socket of uid 1001) to a listener on
    // 127.0.0.1:42087, looked up with sequence 0x01020304. Request built by Python's struct module as ss does;
    // the reply is the kernel's, attributes (shutdown, cgroup, sockopt) and all.
    static let peer = SocketAddress(family: .ipv4, address: [127, 0, 0, 1], port: 35278)
    static let listener = SocketAddress(family: .ipv4, address: [127, 0, 0, 1], port: 42087)
    static let capturedRequest = bytes(
        "4800000014000100040302010000000002060000ffffffff89cea4677f0000010000000000000000000000007f00000100000000000000000000000000000000ffffffffffffffff")
    static let capturedReply = bytes(
        "7c0000001400000004030201f10d00000201000089cea4677f0000010000000000000000000000007f000001000000000000000000000000000000000110000000000000000000000000000000000000e9030000f9f30900050008000000000008000f00000000000c00150001000000000000000600160052000000")

    @Test("the request is the kernel's inet_diag_req_v2 for the peer's 4-tuple, byte for byte")
    func request() {
        #expect(InetDiag.request(local: Self.peer, remote: Self.listener, sequence: 0x0102_0304) == Self.capturedRequest)
    }

    @Test("the reply's idiag_uid is the owner; another sequence, another socket or a short reply is refused")
    func reply() throws {
        #expect(try InetDiag.reply(Self.capturedReply, sequence: 0x0102_0304, local: Self.peer, remote: Self.listener) == .owner(1001))
        #expect(throws: InetDiag.MalformedReply.self) { try InetDiag.reply(Self.capturedReply, sequence: 7, local: Self.peer, remote: Self.listener) }
        var other = Self.peer
        other.port += 1
        #expect(throws: InetDiag.MalformedReply.self) { try InetDiag.reply(Self.capturedReply, sequence: 0x0102_0304, local: other, remote: Self.listener) }
        for length in [0, 15, 16, 80, 87] {
            var short = Array(Self.capturedReply.prefix(length))
            if short.count >= 4 { short[0] = UInt8(length) }
            #expect(throws: InetDiag.MalformedReply.self, "\(length) bytes") {
                try InetDiag.reply(short, sequence: 0x0102_0304, local: Self.peer, remote: Self.listener)
            }
        }
        // A length field that claims more than was received.
        var long = Self.capturedReply
        long[0] = 0xFF
        #expect(throws: InetDiag.MalformedReply.self) { try InetDiag.reply(long, sequence: 0x0102_0304, local: Self.peer, remote: Self.listener) }
    }

    @Test("NLMSG_ERROR carries the errno: ENOENT when no socket has that 4-tuple")
    func errorReply() throws {
        // nlmsghdr (36, NLMSG_ERROR, 0x100 capped, seq, pid) + int error (-2) + the request's header.
        let reply = Self.bytes("24000000020000010403020100000000feffffff" + "48000000140001000403020100000000")
        #expect(try InetDiag.reply(reply, sequence: 0x0102_0304, local: Self.peer, remote: Self.listener) == .error(ENOENT))
    }

    @Test("the request for IPv6 puts the 16-byte addresses in src and dst")
    func requestIPv6() {
        let local = SocketAddress(family: .ipv6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0x1234)
        let remote = SocketAddress(family: .ipv6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0x1A0B)
        let request = InetDiag.request(local: local, remote: remote, sequence: 9)
        #expect(request.count == 72)
        #expect(request[16] == 10 && request[17] == 6)
        #expect(Array(request[24..<28]) == [0x12, 0x34, 0x1A, 0x0B])
        #expect(request[43] == 1 && request[59] == 1)
        #expect(Array(request[64..<72]) == [UInt8](repeating: 0xFF, count: 8))
    }

    static let tcpTable = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:A467 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 549 1 0000000000000000 100 0 0 10 0
           1: 0100007F:89CE 0100007F:A467 01 00000000:00000000 00:00000000 00000000  1001        0 652153 1 0000000000000000 20 4 30 10 -1
           2: 0100007F:A467 0100007F:89CE 01 00000000:00000000 00:00000000 00000000     0        0 652154 1 0000000000000000 20 4 30 10 -1

        """

    @Test("/proc/net/tcp: the uid of the row whose local address is the peer (host order words, little- or big-endian)")
    func procNetTCP() {
        #expect(ProcNetTCP.owner(in: Self.tcpTable, local: Self.peer, remote: Self.listener, littleEndian: true) == 1001)
        #expect(ProcNetTCP.owner(in: Self.tcpTable, local: Self.listener, remote: Self.peer, littleEndian: true) == 0)
        var gone = Self.peer
        gone.port = 1
        #expect(ProcNetTCP.owner(in: Self.tcpTable, local: gone, remote: Self.listener, littleEndian: true) == nil)
        #expect(ProcNetTCP.text(Self.peer, littleEndian: false) == "7F000001:89CE")
        #expect(ProcNetTCP.owner(in: Self.tcpTable, local: Self.peer, remote: Self.listener, littleEndian: false) == nil)
    }

    @Test("/proc/net/tcp6: four words per address")
    func procNetTCP6() {
        let table = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000000000000000000001000000:D431 00000000000000000000000001000000:1A0B 01 00000000:00000000 00:00000000 00000000  1002        0 1 1 0 20 4 30 10 -1
            """
        let local = SocketAddress(family: .ipv6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0xD431)
        let remote = SocketAddress(family: .ipv6, address: [UInt8](repeating: 0, count: 15) + [1], port: 0x1A0B)
        #expect(ProcNetTCP.owner(in: table, local: local, remote: remote, littleEndian: true) == 1002)
    }

    @Test("loopback and v4-mapped addresses")
    func loopback() {
        #expect(SocketAddress(family: .ipv4, address: [127, 1, 2, 3], port: 1).isLoopback)
        #expect(!SocketAddress(family: .ipv4, address: [10, 0, 0, 1], port: 1).isLoopback)
        #expect(SocketAddress(family: .ipv6, address: [UInt8](repeating: 0, count: 15) + [1], port: 1).isLoopback)
        let mapped = SocketAddress(family: .ipv6, address: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1], port: 5)
        #expect(mapped.isLoopback && mapped.unmappedIPv4 == SocketAddress(family: .ipv4, address: [127, 0, 0, 1], port: 5))
        #expect(!SocketAddress(family: .ipv6, address: [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [1], port: 1).isLoopback)
    }

    /// A connected pair on loopback: the accepted socket (the proxy's side) and the client.
    static func connectedPair(family: Int32) -> (accepted: Int32, client: Int32)? {
        let listener = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        var storage = sockaddr_storage()
        var length: socklen_t
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            withUnsafeBytes(of: address) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            withUnsafeBytes(of: address) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let bound = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 1) == 0 else { close(listener); return nil }
        defer { close(listener) }
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let client = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) } }
        guard connected == 0 else { close(client); return nil }
        return (accept(listener, nil, nil), client)
    }

    @Test("live: sock_diag and /proc/net/tcp both name this process's UID as the owner of the client socket", arguments: [AF_INET, AF_INET6])
    func live(family: Int32) throws {
        guard let (accepted, client) = Self.connectedPair(family: family) else {
            #expect(family == AF_INET6, "IPv4 loopback must work")
            return  // no IPv6 loopback here
        }
        defer { close(accepted); close(client) }
        let netlink = SocketOwner.tcpPeer(of: accepted, methods: [.netlink])
        #expect(netlink?.uid == getuid() && netlink?.method == .netlink, "\(String(describing: netlink))")
        let proc = SocketOwner.tcpPeer(of: accepted, methods: [.procNet])
        #expect(proc?.uid == getuid() && proc?.method == .procNet, "\(String(describing: proc))")
    }

    @Test("the proxy password: equal bytes only; shorter, longer, empty and one-byte-off are refused")
    func password() {
        let secret = SecretBytes(Array("correct horse".utf8))
        #expect(ProxyAccess.passwordMatches(Array("correct horse".utf8), secret))
        for wrong in ["correct hors", "correct horse ", "", "Correct horse", "correct horsf", "correct horse\u{0}"] {
            #expect(!ProxyAccess.passwordMatches(Array(wrong.utf8), secret), "\(wrong)")
        }
        #expect(ProxyAccess.passwordMatches([], SecretBytes([UInt8]())))
        #expect(!ProxyAccess.passwordMatches([0], SecretBytes([UInt8]())))
    }

    @Test("PASS names an account only on loopback and only when it is a stored account exactly")
    func account() {
        let stored = { ["demo@passport.test", "user1@passport.test"] }
        #expect(ProxyAccess.account(pass: "user1@passport.test", storedAccounts: stored, defaultAccount: nil, remote: false) == "user1@passport.test")
        #expect(ProxyAccess.account(pass: "USER1@passport.test", storedAccounts: stored, defaultAccount: "d", remote: false) == "d")
        #expect(ProxyAccess.account(pass: "hunter2", storedAccounts: stored, defaultAccount: nil, remote: false) == nil)
        #expect(ProxyAccess.account(pass: "user1@passport.test", storedAccounts: stored, defaultAccount: "d", remote: true) == "d")
    }

    @Test("the outbound queue writes what the socket takes, keeps the rest, and says when it is over its limit")
    func queue() {
        var queue = OutboundQueue(limit: 10)
        queue.append(Array("0123456789AB".utf8))
        #expect(queue.isOverLimit)
        var written: [UInt8] = []
        var budget = 5  // the socket takes five bytes, then would block
        #expect(queue.flush { bytes in
            let n = min(budget, bytes.count)
            written += bytes.prefix(n)
            budget -= n
            return n
        })
        #expect(written == Array("01234".utf8) && queue.count == 7 && !queue.isOverLimit)
        #expect(queue.flush { written += $0; return $0.count })
        #expect(written == Array("0123456789AB".utf8) && queue.isEmpty)
        queue.append([1, 2, 3])
        #expect(!queue.flush { _ in -1 })
        #expect(queue.takeAll() == [1, 2, 3] && queue.isEmpty)
    }
}
