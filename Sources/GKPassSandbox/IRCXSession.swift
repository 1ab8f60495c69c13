import GateKeeper

/// One client connection to the sandbox's IRCX server: framing is done by the caller, which hands over whole lines.
///
/// Authentication is decided by ``GateKeeperServer`` (the same core the client uses); this class adds what a
/// server adds around it: Passport blob verification against the tickets the DA issued, the user PROPs of
/// protocol.md §2.3, registration, rooms, messages, and the directory role (`FINDS` -> `613`).
/// Not thread-safe: the NIO handler calls it on its channel's event loop only.
public final class IRCXSession {
    let configuration: SandboxConfiguration
    let network: ChatNetwork
    let connection: any ChatConnection
    let tokens: PassportV4
    let peerAddress: String
    let log: @Sendable (String) -> Void

    var gatekeeper: GateKeeperServer
    var nick: [UInt8]?
    var user: [UInt8]?
    /// After AUTH: who (GUID or PUID), where (`GateKeeper` or the ticket's domain), and how.
    var identity: (user: [UInt8], domain: [UInt8], package: GateKeeperPackage)?
    var ticketTimestamp: String?
    var registered = false
    var usedRegistrationCookie = false
    var rooms: [[UInt8]] = []
    public private(set) var isClosed = false

    /// Lines a client may send before it has registered.
    static let allowedBeforeRegistration: Set<String> = ["IRCVERS", "AUTH", "NICK", "USER", "PROP", "PING", "PONG", "QUIT", "FINDS", "CAP"]

    public init(
        configuration: SandboxConfiguration, network: ChatNetwork, connection: any ChatConnection, peerAddress: String,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.configuration = configuration
        self.network = network
        self.connection = connection
        self.peerAddress = peerAddress
        self.log = log
        self.tokens = PassportV4(secret: configuration.secret)
        self.gatekeeper = GateKeeperServer(
            configuration: .init(
                serverName: Array(configuration.serverName.utf8), truncateHost: configuration.truncateHost,
                passportSlicing: configuration.passportSlices))
    }

    var server: [UInt8] { Array(configuration.serverName.utf8) }
    var nickOrStar: [UInt8] { nick ?? Array("*".utf8) }

    // MARK: - Output

    func send(_ bytes: [UInt8]) { connection.send(bytes) }

    /// `:server <code> <nick> <params…>`, last parameter trailing.
    func numeric(_ code: String, _ parameters: [[UInt8]]) {
        if let line = try? IRCXMessage(prefix: server, command: Array(code.utf8), parameters: [nickOrStar] + parameters, forcesTrailing: true) {
            send(line.serialized())
        }
    }

    func numeric(_ code: String, _ parameters: String...) { numeric(code, parameters.map { Array($0.utf8) }) }

    func closeLink(_ reason: String) {
        guard !isClosed else { return }
        send(Array("ERROR :Closing Link: \(peerAddress) (\(reason))\r\n".utf8))
        teardown()
        connection.close()
    }

    /// Forget this session everywhere (connection gone or closing); tells room peers the user quit.
    public func teardown(quitMessage: String = "Connection closed") {
        guard !isClosed else { return }
        isClosed = true
        if registered, let nick {
            let quit = (try? IRCXMessage(prefix: prefix, command: Array("QUIT".utf8), parameters: [Array(quitMessage.utf8)], forcesTrailing: true))?.serialized()
            for peer in network.leave(nick: nick) { if let quit { peer.send(quit) } }
        } else if let nick {
            _ = network.leave(nick: nick)
        }
    }

    var prefix: [UInt8] {
        let n = nick ?? Array("*".utf8)
        if let identity { return n + [UInt8(ascii: "!")] + identity.user + [UInt8(ascii: "@")] + identity.domain }
        return n + Array("!~".utf8) + (user ?? Array("user".utf8)) + Array("@\(peerAddress)".utf8)
    }

    // MARK: - Input

