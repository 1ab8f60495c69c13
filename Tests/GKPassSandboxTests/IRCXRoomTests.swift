import GKPassSandbox
import GateKeeper
import Testing

/// The commands a bridge passes through (TOPIC, PART reasons, WHOIS, WHISPER, PROP on rooms, member modes, NAMES),
/// the keep-alive and 800 replies, and UTF-8 nicknames: exact lines, in memory, no sockets.
@Suite("IRCX rooms and replies (in memory)")
struct IRCXRoomTests {
    typealias Harness = IRCXSessionTests.Harness

    static let alice = SandboxAccount(member: "alice@passport.test", password: "a", nickname: "Alice", puid: "00000000000A11CE")
    static let bob = SandboxAccount(member: "bob@passport.test", password: "b", nickname: "Bob", puid: "0000000000000B0B")

    static func harness() -> Harness { Harness(SandboxConfiguration(ircxPort: 6667, accounts: [.demo, alice, bob])) }

    /// A Passport member registered with NICK/USER (or the cookie when `cookie`); its welcome lines taken.
    /// Alice (the room's owner: she joined first) and Bob in %#Room, with the JOIN lines already taken.
    static func aliceAndBobInRoom() throws -> (Harness, IRCXSession, RecordingConnection, IRCXSession, RecordingConnection) {
        let h = harness()
        let (a, ac) = try member(h, alice)
        let (b, bc) = try member(h, bob)
        h.feed(a, "JOIN %#Room")
        h.feed(b, "JOIN %#Room")
        _ = ac.take(); _ = bc.take()
        return (h, a, ac, b, bc)
    }

    static func member(_ h: Harness, _ account: SandboxAccount, cookie: Bool = false, ircvers: Bool = false) throws -> (IRCXSession, RecordingConnection) {
        let (s, c) = h.connect()
        if ircvers { h.feed(s, "IRCVERS IRC8 MSN-OCX!9.02.0310.2401 EN-US") }
        _ = try h.authenticate(s, c, package: .gateKeeperPassport, blob: h.passportBlob(for: account))
        if cookie {
            h.feed(s, "PROP $ MSNREGCOOKIE :\(h.regCookie(account.nickname))")
        } else {
            h.feed(s, "NICK \(account.nickname)")
            h.feed(s, "USER \(account.nickname.lowercased()) 0 * :\(account.nickname) Real")
        }
        #expect(c.lines.contains { $0.contains(" 001 ") }, "\(c.lines)")
        _ = c.take()
        return (s, c)
    }

    static func guest(_ h: Harness, _ nick: String) throws -> (IRCXSession, RecordingConnection) {
        let (s, c) = h.connect()
        _ = try h.authenticate(s, c, package: .gateKeeper)
        h.feed(s, "NICK \(nick)")
        h.feed(s, "USER g 0 * :Guest \(nick)")
        #expect(c.lines.contains { $0.contains(" 001 ") }, "\(c.lines)")
        _ = c.take()
        return (s, c)
    }

    @Test("the welcome has no 005, as on MSNLD/irc7; PING gets :server PONG server :token, or 409 without one")
    func welcomeAndPong() throws {
        let h = Self.harness()
        let (s, c) = h.connect()
        _ = try h.authenticate(s, c, package: .gateKeeperPassport, blob: h.passportBlob(for: .demo))
        h.feed(s, "PROP $ MSNREGCOOKIE :\(h.regCookie("Demo"))")
        let welcome = c.take()
        #expect(welcome.map { $0.split(separator: " ")[1] } == ["001", "002", "003", "004", "375", "372", "376"])
        h.feed(s, "PING :LAG1764432000")
        #expect(c.take() == [":127.0.0.1 PONG 127.0.0.1 :LAG1764432000"])
        h.feed(s, "PING token")
        #expect(c.take() == [":127.0.0.1 PONG 127.0.0.1 :token"])
        h.feed(s, "PING")
        #expect(c.take() == [":127.0.0.1 409 Demo :No origin specified"])
    }

