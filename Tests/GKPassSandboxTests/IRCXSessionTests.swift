import GKPassTestSupport
import GKPassSandbox
import GateKeeper
import Synchronization
import Testing

/// Collects what a session sends; `closed` records close().
/// Lines are kept as bytes: GateKeeper tokens carry raw high bytes that a UTF-8 round trip would destroy.
final class RecordingConnection: SessionConnection {
    private let state = Mutex<(lines: [[UInt8]], closed: Bool)>(([], false))
    func send(_ bytes: [UInt8]) {
        var framer = IRCXLineFramer()
        framer.append(bytes)
        var lines: [[UInt8]] = []
        while let line = try? framer.nextLine() { lines.append(line) }
        state.withLock { $0.lines += lines }
    }
    func close() { state.withLock { $0.closed = true } }
    var closed: Bool { state.withLock { $0.closed } }
    var lines: [String] { state.withLock { $0.lines }.map { String(decoding: $0, as: UTF8.self) } }
    func takeBytes() -> [[UInt8]] { state.withLock { let l = $0.lines; $0.lines = []; return l } }
    func take() -> [String] { takeBytes().map { String(decoding: $0, as: UTF8.self) } }
}

@Suite("IRCX sessions (in memory)")
struct IRCXSessionTests {
    static let now: Int64 = 1_800_000_000

    final class Harness {
        let configuration: SandboxConfiguration
        let network: ChatNetwork
        init(_ configuration: SandboxConfiguration = SandboxConfiguration(ircxPort: 6667), network: ChatNetwork = ChatNetwork()) {
            self.configuration = configuration
            self.network = network
        }

        func connect() -> (IRCXSession, RecordingConnection) {
            let connection = RecordingConnection()
            return (IRCXSession(configuration: configuration, network: network, connection: connection, peerAddress: "127.0.0.1", log: { _ in }), connection)
        }

        func feed(_ session: IRCXSession, _ line: String, now: Int64 = IRCXSessionTests.now) {
            feed(session, bytes: Array(line.utf8), now: now)
        }

        func feed(_ session: IRCXSession, bytes: [UInt8], now: Int64 = IRCXSessionTests.now) {
            session.receive(line: bytes, now: now, challenge: [9, 8, 7, 6, 5, 4, 3, 2], randomGUID: Array(repeating: 0x11, count: 16))
        }

        /// Runs a GateKeeper exchange with the real client machine; returns the final server line.
        func authenticate(_ session: IRCXSession, _ connection: RecordingConnection, package: GateKeeperPackage, blob: PassportBlob? = nil, version: GateKeeperVersion = .v3, now: Int64 = IRCXSessionTests.now, slicing: PassportSlicing = .ocx) throws -> String {
            var client = try GateKeeperClient(configuration: .init(package: package, version: version, host: Array("127.0.0.1".utf8), guid: try GateKeeperGUID(parsing: "D6976AC3-D30A-4249-B168-07102BBA1896"), passportBlob: blob, passportSlicing: slicing))
            var outgoing = try client.start()
            for _ in 0..<5 {
                feed(session, bytes: Array(outgoing.dropLast(2)), now: now)
                var next: [UInt8]?
                for reply in connection.takeBytes() {
                    switch try client.receive(IRCXMessage(parsing: reply)) {
                    case .send(let line): next = line
                    case .finished: return String(decoding: reply, as: UTF8.self)
                    case .none: continue
                    }
                }
                guard let next else { return "" }
                outgoing = next
            }
            return ""
        }

        func passportBlob(for account: SandboxAccount, now: Int64 = IRCXSessionTests.now) -> PassportBlob {
            let t = PassportSite(configuration: configuration).issueTickets(for: account, now: now)
            return PassportBlob(first: Array(t.ticket.utf8), second: Array(t.profile.utf8))
        }

        func regCookie(_ nick: String) -> String { PassportV4(secret: configuration.secret).seal(["nick": nick]) }
    }

    @Test("IRCVERS gets 800 with the packages and the 1,024-byte line the server really reads")
    func ircvers() {
        let h = Harness()
        let (s, c) = h.connect()
        h.feed(s, "IRCVERS IRC8 MSN-OCX!9.02.0310.2401 EN-US")
        #expect(c.lines == [":127.0.0.1 800 * 1 0 GateKeeper,GateKeeperPassport 1024 :*"])
    }

    @Test("Passport: AUTH, MSNREGCOOKIE registers the nickname from the cookie, welcome follows")
    func passportRegistration() throws {
        let h = Harness()
        let (s, c) = h.connect()
        let final = try h.authenticate(s, c, package: .gateKeeperPassport, blob: h.passportBlob(for: .demo))
        #expect(final == "AUTH GateKeeperPassport * 0001A2B3C4D5E6F7@GateKeeperPassport 0")
        h.feed(s, "PROP $ MSNREGCOOKIE :\(h.regCookie("Demo"))")
        #expect(c.lines.first == ":127.0.0.1 001 Demo :Welcome to the gkpass sandbox network Demo!0001A2B3C4D5E6F7@GateKeeperPassport")
        #expect(c.lines.contains { $0.contains(" 376 Demo ") })
    }

