public import GateKeeper
import Passport
internal import GKText

/// `gkpass connect`: prove a ticket (or a guest GateKeeper answer) against the network's IRCX server. Directory
/// first when the network has one and a room is named (`FINDS` -> `613`), then IRCVERS, AUTH, the account's PROPs,
/// registration, optionally JOIN, and QUIT.
public struct Connect {
    public enum Identity {
        case passport(TicketSet)
        case guest(GateKeeperGUID, nickname: String)
    }

    public var network: Network
    /// Overrides the network's server (and skips the directory).
    public var server: Network.Endpoint?
    public var room: String?
    public var identity: Identity
    /// Seconds for each connection (connect, exchange, join).
    public var timeout: Double = 30

    public init(network: Network, server: Network.Endpoint?, room: String?, identity: Identity) {
        self.network = network
        self.server = server
        self.room = room
        self.identity = identity
    }

    public struct Outcome: Sendable, Equatable {
        public var server: Network.Endpoint
        public var directory: Network.Endpoint?
        public var package: GateKeeperPackage
        public var version: GateKeeperVersion
        /// The PUID (Passport) or GUID (guest) the server authenticated, and its domain.
        public var user: String
        public var domain: String
        public var nickname: String
        public var room: String?
        /// PROPs the server refused (906), by name: each name once, at most ``Connect/keptRefusedProps`` of them.
        public var refusedProps: [String]
        /// Further PROP refusals beyond those listed (a server that floods 906s).
        public var refusedPropsOmitted = 0
    }

    /// What `open` keeps from a server before the goal is done, however much it sends: the first lines from
    /// registration (001) on, at most this many and at most ``keptBytes`` bytes; later lines are read, answered if
    /// need be (PING), and dropped. A proxy hands them (its goal is registration: only the 001) to its client.
    public static let keptLines = 64
    public static let keptBytes = 16_384
    /// The most distinct refused PROP names kept (the account sends four).
    public static let keptRefusedProps = 16

    public func run(trace: ((String) -> Void)?) throws(GKPassError) -> Outcome {
        var directory: Network.Endpoint?
        var target: Network.Endpoint
        if let server {
            target = server
        } else {
            guard let configured = network.server else {
                throw GKPassError(.usage, "network \(network.name) has no IRCX server", hint: "give --server HOST:PORT, or set server in its config")
            }
            target = configured
            if let room, let configuredDirectory = network.directory {
                directory = configuredDirectory
                target = try find(room: room, directory: configuredDirectory, trace: trace)
                trace?("directory: \(room) is on \(target)")
            }
        }
        let goal: ChatClient.Goal = room.map { .join($0) } ?? .register
        var outcome = Outcome(
            server: target, directory: directory, package: package, version: network.gatekeeperVersion, user: "", domain: "",
            nickname: "", room: nil, refusedProps: [])
        let opened = try session(target, goal: goal, trace: trace)
        outcome.refusedPropsOmitted = opened.refusedPropsOmitted
        for event in opened.events {
            switch event {
            case .authenticated(let user, let domain):
                outcome.user = user
                outcome.domain = domain
            case .registered(let nickname): outcome.nickname = nickname
            case .joined(let room): outcome.room = room
            case .propRefused(let name, _): outcome.refusedProps.append(name)
            case .send, .found, .done: break
            }
        }
        return outcome
    }

    var package: GateKeeperPackage {
        if case .guest = identity { return .gateKeeper }
        return .gateKeeperPassport
    }

    /// Where the directory says `room` is (FINDS -> 613), as this identity.
    public func find(room: String, directory: Network.Endpoint, trace: ((String) -> Void)?) throws(GKPassError) -> Network.Endpoint {
        let found = try session(directory, goal: .find(room), trace: trace).events
        guard case .found(let host, let port)? = found.first(where: { if case .found = $0 { true } else { false } }) else {
            throw GKPassError(.network, "the directory \(directory) did not say where \(room) is")
        }
        // The directory decides where the ticket goes next: only to the network's own servers.
        guard network.allowsChatServer(host) else {
            throw GKPassError(
                .network, "the directory \(directory) placed \(room) on \(host), which is not one of network \(network.name)'s servers; the ticket was not sent there",
                hint: "if \(host) is the network's, list it in the network's servers in config.toml")
        }
        return Network.Endpoint(host: host, port: port)
    }