    @Test("800 series: IRCX and ISIRCX say the mode and 1024; a bad IRCVERS is 906; IRCVERS after registration is 462")
    func ircxReplies() throws {
        let h = Self.harness()
        let (s, c) = h.connect()
        h.feed(s, "ISIRCX")
        #expect(c.take() == [":127.0.0.1 800 * 0 0 GateKeeper,GateKeeperPassport 1024 :*"])
        h.feed(s, "IRCX")
        #expect(c.take() == [":127.0.0.1 800 * 1 0 GateKeeper,GateKeeperPassport 1024 :*"])
        h.feed(s, "IRCVERS IRCZ client")
        #expect(c.take() == [":127.0.0.1 906 * IRCZ :Bad value specified"])
        let (member, mc) = try Self.member(h, Self.alice)
        h.feed(member, "IRCVERS IRC8 MSN-OCX!9.02.0310.2401")
        #expect(mc.take() == [":127.0.0.1 462 Alice :You may not reregister"])
    }

    @Test("JOIN: the first member owns the room (.), NAMES shows prefixes, a second JOIN is 927, NAMES on demand")
    func joinAndNames() throws {
        let h = Self.harness()
        let (a, ac) = try Self.member(h, Self.alice)
        let (b, bc) = try Self.guest(h, ">Visitor")
        h.feed(a, "JOIN %#Room")
        #expect(ac.take() == [
            ":Alice!00000000000A11CE@GateKeeperPassport JOIN :%#Room", ":127.0.0.1 MODE %#Room +q Alice",
            ":127.0.0.1 353 Alice = %#Room :.Alice", ":127.0.0.1 366 Alice %#Room :End of /NAMES list.",
        ])
        h.feed(b, "JOIN %#room")
        #expect(bc.take() == [
            ":>Visitor!D6976AC3D30A4249B16807102BBA1896@GateKeeper JOIN :%#Room",
            ":127.0.0.1 353 >Visitor = %#Room :.Alice >Visitor", ":127.0.0.1 366 >Visitor %#Room :End of /NAMES list.",
        ])
        #expect(ac.take() == [":>Visitor!D6976AC3D30A4249B16807102BBA1896@GateKeeper JOIN :%#Room"])
        h.feed(b, "JOIN %#Room")
        #expect(bc.take() == [":127.0.0.1 927 >Visitor %#Room :Already in the channel."])
        h.feed(b, "NAMES %#Room,%#Nowhere")
        #expect(bc.take() == [
            ":127.0.0.1 353 >Visitor = %#Room :.Alice >Visitor", ":127.0.0.1 366 >Visitor %#Room :End of /NAMES list.",
            ":127.0.0.1 403 >Visitor %#Nowhere :No such channel",
        ])
    }

    @Test("PART with and without a reason, as every member sees it")
    func partReasons() throws {
        let (h, _, ac, b, bc) = try Self.aliceAndBobInRoom()
        h.feed(b, "PART %#Room :gone fishing")
        #expect(bc.take() == [":Bob!0000000000000B0B@GateKeeperPassport PART %#Room :gone fishing"])
        #expect(ac.take() == [":Bob!0000000000000B0B@GateKeeperPassport PART %#Room :gone fishing"])
        h.feed(b, "JOIN %#Room")
        _ = ac.take(); _ = bc.take()
        h.feed(b, "PART %#Room")
        #expect(ac.take() == [":Bob!0000000000000B0B@GateKeeperPassport PART %#Room"])
        #expect(bc.take() == [":Bob!0000000000000B0B@GateKeeperPassport PART %#Room"])
        h.feed(b, "PART %#Room :again")
        #expect(bc.take() == [":127.0.0.1 442 Bob %#Room :You're not on that channel"])
    }

    @Test("TOPIC: members may not set it (482), the owner may; every member sees it; joiners get 332 and 333; 331 when none")
    func topic() throws {
        let (h, a, ac, b, bc) = try Self.aliceAndBobInRoom()
        h.feed(b, "TOPIC %#Room")
        #expect(bc.take() == [":127.0.0.1 331 Bob %#Room :No topic is set"])
        h.feed(b, "TOPIC %#Room :mine now")
        #expect(bc.take() == [":127.0.0.1 482 Bob %#Room :You're not channel operator"])
        h.feed(a, "TOPIC %#Room :Welcome to the room")
        #expect(ac.take() == [":Alice!00000000000A11CE@GateKeeperPassport TOPIC %#Room :Welcome to the room"])
        #expect(bc.take() == [":Alice!00000000000A11CE@GateKeeperPassport TOPIC %#Room :Welcome to the room"])
        h.feed(b, "TOPIC %#Room")
        #expect(bc.take() == [":127.0.0.1 332 Bob %#Room :Welcome to the room", ":127.0.0.1 333 Bob %#Room Alice 1800000000"])
        let (g, gc) = try Self.guest(h, ">Late")
        h.feed(g, "JOIN %#Room")
        let joined = gc.take()
        #expect(Array(joined[1...2]) == [":127.0.0.1 332 >Late %#Room :Welcome to the room", ":127.0.0.1 333 >Late %#Room Alice 1800000000"])
        h.feed(g, "TOPIC %#Elsewhere :x")
        #expect(gc.take() == [":127.0.0.1 403 >Late %#Elsewhere :No such channel"])
    }

    @Test("WHOIS: guests as GUID@GateKeeper, members as PUID@GateKeeperPassport; 311, 319, 312, 318; 401 for nobody")
    func whois() throws {
        let h = Self.harness()
        let (a, ac) = try Self.member(h, Self.alice)
        let (g, _) = try Self.guest(h, ">Visitor")
        h.feed(g, "JOIN %#Room")
        h.feed(a, "WHOIS >visitor")
        #expect(ac.take() == [
            ":127.0.0.1 311 Alice >Visitor D6976AC3D30A4249B16807102BBA1896 GateKeeper * :Guest >Visitor",
            ":127.0.0.1 319 Alice >Visitor :.%#Room",
            ":127.0.0.1 312 Alice >Visitor 127.0.0.1 :gkpass sandbox chat server 0",
            ":127.0.0.1 318 Alice >Visitor :End of /WHOIS list",
        ])
        h.feed(a, "WHOIS Alice")
        #expect(ac.take().first == ":127.0.0.1 311 Alice Alice 00000000000A11CE GateKeeperPassport * :Alice Real")
        h.feed(a, "WHOIS Nobody")
        #expect(ac.take() == [":127.0.0.1 401 Alice Nobody :No such nick/channel", ":127.0.0.1 318 Alice Nobody :End of /WHOIS list"])
    }

    @Test("WHISPER reaches only its target: as WHISPER when it speaks IRCX, as PRIVMSG when not; 411, 412, 442, 401")
    func whisper() throws {
        let h = Self.harness()
        let (a, ac) = try Self.member(h, Self.alice, ircvers: true)
        let (b, bc) = try Self.member(h, Self.bob)
        let (g, gc) = try Self.guest(h, ">Watcher")
        for s in [a, b, g] { h.feed(s, "JOIN %#Room") }
        _ = ac.take(); _ = bc.take(); _ = gc.take()
        h.feed(b, "WHISPER %#Room Alice :psst, Alice")
        #expect(ac.take() == [":Bob!0000000000000B0B@GateKeeperPassport WHISPER %#Room Alice :psst, Alice"])
        #expect(gc.take().isEmpty && bc.take().isEmpty)
        h.feed(a, "WHISPER %#Room bob :hi Bob")
        #expect(bc.take() == [":Alice!00000000000A11CE@GateKeeperPassport PRIVMSG bob :hi Bob"])
        #expect(gc.take().isEmpty)
        h.feed(a, "WHISPER %#Room")
        h.feed(a, "WHISPER %#Room Bob")
        h.feed(a, "WHISPER %#Room Nobody :x")
        h.feed(a, "WHISPER %#Other Bob :x")
        #expect(ac.take() == [
            ":127.0.0.1 411 Alice :No recipient given (WHISPER)", ":127.0.0.1 412 Alice :No text to send (WHISPER)",
            ":127.0.0.1 401 Alice Nobody :No such nick/channel", ":127.0.0.1 403 Alice %#Other :No such channel",
        ])
        h.feed(g, "PART %#Room")
        _ = gc.take()
        h.feed(g, "WHISPER %#Room Alice :x")
        #expect(gc.take() == [":127.0.0.1 442 >Watcher %#Room :You're not on that channel"])
    }

    @Test("PROP on a room: the owner sets TOPIC, ONJOIN and the keys; 818/819; 908 where a member may not; HOSTKEY makes a host")
    func roomProperties() throws {
        let (h, a, ac, b, bc) = try Self.aliceAndBobInRoom()

        h.feed(a, "PROP %#Room ONJOIN :Be nice in here")
        #expect(ac.take() == [":Alice!00000000000A11CE@GateKeeperPassport PROP %#Room ONJOIN :Be nice in here"])
        #expect(bc.take() == [":Alice!00000000000A11CE@GateKeeperPassport PROP %#Room ONJOIN :Be nice in here"])
        h.feed(a, "PROP %#Room HOSTKEY :h0st")
        #expect(ac.take() == [":Alice!00000000000A11CE@GateKeeperPassport PROP %#Room HOSTKEY :h0st"])
        #expect(bc.take().isEmpty, "a member does not hear the host key")
        h.feed(a, "PROP %#Room OWNERKEY :0wner")
        _ = ac.take()
        h.feed(a, "PROP %#Room TOPIC :Topic by PROP")
        _ = ac.take(); _ = bc.take()

        h.feed(a, "PROP %#Room *")
        #expect(ac.take() == [
            ":127.0.0.1 818 Alice %#Room TOPIC :Topic by PROP", ":127.0.0.1 818 Alice %#Room ONJOIN :Be nice in here",
            ":127.0.0.1 818 Alice %#Room OWNERKEY :0wner", ":127.0.0.1 818 Alice %#Room HOSTKEY :h0st",
            ":127.0.0.1 819 Alice %#Room :End of properties",
        ])
        h.feed(b, "PROP %#Room *")
        #expect(bc.take() == [
            ":127.0.0.1 818 Bob %#Room TOPIC :Topic by PROP", ":127.0.0.1 818 Bob %#Room ONJOIN :Be nice in here",
            ":127.0.0.1 819 Bob %#Room :End of properties",
        ])
        h.feed(b, "PROP %#Room OWNERKEY")
        h.feed(b, "PROP %#Room TOPIC :mine")
        h.feed(b, "PROP %#Room COLOUR :red")
        h.feed(b, "PROP %#Nowhere TOPIC")
        #expect(bc.take() == [
            ":127.0.0.1 908 Bob :No permissions to perform command", ":127.0.0.1 908 Bob :No permissions to perform command",
            ":127.0.0.1 905 Bob %#Room :Bad property specified", ":127.0.0.1 924 Bob %#Nowhere :No such object found",
        ])
        h.feed(b, "TOPIC %#Room")
        #expect(bc.take().first == ":127.0.0.1 332 Bob %#Room :Topic by PROP", "TOPIC and PROP TOPIC are one value")

        let (g, gc) = try Self.guest(h, ">Helper")
        h.feed(g, "JOIN %#Room h0st")
        let joined = gc.take()
        #expect(joined.contains(":127.0.0.1 MODE %#Room +o >Helper"))
        #expect(joined.contains(":127.0.0.1 353 >Helper = %#Room :.Alice Bob @>Helper"))
        #expect(joined.last == ":%#Room PRIVMSG %#Room :Be nice in here", "ONJOIN goes to the joiner, from the room")
        #expect(!ac.take().contains { $0.contains("Be nice") })
    }

    @Test("MODE +q/+o/+v by owners and hosts; members get 482, hosts giving +q get 485; every member sees the change")
    func memberModes() throws {
        let h = Self.harness()
        let (a, ac) = try Self.member(h, Self.alice)
        let (b, bc) = try Self.member(h, Self.bob)
        let (g, gc) = try Self.guest(h, ">Guest")
        for s in [a, b, g] { h.feed(s, "JOIN %#Room") }
        _ = ac.take(); _ = bc.take(); _ = gc.take()

        h.feed(b, "MODE %#Room +o Bob")
        #expect(bc.take() == [":127.0.0.1 482 Bob %#Room :You're not channel operator"])
        h.feed(a, "MODE %#Room +o Bob")
        #expect(gc.take() == [":Alice!00000000000A11CE@GateKeeperPassport MODE %#Room +o Bob"])
        _ = ac.take(); _ = bc.take()
        h.feed(b, "MODE %#Room +v >guest")
        #expect(gc.take() == [":Bob!0000000000000B0B@GateKeeperPassport MODE %#Room +v >Guest"])
        h.feed(b, "MODE %#Room +q >Guest")
        #expect(bc.take().last == ":127.0.0.1 485 Bob %#Room :You're not channel owner")
        h.feed(b, "MODE %#Room -o Alice")
        #expect(bc.take() == [":127.0.0.1 485 Bob %#Room :You're not channel owner"])
        h.feed(b, "NAMES %#Room")
        #expect(bc.take().first == ":127.0.0.1 353 Bob = %#Room :.Alice @Bob +>Guest")
        h.feed(a, "MODE %#Room -o Bob")
        _ = ac.take(); _ = gc.take()
        h.feed(b, "NAMES %#Room")
        #expect(bc.take() == [":Alice!00000000000A11CE@GateKeeperPassport MODE %#Room -o Bob",
                              ":127.0.0.1 353 Bob = %#Room :.Alice Bob +>Guest", ":127.0.0.1 366 Bob %#Room :End of /NAMES list."])
        h.feed(a, "MODE %#Room +z")
        h.feed(a, "MODE %#Room +o Nobody")
        h.feed(a, "MODE %#Room")
        #expect(ac.take() == [
            ":127.0.0.1 472 Alice z :is unknown mode char to me", ":127.0.0.1 401 Alice Nobody :No such nick/channel",
            ":127.0.0.1 324 Alice %#Room +nt",
        ])
    }

    @Test("a UTF-8 nickname (JoséÜmlaut) from the cookie and from NICK is taken and sent back byte for byte")
    func utf8Nicknames() throws {
        let jose = SandboxAccount(member: "jose@passport.test", password: "j", nickname: "JoséÜmlaut", puid: "000000000000105E")
        let h = Harness(SandboxConfiguration(ircxPort: 6667, accounts: [.demo, jose, Self.alice]))
        let (s, c) = h.connect()
        _ = try h.authenticate(s, c, package: .gateKeeperPassport, blob: h.passportBlob(for: jose))
        h.feed(s, "PROP $ MSNREGCOOKIE :\(h.regCookie("JoséÜmlaut"))")
        let utf8 = Array("JoséÜmlaut".utf8)
        #expect(c.takeBytes().first == Array(":127.0.0.1 001 ".utf8) + utf8 + Array(" :Welcome to the gkpass sandbox network ".utf8) + utf8 + Array("!000000000000105E@GateKeeperPassport".utf8))
        let (a, ac) = try Self.member(h, Self.alice)
        h.feed(a, "JOIN %#Room")
        _ = ac.take()
        h.feed(s, "JOIN %#Room")
        #expect(c.take().contains(":127.0.0.1 353 JoséÜmlaut = %#Room :.Alice JoséÜmlaut"))
        #expect(ac.takeBytes() == [Array(":".utf8) + utf8 + Array("!000000000000105E@GateKeeperPassport JOIN :%#Room".utf8)])
        h.feed(s, bytes: Array("PRIVMSG %#Room :olá".utf8))
        #expect(ac.takeBytes() == [Array(":".utf8) + utf8 + Array("!000000000000105E@GateKeeperPassport PRIVMSG %#Room :olá".utf8)])
        h.feed(a, bytes: Array("PRIVMSG joséümlaut :only ASCII letters fold: no such nick".utf8))
        #expect(ac.take().first?.contains(" 401 ") == true)
        h.feed(a, bytes: Array("PRIVMSG joséÜmlaut :ASCII letters fold".utf8))
        #expect(c.take().count == 1)

        let (g, gc) = h.connect()
        _ = try h.authenticate(g, gc, package: .gateKeeper)
        h.feed(g, bytes: Array("NICK >Zoë".utf8))
        h.feed(g, "USER z 0 * :Z")
        #expect(gc.takeBytes().first == Array(":127.0.0.1 001 >Zoë :Welcome to the gkpass sandbox network >Zoë!D6976AC3D30A4249B16807102BBA1896@GateKeeper".utf8))
        for bad in ["NICK 1abc", "NICK >1abc", "NICK -dash", "NICK >", "NICK " + String(repeating: "x", count: 65)] {
            h.feed(g, bad)
            #expect(gc.take().first?.contains(" 432 ") == true, "\(bad)")
        }
        h.feed(g, bytes: Array("NICK >a".utf8) + [0xFF, 0x41, 0x2D, 0x39])
        #expect(gc.takeBytes().first == Array(":>Zoë!D6976AC3D30A4249B16807102BBA1896@GateKeeper NICK :>a".utf8) + [0xFF, 0x41, 0x2D, 0x39], "any byte from 0x41 up, kept as it came")
    }
}
