import GateKeeper

/// One client connection to the sandbox's IRCX server: framing is done by the caller, which hands over whole lines.
///
/// Authentication is decided by ``GateKeeperServer`` (the same core the client uses); this class adds what a
/// server adds around it: Passport blob verification against the tickets the DA issued, the user PROPs of
/// protocol.md §2.3, registration, rooms, messages, and the directory role (`FINDS` -> `613`). Replies follow
/// MSNLD/irc7 and irc7-com (their `Raws.cs`), including where they differ from what IRC clients expect: no `005`,
/// owners marked `.`, `WHISPER`, `PROP` on rooms, the 800 series. The room commands are in
/// `IRCXSession+Rooms.swift`.
/// Not thread-safe: the NIO handler calls it on its channel's event loop only.
public final class IRCXSession {
    let configuration: SandboxConfiguration
    let network: ChatNetwork
    let connection: any SessionConnection
    let tokens: PassportV4
    let peerAddress: String
    let log: @Sendable (String) -> Void

    var gatekeeper: GateKeeperServer
    var nick: [UInt8]?
    var user: [UInt8]?
    /// USER's last parameter; empty for a registration-cookie user (irc7 leaves it empty).
    var realName: [UInt8] = []
    /// Sent IRCVERS or IRCX (irc7: protocol above IRC): IRCX replies and forms from here on, 800 says 1.
    var speaksIRCX = false
    /// After AUTH: who (GUID or PUID), where (`GateKeeper` or the ticket's domain), and how.
    var identity: (user: [UInt8], domain: [UInt8], package: GateKeeperPackage)?
    var ticketTimestamp: String?
    var registered = false
    var usedRegistrationCookie = false
    /// A ROLE cookie with a staff type (A, S or G) was accepted: irc7's Guide level and above.
    var isStaff = false
    var rooms: [[UInt8]] = []
    public private(set) var isClosed = false

    /// Lines a client may send before it has registered.
    static let allowedBeforeRegistration: Set<String> = [
        "IRCVERS", "IRCX", "ISIRCX", "AUTH", "NICK", "USER", "PROP", "PING", "PONG", "QUIT", "FINDS", "CAP",
    ]

    /// The longest line the server reads, which its 800 reply names: MSNLD/irc7's and irc7-com's `MaxInputBytes`
    /// (protocol.md §2.2), enforced by the framer (``IRCXMessage/maximumLineLength``).
    static let maximumMessageLength = IRCXMessage.maximumLineLength

    /// The packages the 800 reply lists.
    static let packages = "GateKeeper,GateKeeperPassport"

