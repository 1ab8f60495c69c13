public import GateKeeper

/// The `gkpass gatekeeper respond` use case: a server's `AUTH <package> S :<seq 2>` line in, the client's answer line
/// out. Pure apart from the guest GUID, which the caller resolves (it may need the machine ID).
public struct GateKeeperResponder: Sendable {
    /// The package the caller insists on, or nil to answer for whichever package the server named.
    public var expectedPackage: GateKeeperPackage?
    /// The server host the client connected to (needed only when the challenge is version 3).
    public var host: [UInt8]?
    public var truncateHost: Bool
    /// The GUID given on the command line, if any.
    public var guid: GateKeeperGUID?

    public init(expectedPackage: GateKeeperPackage?, host: [UInt8]?, truncateHost: Bool, guid: GateKeeperGUID?) {
        self.expectedPackage = expectedPackage
        self.host = host
        self.truncateHost = truncateHost
        self.guid = guid
    }

    /// The parsed challenge: which package, which version, the token.
    public struct Challenge: Sendable {
        public let package: GateKeeperPackage
        public let packageName: [UInt8]
        /// The token, a version 4 one read as version 3 (irc7-sspi and vortex-sspi treat 4 like 3).
        public let token: GateKeeperToken
        /// The version number in the challenge's header, which the answer's header repeats (4 for a version 4
        /// challenge, else the token's version).
        public let headerVersion: UInt32
    }

    /// Reads the challenge out of one server line. Errors are exit 1: the input is not a GateKeeper challenge.
    public func parse(line: [UInt8]) throws(GKPassError) -> Challenge {
        do {
            let message = try IRCXMessage(parsing: line)
            guard let auth = try AuthMessage(message) else {
                if message.numeric == 910 {
                    throw GKPassError(.failure, "the server refused authentication (910), so there is nothing to answer")
                }
                throw GKPassError(
                    .failure, "the input is a \(message.commandName) line, not AUTH <package> S :<challenge>")
            }
            guard let package = auth.package else {
                throw GKPassError(
                    .failure, "the server's package \(String(decoding: auth.packageName, as: UTF8.self)) is not "
                        + "GateKeeper or GateKeeperPassport")
            }
            guard auth.step == .sequence else {
                throw GKPassError(.failure, "the input is not an AUTH … S line carrying the server's challenge")
            }
            if let expectedPackage, expectedPackage != package {
                throw GKPassError(
                    .failure, "the server's challenge is for \(package.rawValue), not \(expectedPackage.rawValue)")
            }
            if auth.isPassportOK {
                throw GKPassError(
                    .failure, "the server said S :OK, which asks for the Passport blob, not an answer",
                    hint: "send the blob: gkpass ticket --format auth")
            }
            let (token, headerVersion) = try GateKeeperToken.decodingVersion4AsVersion3(auth.data)
            guard case .challenge = token.message else {
                throw GKPassError(
                    .failure, "the token is GKSSP sequence \(token.sequence), not the server's challenge (sequence 2)")
            }
            return Challenge(package: package, packageName: auth.packageName, token: token, headerVersion: headerVersion)
        } catch let error as GateKeeperError {
            throw GKPassError(.failure, "\(error) while reading the server's challenge")
        } catch let error as GKPassError {
            throw error
        } catch {
            throw GKPassError(.failure, "\(error)")
        }
    }

    /// Whether answering `challenge` needs a guest GUID that was not given (so the caller must derive one).
    public func needsGuestGUID(for challenge: Challenge) -> Bool {
        challenge.package == .gateKeeper && challenge.token.version.sendsGUID && guid == nil
    }

    /// The answer line with CRLF, in the package spelling the server used.
    public func answer(_ challenge: Challenge, guestGUID: GateKeeperGUID? = nil) throws(GKPassError) -> [UInt8] {
        if challenge.package == .gateKeeperPassport, guid != nil {
            throw GKPassError(.usage, "--guid applies to GateKeeper only; GateKeeperPassport always sends the zero GUID")
        }
        if challenge.token.version.hashesHost, host == nil {
            throw GKPassError(
                .usage, "the challenge is GateKeeper version \(challenge.headerVersion), which hashes the server's host name",
                hint: "pass --host HOST: the name or IP address you connected to, without the port")
        }
        do {
            let response = try GateKeeperClient.response(
                to: challenge.token, package: challenge.package, host: host ?? [], truncateHost: truncateHost,
                guid: guid ?? guestGUID ?? .zero)
            return AuthMessage(
                packageName: challenge.packageName, step: .sequence,
                data: response.encoded(headerVersion: challenge.headerVersion))
                .serialized()
        } catch {
            throw GKPassError(.failure, "\(error) while computing the answer")
        }
    }
}
