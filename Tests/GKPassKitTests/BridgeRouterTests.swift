import GateKeeper
import Testing

@testable import GKPassKit

/// The proxy's routing without sockets: client and upstream lines in, byte-exact lines and driver requests out.
@Suite("BridgeRouter")
struct BridgeRouterTests {
    static let home = Network.Endpoint(host: "127.0.0.1", port: 6667)
    static let far = Network.Endpoint(host: "127.0.0.1", port: 7001)

    static func welcome(_ server: String, nick: String = "Demo") -> [[UInt8]] {
        [
            ":\(server) 001 \(nick) :Welcome to the sandbox \(nick)", ":\(server) 002 \(nick) :Your host is \(server)",
            ":\(server) 003 \(nick) :This server was created today", ":\(server) 004 \(nick) \(server) ircx o o",
            ":\(server) 251 \(nick) :There are 2 users", ":\(server) 375 \(nick) :- \(server) Message of the day -",
            ":\(server) 372 \(nick) :- hello", ":\(server) 376 \(nick) :End of /MOTD command",
        ].map { Array($0.utf8) }
    }

    /// Every output as text: `C` a client line, `U<id>` an upstream line, then the driver's requests. Logs left out
    /// unless asked for.
    static func text(_ outputs: [BridgeRouter.Output], logs: Bool = false) -> [String] {
        outputs.compactMap { output in
            switch output {
            case .client(let line): "C " + String(decoding: line, as: UTF8.self)
            case .upstream(let id, let line): "U\(id) " + String(decoding: line, as: UTF8.self)
            case .open(let id, let endpoint): "open \(id) \(endpoint)"
            case .find(let room): "find \(room)"
            case .close(let id): "close \(id)"
            case .quit: "quit"
            case .log(let text): logs ? "log " + text : nil
            }
        }
    }

    /// A router whose home server (home.test) registered us as Demo; `jitter` 0 keeps the backoff exact.
    static func registered(directory: Bool = true) -> BridgeRouter {
        var router = BridgeRouter(
            configuration: .init(network: "sandbox", home: home, usesDirectory: directory), clientNick: "someone", now: 0, jitter: { 0 })
        _ = router.opened(BridgeRouter.home, lines: welcome("home.test"), now: 0)
        return router
    }

    /// Registered, in %#Lobby on home and %#Far (key `farkey`) on chat1.far.test (upstream 1).
    static func inTwoRooms() -> BridgeRouter {
        var router = registered()
        _ = router.clientLine(Array("JOIN %#Lobby,%#Far ,farkey".utf8), now: 1)
        _ = router.found(room: "%#Lobby", at: home)
        _ = router.upstreamLine(0, Array(":Demo!0001@GateKeeperPassport JOIN :%#Lobby".utf8), now: 1)
        _ = router.found(room: "%#Far", at: far)
        _ = router.opened(1, lines: welcome("chat1.far.test"), now: 1)
        _ = router.upstreamLine(1, Array(":Demo!0001@GateKeeperPassport JOIN :%#Far".utf8), now: 1)
        _ = router.upstreamLine(1, Array(":chat1.far.test 353 Demo = %#Far :.>Guest Demo".utf8), now: 1)
        return router
    }

    func client(_ router: inout BridgeRouter, _ line: String, now: Double = 2) -> [String] {
        Self.text(router.clientLine(Array(line.utf8), now: now))
    }

    func upstream(_ router: inout BridgeRouter, _ id: Int, _ line: String, now: Double = 2) -> [String] {
        Self.text(router.upstreamLine(id, Array(line.utf8), now: now))
    }

