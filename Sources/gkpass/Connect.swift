import ArgumentParser
import GKPassKit
import GateKeeper
internal import Glibc
import TicketStore

extension GKPass {
    /// `gkpass connect`: prove a ticket against the network's IRCX server.
    struct ConnectCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "connect",
            abstract: "Prove a stored ticket by logging in to the network's IRCX chat server, then disconnect.",
            discussion: """
                Connects to the network's IRCX server (through its directory when the network has one and --room is \
                given: FINDS, then the server the 613 reply names), sends IRCVERS, runs AUTH GateKeeperPassport with the \
                stored ticket (or AUTH GateKeeper as a guest with --guest), sending the Passport blob as the \
                network's passport_slices says (by default in 480-byte slices, each after the server's S :OK; or on \
                one line), sends the PROPs the account has \
                (MSNPROFILE, MSNREGCOOKIE, then SUBSCRIBERINFO and ROLE), waits for registration, optionally joins \
                ROOM, reports the PUID and nickname the server assigned, and says QUIT.

                However much the server sends before the join is done, connect keeps a bounded window: the first \
                \(Connect.keptLines) lines (at most \(Connect.keptBytes) bytes) from registration on, and the first \
                \(Connect.keptRefusedProps) refused PROP names (906); the rest are read and dropped (a refused PROP \
                beyond those is counted in one warning; --verbose says how many lines were dropped). ROOM is one \
                room name: no space, comma, CR, LF or NUL (exit 2 otherwise).

                The network is the ticket's own unless --network is given; --guest needs a network. GateKeeper v3 \
                hashes the server's host name as given here (the network's server, or --server).

                Exit status: 0 connected; 1 the server refused the GateKeeper answer, the nickname or the room; \
                2 a bad option (such as a ROOM holding a line break); 3 no ticket; 4 the ticket expired, or the server refused it (910 after the Passport blob or any \
                slice of it: run gkpass login, or check passport_slices when the message suggests it); 5 keyring \
                locked; 7 cannot connect, timed out, or the server closed the link.

                Example:
                  gkpass connect --room '%#TheLobby'
                """
        )

        @OptionGroup var account: AccountArgument

        @Option(help: ArgumentHelp("The network (default: the one the ticket is for).", valueName: "name"))
        var network: String?

        @Option(help: ArgumentHelp("Connect to this server instead of the network's (no directory).", valueName: "host:port"))
        var server: String?

        @Option(help: ArgumentHelp("Join this room, e.g. %#TheLobby.", valueName: "room"))
        var room: String?

        @Flag(help: "Connect as a guest with AUTH GateKeeper (no ticket needed).")
        var guest = false

        @Option(help: ArgumentHelp("The guest nickname (guests' start with >; default >Guest and four digits).", valueName: "nick"))
        var nick: String?

        @Option(help: ArgumentHelp("Give up on each connection after this many seconds (1 to 300).", valueName: "seconds"))
        var timeout = 30

        @Flag(help: "Print the result as a JSON object.")
        var json = false

        @Flag(name: .shortAndLong, help: "Trace each IRCX line on stderr, with the Passport blob and cookies replaced by fingerprints.")
        var verbose = false

        func validate() throws {
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout takes 1 to 300 seconds.") }
            if let server, Network.Endpoint(server) == nil { throw ValidationError("--server takes HOST:PORT, not \(server).") }
            if guest && account.name != nil { throw ValidationError("--guest connects without an account; drop the account or --guest.") }
            if nick != nil && !guest { throw ValidationError("--nick is for --guest; a Passport login gets its nickname from the ticket.") }
        }

        func run() throws {
            // Here rather than in validate() for a one-line message; the same check as the JOIN and FINDS lines'.
            if let room, !ChatClient.isRoomName(room) {
                throw GKPassError(.usage, "--room takes one room name such as %#TheLobby, without spaces, commas, CR, LF or NUL, not \(Connect.printable(Array(room.utf8)))")
            }
            let environment = Environment.current
            let identity: Connect.Identity
            let chosen: Network
            if guest {
                chosen = try Network.resolve(flag: network, environment: environment)
                var name = nick ?? ">Guest\(Int.random(in: 1000...9999))"
                if !name.hasPrefix(">") { name = ">" + name }
                identity = .guest(try GuestGUID.forCurrentUser(), nickname: name)
            } else {
                let ladder = StoreLadder(environment: environment)
                let member = try StoredTicket.account(account.name, ladder: ladder)
                let set = try StoredTicket.read(account: member, ladder: ladder, now: Int64(time(nil)))
                chosen = try Network.named(network ?? set.network, environment: environment)
                identity = .passport(set)
            }
            var connect = Connect(network: chosen, server: server.flatMap(Network.Endpoint.init), room: room, identity: identity)
            connect.timeout = Double(timeout)
            let outcome = try connect.run(trace: verbose ? { StandardStreams.writeError("gkpass: " + $0) } : nil)
            let text: String
            if json {
                text = try outcome.json(network: chosen.name)
            } else {
                var line = "connected to \(outcome.server) (\(chosen.name)) as \(outcome.nickname): \(outcome.package.rawValue) v\(outcome.version.rawValue), \(outcome.user)@\(outcome.domain)"
                if let room = outcome.room { line += "; joined \(room)" }
                text = line + "\n"
                for prop in outcome.refusedProps { StandardStreams.writeError("gkpass: warning: the server refused PROP \(prop)") }
                if outcome.refusedPropsOmitted > 0 {
                    StandardStreams.writeError("gkpass: warning: the server refused \(outcome.refusedPropsOmitted) more PROPs (not listed)")
                }
            }
            try StandardStreams.writeOutput(Array(text.utf8))
        }
    }
}
