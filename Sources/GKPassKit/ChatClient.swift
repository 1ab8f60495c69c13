public import GateKeeper

/// The client side of joining an MSN Chat (IRCX) server, sans-I/O: `IRCVERS`, the GateKeeper or GateKeeperPassport
/// exchange (through `GateKeeperClient`), the Passport PROPs of protocol.md §2.3, registration, and then one goal:
/// join a room, or ask the directory where a room lives (`FINDS` -> `613`). Lines in, lines and events out; the
/// socket lives in `ChatConnection`.
public struct ChatClient {
    public enum Goal: Sendable, Equatable {
        /// Register and stop (a connection check).
        case register
        /// Register, then join this room.
        case join(String)
        /// Ask the directory for this room's server (after authenticating).
        case find(String)
    }

    public struct Options: Sendable {
        public var gatekeeper: GateKeeperClient.Configuration
        /// PROPs sent after AUTH succeeds and before registering (MSNPROFILE, then MSNREGCOOKIE, which registers).
        public var preRegistrationProps: [(name: String, value: String)]
        /// PROPs sent once registered (SUBSCRIBERINFO, ROLE).
        public var postRegistrationProps: [(name: String, value: String)]
        /// Sent as NICK when no MSNREGCOOKIE names us (guests, or a server that refused the cookie).
        public var nickname: String
        public var goal: Goal

        public init(
            gatekeeper: GateKeeperClient.Configuration, preRegistrationProps: [(name: String, value: String)] = [],
            postRegistrationProps: [(name: String, value: String)] = [], nickname: String, goal: Goal
        ) {
            self.gatekeeper = gatekeeper
            self.preRegistrationProps = preRegistrationProps
            self.postRegistrationProps = postRegistrationProps
            self.nickname = nickname
            self.goal = goal
        }
    }

    public enum Event: Sendable, Equatable {
        case send([UInt8])
        /// `AUTH … * user@domain oid`.
        case authenticated(user: String, domain: String)
        /// 001: the nickname the server gave us.
        case registered(nickname: String)
        /// A PROP the server refused (906), as a warning: the connection goes on.
        case propRefused(name: String, text: String)
        case joined(room: String)
        /// 613: the room's server.
        case found(host: String, port: Int)
        /// The goal is reached; the caller sends QUIT and closes.
        case done
    }