    /// Handles one line (without its terminator). `challenge` and `randomGUID` are fresh random bytes; `now` is the
    /// current Unix time, for ticket expiry.
    public func receive(line: [UInt8], now: Int64, challenge: [UInt8], randomGUID: [UInt8]) {
        guard !isClosed else { return }
        guard !line.isEmpty else { return }
        let message: IRCXMessage
        do { message = try IRCXMessage(parsing: line) } catch {
            if error.kind == .lineTooLong { closeLink("Input line too long") } else { numeric("421", "*", "Malformed line") }
            return
        }
        let command = message.commandName
        if !registered && !Self.allowedBeforeRegistration.contains(command) {
            numeric("451", [message.command, Array("You have not registered".utf8)])
            return
        }
        switch command {
        case "IRCVERS": numeric("800", "0", "0", "GateKeeper,GateKeeperPassport", "512", "*")
        case "AUTH": auth(message, now: now, challenge: challenge, randomGUID: randomGUID)
        case "NICK": nickCommand(message)
        case "USER": userCommand(message)
        case "PROP": prop(message, now: now)
        case "PING": send(Array("PONG ".utf8) + server + Array(" :".utf8) + (message.parameters.first ?? []) + [0x0D, 0x0A])
        case "PONG", "CAP": break
        case "QUIT":
            let text = message.parameters.first.map { String(decoding: $0, as: UTF8.self) } ?? "Quit"
            send(Array("ERROR :Closing Link: \(peerAddress) (Quit: \(text))\r\n".utf8))
            teardown(quitMessage: "Quit: " + text)
            connection.close()
        case "FINDS": finds(message)
        case "JOIN": join(message)
        case "PART": part(message)
        case "PRIVMSG", "NOTICE": deliver(message)
        case "MODE": mode(message)
        case "WHO": numeric("315", [message.parameters.first ?? Array("*".utf8), Array("End of /WHO list.".utf8)])
        default: numeric("421", [message.command, Array("Unknown command".utf8)])
        }
    }

    // MARK: - AUTH

    func auth(_ message: IRCXMessage, now: Int64, challenge: [UInt8], randomGUID: [UInt8]) {
        guard !registered else {
            numeric("462", "You may not reregister")
            return
        }
        var action = gatekeeper.receive(message, nick: nickOrStar, challenge: challenge, randomGUID: randomGUID)
        if case .verifyPassport(let blob) = action { action = verify(blob, now: now) }
        switch action {
        case .send(let line):
            send(applyChallengeFaults(line))
        case .verifyPassport:
            closeLink("Authentication failed")
        case .authenticated(let package, let user, let domain, let line):
            identity = (user, domain, package)
            log("ircx auth package=\(package.rawValue) user=\(String(decoding: user, as: UTF8.self)) peer=\(peerAddress) result=success")
            send(line)
        case .reject(let code, let line, let disconnect):
            if code == 910 { log("ircx auth peer=\(peerAddress) result=910") }
            send(line)
            if disconnect { closeLink("Authentication failed") }
        }
    }

    /// The sandbox faults that corrupt the challenge on its way out (design.md §8).
    func applyChallengeFaults(_ line: [UInt8]) -> [UInt8] {
        let wrong = configuration.faults.contains(.wrongChallenge), malformed = configuration.faults.contains(.malformedChallenge)
        guard wrong || malformed, let parsed = try? IRCXMessage(parsing: line), let auth = try? AuthMessage(parsed),
            let token = try? GateKeeperToken(decoding: auth.data), case .challenge(let bytes) = token.message
        else { return line }
        var data = token.encoded()
        if wrong { data = try! GateKeeperToken(version: token.version, message: .challenge(bytes.map { $0 ^ 0xFF })).encoded() }
        if malformed { data[4] = UInt8(ascii: "X") }
        return AuthMessage(packageName: auth.packageName, step: .sequence, data: data).serialized()
    }

