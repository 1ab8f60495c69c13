import GKPassSandbox
import GateKeeper
import Testing

/// JOIN with a key per room and NICK after registration, answered as the irc7 servers answer them (the sources are
/// cited where the sandbox implements them: IRCXSession+Rooms.swift `join`, IRCXSession.swift `nickCommand`).
@Suite("IRCX JOIN keys and NICK after registration (in memory)")
struct IRCXFidelityTests {
    typealias Harness = IRCXSessionTests.Harness
    static let alice = IRCXRoomTests.alice, bob = IRCXRoomTests.bob

    /// Alice owns %#A (HOSTKEY hA) and %#B (HOSTKEY hB); Bob is registered and in neither.
    static func twoKeyedRooms() throws -> (Harness, IRCXSession, RecordingConnection, IRCXSession, RecordingConnection) {
        let h = IRCXRoomTests.harness()
        let (a, ac) = try IRCXRoomTests.member(h, alice)
        let (b, bc) = try IRCXRoomTests.member(h, bob)
        h.feed(a, "JOIN %#A,%#B")
        h.feed(a, "PROP %#A HOSTKEY :hA")
        h.feed(a, "PROP %#B HOSTKEY :hB")
        _ = ac.take()
        return (h, a, ac, b, bc)
    }

    @Test("JOIN %#A,%#B hA,hB: the n-th key goes to the n-th room (RFC 2812, ozjd's IRC8.mrc), each making Bob host")
    func positionalKeys() throws {
        let (h, _, ac, b, bc) = try Self.twoKeyedRooms()
        h.feed(b, "JOIN %#A,%#B hA,hB")
        let lines = bc.take()
        #expect(lines.filter { $0.contains(" MODE ") } == [":127.0.0.1 MODE %#A +o Bob", ":127.0.0.1 MODE %#B +o Bob"], "\(lines)")
        #expect(lines.contains(":127.0.0.1 353 Bob = %#A :.Alice @Bob") && lines.contains(":127.0.0.1 353 Bob = %#B :.Alice @Bob"), "\(lines)")
        #expect(ac.take().filter { $0.contains("JOIN") }.count == 2)
    }

    @Test("keys out of order or missing: each room checks only its own (,hB hosts in %#B alone; hB,hA hosts nowhere)")
    func keysByPosition() throws {
        let (h, _, _, b, bc) = try Self.twoKeyedRooms()
        h.feed(b, "JOIN %#A,%#B hB,hA")
        var lines = bc.take()
        #expect(!lines.contains { $0.contains(" MODE ") }, "swapped keys match neither room: \(lines)")
        #expect(lines.contains(":127.0.0.1 353 Bob = %#A :.Alice Bob"), "\(lines)")
        h.feed(b, "PART %#A,%#B")
        _ = bc.take()
        h.feed(b, "JOIN %#A,%#B ,hB")
        lines = bc.take()
        #expect(lines.filter { $0.contains(" MODE ") } == [":127.0.0.1 MODE %#B +o Bob"], "\(lines)")
    }

    @Test("one key and no comma goes to every room, as irc7's Join.cs gives its one key to each; more parameters are ignored")
    func oneKeyForAll() throws {
        let (h, a, ac, b, bc) = try Self.twoKeyedRooms()
        h.feed(a, "PROP %#B HOSTKEY :hA")
        _ = ac.take()
        h.feed(b, "JOIN %#A,%#B hA H,U,GO extra")
        let lines = bc.take()
        #expect(lines.filter { $0.contains(" MODE ") } == [":127.0.0.1 MODE %#A +o Bob", ":127.0.0.1 MODE %#B +o Bob"], "\(lines)")
        #expect(!lines.contains { $0.contains(" 403 ") || $0.contains(" 461 ") }, "\(lines)")
    }

    @Test("an empty room in the list (JOIN %#A,,%#B) is skipped, and the keys keep their positions")
    func emptyEntries() throws {
        let (h, _, _, b, bc) = try Self.twoKeyedRooms()
        h.feed(b, "JOIN %#A,,%#B ,,hB")
        let lines = bc.take()
        #expect(!lines.contains { $0.contains(" 403 ") }, "\(lines)")
        #expect(lines.filter { $0.hasSuffix(" JOIN :%#A") || $0.hasSuffix(" JOIN :%#B") }.count == 2, "\(lines)")
        #expect(lines.filter { $0.contains(" MODE ") } == [":127.0.0.1 MODE %#B +o Bob"], "\(lines)")
    }

