/// The client side of an IRCX GateKeeper or GateKeeperPassport exchange, sans-I/O (protocol.md §1, §2.1).
///
/// ```
///  start()                     -> "AUTH P I :GKSSP…<seq 1>"
///  receive(AUTH P S :<seq 2>)  -> .send("AUTH P S :GKSSP…<seq 3: HMAC [+ GUID]>")
///  receive(AUTH P S :OK)       -> .send("AUTH P S :<8 hex><ticket><8 hex><profile>")   (GateKeeperPassport only)
///                                 in `.ocx` slicing: the first slice of at most 480 bytes, and each further
///                                 `S :OK` gets the next one (a blob of a multiple of 480 ends with an empty slice)
///  receive(AUTH P * u@d oid)   -> .finished(.authenticated)
///  receive(910/911/912/909/462, ERROR) -> .finished(.rejected)
/// ```
/// Lines that do not concern AUTH (NOTICE AUTH, 800, PING) return `.none`. The machine never reads a socket, clock
/// or random source: the host, GUID and blob are inputs. After a remote protocol violation it is `failed` and every
/// later call throws.
public struct GateKeeperClient {
    /// What the client knows before it starts.
    public struct Configuration: Sendable {
        public var package: GateKeeperPackage
        /// The version offered in the first token; the answer uses whatever version the server's challenge carries.
        public var version: GateKeeperVersion
        /// The server name the client was told to connect to, without the port (protocol.md §1.4). Hashed for v3.
        public var host: [UInt8]
        /// Hash only the first 15 host bytes, as the original OCX did (protocol.md §1.4). On by default.
        public var truncateHost: Bool
        /// The guest GUID for GateKeeper v2/v3. GateKeeperPassport always sends ``GateKeeperGUID/zero``.
        public var guid: GateKeeperGUID
        /// The Passport blob, required for GateKeeperPassport.
        public var passportBlob: PassportBlob?
        /// How the blob goes to the server (protocol.md §2.2): the OCX's 480-byte slices (the default) or one line.
        public var passportSlicing: PassportSlicing

        public init(
            package: GateKeeperPackage, version: GateKeeperVersion = .v3, host: some Collection<UInt8>,
            truncateHost: Bool = true, guid: GateKeeperGUID = .zero, passportBlob: PassportBlob? = nil,
            passportSlicing: PassportSlicing = .ocx
        ) {
            self.package = package
            self.version = version
            self.host = Array(host)
            self.truncateHost = truncateHost
            self.guid = guid
            self.passportBlob = passportBlob
            self.passportSlicing = passportSlicing
        }
    }

    /// Why the server turned the client away.
    public enum Rejection: Equatable, Sendable {
        /// 910: wrong answer, bad token or bad Passport blob. The server disconnects.
        case authenticationFailed
        /// 911: authentication suspended.
        case authenticationSuspended
        /// 912: the server does not offer the package.
        case unknownPackage
        /// 909: this connection is already authenticated.
        case alreadyAuthenticated
        /// 462: the connection registered (NICK/USER) before AUTH.
        case alreadyRegistered
        /// `ERROR :…`: the server is closing the link.
        case serverClosed
    }

    public enum Outcome: Equatable, Sendable {
        /// `AUTH P * <user>@<domain> <oid>`: for GateKeeper the user is the GUID, for Passport the PUID.
        case authenticated(user: [UInt8], domain: [UInt8], oid: [UInt8])
        /// A numeric or ERROR ended the exchange; `text` is the server's trailing text.
        case rejected(Rejection, text: [UInt8])
    }

    public enum Action: Equatable, Sendable {
        /// Write this line (CRLF included) to the server.
        case send([UInt8])
        /// The exchange is over.
        case finished(Outcome)
        /// The line did not concern AUTH.
        case none
    }

    private enum State {
        case idle
        case sentInitiate
        case sentResponse(version: GateKeeperVersion)
        /// `sent` of the blob's `slices` are on their way; each further `S :OK` asks for the next.
        case sentBlob(sent: Int, slices: [ArraySlice<UInt8>])
        case finished
        case failed
    }

    public let configuration: Configuration
    private var state: State = .idle

    public init(configuration: Configuration) throws(GateKeeperError) {
        if configuration.package == .gateKeeperPassport && configuration.passportBlob == nil {
            throw GateKeeperError(.invalidArgument, "GateKeeperPassport needs a Passport blob")
        }
        self.configuration = configuration
    }

    /// True once the exchange has succeeded, been rejected, or failed.
    public var isFinished: Bool {
        switch state {
        case .finished, .failed: return true
        case .idle, .sentInitiate, .sentResponse, .sentBlob: return false
        }
    }

    /// How many slices of the Passport blob have been sent, and of how many (`(0, 0)` before `S :OK`; a
    /// `.oneLine` blob is one slice). A 910 after the first slice is about the ticket, not the answer.
    public var passportProgress: (sent: Int, of: Int) {
        if case .sentBlob(let sent, let slices) = state { return (sent, slices.count) }
        return (0, 0)
    }

    /// The first line: `AUTH <package> I :<seq 1 token>`.
    public mutating func start() throws(GateKeeperError) -> [UInt8] {
        guard case .idle = state else { throw GateKeeperError(.invalidState, "the exchange has already started") }
        state = .sentInitiate
        return Self.initiateLine(package: configuration.package, version: configuration.version)
    }

    /// Feeds one line from the server and says what to do next.
    public mutating func receive(_ message: IRCXMessage) throws(GateKeeperError) -> Action {
        switch state {
        case .idle: throw GateKeeperError(.invalidState, "start() the exchange before feeding server lines")
        case .finished: throw GateKeeperError(.invalidState, "the exchange is over")
        case .failed: throw GateKeeperError(.invalidState, "the exchange failed earlier; start a new connection")
        case .sentInitiate, .sentResponse, .sentBlob: break
        }
        do {
            return try step(message)
        } catch {
            state = .failed
            throw error
        }
    }

