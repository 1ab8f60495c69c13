import ArgumentParser
import GKPassKit
import GateKeeper
internal import Glibc
import TicketStore

extension GKPass {
    /// `gkpass ticket`: the stored tickets, in the form another program needs.
    struct TicketCommand: ParsableCommand {
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case blob, auth, ticket, profile, json, env
        }

        static let configuration = CommandConfiguration(
            commandName: "ticket",
            abstract: "Print the stored Passport tickets for another program.",
            discussion: """
                Formats:
                  blob     the GateKeeperPassport blob: %08X length + ticket + %08X length + profile (no newline \
                unless stdout is a terminal)
                  auth     the AUTH GateKeeperPassport S :<blob> line, escaped, ending in CRLF; with \
                passport_slices = "ocx" (the default) a blob of 480 bytes or more is several lines, one per 480-byte \
                slice (and an empty last one when the blob is a multiple of 480): send each after the server's S :OK
                  ticket   the ticket (t=, MSPAuth); profile: the profile (p=, MSPProf), nothing at all when the \
                server gave a ticket only (Messenger-style servers; the blob then ends in 00000000)
                  json     the stored ticket document (account, network, obtained, expires, ticket, profile, cookies)
                  env      shell-quoted GKPASS_* assignments for eval

                Exit status: 0 printed; 3 no ticket (not logged in); 4 the ticket has expired (run gkpass login); \
                5 keyring locked or unavailable; 6 unsafe store file.

                Example, the last step of a GateKeeperPassport login in a script:
                  gkpass ticket --format auth >&3
                """
        )

        @OptionGroup var account: AccountArgument

        @Option(help: "What to print.")
        var format: Format = .blob

        func run() throws {
            try Self.print(account: account.name, format: format)
        }

        /// `gkpass ticket` without argument-parser: the forms other programs run per connection
        /// (`ticket`, `ticket ACCOUNT`, `--format F` or `--format=F`, in any order). Anything else (help, a
        /// mistake, another flag) returns false and goes through the parser, which reports it. argument-parser's
        /// reflection costs a few milliseconds per start, a third of the whole run (callgrind).
        static func fastPath(_ arguments: ArraySlice<String>) throws -> Bool {
            guard arguments.first == "ticket" else { return false }
            var account: String?
            var format = Format.blob
            var rest = arguments.dropFirst()
            while let word = rest.popFirst() {
                if word == "--format", let value = rest.popFirst(), let chosen = Format(rawValue: value) {
                    format = chosen
                } else if word.hasPrefix("--format="), let chosen = Format(rawValue: String(word.dropFirst("--format=".count))) {
                    format = chosen
                } else if !word.hasPrefix("-"), !word.isEmpty, account == nil {
                    account = word
                } else {
                    return false
                }
            }
            try print(account: account, format: format)
            return true
        }

        static func print(account: String?, format: Format) throws {
            let environment = Environment.current
            let ladder = StoreLadder(environment: environment)
            let member = try StoredTicket.account(account, ladder: ladder)
            let set = try StoredTicket.read(account: member, ladder: ladder, now: Int64(time(nil)))
            // The layout recorded at login; sets from before it was recorded ask the network's config, as does the
            // slicing of --format auth (the OCX's when the network cannot be read).
            let recorded = set.blobLayout.flatMap(PassportBlob.Layout.init(rawValue:))
            let network = recorded == nil || format == .auth ? try? Network.named(set.network, environment: environment) : nil
            let layout = recorded ?? network?.blobLayout ?? .ticketProfile
            let terminal = isatty(STDOUT_FILENO) == 1
            var output: [UInt8]
            switch format {
            case .blob:
                output = try StoredTicket.blob(set, layout: layout).encoded() + (terminal ? [0x0A] : [])
            case .auth:
                var blob = try StoredTicket.blob(set, layout: layout).encoded()
                defer { SecretBytes.wipe(&blob) }
                output = PassportBlob.slices(blob, network?.passportSlices ?? .ocx).flatMap { slice in
                    AuthMessage(packageName: GateKeeperPackage.gateKeeperPassport.nameBytes, step: .sequence, data: slice).serialized()
                }
            case .ticket:
                output = Array((set.ticket + "\n").utf8)
            case .profile:
                // Servers that answer with a ticket only give no profile: nothing to print, and that is no error.
                output = set.profile.isEmpty ? [] : Array((set.profile + "\n").utf8)
            case .json:
                output = set.encoded().copyBytes() + [0x0A]
            case .env:
                var lines = [("GKPASS_ACCOUNT", set.account), ("GKPASS_NETWORK", set.network), ("GKPASS_EXPIRES", TicketSet.format(set.expires)),
                             ("GKPASS_TICKET", set.ticket), ("GKPASS_PROFILE", set.profile)]
                if let reg = set.cookies["MSNREGCookie"] { lines.append(("GKPASS_MSNREGCOOKIE", reg)) }
                output = Array(lines.map { "\($0.0)=\(TicketSetFormat.shellQuote($0.1))\n" }.joined().utf8)
            }
            defer { SecretBytes.wipe(&output) }
            try StandardStreams.writeOutput(output)
        }
    }
}