    @Test("a registered Passport member may not change nickname: 439 <nick> <wanted> :Nick name changes not permitted.")
    func passportNickChange() throws {
        let h = IRCXRoomTests.harness()
        let (a, ac) = try IRCXRoomTests.member(h, Self.alice)
        let (b, bc) = try IRCXRoomTests.member(h, Self.bob)
        h.feed(a, "JOIN %#Room")
        h.feed(b, "JOIN %#Room")
        _ = ac.take(); _ = bc.take()
        h.feed(a, "NICK Alicia")
        #expect(ac.take() == [":127.0.0.1 439 Alice Alicia :Nick name changes not permitted."])
        #expect(bc.take().isEmpty, "nothing reaches the room")
        // irc7-com checks the permission first: an invalid or taken nickname gets the same 439.
        h.feed(a, "NICK >guesty")
        #expect(ac.take() == [":127.0.0.1 439 Alice >guesty :Nick name changes not permitted."])
        h.feed(a, "NICK Bob")
        #expect(ac.take() == [":127.0.0.1 439 Alice Bob :Nick name changes not permitted."])
        // The nickname is still Alice's: messages go out under it.
        h.feed(a, "PRIVMSG %#Room :still Alice")
        #expect(bc.take() == [":Alice!00000000000A11CE@GateKeeperPassport PRIVMSG %#Room :still Alice"])
    }

    @Test("the same member from the registration cookie gets 439 too; before registration NICK is still free")
    func cookieMemberNickChange() throws {
        let h = IRCXRoomTests.harness()
        let (s, c) = h.connect()
        _ = try h.authenticate(s, c, package: .gateKeeperPassport, blob: h.passportBlob(for: Self.alice))
        h.feed(s, "NICK First")
        h.feed(s, "NICK Second")
        #expect(c.take().isEmpty, "no registration yet: the NICKs only choose")
        h.feed(s, "USER a 0 * :a")
        #expect(c.take().first == ":127.0.0.1 001 Second :Welcome to the gkpass sandbox network Second!00000000000A11CE@GateKeeperPassport")
        h.feed(s, "NICK Third")
        #expect(c.take() == [":127.0.0.1 439 Second Third :Nick name changes not permitted."])

        let (k, kc) = try IRCXRoomTests.member(h, Self.bob, cookie: true)
        h.feed(k, "NICK Robert")
        #expect(kc.take() == [":127.0.0.1 439 Bob Robert :Nick name changes not permitted."])
    }

    @Test("guests and staff (an accepted ROLE cookie) may still change nickname after registration")
    func guestsAndStaffMayChange() throws {
        let h = IRCXRoomTests.harness()
        let (g, gc) = try IRCXRoomTests.guest(h, ">visitor")
        h.feed(g, "NICK >traveller")
        #expect(gc.take() == [":>visitor!D6976AC3D30A4249B16807102BBA1896@GateKeeper NICK :>traveller"])
        h.feed(g, "NICK >traveller")
        #expect(gc.take().isEmpty, "its own nickname again changes nothing")
        let (other, oc) = try IRCXRoomTests.guest(h, ">other")
        h.feed(other, "NICK >Traveller")
        #expect(oc.take() == [":127.0.0.1 433 >other >Traveller :Nickname is already in use"])

        let (s, c) = h.connect()
        _ = try h.authenticate(s, c, package: .gateKeeperPassport, blob: h.passportBlob(for: Self.alice))
        h.feed(s, "PROP $ ROLE :\(PassportV4(secret: h.configuration.secret).seal(["umode": "o", "utype": "G"]))")
        h.feed(s, "NICK Alice")
        h.feed(s, "USER a 0 * :a")
        _ = c.take()
        h.feed(s, "NICK GuideAlice")
        #expect(c.take() == [":Alice!00000000000A11CE@GateKeeperPassport NICK :GuideAlice"])
    }
}

extension IRCXFidelityTests {
    @Test("a room of 120: NAMES comes in several 353 lines of at most 512 bytes, every member once, then one 366")
    func bigRoomNames() throws {
        let accounts = (1...120).map { SandboxAccount(member: "m\($0)@passport.test", password: "p", nickname: "Member\($0)", puid: String(format: "%016X", $0)) }
        let h = Harness(SandboxConfiguration(ircxPort: 6667, accounts: accounts))
        var sessions: [(IRCXSession, RecordingConnection)] = []
        for account in accounts {
            let member = try IRCXRoomTests.member(h, account)
            h.feed(member.0, "JOIN %#Big")
            sessions.append(member)
        }
        let (last, lc) = sessions[sessions.count - 1]
        let joinReply = lc.takeBytes()
        h.feed(last, "NAMES %#Big")
        for reply in [joinReply, lc.takeBytes()] {
            let names = reply.filter { String(decoding: $0, as: UTF8.self).contains(" 353 ") }
            #expect(names.count > 1 && names.allSatisfy { $0.count + 2 <= 512 }, "\(names.map(\.count))")
            let listed = names.flatMap { String(decoding: $0, as: UTF8.self).split(separator: ":").last!.split(separator: " ").map(String.init) }
            #expect(listed.count == 120 && Set(listed).count == 120 && listed.first == ".Member1", "\(listed.prefix(3))")
            #expect(reply.filter { String(decoding: $0, as: UTF8.self).contains(" 366 ") }.count == 1)
        }
    }
}
