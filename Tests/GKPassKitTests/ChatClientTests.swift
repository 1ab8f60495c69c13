import GKPassKit
import GateKeeper
import Testing

/// The sans-I/O chat client against a real `GateKeeperServer` for the AUTH part and scripted lines after it.
@Suite("ChatClient")
struct ChatClientTests {
    static let blob = PassportBlob(first: Array("TICKET".utf8), second: Array("PROFILE".utf8))

    static func message(_ text: String) -> IRCXMessage { try! IRCXMessage(parsing: Array(text.utf8)) }

    /// Runs the client against a real GateKeeperServer until AUTH is done; returns the client and the events of
    /// the last server line. `acceptBlob` false makes the server refuse the Passport blob; `serverName` other
    /// than irc.test makes it refuse the answer.
    static func authenticated(
        _ options: ChatClient.Options, acceptBlob: Bool = true, serverName: String = "irc.test", serverSlicing: PassportSlicing = .ocx
    ) throws -> (ChatClient, [ChatClient.Event]) {
        var client = try ChatClient(options: options)
        var server = GateKeeperServer(configuration: .init(serverName: Array(serverName.utf8), passportSlicing: serverSlicing))
        var pending = try client.start().split(separator: 0x0A).map { Array($0) + [0x0A] }
        var last: [ChatClient.Event] = []
        func deliver(_ reply: [UInt8]) throws {
            last = try client.receive(try IRCXMessage(parsing: reply))
            for case .send(let bytes) in last where bytes.starts(with: Array("AUTH".utf8)) { pending.append(bytes) }
        }
        while !pending.isEmpty {
            let message = try IRCXMessage(parsing: pending.removeFirst())
            guard message.commandName == "AUTH" else { continue }
            var action = server.receive(message, challenge: Array(repeating: 0x41, count: 8), randomGUID: Array(repeating: 1, count: 16))
            if case .verifyPassport = action {
                action = acceptBlob ? server.passportVerified(user: Array("0011223344556677".utf8), domain: Array("passport.test".utf8)) : server.passportRejected()
            }
            switch action {
            case .send(let line): try deliver(line)
            case .authenticated(_, _, _, let line): try deliver(line)
            case .reject(_, let line, _): try deliver(line)
            case .verifyPassport: Issue.record("verified twice")
            }
        }
        return (client, last)
    }

