import ArgumentParser
import GKPassKit
import GateKeeper

extension GKPass.GatekeeperCommand {
    /// `gkpass gatekeeper respond`: the server's challenge line in, the client's answer line out.
    struct RespondCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "respond",
            abstract: "Answer a server's GateKeeper challenge read from standard input.",
            discussion: """
                Reads one line, AUTH <package> S :<escaped GKSSP sequence 2>, and prints the client's answer, \
                AUTH <package> S :<escaped sequence 3>, with CRLF. The answer uses the challenge's version; version \
                3 hashes the server host name, so --host is needed for it. A version 4 challenge (irc7-sspi, vortex-sspi) \
                is answered as version 3, host hashed and GUID sent, with 4 in the answer's header as the server used.

                GateKeeper (guest) answers carry a GUID. Without --guid, gkpass uses a GUID that is stable for this \
                user on this machine: HMAC-SHA256 keyed with /etc/machine-id over a gkpass label and your UID, so \
                it never reveals the machine ID and nothing is stored. GateKeeperPassport always sends the zero GUID.

                Exit status: 0 answered; 1 the input is not a GateKeeper challenge; 2 usage error (bad --guid, or \
                --host missing for a version 3 or 4 challenge).

                Example:
                  printf 'AUTH GateKeeper S :%s\\r\\n' "$CHALLENGE" | gkpass gatekeeper respond --host 1.2.3.4
                """
        )

        @Option(help: "Answer only a challenge for this package (default: the package the server named).")
        var package: GateKeeperPackage?

        @Option(
            help: ArgumentHelp(
                "The server host name or IP you connected to, without the port (hashed by version 3).",
                valueName: "host"))
        var host: String?

        @Option(
            help: ArgumentHelp(
                "The guest GUID, as D6976AC3-D30A-4249-B168-07102BBA1896 (braces allowed) or 32 hex digits.",
                valueName: "guid"))
        var guid: String?

        @Flag(help: "Hash the whole host name instead of its first 15 bytes (for servers that do not truncate).")
        var noTruncate = false

        func validate() throws {
            if let guid {
                do { _ = try GateKeeperGUID(parsing: guid) } catch { throw ValidationError("--guid: \(error).") }
            }
            if let host, host.isEmpty || host.utf8.contains(where: { $0 <= 0x20 }) {
                throw ValidationError("--host must be a host name or IP address without spaces.")
            }
        }

        func run() throws {
            let responder = GateKeeperResponder(
                expectedPackage: package, host: host.map { Array($0.utf8) }, truncateHost: !noTruncate,
                guid: try guid.map { try GateKeeperGUID(parsing: $0) })
            guard let line = try StandardStreams.readLine(limit: IRCXMessage.maximumLineLength + 2) else {
                throw GKPassError(.failure, "no challenge line on standard input")
            }
            let challenge = try responder.parse(line: line)
            let guest = responder.needsGuestGUID(for: challenge) ? try GuestGUID.forCurrentUser() : nil
            try StandardStreams.writeOutput(try responder.answer(challenge, guestGUID: guest))
        }
    }
}