    @Test("the client sees the home server's welcome with our 005 right after 004, its MOTD, and nothing more")
    func homeWelcome() {
        var router = BridgeRouter(
            configuration: .init(network: "sandbox", home: Self.home, usesDirectory: true), clientNick: "someone", now: 0, jitter: { 0 })
        let out = Self.text(router.opened(BridgeRouter.home, lines: Self.welcome("home.test"), now: 0), logs: true)
        #expect(out == [
            "log registered on 127.0.0.1:6667",
            "C :home.test 001 Demo :Welcome to the sandbox Demo", "C :home.test 002 Demo :Your host is home.test",
            "C :home.test 003 Demo :This server was created today", "C :home.test 004 Demo home.test ircx o o",
            "C :home.test 005 Demo CHANTYPES=%#& PREFIX=(qov).@+ NETWORK=sandbox CASEMAPPING=ascii CHANNELLEN=200 NICKLEN=64 IRCX :are supported by this server (gkpass proxy)",
            "C :home.test 251 Demo :There are 2 users", "C :home.test 375 Demo :- home.test Message of the day -",
            "C :home.test 372 Demo :- hello", "C :home.test 376 Demo :End of /MOTD command",
        ])
        #expect(router.nick == Array("Demo".utf8))
        #expect(client(&router, "PING :lag-1") == ["C :home.test PONG home.test :lag-1"])
        #expect(client(&router, "CAP END").isEmpty && client(&router, "USER a 0 * :a").isEmpty && client(&router, "PASS x").isEmpty)
    }

    @Test("a comma JOIN across two servers: each room asked of the directory once, one upstream per server, keys kept with their room")
    func commaJoinAcrossServers() {
        var router = Self.registered()
        #expect(client(&router, "JOIN %#Lobby,%#Far,%#Near ,farkey") == ["find %#Lobby", "find %#Far", "find %#Near"])
        // Lines for a room being placed wait with it, in order.
        #expect(client(&router, "PRIVMSG %#Far :early").isEmpty)
        #expect(Self.text(router.found(room: "%#Lobby", at: Self.home)) == ["U0 JOIN %#Lobby"])
        #expect(Self.text(router.found(room: "%#Far", at: Self.far)) == ["open 1 127.0.0.1:7001"])
        // A second room on the same server shares its upstream, and waits for its registration too.
        #expect(Self.text(router.found(room: "%#Near", at: Self.far)).isEmpty)
        #expect(client(&router, "PRIVMSG %#Near :queued").isEmpty)
        // The far server's welcome is swallowed; what waited goes in order.
        #expect(Self.text(router.opened(1, lines: Self.welcome("chat1.far.test"), now: 2)) == [
            "U1 JOIN %#Far farkey", "U1 PRIVMSG %#Far :early", "U1 JOIN %#Near", "U1 PRIVMSG %#Near :queued",
        ])
        #expect(upstream(&router, 1, ":Demo!0001@GateKeeperPassport JOIN :%#Far") == ["C :Demo!0001@GateKeeperPassport JOIN :%#Far"])
        // Parted and joined again: the directory's answer is cached for the connection.
        #expect(client(&router, "PART %#Lobby :bye") == ["U0 PART %#Lobby :bye"])
        _ = upstream(&router, 0, ":Demo!0001@GateKeeperPassport PART %#Lobby")
        #expect(client(&router, "JOIN %#Lobby") == ["U0 JOIN %#Lobby"])
        #expect(client(&router, "JOIN %#far") == ["U1 JOIN %#far"], "room names fold ASCII case")
    }

    @Test("#%#Room and #%&Room (a client that has not read our 005 yet, as irssi rejoining on reconnect) are the MSN rooms")
    func clientPrefixedMSNRooms() {
        // irssi's reconnect rejoins from the 001, before the 005: `#` put before names it does not know as channels.
        var fresh = Self.registered()
        #expect(client(&fresh, "JOIN #%#Lobby,#%#Far ,farkey") == ["find %#Lobby", "find %#Far"])
        #expect(Self.text(fresh.found(room: "%#Far", at: Self.far)) == ["open 1 127.0.0.1:7001"])
        #expect(Self.text(fresh.opened(1, lines: Self.welcome("chat1.far.test"), now: 2)) == ["U1 JOIN %#Far farkey"])
        var router = Self.inTwoRooms()
        #expect(client(&router, "JOIN #%#Lobby,#%#Far") == ["U0 JOIN %#Lobby", "U1 JOIN %#Far"])
        #expect(client(&router, "JOIN #%&Private") == ["find %&Private"])
        // Names that merely start with #% or are only the prefix stay as written.
        #expect(client(&router, "JOIN #%x") == ["find #%x"])
        #expect(client(&router, "JOIN #%#") == ["find #%#"])
        #expect(BridgeRouter.msnRoom(Array("%#Lobby".utf8)) == Array("%#Lobby".utf8))
    }

    @Test("without a directory every room is on the home server")
    func noDirectory() {
        var router = Self.registered(directory: false)
        #expect(client(&router, "JOIN #a,#b k") == ["U0 JOIN #a k", "U0 JOIN #b"])
        #expect(client(&router, "JOIN #c") == ["U0 JOIN #c"], "a single JOIN is relayed byte for byte")
    }

    @Test("lines that name a room go to its server; comma lists split; unknown rooms and the rest go home")
    func routing() {
        var router = Self.inTwoRooms()
        #expect(client(&router, "PRIVMSG %#Far :\u{01}ACTION waves\u{01}") == ["U1 PRIVMSG %#Far :\u{01}ACTION waves\u{01}"])
        #expect(client(&router, "PRIVMSG %#Lobby,%#Far :both") == ["U0 PRIVMSG %#Lobby :both", "U1 PRIVMSG %#Far :both"])
        #expect(client(&router, "NOTICE %#Far :n") == ["U1 NOTICE %#Far :n"])
        #expect(client(&router, "NAMES %#Far,%#Lobby") == ["U1 NAMES %#Far", "U0 NAMES %#Lobby"])
        #expect(client(&router, "PART %#Far,%#Lobby :gone") == ["U1 PART %#Far :gone", "U0 PART %#Lobby :gone"])
        for line in ["MODE %#Far +m", "TOPIC %#Far :new", "KICK %#Far >Guest :out", "PROP %#Far TOPIC :t", "WHISPER %#Far >Guest :psst",
                     "ACCESS %#Far LIST", "KNOCK %#Far", "WHO %#Far", "INVITE >Guest %#Far"] {
            #expect(client(&router, line) == ["U1 " + line])
        }
        #expect(client(&router, "TOPIC %#Lobby") == ["U0 TOPIC %#Lobby"])
        #expect(client(&router, "PRIVMSG %#Unknown :x") == ["U0 PRIVMSG %#Unknown :x"], "a room not joined goes home")
        #expect(client(&router, "WHOIS >Guest") == ["U0 WHOIS >Guest"])
        #expect(client(&router, "LIST") == ["U0 LIST"])
        // Our own user modes, NICK and AWAY go everywhere.
        #expect(client(&router, "MODE Demo +i") == ["U0 MODE Demo +i", "U1 MODE Demo +i"])
        #expect(client(&router, "AWAY :lunch") == ["U0 AWAY :lunch", "U1 AWAY :lunch"])
    }

    @Test("a message to a nick goes to a server that shares a room with it (353, JOIN, NICK, PART, KICK, QUIT), else home")
    func privateRouting() {
        var router = Self.inTwoRooms()
        #expect(client(&router, "PRIVMSG >Guest :hi") == ["U1 PRIVMSG >Guest :hi"], "from 353")
        #expect(client(&router, "PRIVMSG >guest :hi") == ["U1 PRIVMSG >guest :hi"])
        _ = upstream(&router, 1, ":>Guest!g@GateKeeper NICK >Renamed")
        #expect(client(&router, "PRIVMSG >Guest :hi") == ["U0 PRIVMSG >Guest :hi"])
        #expect(client(&router, "PRIVMSG >Renamed :hi") == ["U1 PRIVMSG >Renamed :hi"])
        _ = upstream(&router, 1, ":>Renamed!g@GateKeeper QUIT :bye")
        #expect(client(&router, "PRIVMSG >Renamed :hi") == ["U0 PRIVMSG >Renamed :hi"])
        #expect(upstream(&router, 1, ":>Ann!a@GateKeeper JOIN :%#Far") == ["C :>Ann!a@GateKeeper JOIN :%#Far"])
        #expect(client(&router, "PRIVMSG >Ann :hi") == ["U1 PRIVMSG >Ann :hi"], "from JOIN")
        _ = upstream(&router, 1, ":>Ann!a@GateKeeper PART %#Far")
        #expect(client(&router, "PRIVMSG >Ann :hi") == ["U0 PRIVMSG >Ann :hi"])
        _ = upstream(&router, 1, ":>Bob!b@GateKeeper JOIN :%#Far")
        _ = upstream(&router, 1, ":Demo!0001@GateKeeperPassport KICK %#Far >Bob :out")
        #expect(client(&router, "PRIVMSG >Bob :hi") == ["U0 PRIVMSG >Bob :hi"])
        // A private message from the far server reaches the client as it came.
        #expect(upstream(&router, 1, ":>Zed!z@GateKeeper PRIVMSG Demo :psst") == ["C :>Zed!z@GateKeeper PRIVMSG Demo :psst"])
    }

    @Test("later upstreams: welcome, MOTD, LUSERS, user modes, AWAY replies and our NICK echo swallowed; only home's shown")
    func reconciliation() {
        var router = Self.inTwoRooms()
        #expect(upstream(&router, 1, ":Demo MODE Demo +x").isEmpty)
        #expect(upstream(&router, 1, ":chat1.far.test 221 Demo +x").isEmpty)
        #expect(upstream(&router, 1, ":chat1.far.test 306 Demo :You have been marked as being away").isEmpty)
        #expect(upstream(&router, 0, ":Demo MODE Demo +i") == ["C :Demo MODE Demo +i"])
        #expect(upstream(&router, 0, ":home.test 221 Demo +i") == ["C :home.test 221 Demo +i"])
        #expect(upstream(&router, 1, ":chat1.far.test 001 Demo :again").isEmpty)
        #expect(upstream(&router, 1, ":chat1.far.test 372 Demo :- motd").isEmpty)
        // Room modes from any server pass.
        #expect(upstream(&router, 1, ":Demo!0001@GateKeeperPassport MODE %#Far +o >Guest") == ["C :Demo!0001@GateKeeperPassport MODE %#Far +o >Guest"])
        #expect(upstream(&router, 1, ":Demo!0001@GateKeeperPassport NICK Demo2").isEmpty)
        #expect(upstream(&router, 0, ":Demo!0001@GateKeeperPassport NICK Demo2") == ["C :Demo!0001@GateKeeperPassport NICK Demo2"])
        #expect(router.nick == Array("Demo2".utf8))
        // An ERROR from any server before the client's QUIT is the server closing: the client hears of it per room.
        #expect(upstream(&router, 0, "ERROR :Closing Link: server going down").isEmpty)
        #expect(upstream(&router, 1, "ERROR :Closing Link: server going down").isEmpty)
    }

    @Test("PINGs from upstreams are answered there; keep-alive PING after silence, its PONG swallowed, the upstream lost after twice")
    func pingsAndKeepAlive() {
        var router = Self.inTwoRooms()
        #expect(upstream(&router, 1, "PING :chat1.far.test", now: 2) == ["U1 PONG :chat1.far.test"])
        _ = upstream(&router, 0, ":home.test NOTICE Demo :x", now: 2)
        #expect(Self.text(router.tick(now: 50)).isEmpty)
        #expect(Self.text(router.tick(now: 93)) == ["U0 PING :gkpass-keepalive", "U1 PING :gkpass-keepalive"])
        #expect(Self.text(router.tick(now: 94)).isEmpty, "once")
        #expect(upstream(&router, 0, ":home.test PONG home.test :gkpass-keepalive", now: 95).isEmpty)
        #expect(Self.text(router.tick(now: 183)) == [
            "close 1", "C :gkpass NOTICE %#Far :lost the connection to 127.0.0.1:7001 (it stopped answering); rejoining %#Far when it is back",
        ])
    }

    @Test("backoff: 1, 2, 4 ... seconds capped at 60, plus the injected jitter (never past the cap)")
    func backoff() {
        #expect((0...7).map { BridgeRouter.backoff(failures: $0, jitter: 0, maximum: 60) } == [1, 2, 4, 8, 16, 32, 60, 60])
        #expect(BridgeRouter.backoff(failures: 1, jitter: 0.5, maximum: 60) == 2.5)
        #expect(BridgeRouter.backoff(failures: 5, jitter: 0.99, maximum: 60) == 32.99)
        #expect(BridgeRouter.backoff(failures: 80, jitter: 0.99, maximum: 60) == 60)
    }

    @Test("a lost upstream: a NOTICE per room, lines refused meanwhile, backoff between attempts, rooms rejoined with their keys, no second JOIN")
    func reconnect() {
        var router = Self.inTwoRooms()
        _ = upstream(&router, 0, ":home.test NOTICE Demo :the home server is heard from", now: 100)
        #expect(Self.text(router.lost(1, reason: "the server closed the connection", now: 100)) == [
            "C :gkpass NOTICE %#Far :lost the connection to 127.0.0.1:7001 (the server closed the connection); rejoining %#Far when it is back",
        ])
        #expect(client(&router, "PRIVMSG %#Far :anyone?", now: 100) == ["C :gkpass NOTICE %#Far :127.0.0.1:7001 is reconnecting; not sent"])
        #expect(client(&router, "PRIVMSG %#Lobby :still here", now: 100) == ["U0 PRIVMSG %#Lobby :still here"], "the other rooms go on")
        #expect(Self.text(router.tick(now: 100.5)).isEmpty)
        #expect(Self.text(router.tick(now: 101)) == ["open 1 127.0.0.1:7001"])
        #expect(Self.text(router.tick(now: 102)).isEmpty, "one attempt at a time")
        #expect(Self.text(router.openFailed(1, reason: "connection refused", now: 102), logs: true) == [
            "log cannot reconnect to 127.0.0.1:7001: connection refused; next try in 2 s",
        ])
        #expect(Self.text(router.tick(now: 103.9)).isEmpty)
        #expect(Self.text(router.tick(now: 104)) == ["open 1 127.0.0.1:7001"])
        // A refused ticket is told to the client, once per loss.
        #expect(Self.text(router.openFailed(1, reason: "910", now: 104, tell: "the server refused the ticket; run gkpass login demo")) == [
            "C :gkpass NOTICE Demo :cannot reconnect to 127.0.0.1:7001: the server refused the ticket; run gkpass login demo",
        ])
        #expect(Self.text(router.tick(now: 107.9)).isEmpty)
        #expect(Self.text(router.tick(now: 108)) == ["open 1 127.0.0.1:7001"])
        // Back: its welcome swallowed, the room rejoined with its key; the echo of our JOIN becomes a NOTICE.
        #expect(Self.text(router.opened(1, lines: Self.welcome("chat1.far.test"), now: 109)) == ["U1 JOIN %#Far farkey"])
        #expect(upstream(&router, 1, ":Demo!0001@GateKeeperPassport JOIN :%#Far", now: 109) == [
            "C :gkpass NOTICE %#Far :back on 127.0.0.1:7001: rejoined %#Far",
        ])
        // The new NAMES is not shown as a list (clients keep their first one): the client hears who left while we
        // were away (>Guest) and who came (>Newcomer, a host), and nothing of those still there (Demo).
        #expect(upstream(&router, 1, ":chat1.far.test 353 Demo = %#Far :.Demo @>Newcomer", now: 109).isEmpty)
        #expect(upstream(&router, 1, ":chat1.far.test 366 Demo %#Far :End of /NAMES list.", now: 109) == [
            "C :>Guest PART %#Far :not in the room when gkpass rejoined it",
            "C :>Newcomer JOIN :%#Far",
            "C :home.test MODE %#Far +o >Newcomer",
        ])
        #expect(client(&router, "PRIVMSG >newcomer :hi", now: 110) == ["U1 PRIVMSG >newcomer :hi"], "membership follows the new list")
        #expect(client(&router, "PRIVMSG >Guest :hi", now: 110) == ["U0 PRIVMSG >Guest :hi"])
        // A NAMES the client asks for later is shown as it is.
        #expect(upstream(&router, 1, ":chat1.far.test 353 Demo = %#Far :.Demo @>Newcomer", now: 110) == ["C :chat1.far.test 353 Demo = %#Far :.Demo @>Newcomer"])
        #expect(upstream(&router, 1, ":chat1.far.test 366 Demo %#Far :End of /NAMES list.", now: 110) == ["C :chat1.far.test 366 Demo %#Far :End of /NAMES list."])
        #expect(client(&router, "PRIVMSG %#Far :back", now: 110) == ["U1 PRIVMSG %#Far :back"])
        // A later JOIN echo (someone else's, or ours after a real re-JOIN) passes again.
        #expect(upstream(&router, 1, ":>Ann!a@GateKeeper JOIN :%#Far", now: 110) == ["C :>Ann!a@GateKeeper JOIN :%#Far"])
    }

    @Test("the home server lost: the client stays, is told, its PINGs answered, lines for home refused; welcome not shown again")
    func homeLost() {
        var router = Self.registered()
        #expect(Self.text(router.lost(0, reason: "the server closed the connection", now: 10)) == [
            "C :gkpass NOTICE Demo :lost the connection to 127.0.0.1:6667 (the server closed the connection); reconnecting",
        ])
        #expect(client(&router, "PING :x", now: 10) == ["C :home.test PONG home.test :x"])
        #expect(client(&router, "WHOIS >Guest", now: 10) == ["C :gkpass NOTICE Demo :127.0.0.1:6667 is reconnecting; not sent"])
        #expect(Self.text(router.tick(now: 11)) == ["open 0 127.0.0.1:6667"])
        #expect(Self.text(router.opened(0, lines: Self.welcome("home.test"), now: 12)) == ["C :gkpass NOTICE Demo :127.0.0.1:6667 is back"])
        #expect(client(&router, "WHOIS >Guest", now: 12) == ["U0 WHOIS >Guest"])
    }

    @Test("a JOIN whose room cannot be placed or reached fails alone, in that room's context; the failure is not cached")
    func unreachableRoom() {
        var router = Self.inTwoRooms()
        #expect(client(&router, "JOIN %#Nowhere,%#Gone") == ["find %#Nowhere", "find %#Gone"])
        #expect(Self.text(router.notFound(room: "%#Nowhere", reason: "cannot connect to 127.0.0.1:6667 (Connection refused)", permanent: false)) == [
            "C :home.test 437 Demo %#Nowhere :Cannot join %#Nowhere: cannot connect to 127.0.0.1:6667 (Connection refused)",
        ])
        #expect(Self.text(router.notFound(room: "%#Gone", reason: "the directory does not know %#Gone", permanent: true)) == [
            "C :home.test 403 Demo %#Gone :Cannot join %#Gone: the directory does not know %#Gone",
        ])
        #expect(client(&router, "JOIN %#Nowhere") == ["find %#Nowhere"], "asked again")
        // Placed on a server that cannot be opened: 437 for each of its rooms, the rest untouched.
        let down = Network.Endpoint(host: "127.0.0.1", port: 7999)
        #expect(Self.text(router.found(room: "%#Nowhere", at: down)) == ["open 2 127.0.0.1:7999"])
        #expect(Self.text(router.openFailed(2, reason: "cannot connect to 127.0.0.1:7999 (Connection refused)", now: 3)) == [
            "C :home.test 437 Demo %#Nowhere :Cannot join %#Nowhere: 127.0.0.1:7999 cannot be reached (cannot connect to 127.0.0.1:7999 (Connection refused))",
        ])
        #expect(Self.text(router.tick(now: 500)).contains { $0.hasPrefix("open") } == false, "a server never opened is not retried")
        #expect(client(&router, "JOIN %#Nowhere") == ["find %#Nowhere"], "the placement is asked again")
        #expect(client(&router, "PRIVMSG %#Far :fine") == ["U1 PRIVMSG %#Far :fine"])
        // A server's own refusal forgets the room.
        _ = router.found(room: "%#Nowhere", at: Self.home)
        #expect(upstream(&router, 0, ":home.test 474 Demo %#Nowhere :Cannot join channel (+b)") == ["C :home.test 474 Demo %#Nowhere :Cannot join channel (+b)"])
        #expect(client(&router, "JOIN %#Nowhere") == ["U0 JOIN %#Nowhere"], "placement cached, the room asked again")
    }

    @Test("CR, LF and NUL never reach a line: a reason holding them is cleaned, a parameter holding them is refused, a client line holding NUL is dropped")
    func injection() {
        var router = Self.registered()
        _ = client(&router, "JOIN %#R")
        let out = Self.text(router.notFound(room: "%#R", reason: "x\r\nQUIT :injected\u{0}", permanent: false))
        #expect(out == ["C :home.test 437 Demo %#R :Cannot join %#R: x  QUIT :injected "])
        #expect(BridgeRouter.build(prefix: nil, "PRIVMSG", [Array("#a\r\nQUIT".utf8), Array("x".utf8)]) == nil)
        #expect(BridgeRouter.build(prefix: nil, "PRIVMSG", [Array("#a".utf8), Array("x\ny".utf8)]) == nil)
        #expect(BridgeRouter.build(prefix: Array("a\rb".utf8), "NOTICE", [Array("#a".utf8), Array("x".utf8)]) == nil)
        #expect(router.clientLine(Array("PRIVMSG #a :x\u{0}QUIT".utf8), now: 2).isEmpty)
        #expect(router.upstreamLine(0, Array(":x PRIVMSG Demo :a\u{0}b".utf8), now: 2).isEmpty)
    }

    @Test("QUIT goes to every upstream, after JOINs still being placed; JOIN 0 parts every room on its own server")
    func quitAndJoinZero() {
        var router = Self.inTwoRooms()
        #expect(client(&router, "JOIN 0") == ["U1 PART %#Far", "U0 PART %#Lobby"])
        #expect(client(&router, "JOIN %#Late") == ["find %#Late"])
        #expect(client(&router, "PRIVMSG %#Late :hello").isEmpty)
        #expect(client(&router, "QUIT :bye").isEmpty, "waits for %#Late")
        #expect(client(&router, "PRIVMSG %#Lobby :after quit").isEmpty)
        #expect(Self.text(router.found(room: "%#Late", at: Self.home)) == ["U0 JOIN %#Late", "U0 PRIVMSG %#Late :hello", "U0 QUIT :bye", "U1 QUIT :bye", "quit"])
        // The home server's ERROR after our QUIT is the client's; another server's is not.
        #expect(upstream(&router, 0, "ERROR :Closing Link: Demo (bye)") == ["C ERROR :Closing Link: Demo (bye)"])
        #expect(upstream(&router, 1, "ERROR :Closing Link: Demo (bye)").isEmpty)
        // After QUIT nothing reconnects.
        #expect(Self.text(router.lost(1, reason: "closed", now: 3)).isEmpty)
        #expect(Self.text(router.tick(now: 500)).isEmpty)
    }

    @Test("a QUIT waits at most quitWait for a placement that never comes")
    func quitWaitsBounded() {
        var router = Self.registered()
        _ = client(&router, "JOIN %#Slow", now: 1)
        #expect(client(&router, "QUIT :bye", now: 1).isEmpty)
        #expect(Self.text(router.tick(now: 5)).isEmpty)
        #expect(Self.text(router.tick(now: 11.5)) == ["U0 QUIT :bye", "quit"])
    }

    @Test("an upstream whose last room is parted is closed; the home server never is")
    func idleUpstreamClosed() {
        var router = Self.inTwoRooms()
        #expect(upstream(&router, 1, ":Demo!0001@GateKeeperPassport PART %#Far") == [
            "C :Demo!0001@GateKeeperPassport PART %#Far", "U1 QUIT :gkpass: no rooms left here", "close 1",
        ])
        #expect(upstream(&router, 0, ":Demo!0001@GateKeeperPassport PART %#Lobby") == ["C :Demo!0001@GateKeeperPassport PART %#Lobby"])
        // The far room again: the cached placement, a new upstream.
        #expect(client(&router, "JOIN %#Far") == ["open 2 127.0.0.1:7001"])
    }
}