    @Test("a 600-byte ticket (resealed with padding): slices to an ocx server, one line to a one-line server; the other way is 910")
    func longTicket() throws {
        for serverSlicing in PassportSlicing.allCases {
            var configuration = SandboxConfiguration(ircxPort: 6667)
            configuration.passportSlices = serverSlicing
            let h = Harness(configuration)
            let issued = h.passportBlob(for: .demo)
            let tokens = PassportV4(secret: configuration.secret)
            let ticket = try #require(tokens.padded(String(decoding: issued.first, as: UTF8.self), toAtLeast: 600))
            #expect(ticket.utf8.count >= 600 && tokens.open(ticket)?["puid"] == SandboxAccount.demo.puid)
            let blob = PassportBlob(first: Array(ticket.utf8), second: issued.second)
            for clientSlicing in PassportSlicing.allCases {
                let (s, c) = h.connect()
                let final = try h.authenticate(s, c, package: .gateKeeperPassport, blob: blob, slicing: clientSlicing)
                if clientSlicing == serverSlicing {
                    #expect(final == "AUTH GateKeeperPassport * 0001A2B3C4D5E6F7@GateKeeperPassport 0", "server \(serverSlicing)")
                } else {
                    #expect(final.contains(" 910 ") && c.closed, "server \(serverSlicing), client \(clientSlicing): \(final)")
                }
            }
        }
        #expect(PassportV4(secret: "mysecret").padded("not a token", toAtLeast: 600) == nil)
    }

    @Test("a one-line server takes a line of 1,024 bytes and closes the link on a longer one")
    func lineLimit() throws {
        var configuration = SandboxConfiguration(ircxPort: 6667)
        configuration.passportSlices = .oneLine
        let h = Harness(configuration)
        let (s, c) = h.connect()
        h.feed(s, "PONG :" + String(repeating: "x", count: 1018))
        #expect(!c.closed && c.take().isEmpty)
        h.feed(s, "PONG :" + String(repeating: "x", count: 1019))
        #expect(c.closed && c.lines.last?.contains("Input line too long") == true, "\(c.lines)")
    }

    @Test("an expired or forged ticket, or the wrong layout, is 910 and the link is closed")
    func badTickets() throws {
        let h = Harness()
        let (s1, c1) = h.connect()
        let old = h.passportBlob(for: .demo, now: Self.now - 200_000)
        #expect(try h.authenticate(s1, c1, package: .gateKeeperPassport, blob: old).contains(" 910 "))
        #expect(c1.closed)

        let (s2, c2) = h.connect()
        #expect(try h.authenticate(s2, c2, package: .gateKeeperPassport, blob: PassportBlob(first: Array("forged".utf8), second: Array("x".utf8))).contains(" 910 "))

        let good = h.passportBlob(for: .demo)
        let (s3, c3) = h.connect()
        #expect(try h.authenticate(s3, c3, package: .gateKeeperPassport, blob: PassportBlob(first: good.second, second: good.first)).contains(" 910 "))
    }

    @Test("profile-nickname layout: MSPProf then MSNChatNN")
    func profileNicknameLayout() throws {
        let h = Harness(SandboxConfiguration(ircxPort: 6667, blobLayout: .profileNickname))
        let good = h.passportBlob(for: .demo)
        let (s, c) = h.connect()
        #expect(try h.authenticate(s, c, package: .gateKeeperPassport, blob: PassportBlob(first: good.second, second: Array("Demo".utf8))).hasPrefix("AUTH GateKeeperPassport * 0001A2B3C4D5E6F7@"))
        let (s2, c2) = h.connect()
        #expect(try h.authenticate(s2, c2, package: .gateKeeperPassport, blob: good).contains(" 910 "))
    }

    @Test("guests need a > nickname; members may not take one; commands before registration get 451")
    func guestRules() throws {
        let h = Harness()
        let (s, c) = h.connect()
        h.feed(s, "JOIN %#Lobby")
        #expect(c.take() == [":127.0.0.1 451 * JOIN :You have not registered"])
        #expect(try h.authenticate(s, c, package: .gateKeeper).hasPrefix("AUTH GateKeeper * D6976AC3D30A4249B16807102BBA1896@GateKeeper 0"))
        h.feed(s, "NICK Guest")
        #expect(c.take().first?.contains(" 432 ") == true)
        h.feed(s, "NICK >Sysop")
        #expect(c.take().first?.contains("reserved") == true)
        h.feed(s, "NICK >Guest")
        h.feed(s, "USER guest 0 * :Guest")
        #expect(c.take().first?.contains(" 001 >Guest ") == true)
        h.feed(s, "AUTH GateKeeper I :x")
        #expect(c.take() == [":127.0.0.1 462 >Guest :You may not reregister"])
    }