    func options(host: String, goal: ChatClient.Goal) throws(GKPassError) -> ChatClient.Options {
        switch identity {
        case .guest(let guid, let nickname):
            return ChatClient.Options(
                gatekeeper: .init(package: .gateKeeper, version: network.gatekeeperVersion, host: Array(host.utf8), truncateHost: network.truncateHost, guid: guid),
                nickname: nickname, goal: goal)
        case .passport(let set):
            let layout = set.blobLayout.flatMap(PassportBlob.Layout.init(rawValue:)) ?? network.blobLayout
            let blob = try StoredTicket.blob(set, layout: layout)
            var before: [(name: String, value: String)] = []
            var after: [(name: String, value: String)] = []
            if let profile = set.cookies["MSNProfile"] { before.append(("MSNPROFILE", profile)) }
            if let registration = set.cookies["MSNREGCookie"] { before.append(("MSNREGCOOKIE", registration)) }
            if let subscriber = set.cookies["SubscriberInfo"] { after.append(("SUBSCRIBERINFO", subscriber)) }
            if let role = set.cookies["UserRole"] { after.append(("ROLE", role)) }
            let fallbackNick = set.cookies["MSNChatNN"] ?? String(set.account.prefix { $0 != "@" })
            return ChatClient.Options(
                gatekeeper: .init(
                    package: .gateKeeperPassport, version: network.gatekeeperVersion, host: Array(host.utf8),
                    truncateHost: network.truncateHost, guid: .zero, passportBlob: blob,
                    passportSlicing: network.passportSlices),
                preRegistrationProps: before, postRegistrationProps: after, nickname: fallbackNick, goal: goal)
        }
    }

    /// One connection, pumped until the goal or a failure; QUITs when done.
    func session(_ endpoint: Network.Endpoint, goal: ChatClient.Goal, trace: ((String) -> Void)?) throws(GKPassError) -> Opened {
        let opened = try open(endpoint, goal: goal, trace: trace)
        try? opened.connection.send(Array("QUIT :gkpass connect\r\n".utf8), deadline: ChatConnection.now() + 2)
        return opened
    }

    /// A live upstream connection after the goal: the events (without the lines sent), and the raw lines from
    /// registration (001) on, which a proxy hands to its client: a bounded window (``keptLines``, ``keptBytes``).
    public struct Opened {
        public var connection: ChatConnection
        public var events: [ChatClient.Event]
        public var linesSinceRegistration: [[UInt8]]
        /// Lines from registration on that did not fit the window and were dropped.
        public var linesDropped = 0
        /// PROP refusals (906) beyond the first ``keptRefusedProps`` names, counted, not kept.
        public var refusedPropsOmitted = 0
    }

    /// The first lines of a stream, up to a count and a byte total; the rest only counted.
    struct Window {
        var lines: [[UInt8]] = []
        var bytes = 0
        var dropped = 0
        let maximumLines: Int
        let maximumBytes: Int

        mutating func append(_ line: [UInt8]) {
            guard lines.count < maximumLines, bytes + line.count <= maximumBytes else {
                dropped += 1
                return
            }
            lines.append(line)
            bytes += line.count
        }
    }

