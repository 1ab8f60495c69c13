import GKPassTestSupport
import Foundation
import Testing

/// The real binary with several chat servers, driven by raw sockets: the directory's 613 names the server, and two
/// guests meet in the room there. Guests answer GateKeeper v2 with published vector 1 (the challenge is fixed at
/// zeros; v2 does not hash the host), never with gkpass's own code.
@Suite("gkpass-sandbox --chat-servers (real binary, raw sockets)", .serialized)
struct ChatServersEndToEndTests {
    /// A guest on `port`, registered as `nick` with `guid` (v2, published vector 1).
    static func guest(port: Int, nick: String, guid: UInt8) throws -> LineSocket {
        let socket = try LineSocket(port: port)
        socket.send(SandboxEndToEndTests.authLine("GateKeeper", "I", SandboxEndToEndTests.header(version: 2, sequence: 1)))
        _ = socket.line()
        let answer = SandboxEndToEndTests.header(version: 2, sequence: 3) + SandboxEndToEndTests.publishedV2 + [UInt8](repeating: guid, count: 16)
        socket.send(SandboxEndToEndTests.authLine("GateKeeper", "S", answer))
        #expect(socket.text()?.hasPrefix("AUTH GateKeeper * ") == true)
        socket.send("NICK \(nick)")
        socket.send("USER guest 0 * :\(nick)")
        #expect(socket.expect(" 376 ") != nil, "\(nick) registered on \(port)")
        return socket
    }

    @Test("--chat-servers 3 --room %#A=2: endpoints list three servers, FINDS names server 2, two guests talk there")
    func threeServers() throws {
        let sandbox = try SandboxProcess(["--chat-servers", "3", "--room", "%#A=2", "--fixed-challenge", "0000000000000000"])
        defer { sandbox.stop() }
        let servers = try #require(sandbox.endpoints["chat_servers"] as? [[String: Any]])
        #expect(servers.count == 3)
        let ports = servers.compactMap { $0["port"] as? Int }
        #expect(Set(ports).count == 3 && ports.allSatisfy { $0 > 0 })
        #expect(ports.first == sandbox.ircxPort, "server 0 is the ircx of old")
        #expect((sandbox.endpoints["directory"] as? [String: Any])?["port"] as? Int == sandbox.ircxPort)
        #expect(servers.map { $0["name"] as? String } == ["127.0.0.1", "chat1.sandbox.test", "chat2.sandbox.test"])

        let directory = try Self.guest(port: sandbox.ircxPort, nick: ">Finder", guid: 0x11)
        directory.send("FINDS %#A")
        let found = try #require(directory.expect(" 613 "))
        #expect(found == ":127.0.0.1 613 >Finder :127.0.0.1 \(ports[2])")
        let port = try #require(Int(found.split(separator: " ").last ?? ""))

        let ann = try Self.guest(port: port, nick: ">Ann", guid: 0x22)
        let ben = try Self.guest(port: port, nick: ">Ben", guid: 0x33)
        ann.send("JOIN %#A")
        #expect(ann.expect(" 366 ") == ":chat2.sandbox.test 366 >Ann %#A :End of /NAMES list.")
        ben.send("JOIN %#A")
        #expect(ben.expect(" 353 ") == ":chat2.sandbox.test 353 >Ben = %#A :.>Ann >Ben")
        _ = ben.expect(" 366 ")
        // A guest in %#A on server 0 is in another room and hears nothing of server 2's.
        directory.send("JOIN %#A")
        _ = directory.expect(" 366 ")
        ann.send("PRIVMSG %#A :hello from Ann")
        #expect(ben.expect("PRIVMSG") == ":>Ann!22222222222222222222222222222222@GateKeeper PRIVMSG %#A :hello from Ann")
        ben.send("PRIVMSG %#A :hi Ann")
        #expect(ann.expect("PRIVMSG") == ":>Ben!33333333333333333333333333333333@GateKeeper PRIVMSG %#A :hi Ann")
        directory.send("PING :after")
        #expect(directory.expect("PONG") == ":127.0.0.1 PONG 127.0.0.1 :after", "nothing from server 2's room came before it")
        #expect(sandbox.isRunning)
        #expect(sandbox.log.contains("ircx chat-server index=2 name=chat2.sandbox.test port=\(ports[2])"))
    }

    @Test("restart-chat 1 on stdin: server 1's connections close, its rooms are forgotten, it listens again on its port; server 0 stays")
    func restartOne() throws {
        let sandbox = try SandboxProcess(["--chat-servers", "2", "--fixed-challenge", "0000000000000000"], commands: true)
        defer { sandbox.stop() }
        let ports = try #require((sandbox.endpoints["chat_servers"] as? [[String: Any]])?.compactMap { $0["port"] as? Int })
        let stay = try Self.guest(port: ports[0], nick: ">Stay", guid: 0x11)
        let ann = try Self.guest(port: ports[1], nick: ">Ann", guid: 0x22)
        ann.send("JOIN %#Here")
        _ = ann.expect(" 366 ")
        sandbox.restartChat(1, seconds: 0.5)
        #expect(ann.isClosedByPeer(), "server 1's connections are closed")
        #expect(sandbox.waitListening(1), "\(sandbox.log)")
        #expect(sandbox.log.contains("ircx chat-server index=1 listening again port=\(ports[1])"))
        // A new connection on the same port finds no trace of the room: a fresh server.
        let ben = try Self.guest(port: ports[1], nick: ">Ben", guid: 0x33)
        ben.send("JOIN %#Here")
        #expect(ben.expect(" 353 ") == ":chat1.sandbox.test 353 >Ben = %#Here :.>Ben")
        // Server 0 never noticed.
        stay.send("PING :still")
        #expect(stay.expect("PONG") == ":127.0.0.1 PONG 127.0.0.1 :still")
        #expect(sandbox.isRunning)
    }

    @Test("--help documents the chat-server flags, the hash, endpoints' chat_servers, and the required account fields")
    func help() throws {
        let binary = SandboxProcess.binDirectory.appendingPathComponent("gkpass-sandbox").path
        let help = try Run.program(binary, ["--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for phrase in ["--chat-servers <n>", "--room <room=index>", "FNV-1a (32-bit)", "chat_servers", "chatN.sandbox.test",
                       "Required: member", "Optional: subscriber", "member, password, nickname and puid required", "1024 *",
                       "restart-chat INDEX [SECONDS]", "--stdin-commands", "--event-loops"] {
            #expect(help.contains(phrase), "\(phrase)")
        }
    }

    @Test("--chat-servers, --room and --event-loops refuse values out of range")
    func refusals() throws {
        let binary = SandboxProcess.binDirectory.appendingPathComponent("gkpass-sandbox").path
        for arguments in [["--chat-servers", "0"], ["--chat-servers", "17"], ["--chat-servers", "2", "--room", "%#A=2"], ["--room", "nonsense=0"],
                          ["--event-loops", "0"], ["--event-loops", "257"]] {
            let run = try Run.program(binary, arguments)
            #expect(run.status != 0 && run.stderr.contains("--"), "\(arguments): \(run.stderr)")
        }
    }
}
