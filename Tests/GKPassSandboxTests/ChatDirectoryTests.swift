import GKPassSandbox
import Testing

/// The directory role of a several-server sandbox: FNV-1a of the lower-cased room name mod N, pins, FINDS's 613,
/// and rooms that belong to one server.
@Suite("Chat directory (in memory)")
struct ChatDirectoryTests {
    @Test("FNV-1a 32 matches the published vectors", arguments: [("", 0x811C_9DC5), ("a", 0xE40C_292C), ("foobar", 0xBF9C_F968)] as [(String, UInt32)])
    func fnv(input: String, expected: UInt32) {
        #expect(ChatDirectory.fnv1a32(Array(input.utf8)) == expected)
    }

    @Test("a room's server is the hash of its lower-cased name mod N; case does not move it; pins win")
    func spreadAndPins() {
        let directory = ChatDirectory(serverCount: 3)
        for name in ["%#TheLobby", "%#A", "%#Room42", "#plain", "%#JoséÜmlaut"] {
            let bytes = Array(name.utf8)
            let lowered = bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            #expect(directory.serverIndex(room: bytes) == Int(ChatDirectory.fnv1a32(lowered) % 3), "\(name)")
            #expect(directory.serverIndex(room: bytes) == directory.serverIndex(room: lowered), "\(name)")
        }
        let spread = Set((0..<60).map { directory.serverIndex(room: Array("%#Room\($0)".utf8)) })
        #expect(spread == [0, 1, 2], "sixty rooms land on every server")

        let natural = directory.serverIndex(room: Array("%#A".utf8))
        let pinned = ChatDirectory(serverCount: 3, pins: [Array("%#a".utf8): (natural + 1) % 3])
        #expect(pinned.serverIndex(room: Array("%#A".utf8)) == (natural + 1) % 3)
        #expect(ChatDirectory(serverCount: 3, pins: [Array("%#A".utf8): 7]).serverIndex(room: Array("%#A".utf8)) == natural, "a pin past the last server is ignored")
        #expect(ChatDirectory(serverCount: 1).serverIndex(room: Array("%#A".utf8)) == 0)
        #expect(ChatDirectory(serverCount: 99).serverCount == ChatDirectory.maximumServers)
    }

    @Test("FINDS answers 613 with the server the directory names, on any server")
    func findsNamesTheServer() throws {
        var configuration = SandboxConfiguration(ircxPort: 7000)
        configuration.directory = ChatDirectory(serverCount: 3, pins: [Array("%#A".utf8): 2])
        configuration.chatServers = (0..<3).map { ChatServerAddress(host: "127.0.0.1", port: 7000 + $0, name: ChatServerAddress.name(index: $0, serverName: "127.0.0.1")) }
        let h = IRCXSessionTests.Harness(configuration)
        let (s, c) = h.connect()
        _ = try h.authenticate(s, c, package: .gateKeeper)
        h.feed(s, "FINDS %#A")
        #expect(c.take() == [":127.0.0.1 613 * :127.0.0.1 7002"])
        let lobby = configuration.directory.serverIndex(room: Array("%#TheLobby".utf8))
        h.feed(s, "FINDS %#thelobby")
        #expect(c.take() == [":127.0.0.1 613 * :127.0.0.1 \(7000 + lobby)"])
        h.feed(s, "FINDS nonsense")
        #expect(c.take() == [":127.0.0.1 702 * :Channel not found"])
        #expect(configuration.chatServers.map(\.name) == ["127.0.0.1", "chat1.sandbox.test", "chat2.sandbox.test"])
    }

    @Test("each server has its own nicknames and rooms: one nickname on two servers, %#A on each a different room")
    func serversAreSeparate() throws {
        let configuration = SandboxConfiguration(ircxPort: 7000)
        let zero = IRCXSessionTests.Harness(configuration)
        let two = IRCXSessionTests.Harness(configuration, network: ChatNetwork(name: "chat2.sandbox.test", index: 2))
        let (a0, c0) = zero.connect(), (a2, c2) = two.connect(), (b2, d2) = two.connect()
        for (h, s, c, nick) in [(zero, a0, c0, ">Ann"), (two, a2, c2, ">Ann"), (two, b2, d2, ">Ben")] {
            _ = try h.authenticate(s, c, package: .gateKeeper)
            h.feed(s, "NICK \(nick)")
            h.feed(s, "USER x 0 * :x")
            #expect(c.take().first?.contains(" 001 ") == true, "the same nickname on two servers")
        }
        zero.feed(a0, "JOIN %#A")
        two.feed(a2, "JOIN %#A")
        two.feed(b2, "JOIN %#A")
        #expect(c0.take().contains(":127.0.0.1 353 >Ann = %#A :.>Ann"))
        #expect(d2.take().contains(":chat2.sandbox.test 353 >Ben = %#A :.>Ann >Ben"))
        _ = c2.take()
        two.feed(b2, "PRIVMSG %#A :on server two")
        #expect(c2.take() == [":>Ben!D6976AC3D30A4249B16807102BBA1896@GateKeeper PRIVMSG %#A :on server two"])
        #expect(c0.take().isEmpty, "%#A on server 0 is another room")
        two.feed(b2, "PING x")
        #expect(d2.take() == [":chat2.sandbox.test PONG chat2.sandbox.test :x"])
    }
}