    @Test("two members chat: JOIN with NAMES, PRIVMSG to the room and to a nick, PART and QUIT reach the other")
    func twoMembersChat() throws {
        let alice = SandboxAccount(member: "alice@passport.test", password: "a", nickname: "Alice", puid: "00000000000A11CE")
        let h = Harness(SandboxConfiguration(ircxPort: 6667, accounts: [.demo, alice]))
        let (s1, c1) = h.connect(), (s2, c2) = h.connect()
        _ = try h.authenticate(s1, c1, package: .gateKeeperPassport, blob: h.passportBlob(for: .demo))
        _ = try h.authenticate(s2, c2, package: .gateKeeperPassport, blob: h.passportBlob(for: alice))
        h.feed(s1, "PROP $ MSNREGCOOKIE :\(h.regCookie("Demo"))")
        h.feed(s2, "NICK Alice")
        h.feed(s2, "USER alice 0 * :Alice")
        _ = c1.take(); _ = c2.take()

        h.feed(s1, "JOIN %#Lobby")
        h.feed(s2, "JOIN %#lobby")
        #expect(c1.take() == [":Demo!0001A2B3C4D5E6F7@GateKeeperPassport JOIN :%#Lobby", ":127.0.0.1 MODE %#Lobby +q Demo",
                              ":127.0.0.1 353 Demo = %#Lobby :.Demo", ":127.0.0.1 366 Demo %#Lobby :End of /NAMES list.",
                              ":Alice!00000000000A11CE@GateKeeperPassport JOIN :%#Lobby"])  // the room keeps its first spelling
        #expect(c2.take().contains(":127.0.0.1 353 Alice = %#Lobby :.Demo Alice"))

        h.feed(s2, "PRIVMSG %#Lobby :hello, Demo")
        #expect(c1.take() == [":Alice!00000000000A11CE@GateKeeperPassport PRIVMSG %#Lobby :hello, Demo"])
        #expect(c2.take().isEmpty, "senders do not get their own message back")
        h.feed(s1, "PRIVMSG alice :psst")
        #expect(c2.take() == [":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG alice :psst"])
        h.feed(s1, "PRIVMSG nobody :x")
        #expect(c1.take().first?.contains(" 401 ") == true)

        // Registered members keep their nickname: a taken one is refused before the collision is looked at (irc7-com
        // Nick.cs; IRCXFidelityTests covers it, and the collision between guests).
        h.feed(s1, "NICK Alice")
        #expect(c1.take().first?.contains(" 439 ") == true)

        h.feed(s2, "PART %#Lobby")
        #expect(c1.take() == [":Alice!00000000000A11CE@GateKeeperPassport PART %#Lobby"])
        h.feed(s2, "JOIN %#Lobby")
        _ = c1.take()
        h.feed(s2, "QUIT :bye")
        #expect(c1.take() == [":Alice!00000000000A11CE@GateKeeperPassport QUIT :Quit: bye"])
        #expect(c2.closed)
        #expect(h.network.census.members == 1)
    }

    @Test("FINDS answers 613 with the chat server's address (directory role)")
    func finds() throws {
        let h = Harness()
        let (s, c) = h.connect()
        h.feed(s, "FINDS %#Lobby")
        #expect(c.take().first?.contains(" 451 ") == true)
        _ = try h.authenticate(s, c, package: .gateKeeper)
        h.feed(s, "FINDS %#Lobby")
        #expect(c.take() == [":127.0.0.1 613 * :127.0.0.1 6667"])
    }

    @Test("faults: wrong-challenge makes every answer fail; malformed-challenge breaks the signature")
    func challengeFaults() throws {
        let wrong = Harness(SandboxConfiguration(ircxPort: 6667, faults: [.wrongChallenge]))
        let (s, c) = wrong.connect()
        #expect(try wrong.authenticate(s, c, package: .gateKeeper).contains(" 910 "))

        let malformed = Harness(SandboxConfiguration(ircxPort: 6667, faults: [.malformedChallenge]))
        let (s2, c2) = malformed.connect()
        malformed.feed(s2, bytes: Array(GateKeeperClient.initiateLine(package: .gateKeeper, version: .v3).dropLast(2)))
        #expect(c2.take().first?.hasPrefix("AUTH GateKeeper S :GKSSX") == true)
    }

    @Test("an over-long line closes the link with ERROR, as the session's framer reports it")
    func garbage() throws {
        let h = Harness()
        let (s, c) = h.connect()
        h.feed(s, "\u{1}\u{2}garbage")
        h.feed(s, "PRIVMSG")
        #expect(!c.closed)
        s.receive(line: Array(repeating: 0x41, count: 5000), now: Self.now, challenge: [], randomGUID: [])
        #expect(c.closed)
        #expect(c.lines.last?.hasPrefix("ERROR :Closing Link") == true)
    }
}