    @Test("a chat-page value or nickname holding CR, LF or NUL is refused before any line is built (no injected command)", arguments: [
        "x\r\nJOIN #evil", "x\nQUIT", "x\u{0}y", "x\rPRIVMSG a :b",
    ])
    func injection(value: String) {
        let gatekeeper = GateKeeperClient.Configuration(package: .gateKeeperPassport, version: .v3, host: Array("irc.test".utf8), guid: .zero, passportBlob: Self.blob)
        #expect(throws: GateKeeperError.self) {
            try ChatClient(options: .init(gatekeeper: gatekeeper, preRegistrationProps: [("MSNREGCOOKIE", value)], nickname: "n", goal: .register))
        }
        #expect(throws: GateKeeperError.self) {
            try ChatClient(options: .init(gatekeeper: gatekeeper, postRegistrationProps: [("ROLE", value)], nickname: "n", goal: .register))
        }
        #expect(throws: GateKeeperError.self) { try ChatClient(options: .init(gatekeeper: gatekeeper, nickname: value, goal: .register)) }
        #expect(throws: Never.self) {
            try ChatClient(options: .init(gatekeeper: gatekeeper, preRegistrationProps: [("MSNREGCOOKIE", "a value with spaces: ok")], nickname: "n", goal: .register))
        }
    }

    @Test("910 after the Passport blob is a refused ticket; 910 after the answer a refused answer")
    func refusals() throws {
        let options = ChatClient.Options(
            gatekeeper: .init(package: .gateKeeperPassport, version: .v3, host: Array("irc.test".utf8), guid: .zero, passportBlob: Self.blob),
            nickname: "n", goal: .register)
        #expect { try Self.authenticated(options, acceptBlob: false) } throws: { ($0 as? ChatClient.Failure)?.kind == .ticketRejected }
        #expect { try Self.authenticated(options, serverName: "other.test") } throws: { ($0 as? ChatClient.Failure)?.kind == .answerRejected }
    }

    @Test("a 600-byte ticket in slices: accepted by a slicing server; 910 after any slice is a refused ticket, with a hint when the slicing is the likely cause")
    func slicedBlob() throws {
        let long = PassportBlob(first: Array(repeating: UInt8(ascii: "T"), count: 600), second: Array("PROFILE".utf8))
        func options(_ slicing: PassportSlicing) -> ChatClient.Options {
            ChatClient.Options(
                gatekeeper: .init(package: .gateKeeperPassport, version: .v3, host: Array("irc.test".utf8), guid: .zero, passportBlob: long, passportSlicing: slicing),
                nickname: "n", goal: .register)
        }
        for slicing in PassportSlicing.allCases {
            let (_, events) = try Self.authenticated(options(slicing), serverSlicing: slicing)
            #expect(events.first == .authenticated(user: "0011223344556677", domain: "passport.test"), "\(slicing)")
            #expect { try Self.authenticated(options(slicing), acceptBlob: false, serverSlicing: slicing) } throws: { error in
                let failure = error as? ChatClient.Failure
                // A one-line blob over 480 bytes may have met a slicing server: the message says so, as a possibility.
                return failure?.kind == .ticketRejected && failure?.message.contains("passport_slices") == (slicing == .oneLine)
            }
        }
        // The wrong slicing for the server: still exit 4's kind (the ticket was refused), and the message says what to try.
        #expect { try Self.authenticated(options(.oneLine), serverSlicing: .ocx) } throws: { error in
            let failure = error as? ChatClient.Failure
            return failure?.kind == .ticketRejected && failure?.message.contains("passport_slices = \"ocx\"") == true
        }
        #expect { try Self.authenticated(options(.ocx), serverSlicing: .oneLine) } throws: { error in
            let failure = error as? ChatClient.Failure
            return failure?.kind == .ticketRejected && failure?.message.contains("passport_slices = \"one-line\"") == true
        }
    }

    @Test("Passport: PROPs after AUTH (MSNPROFILE before MSNREGCOOKIE), no NICK; post-registration PROPs and JOIN after 001")
    func passport() throws {
        let options = ChatClient.Options(
            gatekeeper: .init(package: .gateKeeperPassport, version: .v3, host: Array("irc.test".utf8), guid: .zero, passportBlob: Self.blob),
            preRegistrationProps: [("MSNPROFILE", "0"), ("MSNREGCOOKIE", "reg")], postRegistrationProps: [("ROLE", "role")],
            nickname: "Fallback", goal: .join("%#Room"))
        var (client, events) = try Self.authenticated(options)
        #expect(events == [
            .authenticated(user: "0011223344556677", domain: "passport.test"),
            .send(Array("PROP $ MSNPROFILE 0\r\n".utf8)), .send(Array("PROP $ MSNREGCOOKIE reg\r\n".utf8)),
        ])
        #expect(try client.receive(Self.message("PING :abc")) == [.send(Array("PONG abc\r\n".utf8))])
        #expect(try client.receive(Self.message(":s 001 Alice :Welcome")) == [
            .registered(nickname: "Alice"), .send(Array("PROP $ ROLE role\r\n".utf8)), .send(Array("JOIN %#Room\r\n".utf8)),
        ])
        #expect(try client.receive(Self.message(":s 366 Alice %#Room :End")) == [.joined(room: "%#Room"), .done])
    }

    @Test("a refused registration cookie falls back to NICK/USER; a refused nickname and room are failures")
    func fallbacks() throws {
        let options = ChatClient.Options(
            gatekeeper: .init(package: .gateKeeperPassport, version: .v2, host: Array("irc.test".utf8), guid: .zero, passportBlob: Self.blob),
            preRegistrationProps: [("MSNREGCOOKIE", "stale")], nickname: "Fallback", goal: .join("%#Room"))
        var (client, _) = try Self.authenticated(options)
        #expect(try client.receive(Self.message(":s 906 * MSNREGCOOKIE :Bad value")) == [
            .propRefused(name: "MSNREGCOOKIE", text: "Bad value"), .send(Array("NICK Fallback\r\n".utf8)), .send(Array("USER gkpass 0 * gkpass\r\n".utf8)),
        ])
        #expect(throws: ChatClient.Failure.self) { try client.receive(Self.message(":s 433 * Fallback :Nickname is already in use")) }
        var (joining, _) = try Self.authenticated(options)
        _ = try joining.receive(Self.message(":s 001 Fallback :Welcome"))
        #expect { try joining.receive(Self.message(":s 474 Fallback %#Room :Banned")) } throws: { ($0 as? ChatClient.Failure)?.kind == .roomRefused }
    }

    @Test("directory: FINDS right after AUTH; 613 parsed; a 613 without a port is a protocol error; ERROR closes")
    func directory() throws {
        let options = ChatClient.Options(
            gatekeeper: .init(package: .gateKeeper, version: .v3, host: Array("irc.test".utf8), guid: GateKeeperGUID(wireBytes: Array(repeating: 7, count: 16))!),
            nickname: ">g", goal: .find("%#Room"))
        var (client, events) = try Self.authenticated(options)
        #expect(events.last == .send(Array("FINDS %#Room\r\n".utf8)))
        #expect(try client.receive(Self.message(":s 613 * :10.0.0.1 6667")) == [.found(host: "10.0.0.1", port: 6667), .done])
        var (broken, _) = try Self.authenticated(options)
        #expect { try broken.receive(Self.message(":s 613 * :10.0.0.1")) } throws: { ($0 as? ChatClient.Failure)?.kind == .protocolError }
        var (closed, _) = try Self.authenticated(options)
        #expect { try closed.receive(Self.message("ERROR :Closing link")) } throws: { ($0 as? ChatClient.Failure)?.kind == .serverClosed }
    }
}