    /// Connects and pumps until the goal; the connection stays open for the caller.
    public func open(_ endpoint: Network.Endpoint, goal: ChatClient.Goal, trace: ((String) -> Void)?) throws(GKPassError) -> Opened {
        // The client (and its check of every line it will send) first: nothing is connected to for lines that
        // would be refused.
        var client: ChatClient
        do { client = try ChatClient(options: try options(host: endpoint.host, goal: goal)) } catch let error as GateKeeperError {
            throw GKPassError(.failure, "cannot start the exchange: \(error)")
        } catch let error as GKPassError {
            throw error
        } catch {
            throw GKPassError(.failure, "cannot start the exchange")
        }
        let deadline = ChatConnection.now() + timeout
        let connection = try ChatConnection(endpoint, timeout: timeout)
        connection.trace = trace
        func send(_ bytes: [UInt8]) throws(GKPassError) {
            if let trace {
                for line in bytes.split(separator: 0x0A) { trace("> " + Self.redacted(Array(line))) }
            }
            try connection.send(bytes, deadline: deadline)
        }
        do { try send(try client.start()) } catch let error as GKPassError { throw error } catch {
            throw GKPassError(.failure, "cannot start the exchange")
        }
        // Bounded, whatever the server sends before the goal: every event but the lines sent (one per PING), each
        // refused PROP name once and at most keptRefusedProps of them, and a window of lines.
        var events: [ChatClient.Event] = []
        var refused: Set<String> = []
        var refusedOmitted = 0
        var registered = Window(maximumLines: Self.keptLines, maximumBytes: Self.keptBytes)
        var sinceRegistration = false
        while true {
            guard let line = try connection.receiveLine(deadline: deadline) else {
                throw GKPassError(.network, "\(endpoint) closed the connection before \(Self.describe(goal)) was done")
            }
            let message: IRCXMessage
            do { message = try IRCXMessage(parsing: line) } catch {
                throw GKPassError(.network, "\(endpoint) sent a line that is not IRC (\(error))")
            }
            let new: [ChatClient.Event]
            do { new = try client.receive(message) } catch {
                throw Self.error(error, endpoint: endpoint)
            }
            if sinceRegistration || new.contains(where: { if case .registered = $0 { true } else { false } }) {
                sinceRegistration = true
                registered.append(line)
            }
            for event in new {
                switch event {
                case .send(let bytes): try send(bytes)
                case .propRefused(let name, _):
                    if refused.contains(name) { break }
                    if refused.count < Self.keptRefusedProps {
                        refused.insert(name)
                        events.append(event)
                    } else {
                        refusedOmitted += 1
                    }
                default: events.append(event)
                }
            }
            if new.contains(.done) {
                if registered.dropped > 0 {
                    trace?("kept the first \(registered.lines.count) of \(registered.lines.count + registered.dropped) lines since registration (at most \(Self.keptLines) lines, \(Self.keptBytes) bytes); the rest were read and dropped")
                }
                return Opened(connection: connection, events: events, linesSinceRegistration: registered.lines, linesDropped: registered.dropped,
                    refusedPropsOmitted: refusedOmitted)
            }
        }
    }

    static func describe(_ goal: ChatClient.Goal) -> String {
        switch goal {
        case .register: "registration"
        case .join(let room): "joining \(room)"
        case .find(let room): "finding \(room)"
        }
    }

    static func error(_ failure: ChatClient.Failure, endpoint: Network.Endpoint) -> GKPassError {
        switch failure.kind {
        case .ticketRejected:
            return GKPassError(.reauthenticate, "\(endpoint): \(failure.message)", hint: "the ticket may have expired on the server's clock; run gkpass login")
        case .answerRejected:
            return GKPassError(.failure, "\(endpoint): \(failure.message)", hint: "check the network's gatekeeper_version and truncate_host, and that HOST is the name the server expects")
        case .authenticationRefused, .nicknameRefused, .roomRefused, .protocolError:
            return GKPassError(.failure, "\(endpoint): \(failure.message)")
        case .serverClosed:
            return GKPassError(.network, "\(endpoint): \(failure.message)")
        }
    }

    /// A line as text for a trace: CR/LF dropped, bytes outside printable ASCII as `\xNN`.
    public static func printable(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes where byte != 0x0D && byte != 0x0A {
            if byte >= 0x20 && byte < 0x7F { text.unicodeScalars.append(UnicodeScalar(byte)) } else {
                text += "\\x" + Hex.encode([byte], uppercase: false)
            }
        }
        return text
    }

    /// A line for --verbose: the Passport blob (every slice of it) and cookie PROP values become fingerprints. Only a
    /// GKSSP token is shown: it starts `GKSSP` and a NUL (`\0` on the wire), which no ticket text can produce, while a
    /// later slice of a ticket could start with the letters `GKSSP`.
    static func redacted(_ bytes: [UInt8]) -> String {
        let text = printable(bytes)
        let words = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        if words.count == 4, words[0] == "PROP" { return words[0...2].joined(separator: " ") + " :" + Redaction.fingerprint(words[3]) }
        if words.count >= 4, words[0] == "AUTH", words[1] == "GateKeeperPassport", words[2] == "S", !words[3].hasPrefix(":GKSSP\\0") {
            return "AUTH GateKeeperPassport S :" + Redaction.fingerprint(words[3])
        }
        return text
    }
}
