/// The server side of AUTH GateKeeper / GateKeeperPassport, sans-I/O (protocol.md §1, §2.1), as MSNLD/irc7 runs it,
/// with the Passport blob taken either in the OCX's slices (irc7-sspi) or from one line (MSNLD/irc7).
///
/// ```
///  AUTH P I :<seq 1>            -> .send(AUTH P S :<seq 2, challenge supplied by the caller>)
///  AUTH P S :<seq 3>            -> GateKeeper: .authenticated(GUID@GateKeeper) | Passport: .send(AUTH P S :OK)
///  AUTH P S :<blob>             -> .verifyPassport(blob): the driver checks the tickets and calls
///                                  passportVerified(user:domain:) or passportRejected()
///    .ocx: AUTH P S :<480 bytes>   -> .send(AUTH P S :OK), and the next slice is awaited
///          AUTH P S :<0-479 bytes> -> the slices so far are the blob: .verifyPassport(blob)
///          AUTH P S :<481+ bytes>  -> .reject(910 …)
///  anything wrong               -> .reject(910 …): send it and disconnect
/// ```
/// The machine never draws random bytes or reads a clock: each step that needs randomness takes it as an argument.
/// Server lines carry the package spelling the client used.
public struct GateKeeperServer {
    public struct Configuration: Sendable {
        /// The server's own name: it prefixes numerics, and v3 answers must hash it (protocol.md §1.4).
        public var serverName: [UInt8]
        /// Hash only the first 15 bytes of ``serverName`` when checking v3 answers.
        public var truncateHost: Bool
        /// The packages offered; AUTH for any other gets 912.
        public var packages: Set<GateKeeperPackage>
        /// The lowest version accepted (MSNLD/irc7 accepts 1-3; irc7-sspi only 3).
        public var minimumVersion: GateKeeperVersion
        /// How the Passport blob arrives after `S :OK` (protocol.md §2.2): in slices of at most
        /// ``PassportBlob/sliceSize`` bytes, each full one answered with another `S :OK` (irc7-sspi's server, the
        /// original control's way; the default), or whole on one line (MSNLD/irc7, up to its 1,024-byte lines).
        public var passportSlicing: PassportSlicing

        public init(
            serverName: some Collection<UInt8>, truncateHost: Bool = true,
            packages: Set<GateKeeperPackage> = [.gateKeeper, .gateKeeperPassport], minimumVersion: GateKeeperVersion = .v1,
            passportSlicing: PassportSlicing = .ocx
        ) {
            self.serverName = Array(serverName)
            self.truncateHost = truncateHost
            self.packages = packages
            self.minimumVersion = minimumVersion
            self.passportSlicing = passportSlicing
        }
    }

    /// The most blob bytes taken in slices, as irc7-sspi's server bounds them (`src/passport.rs`: 4,096); past it, 910.
    public static let maximumSlicedBlobLength = 4096

    public enum Action: Equatable, Sendable {
        /// Write this line and wait for the client.
        case send([UInt8])
        /// Check the Passport blob (ticket and profile) and report back with ``passportVerified(user:domain:)`` or
        /// ``passportRejected()``.
        case verifyPassport(PassportBlob)
        /// Authenticated: write `line` (the `AUTH P * user@domain 0` success line).
        case authenticated(package: GateKeeperPackage, user: [UInt8], domain: [UInt8], line: [UInt8])
        /// Refused: write `line` and, when `disconnect`, close the connection (MSNLD/irc7 does so on 910).
        case reject(numeric: Int, line: [UInt8], disconnect: Bool)
    }

    private enum State {
        case idle
        case sentChallenge(package: GateKeeperPackage, name: [UInt8], version: GateKeeperVersion, challenge: [UInt8])
        /// After `S :OK`: `received` holds the full slices taken so far (always empty for `.oneLine`).
        case awaitingBlob(name: [UInt8], received: [UInt8])
        case verifying(name: [UInt8])
        case authenticated
        case failed
    }

    public let configuration: Configuration
    private var state: State = .idle

    public init(configuration: Configuration) { self.configuration = configuration }

    public var isAuthenticated: Bool {
        if case .authenticated = state { return true }
        return false
    }

    /// Whether an exchange is under way (AUTH started but not finished).
    public var isInProgress: Bool {
        switch state {
        case .sentChallenge, .awaitingBlob, .verifying: return true
        case .idle, .authenticated, .failed: return false
        }
    }