    public init(
        configuration: SandboxConfiguration, network: ChatNetwork, connection: any SessionConnection, peerAddress: String,
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

    /// This chat server's name: the numerics' prefix (its own name when the sandbox runs several).
    var server: [UInt8] { Array((network.name ?? configuration.serverName).utf8) }
    var nickOrStar: [UInt8] { nick ?? Array("*".utf8) }

    // MARK: - Output

    func send(_ bytes: [UInt8]) { connection.send(bytes) }

    /// `:server <code> <nick> <params…>`, last parameter trailing.
    func numeric(_ code: String, _ parameters: [[UInt8]], trailing: Bool = true) {
        if let line = try? IRCXMessage(prefix: server, command: Array(code.utf8), parameters: [nickOrStar] + parameters, forcesTrailing: trailing) {
            send(line.serialized())
        }
    }

    func numeric(_ code: String, _ parameters: String...) { numeric(code, parameters.map { Array($0.utf8) }) }

    /// `:<prefix> <command> <params…>`, the last parameter trailing when `trailing` (irc7's `:%u …` forms).
    func outbound(from prefix: [UInt8], _ command: String, _ parameters: [[UInt8]], trailing: Bool = true) -> [UInt8] {
        (try? IRCXMessage(prefix: prefix, command: Array(command.utf8), parameters: parameters, forcesTrailing: trailing))?
            .serialized() ?? []
    }

    func closeLink(_ reason: String) {
        guard !isClosed else { return }
        send(Array("ERROR :Closing Link: \(peerAddress) (\(reason))\r\n".utf8))
        teardown()
        connection.close()
    }

    /// Forget this session everywhere (connection gone or closing); tells room peers the user quit.
    public func teardown(quitMessage: String = "Connection closed") { teardown(quitBytes: Array(quitMessage.utf8)) }

    /// The same with the quit message as bytes: a client's QUIT text goes to the room as it came.
    func teardown(quitBytes: [UInt8]) {
        guard !isClosed else { return }
        isClosed = true
        if registered, let nick {
            let quit = outbound(from: prefix, "QUIT", [quitBytes])
            for peer in network.leave(nick: nick) { peer.send(quit) }
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
        case "IRCVERS": ircvers(message)
        case "IRCX", "ISIRCX":
            if command == "IRCX" { speaksIRCX = true; updateMember() }
            numeric("800", speaksIRCX ? "1" : "0", "0", Self.packages, "\(Self.maximumMessageLength)", "*")
        case "AUTH": auth(message, now: now, challenge: challenge, randomGUID: randomGUID)
        case "NICK": nickCommand(message)
        case "USER": userCommand(message)
        case "PROP": prop(message, now: now)
        // Prefixed, as clients expect (HexChat drops a link whose PONGs carry no prefix): `:srv PONG srv :token`.
        // A PING without a token is 409, as irc7 answers it.
        case "PING":
            guard let token = message.parameters.first, !token.isEmpty else { numeric("409", "No origin specified"); break }
            send(outbound(from: server, "PONG", [server, token]))
        case "PONG", "CAP": break
        case "QUIT":
            let text = message.parameters.first ?? Array("Quit".utf8)
            send(Array("ERROR :Closing Link: \(peerAddress) (Quit: ".utf8) + text + Array(")\r\n".utf8))
            teardown(quitBytes: Array("Quit: ".utf8) + text)
            connection.close()
        case "FINDS": finds(message)
        case "JOIN": join(message)
        case "PART": part(message)
        case "PRIVMSG", "NOTICE": deliver(message)
        case "MODE": mode(message)
        case "TOPIC": topic(message, now: now)
        case "NAMES": names(message)
        case "WHOIS": whois(message)
        case "WHISPER": whisper(message)
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

    /// The longest nickname in bytes (irc7's `MaxFieldLen`).
    static let maximumNickLength = 64

    /// irc7-com's nickname masks, applied to bytes as irc7 applies them to its one-char-per-byte strings:
    /// `^[\x41-\xFF][\x41-\xFF\-0-9]*$`, and for guests `^>[\x41-\xFF][\x41-\xFF\-0-9]*$`, at most 64. MSN
    /// nicknames are UTF-8 carried as bytes (irc7 registers the Latin-1 view of the UTF-8 bytes of the cookie's
    /// nickname), and every byte of a multi-byte UTF-8 character is 0x80 or more, so `JoséÜmlaut` is a nickname
    /// here as it was there. Who may take the `>` is ``nickRefusal(_:)``'s business.
    static func isValidNick(_ nick: [UInt8]) -> Bool {
        guard nick.count <= maximumNickLength else { return false }
        let body = nick.first == UInt8(ascii: ">") ? nick.dropFirst() : nick[...]
        guard let first = body.first, first >= 0x41 else { return false }
        return body.dropFirst().allSatisfy { $0 >= 0x41 || $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) }
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
        // A Passport member's nickname is the one the registration gave; once registered it is theirs for the
        // session: `:srv 439 <nick> <wanted> :Nick name changes not permitted.` Guests and staff (Guide and above)
        // may change. irc7-com/irc7 `Irc/Commands/Nick.cs` (HandleRegNicknameChange: `!guest && !oper` ->
        // IRCX_ERR_NONICKCHANGES_439, checked before the nickname itself; commit 3ca507f) and its `Raws.cs` for the
        // line. protocol.md does not cover NICK after registration.
        if registered && identity?.package != .gateKeeper && !isStaff {
            numeric("439", [candidate, Array("Nick name changes not permitted.".utf8)])
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
        realName = Array(message.parameters[3].prefix(Self.maximumNickLength))
        completeRegistrationIfReady()
    }

    func completeRegistrationIfReady() {
        guard !registered, !gatekeeper.isInProgress, let nick, user != nil || usedRegistrationCookie else { return }
        registered = true
        // Logged before 001 goes out: a client that has seen 001 can count on the log line being there.
        log("ircx registered nick=\(String(decoding: nick, as: UTF8.self)) peer=\(peerAddress)")
        updateMember()
        let name = String(decoding: server, as: UTF8.self)
        // Built from bytes: the nickname goes out exactly as it came, UTF-8 or not.
        numeric("001", [Array("Welcome to the gkpass sandbox network ".utf8) + prefix])
        numeric("002", "Your host is \(name), running gkpass-sandbox")
        numeric("003", "This server was created for testing")
        numeric("004", [Array(name.utf8), Array("gkpass-sandbox".utf8), Array("aiowx".utf8), Array("ntmlk".utf8)])
        numeric("375", "- \(name) Message of the day -")
        numeric("372", "- This is a local MSN Chat sandbox. Nothing here leaves this machine.")
        numeric("376", "End of /MOTD command.")
    }

    /// Tells this server's member list what WHOIS and WHISPER need to know of us.
    func updateMember() {
        guard registered, let nick else { return }
        network.updatePrefix(nick: nick, prefix: prefix, realName: realName, speaksIRCX: speaksIRCX)
    }

    /// `IRCVERS IRCn client [locale]` (MSNLD/irc7 `Ircvers.cs`): before registration only (462); `IRC` and one digit,
    /// else 906; the reply is 800 with state 1 (IRCX) and the longest line this server reads.
    func ircvers(_ message: IRCXMessage) {
        guard !registered else { numeric("462", "You may not reregister"); return }
        guard message.parameters.count >= 2 else { numeric("461", "IRCVERS", "Not enough parameters"); return }
        let version = message.parameters[0].map { $0 >= 0x61 && $0 <= 0x7A ? $0 & ~0x20 : $0 }
        guard version.count == 4, version.starts(with: Array("IRC".utf8)), (0x30...0x39).contains(version[3]) else {
            numeric("906", [message.parameters[0], Array("Bad value specified".utf8)])
            return
        }
        speaksIRCX = true
        numeric("800", "1", "0", Self.packages, "\(Self.maximumMessageLength)", "*")
    }

    // MARK: - PROP $ (protocol.md §2.3)

    func prop(_ message: IRCXMessage, now: Int64) {
        if let target = message.parameters.first, Self.isRoomName(target) {
            guard registered else { numeric("451", [message.command, Array("You have not registered".utf8)]); return }
            roomProp(message, now: now)
            return
        }
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
            isStaff = true
        default:
            numeric("906", [message.parameters[1], Array("Bad value".utf8)])
        }
    }
}
