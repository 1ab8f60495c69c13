import ArgumentParser
import GKPassKit
internal import Glibc

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
}