    /// Feeds one AUTH command from the client. `nick` is the client's nickname so far (`*` before NICK).
    /// `challenge` (8 bytes) is used when this step issues a challenge; `randomGUID` (16 bytes) when a v1 guest needs
    /// one invented (protocol.md §1.5). Fresh random bytes for both should be passed on every call.
    public mutating func receive(
        _ message: IRCXMessage, nick: [UInt8] = Array("*".utf8), challenge: [UInt8], randomGUID: [UInt8]
    ) -> Action {
        let auth: AuthMessage
        do {
            guard let parsed = try AuthMessage(message) else { return fail(nick: nick, package: nil) }
            auth = parsed
        } catch {
            return fail(nick: nick, package: message.parameters.first)
        }
        switch (state, auth.step) {
        case (.authenticated, _):
            return .reject(numeric: 909, line: numeric(909, nick, [Array("Already authenticated".utf8)]), disconnect: false)
        case (.failed, _):
            return fail(nick: nick, package: auth.packageName)
        case (_, .done):
            // A client's `*` aborts the exchange (IRCX draft ch. 3).
            return fail(nick: nick, package: auth.packageName)

        case (.idle, .initiate):
            guard let package = auth.package, configuration.packages.contains(package) else {
                return .reject(
                    numeric: 912, line: numeric(912, nick, [auth.packageName, Array("Unsupported package".utf8)]),
                    disconnect: false)
            }
            guard challenge.count == GateKeeperToken.challengeLength,
                let token = try? GateKeeperToken(decoding: auth.data), token.message == .initiate,
                token.version >= configuration.minimumVersion
            else { return fail(nick: nick, package: auth.packageName) }
            // MSNLD/irc7 echoes the client's version in the challenge (protocol.md §1.4).
            let reply = try! GateKeeperToken(version: token.version, message: .challenge(challenge))
            state = .sentChallenge(package: package, name: auth.packageName, version: token.version, challenge: challenge)
            return .send(AuthMessage(packageName: auth.packageName, step: .sequence, data: reply.encoded()).serialized())

        case (.sentChallenge(let package, let name, let version, let sent), .sequence):
            guard let token = try? GateKeeperToken(decoding: auth.data), token.version == version,
                case .response(let digest, let guid) = token.message
            else { return fail(nick: nick, package: name) }
            let expected = GateKeeperHMAC().answer(
                challenge: sent, version: version, host: configuration.serverName,
                truncateHost: configuration.truncateHost)
            guard Self.constantTimeEqual(digest, expected) else { return fail(nick: nick, package: name) }
            switch package {
            case .gateKeeper:
                // A guest must present a non-zero GUID (MSNLD/irc7); v1 sends none and the server invents one.
                let identity: GateKeeperGUID
                if let guid {
                    guard !guid.isZero else { return fail(nick: nick, package: name) }
                    identity = guid
                } else {
                    guard let invented = GateKeeperGUID(wireBytes: randomGUID) else {
                        return fail(nick: nick, package: name)
                    }
                    identity = invented
                }
                return succeed(name: name, package: .gateKeeper, user: Array(identity.displayString.utf8),
                    domain: Array("GateKeeper".utf8))
            case .gateKeeperPassport:
                state = .awaitingBlob(name: name, received: [])
                return Self.passportOK(name)
            }

        case (.awaitingBlob(let name, let received), .sequence):
            switch configuration.passportSlicing {
            case .oneLine:
                return takeBlob(auth.data, name: name, nick: nick)
            case .ocx:
                // irc7-sspi's server: a slice longer than 480 bytes is refused; one of exactly 480 asks for the next
                // with S :OK; a shorter one (even empty) ends the blob.
                let slice = auth.data
                guard slice.count <= PassportBlob.sliceSize,
                    received.count + slice.count <= Self.maximumSlicedBlobLength
                else { return fail(nick: nick, package: name) }
                if slice.count == PassportBlob.sliceSize {
                    state = .awaitingBlob(name: name, received: received + slice)
                    return Self.passportOK(name)
                }
                return takeBlob(received + slice, name: name, nick: nick)
            }

        case (.idle, .sequence), (.sentChallenge, .initiate), (.awaitingBlob, .initiate), (.verifying, _):
            return fail(nick: nick, package: auth.packageName)
        }
    }

    /// `AUTH <name> S :OK`: the answer was right (or a full slice arrived); send the blob (or its next slice).
    static func passportOK(_ name: [UInt8]) -> Action {
        .send(AuthMessage(packageName: name, step: .sequence, data: Array("OK".utf8)).serialized())
    }

    private mutating func takeBlob(_ bytes: [UInt8], name: [UInt8], nick: [UInt8]) -> Action {
        guard let blob = try? PassportBlob(decoding: bytes) else { return fail(nick: nick, package: name) }
        state = .verifying(name: name)
        return .verifyPassport(blob)
    }

    /// The driver accepted the Passport blob: `user` is the PUID (16 hex digits), `domain` the ticket's domain.
    public mutating func passportVerified(user: some Collection<UInt8>, domain: some Collection<UInt8>) -> Action {
        guard case .verifying(let name) = state else { return fail(nick: Array("*".utf8), package: nil) }
        return succeed(name: name, package: .gateKeeperPassport, user: Array(user), domain: Array(domain))
    }

    /// The driver refused the Passport blob (bad, forged or expired ticket): 910 and disconnect.
    public mutating func passportRejected(nick: [UInt8] = Array("*".utf8)) -> Action {
        guard case .verifying(let name) = state else { return fail(nick: nick, package: nil) }
        return fail(nick: nick, package: name)
    }

    private mutating func succeed(name: [UInt8], package: GateKeeperPackage, user: [UInt8], domain: [UInt8]) -> Action {
        state = .authenticated
        // No server prefix on the success line (IRCX draft ch. 4; MSNLD RPL_AUTH_SUCCESS).
        var line = Array("AUTH ".utf8) + name + Array(" * ".utf8) + user
        line += [UInt8(ascii: "@")] + domain + Array(" 0\r\n".utf8)
        return .authenticated(package: package, user: user, domain: domain, line: line)
    }

    private mutating func fail(nick: [UInt8], package: [UInt8]?) -> Action {
        state = .failed
        let name = package.flatMap { $0.isEmpty ? nil : $0 } ?? Array("GateKeeper".utf8)
        return .reject(
            numeric: 910, line: numeric(910, nick, [name, Array("Authentication failed".utf8)]), disconnect: true)
    }

    /// `:<server> <code> <nick> <params…>` with the last parameter trailing.
    func numeric(_ code: Int, _ nick: [UInt8], _ parameters: [[UInt8]]) -> [UInt8] {
        let digits = Array(String(code).utf8)
        let safeNick = nick.isEmpty ? Array("*".utf8) : nick
        return (try? IRCXMessage(
            prefix: configuration.serverName, command: digits, parameters: [safeNick] + parameters, forcesTrailing: true
        ).serialized()) ?? Array(":server \(code) * :Authentication failed\r\n".utf8)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
