import Foundation
import GKPassTestSupport
import GateKeeper
import Testing

/// `gkpass connect --room` against a server that floods between JOIN and its 366 (a raw IRCX listener in the test,
/// with the real GateKeeper server machine for AUTH), and a `--room` that would smuggle a second line.
@Suite("gkpass connect: a flooding server, a room with a line break (binary)", .serialized)
struct ConnectFloodTests {
    /// Lines the flood sends between JOIN and 366: every other one a 906 for a new PROP name, the rest PRIVMSGs of
    /// 200 bytes of text (about 3.7 MB in all).
    static let floodLines = 30_000

    /// A one-connection-at-a-time IRCX server on 127.0.0.1, port 0: AUTH GateKeeper through `GateKeeperServer`,
    /// 001 after NICK and USER, and after JOIN the flood, then 366. Serves `connections` clients, then stops.
    final class FloodServer: @unchecked Sendable {
        let listener: Int32
        let port: Int
        private let done = DispatchSemaphore(value: 0)

        init(connections: Int) throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
            guard bound == 0, listen(listener, 4) == 0 else {
                close(listener)
                throw ProxyTestError("cannot listen: \(errno)")
            }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
            self.listener = listener
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread.detachNewThread { [done] in
                for _ in 0..<connections {
                    let fd = accept(listener, nil, nil)
                    guard fd >= 0 else { break }
                    Self.serve(fd)
                    close(fd)
                }
                done.signal()
            }
        }

        /// Waits (bounded) for the serving thread, then closes the listener.
        func finish() {
            _ = done.wait(timeout: .now() + 30)
            close(listener)
        }

        static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }

        static func serve(_ fd: Int32) {
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var gatekeeper = GateKeeperServer(configuration: .init(serverName: Array("127.0.0.1".utf8)))
            var buffer: [UInt8] = []
            var nick = "*"
            var user = false
            while true {
                guard let newline = buffer.firstIndex(of: 0x0A) else {
                    var chunk = [UInt8](repeating: 0, count: 4096)
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard n > 0 else { return }
                    buffer += chunk[..<n]
                    continue
                }
                let line = Array(buffer[...newline])
                buffer.removeSubrange(...newline)
                guard let message = try? IRCXMessage(parsing: line) else { continue }
                switch message.commandName {
                case "AUTH":
                    switch gatekeeper.receive(message, challenge: Array(repeating: 0x41, count: 8), randomGUID: Array(repeating: 1, count: 16)) {
                    case .send(let reply), .authenticated(_, _, _, let reply), .reject(_, let reply, _):
                        guard send(fd, reply) else { return }
                    case .verifyPassport: return
                    }
                case "NICK": nick = String(decoding: message.parameters.first ?? [], as: UTF8.self)
                case "USER": user = true
                case "JOIN":
                    let room = String(decoding: message.parameters.first ?? [], as: UTF8.self)
                    var flood: [UInt8] = []
                    let text = String(repeating: "x", count: 200)
                    for index in 0..<ConnectFloodTests.floodLines {
                        flood += Array((index % 2 == 0 ? ":flood.test 906 \(nick) P\(index) :Bad value\r\n" : ":>other!u@h PRIVMSG \(room) :\(text)\r\n").utf8)
                        if flood.count > 65_536 {
                            guard send(fd, flood) else { return }
                            flood = []
                        }
                    }
                    flood += Array(":flood.test 366 \(nick) \(room) :End of /NAMES list\r\n".utf8)
                    guard send(fd, flood) else { return }
                case "QUIT": return
                default: break
                }
                if user && nick != "*" && message.commandName == "USER" {
                    guard send(fd, Array(":flood.test 001 \(nick) :Welcome\r\n".utf8)) else { return }
                }
            }
        }
    }

    @Test("a server that floods 906s and PRIVMSGs before its 366: connect keeps 64 lines and 16 PROP names, counts the rest, and joins")
    func flood() throws {
        let (context, environment) = try ConnectCommandTests.loggedIn()
        defer { withExtendedLifetime(context) {} }
        let server = try FloodServer(connections: 2)
        defer { server.finish() }
        let arguments = ["--guest", "--network", "v3", "--nick", "flooded", "--server", "127.0.0.1:\(server.port)", "--room", "%#Flood"]

        let json = try ConnectCommandTests.connect(arguments + ["--json", "-v"], environment)
        #expect(json.status == 0, "\(json.stderr.suffix(2000))")
        let object = try ConnectCommandTests.json(json)
        #expect(object["room"] as? String == "%#Flood" && object["nickname"] as? String == ">flooded", "\(object)")
        // The first 16 distinct names, in order; not the 15,000 the server sent.
        #expect(object["refused_props"] as? [String] == (0..<16).map { "P\($0 * 2)" }, "\(object)")
        // 001, the flood, 366: the window kept the first 64 and says so.
        #expect(json.stderr.contains("gkpass: kept the first 64 of \(Self.floodLines + 2) lines since registration (at most 64 lines, 16384 bytes)"),
                "\(json.stderr.suffix(2000))")

        let text = try ConnectCommandTests.connect(arguments, environment)
        #expect(text.status == 0, "\(text.stderr.suffix(2000))")
        #expect(String(decoding: text.stdout, as: UTF8.self).contains("as >flooded") && String(decoding: text.stdout, as: UTF8.self).contains("joined %#Flood"))
        let warnings = text.stderr.split(separator: "\n")
        #expect(warnings.count == 17, "\(text.stderr.prefix(4000))")
        #expect(warnings.first == "gkpass: warning: the server refused PROP P0")
        #expect(warnings.last == "gkpass: warning: the server refused \(Self.floodLines / 2 - 16) more PROPs (not listed)")
    }

    /// Exit 2 even without a stored ticket (which would be 3): the room is checked first, before any connection.
    @Test("--room with CR or LF (a second command), a space, a comma or nothing is refused with exit 2 and one line", arguments: [
        "%#Lobby\r\nQUIT", "%#Lobby\nPRIVMSG x :y", "%#Lobby\rJOIN #evil", "%#Two Words", "%#A,%#B", "",
    ])
    func roomWithLineBreak(room: String) throws {
        let context = try LoginCommandTests.Context()
        let environment = context.environment(keyring: false)
        for extra in [["--guest", "--network", "sandbox"], ["--json", "--guest", "--network", "sandbox"], []] {
            let result = try ConnectCommandTests.connect(extra + ["--room", room], environment)
            #expect(result.status == 2, "\(extra) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n", omittingEmptySubsequences: false).count == 2, "one line: \(result.stderr)")
            #expect(result.stderr.contains("--room takes one room name"), "\(result.stderr)")
        }
    }
}
