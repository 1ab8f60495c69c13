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

    enum State: Equatable {
        case idle
        /// AUTH under way; `blob` is how far the Passport blob has gone (no slice sent yet: the answer is still
        /// being judged, so a 910 is about the answer; after a slice it is about the ticket).
        case authenticating(blob: BlobProgress)
        case registering, joining, finding, done, failed
    }

    /// Slices of the Passport blob sent, of how many (`.ocx` sends one per `S :OK`; `.oneLine` one in all).
    struct BlobProgress: Equatable {
        var sent = 0
        var of = 0
    }

    let options: Options
    var gatekeeper: GateKeeperClient
    var state = State.idle
    var sentNick = false
    public private(set) var nickname: String?

    public init(options: Options) throws(GateKeeperError) {
        // Every line built from server or chat-page data (the PROP values, the nickname) passes IRCXMessage's check
        // before anything is sent: a value holding CR, LF or NUL (a chat page's `&#13;&#10;`) would otherwise be a
        // second command of the server's choosing.
        for (name, value) in options.preRegistrationProps + options.postRegistrationProps {
            do {
                _ = try IRCXMessage(command: Array("PROP".utf8), parameters: [Array("$".utf8), Array(name.utf8), Array(value.utf8)])
            } catch {
                throw GateKeeperError(.invalidArgument, "the value for PROP \(name) holds a line break or NUL (CR, LF or NUL from the chat page); refusing to send it")
            }
        }
        do { _ = try IRCXMessage(command: Array("NICK".utf8), parameters: [Array(options.nickname.utf8)]) } catch {
            throw GateKeeperError(.invalidArgument, "the nickname holds a line break or NUL; refusing to send it")
        }
        self.options = options
        gatekeeper = try GateKeeperClient(configuration: options.gatekeeper)
    }

    /// The opening lines: IRCVERS, then the first AUTH line.
    public mutating func start() throws(GateKeeperError) -> [UInt8] {
        state = .authenticating(blob: BlobProgress())
        return Array("IRCVERS IRC8 MSN-OCX!9.02.0310.2401\r\n".utf8) + (try gatekeeper.start())
    }

    static func line(_ command: String, _ parameters: [String]) -> [UInt8] {
        var text = command
        for (index, parameter) in parameters.enumerated() {
            text += (index == parameters.count - 1 && (parameter.isEmpty || parameter.contains(" ") || parameter.hasPrefix(":"))) ? " :" + parameter : " " + parameter
        }
        return Array((text + "\r\n").utf8)
    }

    static func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }

    /// Feeds one server line.
    public mutating func receive(_ message: IRCXMessage) throws(Failure) -> [Event] {
        if message.commandName == "PING" {
            return [.send(Self.line("PONG", [Self.text(message.parameters.first)]))]
        }
        if message.commandName == "ERROR" {
            state = .failed
            throw Failure(kind: .serverClosed, message: "the server closed the link: \(Self.text(message.parameters.last))")
        }
        switch state {
        case .idle: throw Failure(kind: .protocolError, message: "start() before feeding lines")
        case .done, .failed: return []
        case .authenticating(let blob): return try authenticate(message, blob: blob)
        case .registering: return try register(message)
        case .joining: return try joining(message)
        case .finding: return try finding(message)
        }
    }

    mutating func authenticate(_ message: IRCXMessage, blob: BlobProgress) throws(Failure) -> [Event] {
        if message.numeric == 800 { return [] }  // IRCVERS reply
        let action: GateKeeperClient.Action
        do { action = try gatekeeper.receive(message) } catch {
            state = .failed
            throw Failure(kind: .protocolError, message: "the server's AUTH exchange went wrong: \(error)")
        }
        switch action {
        case .none: return []
        case .send(let line):
            let progress = gatekeeper.passportProgress
            state = .authenticating(blob: BlobProgress(sent: progress.sent, of: progress.of))
            return [.send(line)]
        case .finished(.rejected(let rejection, let text)):
            state = .failed
            let said = Self.text(text)
            switch rejection {
            case .authenticationFailed where blob.sent > 0:
                throw Failure(kind: .ticketRejected, message: "the server refused the Passport ticket (910 \(said))" + Self.slicingHint(blob, options.gatekeeper))
            case .authenticationFailed:
                throw Failure(kind: .answerRejected, message: "the server refused the GateKeeper answer (910 \(said))")
            case .serverClosed:
                throw Failure(kind: .serverClosed, message: "the server closed the link during AUTH: \(said)")
            default:
                throw Failure(kind: .authenticationRefused, message: "the server refused to authenticate: \(said)")
            }
        case .finished(.authenticated(let user, let domain, _)):
            state = .registering
            var events: [Event] = [.authenticated(user: Self.text(user), domain: Self.text(domain))]
            if case .find(let room) = options.goal {
                state = .finding
                events.append(.send(Self.line("FINDS", [room])))
                return events
            }
            var registersByCookie = false
            for (name, value) in options.preRegistrationProps {
                events.append(.send(Self.line("PROP", ["$", name, value])))
                if name == "MSNREGCOOKIE" { registersByCookie = true }
            }
            if !registersByCookie { events += nickAndUser() }
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

    mutating func nickAndUser() -> [Event] {
        sentNick = true
        return [.send(Self.line("NICK", [options.nickname])), .send(Self.line("USER", ["gkpass", "0", "*", "gkpass"]))]
    }

    mutating func register(_ message: IRCXMessage) throws(Failure) -> [Event] {
        switch message.numeric {
        case 1:
            nickname = Self.text(message.parameters.first)
            var events: [Event] = [.registered(nickname: nickname ?? "")]
            for (name, value) in options.postRegistrationProps { events.append(.send(Self.line("PROP", ["$", name, value]))) }
            switch options.goal {
            case .join(let room):
                state = .joining
                events.append(.send(Self.line("JOIN", [room])))
            case .register, .find:
                state = .done
                events.append(.done)
            }
            return events
        case 906:
            let name = Self.text(message.parameters.count > 1 ? message.parameters[1] : nil)
            var events: [Event] = [.propRefused(name: name, text: Self.text(message.parameters.last))]
            // Without the registration cookie nobody names us: fall back to NICK/USER.
            if name.uppercased() == "MSNREGCOOKIE" && !sentNick { events += nickAndUser() }
            return events
        case 431, 432, 433, 436:
            state = .failed
            throw Failure(kind: .nicknameRefused, message: "the server refused the nickname \(options.nickname): \(Self.text(message.parameters.last))")
        case let code? where (400..<600).contains(code) || code >= 900:
            state = .failed
            throw Failure(kind: .protocolError, message: "registration failed: \(code) \(Self.text(message.parameters.last))")
        default:
            return []
        }
    }

    mutating func joining(_ message: IRCXMessage) throws(Failure) -> [Event] {
        guard case .join(let room) = options.goal else { return [] }
        switch message.numeric {
        case 366:
            state = .done
            return [.joined(room: room), .done]
        case 403, 405, 471, 473, 474, 475, 477, 702, 913:
            state = .failed
            throw Failure(kind: .roomRefused, message: "the server would not let us join \(room): \(message.numeric!) \(Self.text(message.parameters.last))")
        case 906:
            return [.propRefused(name: Self.text(message.parameters.count > 1 ? message.parameters[1] : nil), text: Self.text(message.parameters.last))]
        default:
            return []
        }
    }

    mutating func finding(_ message: IRCXMessage) throws(Failure) -> [Event] {
        guard case .find(let room) = options.goal else { return [] }
        switch message.numeric {
        case 613:
            // `:server 613 nick :host port`
            let words = Self.text(message.parameters.last).split(separator: " ")
            guard words.count >= 2, let port = Int(words[1]), (1...65535).contains(port) else {
                state = .failed
                throw Failure(kind: .protocolError, message: "the directory's 613 names no usable server: \(Self.text(message.parameters.last))")
            }
            state = .done
            return [.found(host: String(words[0]), port: port), .done]
        case 702:
            state = .failed
            throw Failure(kind: .roomRefused, message: "the directory does not know \(room): \(Self.text(message.parameters.last))")
        case let code? where (400..<600).contains(code) || code >= 900:
            state = .failed
            throw Failure(kind: .protocolError, message: "FINDS failed: \(code) \(Self.text(message.parameters.last))")
        default:
            return []
        }
    }
}
