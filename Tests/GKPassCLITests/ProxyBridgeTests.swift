import Foundation
import GKPassTestSupport
import Testing

/// `gkpass proxy` as a bridge: one raw-socket client, rooms on two of the sandbox's chat servers, and restarts of
/// each (the sandbox's `restart-chat` on stdin).
@Suite("gkpass proxy: one client, rooms on two chat servers, server restarts (binary, sandbox --chat-servers 2)", .serialized)
struct ProxyBridgeTests {
    typealias ProxyProcess = ProxyCommandTests.ProxyProcess

    /// Lines until one contains `fragment` (that one included); nil when it never came. `patience`: how many 10 s
    /// silences to sit out (a reconnection can meet one login attempt that runs into the proxy's --timeout).
    static func lines(_ socket: LineSocket, until fragment: String, limit: Int = 100, patience: Int = 1) -> [String]? {
        var seen: [String] = []
        for _ in 0..<limit {
            guard let line = socket.text(patience: patience) else { return nil }
            seen.append(line)
            if line.contains(fragment) { return seen }
        }
        return nil
    }

    /// How often `nick` is shown leaving `room`: its QUIT, or the proxy's PART after a rejoin.
    static func departures(of nick: String, from room: String, in lines: [String]) -> Int {
        lines.filter {
            $0.hasPrefix(":\(nick)!") && $0.contains(" QUIT ")
                || $0 == ":\(nick) PART \(room) :not in the room when gkpass rejoined it"
        }.count
    }