    public struct Failure: Error, Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// 910 after the Passport blob: the server refused the ticket (expired, or not issued for it).
            case ticketRejected
            /// 910 before the blob: the server refused the GateKeeper answer (host name, version, truncation).
            case answerRejected
            /// 911/912/909/462: the server would not run the exchange at all.
            case authenticationRefused
            case nicknameRefused
            case roomRefused
            /// ERROR or a close at a time the client did not expect.
            case serverClosed
            /// The server said something this client cannot follow.
            case protocolError
        }
        public var kind: Kind
        public var message: String
    }

    /// Where the session is, with what only that step needs: the GateKeeper exchange lives in `idle` and
    /// `authenticating`, the room in `joining` and `finding`, the nickname the server gave from 001 on.
    enum State {
        /// `start()` not yet called.
        case idle(GateKeeperClient)
        /// AUTH under way; `blob` is how far the Passport blob has gone (no slice sent yet: the answer is still
        /// being judged, so a 910 is about the answer; after a slice it is about the ticket).
        case authenticating(GateKeeperClient, blob: BlobProgress)
        /// Authenticated, waiting for 001. `registration` says who names us: the MSNREGCOOKIE PROP, or NICK/USER
        /// (sent at once without a cookie, or after the server refused it).
        case registering(Registration)
        /// Registered as `nickname`; JOIN sent for `room`, waiting for its 366.
        case joining(room: String, nickname: String)
        /// Authenticated; FINDS sent for `room`, waiting for the directory's 613.
        case finding(room: String)
        /// The goal is reached; `nickname` is the server's, when the goal went through registration.
        case done(nickname: String?)
        /// A failure was thrown; later lines are ignored.
        case failed(nickname: String?)
    }

    enum Registration: Equatable {
        /// PROP MSNREGCOOKIE sent: the server names us from the cookie.
        case byCookie
        /// NICK and USER sent.
        case byNick
    }

    /// Slices of the Passport blob sent, of how many (`.ocx` sends one per `S :OK`; `.oneLine` one in all).
    struct BlobProgress: Equatable {
        var sent = 0
        var of = 0
    }

    let options: Options
    var state: State

    /// The nickname the server gave us (001), once registered.
    public var nickname: String? {
        switch state {
        case .joining(_, let nickname): nickname
        case .done(let nickname), .failed(let nickname): nickname
        case .idle, .authenticating, .registering, .finding: nil
        }
    }

    public init(options: Options) throws(GateKeeperError) {
        // Every line built from server or chat-page data (the PROP values, the nickname) or from the caller (the
        // room) is built by IRCXMessage, which refuses CR, LF and NUL; each is tried here, before anything is
        // sent: a value holding CR, LF or NUL (a chat page's `&#13;&#10;`, a room typed with a line break) would
        // otherwise be a second command of someone else's choosing.
        for (name, value) in options.preRegistrationProps + options.postRegistrationProps {
            guard (try? Self.message("PROP", ["$", name, value])) != nil else {
                throw GateKeeperError(.invalidArgument, "the value for PROP \(name) holds a line break or NUL (CR, LF or NUL from the chat page); refusing to send it")
            }
        }
        guard (try? Self.message("NICK", [options.nickname])) != nil else {
            throw GateKeeperError(.invalidArgument, "the nickname holds a line break or NUL; refusing to send it")
        }
        switch options.goal {
        case .register: break
        case .join(let room), .find(let room):
            guard Self.isRoomName(room) else {
                throw GateKeeperError(.invalidArgument, "the room name is empty or holds a space, comma, line break or NUL; refusing to send it")
            }
        }
        self.options = options
        state = .idle(try GateKeeperClient(configuration: options.gatekeeper))
    }

    /// The opening lines: IRCVERS, then the first AUTH line.
    public mutating func start() throws(GateKeeperError) -> [UInt8] {
        guard case .idle(var gatekeeper) = state else { throw GateKeeperError(.invalidState, "the session has already started") }
        let first = try gatekeeper.start()
        state = .authenticating(gatekeeper, blob: BlobProgress())
        return Array("IRCVERS IRC8 MSN-OCX!9.02.0310.2401\r\n".utf8) + first
    }

    /// Whether `room` is one room name that JOIN and FINDS can carry: IRCXMessage's rules for a parameter that is
    /// not the last (not empty, no space, no leading `:`; no CR, LF or NUL anywhere), and no comma (a list of rooms).
    public static func isRoomName(_ room: String) -> Bool {
        !room.contains(",") && (try? message("JOIN", [room, "x"])) != nil
    }

    static func message(_ command: String, _ parameters: [String]) throws(GateKeeperError) -> IRCXMessage {
        try IRCXMessage(command: Array(command.utf8), parameters: parameters.map { Array($0.utf8) })
    }

    /// One line to send, built (and checked) by IRCXMessage. The values were all tried at init, and what comes from
    /// the server comes from a parsed line; a refusal here would be a bug, reported rather than sent.
    static func line(_ command: String, _ parameters: [String]) throws(Failure) -> [UInt8] {
        do { return try message(command, parameters).serialized() } catch {
            throw Failure(kind: .protocolError, message: "refusing to send a \(command) line: \(error)")
        }
    }

    static func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }

    /// Feeds one server line.
    public mutating func receive(_ message: IRCXMessage) throws(Failure) -> [Event] {
        if message.commandName == "PING" {
            return [.send(try Self.line("PONG", [Self.text(message.parameters.first)]))]
        }
        if message.commandName == "ERROR" {
            throw fail(.serverClosed, "the server closed the link: \(Self.text(message.parameters.last))")
        }
        switch state {
        case .idle: throw Failure(kind: .protocolError, message: "start() before feeding lines")
        case .done, .failed: return []
        case .authenticating(let gatekeeper, let blob): return try authenticate(message, gatekeeper: gatekeeper, blob: blob)
        case .registering(let registration): return try register(message, registration: registration)
        case .joining(let room, let nickname): return try joining(message, room: room, nickname: nickname)
        case .finding(let room): return try finding(message, room: room)
        }
    }

    /// Moves to `failed` (keeping the nickname, if any) and returns the failure to throw.
    mutating func fail(_ kind: Failure.Kind, _ message: String) -> Failure {
        state = .failed(nickname: nickname)
        return Failure(kind: kind, message: message)
    }

    mutating func authenticate(_ message: IRCXMessage, gatekeeper: GateKeeperClient, blob: BlobProgress) throws(Failure) -> [Event] {
        if message.numeric == 800 { return [] }  // IRCVERS reply
        var gatekeeper = gatekeeper
        let action: GateKeeperClient.Action
        do { action = try gatekeeper.receive(message) } catch {
            throw fail(.protocolError, "the server's AUTH exchange went wrong: \(error)")
        }
        switch action {
        case .none:
            state = .authenticating(gatekeeper, blob: blob)
            return []
        case .send(let line):
            let progress = gatekeeper.passportProgress
            state = .authenticating(gatekeeper, blob: BlobProgress(sent: progress.sent, of: progress.of))
            return [.send(line)]
        case .finished(.rejected(let rejection, let text)):
            let said = Self.text(text)
            switch rejection {
            case .authenticationFailed where blob.sent > 0:
                throw fail(.ticketRejected, "the server refused the Passport ticket (910 \(said))" + Self.slicingHint(blob, options.gatekeeper))
            case .authenticationFailed:
                throw fail(.answerRejected, "the server refused the GateKeeper answer (910 \(said))")
            case .serverClosed:
                throw fail(.serverClosed, "the server closed the link during AUTH: \(said)")
            default:
                throw fail(.authenticationRefused, "the server refused to authenticate: \(said)")
            }
        case .finished(.authenticated(let user, let domain, _)):
            var events: [Event] = [.authenticated(user: Self.text(user), domain: Self.text(domain))]
            if case .find(let room) = options.goal {
                state = .finding(room: room)
                events.append(.send(try Self.line("FINDS", [room])))
                return events
            }
            var registersByCookie = false
            for (name, value) in options.preRegistrationProps {
                events.append(.send(try Self.line("PROP", ["$", name, value])))
                if name == "MSNREGCOOKIE" { registersByCookie = true }
            }
            if registersByCookie {
                state = .registering(.byCookie)
            } else {
                events += try nickAndUser()
            }
            return events
        }
    }

    /// When a 910 may come from sending the blob the wrong way rather than from the ticket: a slicing server
    /// refuses a one-line blob over 480 bytes; a one-line server cannot read the first of several slices.
    static func slicingHint(_ blob: BlobProgress, _ configuration: GateKeeperClient.Configuration) -> String {
        let length = configuration.passportBlob?.encoded().count ?? 0
        switch configuration.passportSlicing {
        case .oneLine where length > PassportBlob.sliceSize:
            return "; if the server takes the blob in 480-byte slices, set passport_slices = \"ocx\" for this network"
        case .ocx where blob.of > 1 && blob.sent == 1:
            return "; if the server takes the blob on one line, set passport_slices = \"one-line\" for this network"
        case .ocx, .oneLine:
            return ""
        }
    }

    /// NICK and USER; from here the server names us by NICK.
    mutating func nickAndUser() throws(Failure) -> [Event] {
        state = .registering(.byNick)
        return [.send(try Self.line("NICK", [options.nickname])), .send(try Self.line("USER", ["gkpass", "0", "*", "gkpass"]))]
    }

    mutating func register(_ message: IRCXMessage, registration: Registration) throws(Failure) -> [Event] {
        switch message.numeric {
        case 1:
            let nickname = Self.text(message.parameters.first)
            var events: [Event] = [.registered(nickname: nickname)]
            for (name, value) in options.postRegistrationProps { events.append(.send(try Self.line("PROP", ["$", name, value]))) }
            switch options.goal {
            case .join(let room):
                state = .joining(room: room, nickname: nickname)
                events.append(.send(try Self.line("JOIN", [room])))
            case .register, .find:
                state = .done(nickname: nickname)
                events.append(.done)
            }
            return events
        case 906:
            let name = Self.text(message.parameters.count > 1 ? message.parameters[1] : nil)
            var events: [Event] = [.propRefused(name: name, text: Self.text(message.parameters.last))]
            // Without the registration cookie nobody names us: fall back to NICK/USER (once).
            if name.uppercased() == "MSNREGCOOKIE" && registration == .byCookie { events += try nickAndUser() }
            return events
        case 431, 432, 433, 436:
            throw fail(.nicknameRefused, "the server refused the nickname \(options.nickname): \(Self.text(message.parameters.last))")
        case let code? where (400..<600).contains(code) || code >= 900:
            throw fail(.protocolError, "registration failed: \(code) \(Self.text(message.parameters.last))")
        default:
            return []
        }
    }

    mutating func joining(_ message: IRCXMessage, room: String, nickname: String) throws(Failure) -> [Event] {
        switch message.numeric {
        case 366:
            state = .done(nickname: nickname)
            return [.joined(room: room), .done]
        case 403, 405, 471, 473, 474, 475, 477, 702, 913:
            throw fail(.roomRefused, "the server would not let us join \(room): \(message.numeric!) \(Self.text(message.parameters.last))")
        case 906:
            return [.propRefused(name: Self.text(message.parameters.count > 1 ? message.parameters[1] : nil), text: Self.text(message.parameters.last))]
        default:
            return []
        }
    }

    mutating func finding(_ message: IRCXMessage, room: String) throws(Failure) -> [Event] {
        switch message.numeric {
        case 613:
            // `:server 613 nick :host port`
            let words = Self.text(message.parameters.last).split(separator: " ")
            guard words.count >= 2, let port = Int(words[1]), (1...65535).contains(port) else {
                throw fail(.protocolError, "the directory's 613 names no usable server: \(Self.text(message.parameters.last))")
            }
            state = .done(nickname: nil)
            return [.found(host: String(words[0]), port: port), .done]
        case 702:
            throw fail(.roomRefused, "the directory does not know \(room): \(Self.text(message.parameters.last))")
        case let code? where (400..<600).contains(code) || code >= 900:
            throw fail(.protocolError, "FINDS failed: \(code) \(Self.text(message.parameters.last))")
        default:
            return []
        }
    }
}