    /// Checks a Passport blob in the network's layout: both strings must be genuine, matching, current tokens. On a
    /// network whose DA issues no profile (bare-token, t-only) the profile is empty (`%08X t 00000000`) and the
    /// ticket alone is checked; it carries the PUID, domain and times by itself.
    func verify(_ blob: PassportBlob, now: Int64) -> GateKeeperServer.Action {
        let first = String(decoding: blob.first, as: UTF8.self), second = String(decoding: blob.second, as: UTF8.self)
        switch configuration.blobLayout {
        case .ticketProfile:
            let ticketOnly = blob.second.isEmpty && !configuration.passportDialect.issuesProfile
            let profile = ticketOnly ? nil : tokens.open(second)
            guard let ticket = tokens.open(first), ticketOnly || profile != nil, let puid = ticket["puid"],
                let domain = ticket["domain"], ticketOnly || (profile?["pid"] == puid && ticket["ts"] == profile?["ts"])
            else {
                log("ircx passport peer=\(peerAddress) result=bad-ticket")
                return gatekeeper.passportRejected(nick: nickOrStar)
            }
            guard PassportSite.isCurrent(ts: ticket["ts"], ttl: ticket["ttl"], now: now) else {
                log("ircx passport puid=\(puid) peer=\(peerAddress) result=expired")
                return gatekeeper.passportRejected(nick: nickOrStar)
            }
            ticketTimestamp = ticket["ts"]
            return gatekeeper.passportVerified(user: Array(puid.utf8), domain: Array(domain.utf8))
        case .profileNickname:
            guard let profile = tokens.open(first), let puid = profile["pid"], !blob.second.isEmpty,
                let account = configuration.accounts.first(where: { $0.puid == puid }),
                FormEncoding.decode(second) == account.nickname
            else {
                log("ircx passport peer=\(peerAddress) result=bad-profile-or-nickname")
                return gatekeeper.passportRejected(nick: nickOrStar)
            }
            ticketTimestamp = profile["ts"]
            return gatekeeper.passportVerified(user: Array(puid.utf8), domain: Array("GateKeeperPassport".utf8))
        }
    }

    // MARK: - Registration