    @Test("one connection joins %#TheLobby (server 0) and %#Far (server 1), chats both ways in each, and survives a restart of either server")
    func twoServers() throws {
        let context = try LoginCommandTests.Context(["--chat-servers", "2", "--room", "%#TheLobby=0", "--room", "%#Far=1"], commands: true)
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        let ports = try #require((context.sandbox.endpoints["chat_servers"] as? [[String: Any]])?.compactMap { $0["port"] as? Int })
        // --timeout 5: a reconnection attempt that meets a server still starting gives up in 5 s, not 30.
        let proxy = try ProxyProcess(["--timeout", "5"], environment: context.environment(keyring: false))
        let lobbyist = try ProxyCommandTests.guest(port: ports[0], nick: ">lobbyist", room: "%#TheLobby")
        let faraway = try ProxyCommandTests.guest(port: ports[1], nick: ">faraway", room: "%#Far")

        let client = try LineSocket(port: proxy.port)
        client.send("NICK someone")
        client.send("USER u 0 * :u")
        #expect(client.expect(" 376 ") != nil)
        // One comma JOIN, two servers.
        client.send("JOIN %#TheLobby,%#Far")
        var joined: [String] = []
        for _ in 0..<40 where joined.filter({ $0.contains(" 366 ") }).count < 2 {
            guard let line = client.text() else { break }
            joined.append(line)
        }
        #expect(joined.contains { $0.hasPrefix(":Demo!") && $0.contains("JOIN") && $0.contains("%#TheLobby") }, "\(joined) \(proxy.stderr)")
        #expect(joined.contains { $0.hasPrefix(":Demo!") && $0.contains("JOIN") && $0.contains("%#Far") }, "\(joined) \(proxy.stderr)")
        #expect(joined.contains { $0.hasPrefix(":chat1.sandbox.test 353 Demo = %#Far :") && $0.contains(">faraway") }, "\(joined)")
        #expect(lobbyist.expect("JOIN")?.hasPrefix(":Demo!") == true)
        #expect(faraway.expect("JOIN")?.hasPrefix(":Demo!") == true)
        #expect(proxy.stderr.contains("registered on 127.0.0.1:\(ports[1])"), "\(proxy.stderr)")

        // Both ways, in each room, and a private message to a nick only the far server knows.
        client.send("PRIVMSG %#TheLobby :hello lobby")
        #expect(lobbyist.expect("hello lobby")?.hasPrefix(":Demo!") == true)
        client.send("PRIVMSG %#Far :hello far")
        #expect(faraway.expect("hello far")?.hasPrefix(":Demo!") == true)
        lobbyist.send("PRIVMSG %#TheLobby :hi from the lobby")
        #expect(client.expect("hi from the lobby")?.hasSuffix("PRIVMSG %#TheLobby :hi from the lobby") == true)
        faraway.send("PRIVMSG %#Far :hi from afar")
        #expect(client.expect("hi from afar")?.hasSuffix("PRIVMSG %#Far :hi from afar") == true)
        client.send("PRIVMSG >faraway :psst")
        #expect(faraway.expect("psst") == ":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG >faraway :psst")

        // Server 1 restarts: a NOTICE in %#Far when it goes and when it is back, and no second JOIN.
        context.sandbox.restartChat(1, seconds: 1)
        let lostLines = Self.lines(client, until: "NOTICE %#Far") ?? []
        let lost = lostLines.last
        #expect(lost?.hasPrefix(":gkpass NOTICE %#Far :lost the connection to 127.0.0.1:\(ports[1])") == true, "\(lost ?? "nothing")")
        #expect(context.sandbox.waitListening(1), "\(context.sandbox.log)")
        let back = Self.lines(client, until: "NOTICE %#Far", patience: 3)
        #expect(back?.last?.hasPrefix(":gkpass NOTICE %#Far :back on 127.0.0.1:\(ports[1]): rejoined %#Far") == true, "\(back ?? []) \(proxy.stderr)")
        #expect(back?.contains { $0.contains(" JOIN ") } == false, "\(back ?? [])")
        let returned = try ProxyCommandTests.guest(port: ports[1], nick: ">returned", room: "%#Far")
        // The guest the restart dropped leaves the client's member list exactly once, and no second NAMES list is
        // shown: its QUIT when the server said it before closing our connection too, else the proxy's PART after
        // the rejoin (the new NAMES lacks it). Everything up to the next guest's JOIN, which follows the rejoin.
        let farSeen = lostLines + (back ?? []) + (Self.lines(client, until: ">returned") ?? [])
        #expect(Self.departures(of: ">faraway", from: "%#Far", in: farSeen) == 1, "\(farSeen) \(proxy.stderr)")
        #expect(!farSeen.contains { $0.contains(" 353 ") || $0.contains(" 366 ") }, "\(farSeen)")
        client.send("PRIVMSG %#Far :after the restart")
        #expect(returned.expect("after the restart")?.hasPrefix(":Demo!") == true)
        // The lobby never noticed.
        client.send("PRIVMSG %#TheLobby :lobby still fine")
        #expect(lobbyist.expect("lobby still fine") != nil)

        // The home server (and directory) restarts: the client stays connected, its PINGs answered meanwhile.
        context.sandbox.restartChat(0, seconds: 1)
        let homeLostLines = Self.lines(client, until: "NOTICE %#TheLobby") ?? []
        let homeLost = homeLostLines.last
        #expect(homeLost?.hasPrefix(":gkpass NOTICE %#TheLobby :lost the connection to 127.0.0.1:\(ports[0])") == true, "\(homeLost ?? "nothing")")
        client.send("PING :while-home-is-away")
        let pong = Self.lines(client, until: "PONG") ?? []
        #expect(pong.last == ":127.0.0.1 PONG 127.0.0.1 :while-home-is-away")
        #expect(context.sandbox.waitListening(0), "\(context.sandbox.log)")
        let homeBack = Self.lines(client, until: "NOTICE %#TheLobby", patience: 3)
        #expect(homeBack?.last?.hasPrefix(":gkpass NOTICE %#TheLobby :back on 127.0.0.1:\(ports[0]): rejoined %#TheLobby") == true, "\(homeBack ?? []) \(proxy.stderr)")
        #expect(homeBack?.contains { $0.contains(" JOIN ") || $0.contains(" 001 ") || $0.contains(" 376 ") } == false, "\(homeBack ?? [])")
        let newcomer = try ProxyCommandTests.guest(port: ports[0], nick: ">newcomer", room: "%#TheLobby")
        let homeSeen = homeLostLines + pong + (homeBack ?? []) + (Self.lines(client, until: ">newcomer") ?? [])
        #expect(Self.departures(of: ">lobbyist", from: "%#TheLobby", in: homeSeen) == 1, "\(homeSeen) \(proxy.stderr)")
        #expect(!homeSeen.contains { $0.contains(" 353 ") || $0.contains(" 366 ") }, "\(homeSeen)")
        client.send("PRIVMSG %#TheLobby :home is back")
        #expect(newcomer.expect("home is back")?.hasPrefix(":Demo!") == true)
        newcomer.send("PRIVMSG %#TheLobby :welcome back")
        #expect(client.expect("welcome back") != nil)
        client.send("PRIVMSG %#Far :far still fine")
        #expect(returned.expect("far still fine") != nil)

        client.send("QUIT :done")
        #expect(returned.expect("QUIT") != nil && newcomer.expect("QUIT") != nil, "QUIT reaches both servers")
        #expect(client.isClosedByPeer())
    }