    private mutating func step(_ message: IRCXMessage) throws(GateKeeperError) -> Action {
        if let rejection = Self.rejection(in: message) {
            state = .finished
            return .finished(.rejected(rejection, text: message.parameters.last ?? []))
        }
        guard let auth = try AuthMessage(message) else { return .none }
        guard auth.package != nil else {
            throw GateKeeperError(.unexpectedMessage, "the server answered for a package we did not ask for")
        }
        switch (state, auth.step) {
        case (_, .initiate):
            throw GateKeeperError(.unexpectedMessage, "the server sent AUTH … I, which only clients send")

        case (.sentInitiate, .sequence):
            let token = try GateKeeperToken(decoding: auth.data)
            let answer = try Self.response(
                to: token, package: configuration.package, host: configuration.host,
                truncateHost: configuration.truncateHost, guid: configuration.guid)
            state = .sentResponse(version: token.version)
            return .send(
                AuthMessage(packageName: configuration.package.nameBytes, step: .sequence, data: answer.encoded())
                    .serialized())

        case (.sentResponse, .sequence) where configuration.package == .gateKeeperPassport:
            guard auth.isPassportOK, let blob = configuration.passportBlob else {
                throw GateKeeperError(.unexpectedMessage, "after the answer the server should say S :OK")
            }
            let slices = PassportBlob.slices(blob.encoded(), configuration.passportSlicing)
            state = .sentBlob(sent: 1, slices: slices)
            return .send(
                AuthMessage(packageName: configuration.package.nameBytes, step: .sequence, data: slices[0])
                    .serialized())

        case (.sentBlob(let sent, let slices), .sequence) where auth.isPassportOK && sent < slices.count:
            // A full slice was taken; the server wants the next (protocol.md §2.2, irc7-sspi).
            state = .sentBlob(sent: sent + 1, slices: slices)
            return .send(
                AuthMessage(packageName: configuration.package.nameBytes, step: .sequence, data: slices[sent])
                    .serialized())

        case (.sentBlob, .sequence) where auth.isPassportOK:
            throw GateKeeperError(
                .unexpectedMessage,
                configuration.passportSlicing == .oneLine
                    ? "the server asked for more of the Passport blob after the whole of it: it may take the blob in "
                        + "480-byte slices (set passport_slices = \"ocx\" for this network)"
                    : "the server asked for more of the Passport blob after its last slice")

        case (.sentResponse, .sequence), (.sentBlob, .sequence):
            throw GateKeeperError(.unexpectedMessage, "the server sent another AUTH … S step where none is due")

        case (.sentInitiate, .done):
            throw GateKeeperError(.unexpectedMessage, "the server reported success before it challenged us")

        case (.sentResponse, .done) where configuration.package == .gateKeeperPassport:
            throw GateKeeperError(.unexpectedMessage, "the server reported success before it took the Passport blob")

        case (.sentResponse, .done), (.sentBlob, .done):
            guard auth.result.count >= 1, let at = auth.result[0].lastIndex(of: UInt8(ascii: "@")) else {
                throw GateKeeperError(.unexpectedMessage, "the success line lacks <user>@<domain>")
            }
            state = .finished
            let identity = auth.result[0]
            return .finished(
                .authenticated(
                    user: Array(identity[..<at]), domain: Array(identity[(at + 1)...]),
                    oid: auth.result.count >= 2 ? auth.result[1] : []))

        case (.idle, _), (.finished, _), (.failed, _):
            throw GateKeeperError(.invalidState, "unreachable: receive() filters these states")
        }
    }

    /// `AUTH <package> I :<seq 1 token>` with CRLF.
    public static func initiateLine(package: GateKeeperPackage, version: GateKeeperVersion) -> [UInt8] {
        // A sequence-1 token has no body, so it cannot fail validation.
        let token = try! GateKeeperToken(version: version, message: .initiate)
        return AuthMessage(packageName: package.nameBytes, step: .initiate, data: token.encoded()).serialized()
    }

    /// The sequence-3 answer to a server's sequence-2 challenge, in the challenge's version (the server checks that
    /// they match, protocol.md §1.4). GateKeeperPassport sends the zero GUID whatever `guid` says.
    public static func response(
        to challenge: GateKeeperToken, package: GateKeeperPackage, host: some Collection<UInt8>,
        truncateHost: Bool = true, guid: GateKeeperGUID
    ) throws(GateKeeperError) -> GateKeeperToken {
        guard case .challenge(let bytes) = challenge.message else {
            throw GateKeeperError(
                .unexpectedSequence, "expected the server's challenge (sequence 2), got sequence \(challenge.sequence)")
        }
        let digest = GateKeeperHMAC().answer(
            challenge: bytes, version: challenge.version, host: host, truncateHost: truncateHost)
        let sentGUID: GateKeeperGUID? =
            challenge.version.sendsGUID ? (package == .gateKeeperPassport ? .zero : guid) : nil
        return try GateKeeperToken(version: challenge.version, message: .response(digest: digest, guid: sentGUID))
    }

    /// The typed rejection a line carries, if any.
    static func rejection(in message: IRCXMessage) -> Rejection? {
        if message.commandName == "ERROR" { return .serverClosed }
        switch message.numeric {
        case 910: return .authenticationFailed
        case 911: return .authenticationSuspended
        case 912: return .unknownPackage
        case 909: return .alreadyAuthenticated
        case 462: return .alreadyRegistered
        default: return nil
        }
    }
}