    static func isValidNick(_ nick: [UInt8]) -> Bool {
        guard (1...32).contains(nick.count), !(0x30...0x39).contains(nick[0]), nick[0] != UInt8(ascii: "-") else { return false }
        return nick.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || Array("_-[]\\`^{}|>".utf8).contains(byte)
        }
    }

    /// MSNLD/irc7's rule (protocol.md §1.5): guests, and only guests, carry a leading `>`; staff words are reserved.
    func nickRefusal(_ candidate: [UInt8]) -> String? {
        let isGuest = identity?.package == .gateKeeper
        let startsWithGuestMark = candidate.first == UInt8(ascii: ">")
        if isGuest && !startsWithGuestMark { return "Guest nicknames must start with >" }
        if !isGuest && startsWithGuestMark { return "Only guests may use a nickname starting with >" }
        let lowered = String(decoding: candidate, as: UTF8.self).lowercased()
        if isGuest, ["sysop", "admin", "guide"].contains(where: { lowered.dropFirst().hasPrefix($0) }) {
            return "That nickname is reserved"
        }
        return nil
    }

    func nickCommand(_ message: IRCXMessage) {
        guard let candidate = message.parameters.first, !candidate.isEmpty else {
            numeric("431", "No nickname given")
            return
        }
        setNick(candidate)
    }

    @discardableResult
    func setNick(_ candidate: [UInt8]) -> Bool {
        if candidate == nick { return true }  // NICK to the current nickname changes nothing
        guard Self.isValidNick(candidate) else {
            numeric("432", [candidate, Array("Erroneous nickname".utf8)])
            return false
        }
        if let reason = nickRefusal(candidate) {
            numeric("432", [candidate, Array(reason.utf8)])
            return false
        }
        let oldPrefix = prefix
        let previous = nick
        nick = candidate
        guard network.claim(nick: candidate, prefix: prefix, connection: connection, replacing: previous) else {
            nick = previous
            numeric("433", [candidate, Array("Nickname is already in use".utf8)])
            return false
        }
        if registered {
            let line = (try? IRCXMessage(prefix: oldPrefix, command: Array("NICK".utf8), parameters: [candidate], forcesTrailing: true))?.serialized() ?? []
            send(line)
            var told = Set<ObjectIdentifier>()
            for room in rooms {
                for peer in network.audience(room: room, except: candidate)?.others ?? [] where told.insert(ObjectIdentifier(peer)).inserted {
                    peer.send(line)
                }
            }
        } else {
            completeRegistrationIfReady()
        }
        return true
    }

    func userCommand(_ message: IRCXMessage) {
        guard !registered else {
            numeric("462", "You may not reregister")
            return
        }
        guard message.parameters.count >= 4, !message.parameters[0].isEmpty else {
            numeric("461", "USER", "Not enough parameters")
            return
        }
        user = Array(message.parameters[0].prefix(16).filter { $0 > 0x20 && $0 != UInt8(ascii: "@") && $0 != UInt8(ascii: "!") })
        completeRegistrationIfReady()
    }

    func completeRegistrationIfReady() {
        guard !registered, !gatekeeper.isInProgress, let nick, user != nil || usedRegistrationCookie else { return }
        registered = true
        // Logged before 001 goes out: a client that has seen 001 can count on the log line being there.
        log("ircx registered nick=\(String(decoding: nick, as: UTF8.self)) peer=\(peerAddress)")
        network.updatePrefix(nick: nick, prefix: prefix)
        let name = configuration.serverName
        numeric("001", "Welcome to the gkpass sandbox network \(String(decoding: prefix, as: UTF8.self))")
        numeric("002", "Your host is \(name), running gkpass-sandbox")
        numeric("003", "This server was created for testing")
        numeric("004", [Array(name.utf8), Array("gkpass-sandbox".utf8), Array("aiowx".utf8), Array("ntmlk".utf8)])
        numeric("375", "- \(name) Message of the day -")
        numeric("372", "- This is a local MSN Chat sandbox. Nothing here leaves this machine.")
        numeric("376", "End of /MOTD command.")
    }

    // MARK: - PROP $ (protocol.md §2.3)

    func prop(_ message: IRCXMessage, now: Int64) {
        guard message.parameters.count >= 3, message.parameters[0] == Array("$".utf8) else {
            numeric("461", "PROP", "Not enough parameters")
            return
        }
        let name = String(decoding: message.parameters[1], as: UTF8.self).uppercased()
        let value = String(decoding: message.parameters[2], as: UTF8.self)
        guard identity?.package == .gateKeeperPassport else {
            numeric("908", "No permissions to perform command")
            return
        }
        switch name {
        case "MSNREGCOOKIE":
            // Honoured only while authenticated and not yet registered (irc7 ApolloServer).
            guard !registered else { numeric("908", "No permissions to perform command"); return }
            guard let fields = tokens.open(value), let nickText = fields["nick"] else {
                numeric("906", "MSNREGCOOKIE", "Bad value")
                return
            }
            usedRegistrationCookie = true
            if !setNick(Array(nickText.utf8)) { usedRegistrationCookie = false }
        case "MSNPROFILE":
            guard !registered, Int(value) != nil else { numeric("906", "MSNPROFILE", "Bad value"); return }
        case "SUBSCRIBERINFO":
            // Honoured only after registration, and only for the ticket it was issued with.
            guard registered, let fields = tokens.open(value), fields["ts"] == ticketTimestamp, fields["subscriber"] != nil else {
                numeric("906", "SUBSCRIBERINFO", "Bad value")
                return
            }
        case "ROLE":
            guard let fields = tokens.open(value), let type = fields["utype"], ["A", "S", "G"].contains(type) else {
                numeric("906", "ROLE", "Bad value")
                return
            }
        default:
            numeric("906", [message.parameters[1], Array("Bad value".utf8)])
        }
    }

    // MARK: - Rooms and messages

    static func isValidRoom(_ name: [UInt8]) -> Bool {
        let body: ArraySlice<UInt8>
        if name.starts(with: Array("%#".utf8)) { body = name.dropFirst(2) } else if name.first == UInt8(ascii: "#") { body = name.dropFirst() } else { return false }
        return (1...200).contains(body.count) && !body.contains { $0 <= 0x20 || $0 == UInt8(ascii: ",") || $0 == 0x07 }
    }

    func finds(_ message: IRCXMessage) {
        guard identity != nil || registered else {
            numeric("451", "FINDS", "You have not registered")
            return
        }
        guard let room = message.parameters.first, Self.isValidRoom(room) else {
            numeric("702", "Channel not found")
            return
        }
        // The directory role: the room lives on this server's chat role (same port in the sandbox).
        if let server = configuration.roomServer {
            numeric("613", "\(server.host) \(server.port)")
        } else {
            numeric("613", "\(configuration.publicHost) \(configuration.ircxPort)")
        }
    }

    func join(_ message: IRCXMessage) {
        guard let list = message.parameters.first, let nick else {
            numeric("461", "JOIN", "Not enough parameters")
            return
        }
        for room in list.split(separator: UInt8(ascii: ",")).map(Array.init) {
            guard Self.isValidRoom(room) else {
                numeric("403", [room, Array("No such channel".utf8)])
                continue
            }
            guard rooms.count < 10 else {
                numeric("405", [room, Array("You have joined too many channels".utf8)])
                continue
            }
            guard let joined = network.join(nick: nick, room: room) else { continue }
            rooms.append(joined.name)
            let line = (try? IRCXMessage(prefix: prefix, command: Array("JOIN".utf8), parameters: [joined.name], forcesTrailing: true))?.serialized() ?? []
            send(line)
            for peer in joined.others { peer.send(line) }
            numeric("353", [Array("=".utf8), joined.name, Array(joined.members.joined(separator: [0x20]))])
            numeric("366", [joined.name, Array("End of /NAMES list.".utf8)])
        }
    }

    func part(_ message: IRCXMessage) {
        guard let list = message.parameters.first, let nick else {
            numeric("461", "PART", "Not enough parameters")
            return
        }
        for room in list.split(separator: UInt8(ascii: ",")).map(Array.init) {
            let line = (try? IRCXMessage(prefix: prefix, command: Array("PART".utf8), parameters: [room], forcesTrailing: true))?.serialized() ?? []
            guard let left = network.part(nick: nick, room: room) else {
                numeric("442", [room, Array("You're not on that channel".utf8)])
                continue
            }
            rooms.removeAll { ChatNetwork.key($0) == ChatNetwork.key(room) }
            send(line)
            for peer in left.others { peer.send(line) }
        }
    }

    func deliver(_ message: IRCXMessage) {
        guard message.parameters.count >= 2, let nick else {
            numeric("411", "No recipient given")
            return
        }
        let target = message.parameters[0]
        guard let line = try? IRCXMessage(prefix: prefix, command: message.command, parameters: [target, message.parameters[1]], forcesTrailing: true) else { return }
        if target.first == UInt8(ascii: "#") || target.starts(with: Array("%#".utf8)) {
            guard let audience = network.audience(room: target, except: nick) else {
                numeric("404", [target, Array("Cannot send to channel".utf8)])
                return
            }
            for peer in audience.others { peer.send(line.serialized()) }
        } else if let peer = network.connection(nick: target) {
            peer.send(line.serialized())
        } else {
            numeric("401", [target, Array("No such nick/channel".utf8)])
        }
    }

    func mode(_ message: IRCXMessage) {
        guard let target = message.parameters.first else { numeric("461", "MODE", "Not enough parameters"); return }
        if target.first == UInt8(ascii: "#") || target.starts(with: Array("%#".utf8)) {
            numeric("324", [target, Array("+nt".utf8)])
        } else {
            numeric("221", "+")
        }
    }
}