    @Test("a JOIN whose server cannot be reached fails alone with 437 in that room; the rest of the connection goes on")
    func unreachableRoom() throws {
        let context = try LoginCommandTests.Context(["--chat-servers", "2", "--room", "%#Far=1", "--room", "#near=0"], commands: true)
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let client = try LineSocket(port: proxy.port)
        client.send("NICK someone")
        client.send("USER u 0 * :u")
        #expect(client.expect(" 376 ") != nil)
        // Server 1 is away for a minute.
        context.sandbox.restartChat(1, seconds: 60)
        client.send("JOIN %#Far,#near")
        var seen: [String] = []
        for _ in 0..<40 where !(seen.contains { $0.contains(" 437 ") } && seen.contains { $0.contains(" 366 ") }) {
            guard let line = client.text() else { break }
            seen.append(line)
        }
        #expect(seen.contains { $0.hasPrefix(":127.0.0.1 437 Demo %#Far :Cannot join %#Far: ") }, "\(seen) \(proxy.stderr)")
        #expect(seen.contains { $0.contains(" 366 Demo #near ") }, "\(seen)")
        client.send("PING :alive")
        #expect(client.expect("PONG") == ":127.0.0.1 PONG 127.0.0.1 :alive")
    }

    @Test("a room the directory places by address on the server the config names by host name is joined over the same upstream, not a second login")
    func sameServerUnderAnotherName() throws {
        // The servers hash `localhost` in GateKeeper v3 answers: a second login as 127.0.0.1 would be refused.
        let context = try LoginCommandTests.Context(["--server-name", "localhost"])
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        let port = context.sandbox.ircxPort
        let table = context.sandbox.webNetworkTable("aliased").replacingOccurrences(
            of: "server = \"127.0.0.1:\(port)\"",
            with: "server = \"localhost:\(port)\"\ndirectory = \"localhost:\(port)\"\nservers = [\"localhost\", \"127.0.0.1\"]")
        let path = context.state + "-config.toml"
        try table.write(toFile: path, atomically: true, encoding: .utf8)
        var environment = context.environment(keyring: false)
        environment["GKPASS_CONFIG"] = path
        let proxy = try ProxyProcess(["--network", "aliased"], environment: environment)
        let client = try LineSocket(port: proxy.port)
        client.send("NICK someone")
        client.send("USER u 0 * :u")
        #expect(client.expect(" 376 ") != nil, "\(proxy.stderr)")
        client.send("JOIN #here")
        let joined = Self.lines(client, until: "#here")
        #expect(joined?.last?.hasPrefix(":Demo!") == true && joined?.last?.contains("JOIN") == true, "\(joined ?? []) \(proxy.stderr)")
        #expect(proxy.stderr.contains("#here is on localhost:\(port)"), "\(proxy.stderr)")
        #expect(!proxy.stderr.contains("registered on 127.0.0.1:\(port)"), "\(proxy.stderr)")
    }
}