/// The transitions the tests above do not walk: each state's data (the room, the nickname, who registers us) and
/// what a finished or failed session does with further lines.
@Suite("ChatClient states")
struct ChatClientStateTests {
    typealias T = ChatClientTests

    static func guest(_ goal: ChatClient.Goal) -> ChatClient.Options {
        ChatClient.Options(
            gatekeeper: .init(package: .gateKeeper, version: .v3, host: Array("irc.test".utf8), guid: GateKeeperGUID(wireBytes: Array(repeating: 7, count: 16))!),
            nickname: ">g", goal: goal)
    }

    static func passport(_ goal: ChatClient.Goal, cookie: Bool = true) -> ChatClient.Options {
        ChatClient.Options(
            gatekeeper: .init(package: .gateKeeperPassport, version: .v3, host: Array("irc.test".utf8), guid: .zero, passportBlob: T.blob),
            preRegistrationProps: cookie ? [("MSNREGCOOKIE", "reg")] : [("MSNPROFILE", "0")], nickname: "Fallback", goal: goal)
    }

    @Test("a room that would break the JOIN or FINDS line is refused before any line is built", arguments: [
        "%#a\r\nQUIT", "%#a\nQUIT", "%#a\rQUIT", "%#a\u{0}", "%#two words", "%#a,%#b", "", ":%#a",
    ])
    func room(room: String) {
        #expect(throws: GateKeeperError.self) { try ChatClient(options: Self.guest(.join(room))) }
        #expect(throws: GateKeeperError.self) { try ChatClient(options: Self.guest(.find(room))) }
        #expect(!ChatClient.isRoomName(room))
        #expect(ChatClient.isRoomName("%#JoséÜmlaut") && ChatClient.isRoomName("#plain"))
    }

    @Test("lines before start() are a protocol error; start() twice is refused")
    func idle() throws {
        var client = try ChatClient(options: Self.guest(.register))
        #expect { try client.receive(T.message(":s 001 x :Welcome")) } throws: { ($0 as? ChatClient.Failure)?.kind == .protocolError }
        let opening = try client.start()
        #expect(opening.starts(with: Array("IRCVERS IRC8 MSN-OCX!9.02.0310.2401\r\nAUTH GateKeeper I ".utf8)))
        #expect(throws: GateKeeperError.self) { try client.start() }
    }

    @Test("a guest: NICK and USER right after AUTH; 001 names us and, for .register, is the goal; the nickname is the server's")
    func guestRegistration() throws {
        var (client, events) = try T.authenticated(Self.guest(.register))
        #expect(Array(events.dropFirst()) == [.send(Array("NICK >g\r\n".utf8)), .send(Array("USER gkpass 0 * gkpass\r\n".utf8))])
        #expect(client.nickname == nil)
        // Already registering by NICK: a refused MSNREGCOOKIE (there was none) sends no second NICK.
        #expect(try client.receive(T.message(":s 906 * MSNREGCOOKIE :Bad value")) == [.propRefused(name: "MSNREGCOOKIE", text: "Bad value")])
        #expect(try client.receive(T.message(":s 002 >g :Your host")) == [])
        #expect(try client.receive(T.message(":s 001 >g1 :Welcome")) == [.registered(nickname: ">g1"), .done])
        #expect(client.nickname == ">g1")
        // Done: further lines are ignored; a PING is still answered.
        #expect(try client.receive(T.message(":s 433 * >g :In use")) == [])
        #expect(try client.receive(T.message("PING :a b")) == [.send(Array("PONG :a b\r\n".utf8))])
    }

