import ArgumentParser
import GKPassKit
internal import Glibc
import TicketStore

extension GKPass {
    /// `gkpass check`: a silent yes/no for scripts, like `klist -s`.
    struct CheckCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Exit 0 when the account has a ticket that stays valid long enough; print nothing.",
            discussion: """
                Reads no secret, so it works while the keyring is locked.
                Exit status: 0 valid (for at least --min-remaining); 3 no ticket; 4 expired or expiring sooner; 5 keyring \
                unavailable; 6 unsafe store file.
                Example (cron): gkpass check --min-remaining 1h || gkpass refresh
                """
        )

        @OptionGroup var account: AccountArgument

        @Option(help: ArgumentHelp("How long the ticket must still be valid: 90, 90s, 30m, 2h or 1d.", valueName: "duration"))
        var minRemaining = DurationText("0")!

        func run() throws {
            let ladder = StoreLadder(environment: Environment.current)
            let now = Int64(time(nil))
            do {
                let member = try StoredTicket.account(account.name, ladder: ladder)
                guard let summary = try AccountSummary.all(ladder: ladder, now: now).first(where: { $0.account == member }) else {
                    throw ExitCode(GKPassError.ExitCode.noTicket.rawValue)
                }
                guard let remaining = summary.remaining, remaining > minRemaining.seconds else {
                    throw ExitCode(GKPassError.ExitCode.reauthenticate.rawValue)
                }
            } catch let error as GKPassError {
                throw ExitCode(error.exitCode.rawValue)  // silent: the code is the answer
            }
        }
    }

    /// `gkpass list`: accounts and their tickets, no secrets.
    struct ListCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the accounts with stored tickets: network, store, expiry, default marker. No secrets.",
            discussion: "Reads only item metadata, so it works while the keyring is locked. The default account is marked with *."
        )

        @Flag(help: "Print a JSON array instead of a table.")
        var json = false

        func run() throws {
            let summaries = try AccountSummary.all(ladder: StoreLadder(environment: Environment.current), now: Int64(time(nil)))
            var text = ""
            if json {
                text = "[" + summaries.map { s in
                    var fields = ["\"account\":\(TicketSetFormat.json(s.account))", "\"network\":\(TicketSetFormat.json(s.network))",
                                  "\"store\":\(TicketSetFormat.json(s.store.rawValue))", "\"default\":\(s.isDefault)",
                                  "\"remembers_password\":\(s.remembersPassword)"]
                    fields.append("\"expires\":" + (s.expires.map(TicketSetFormat.json) ?? "null"))
                    fields.append("\"remaining_seconds\":" + (s.remaining.map { String(max($0, 0)) } ?? "null"))
                    return "{" + fields.joined(separator: ",") + "}"
                }.joined(separator: ",") + "]\n"
            } else if !summaries.isEmpty {
                let rows = [["", "ACCOUNT", "NETWORK", "STORE", "EXPIRES", "REMAINING"]] + summaries.map {
                    [$0.isDefault ? "*" : "", $0.account, $0.network, $0.store.rawValue, $0.expires ?? "-", AccountSummary.describe(remaining: $0.remaining)]
                }
                let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
                text = rows.map { row in
                    row.enumerated().map { $0.element.padding(to: widths[$0.offset]) }.joined(separator: "  ").trimmedRight() + "\n"
                }.joined()
            }
            try StandardStreams.writeOutput(Array(text.utf8))
        }

    }

    /// `gkpass switch`: choose the default account.
    struct SwitchCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "switch",
            abstract: "Make ACCOUNT the default for commands that take an optional account.",
            discussion: "Exit status: 0 switched; 3 the account has no stored tickets (log in first)."
        )

        @Argument(help: ArgumentHelp("The Passport member name.", valueName: "account"))
        var account: String

        func run() throws {
            let ladder = StoreLadder(environment: Environment.current)
            let known = try AccountSummary.all(ladder: ladder, now: Int64(time(nil))).contains { $0.account == account }
            guard known else { throw GKPassError(.noTicket, "no tickets for \(account)", hint: "run gkpass login \(account) first") }
            do { try ladder.fileStore.setDefaultAccount(account) } catch { throw GKPassError(store: error) }
        }
    }
}

extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func trimmedRight() -> String { String(self.reversed().drop { $0 == " " }.reversed()) }
}