    @Test("the registration cookie refused twice: NICK and USER once")
    func cookieRefusedTwice() throws {
        var (client, events) = try T.authenticated(Self.passport(.register))
        #expect(events.last == .send(Array("PROP $ MSNREGCOOKIE reg\r\n".utf8)))
        let nickAndUser: [ChatClient.Event] = [.send(Array("NICK Fallback\r\n".utf8)), .send(Array("USER gkpass 0 * gkpass\r\n".utf8))]
        #expect(try client.receive(T.message(":s 906 * MSNREGCOOKIE :Bad")) == [.propRefused(name: "MSNREGCOOKIE", text: "Bad")] + nickAndUser)
        #expect(try client.receive(T.message(":s 906 * msnregcookie :Bad")) == [.propRefused(name: "msnregcookie", text: "Bad")])
        // Without a cookie, NICK goes at once.
        let (_, plain) = try T.authenticated(Self.passport(.register, cookie: false))
        #expect(Array(plain.suffix(2)) == nickAndUser)
    }

    @Test("joining: a 906 is a warning, other lines wait for 366; a refused room keeps the nickname; a failed session ignores lines")
    func joining() throws {
        var (client, _) = try T.authenticated(Self.guest(.join("%#Room")))
        #expect(try client.receive(T.message(":s 001 >g :Welcome")) == [.registered(nickname: ">g"), .send(Array("JOIN %#Room\r\n".utf8))])
        #expect(try client.receive(T.message(":s 906 >g ROLE :Bad value")) == [.propRefused(name: "ROLE", text: "Bad value")])
        #expect(try client.receive(T.message(":>g!u@h JOIN %#Room")) == [])
        #expect(try client.receive(T.message(":s 353 >g = %#Room :>g")) == [])
        #expect { try client.receive(T.message(":s 913 >g %#Room :No access")) } throws: { ($0 as? ChatClient.Failure)?.kind == .roomRefused }
        #expect(client.nickname == ">g")
        #expect(try client.receive(T.message(":s 366 >g %#Room :End")) == [])
        // A registration refused outright (not the nickname): a protocol error.
        var (refused, _) = try T.authenticated(Self.guest(.register))
        #expect { try refused.receive(T.message(":s 465 * :Banned")) } throws: { ($0 as? ChatClient.Failure)?.kind == .protocolError }
        #expect(refused.nickname == nil)
    }

    @Test("finding: 702 is an unknown room; another error numeric a failed FINDS; the session has no nickname")
    func finding() throws {
        var (unknown, _) = try T.authenticated(Self.guest(.find("%#Nowhere")))
        #expect(try unknown.receive(T.message(":s 800 * 1 0 GateKeeper 512 *")) == [])
        #expect { try unknown.receive(T.message(":s 702 * :Channel not found")) } throws: { ($0 as? ChatClient.Failure)?.kind == .roomRefused }
        var (broken, _) = try T.authenticated(Self.guest(.find("%#Room")))
        #expect { try broken.receive(T.message(":s 421 * FINDS :Unknown command")) } throws: { ($0 as? ChatClient.Failure)?.kind == .protocolError }
        var (found, _) = try T.authenticated(Self.guest(.find("%#Room")))
        #expect(try found.receive(T.message(":s 613 * :10.0.0.1 6667")) == [.found(host: "10.0.0.1", port: 6667), .done])
        #expect(found.nickname == nil)
    }

    @Test("ERROR during AUTH closes the session; later lines are ignored")
    func errorDuringAuth() throws {
        var client = try ChatClient(options: Self.guest(.register))
        _ = try client.start()
        #expect { try client.receive(T.message("ERROR :Closing link")) } throws: { ($0 as? ChatClient.Failure)?.kind == .serverClosed }
        #expect(try client.receive(T.message(":s 001 >g :Welcome")) == [])
    }
}
