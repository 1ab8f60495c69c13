import ArgumentParser
import GKPassKit
internal import Glibc

extension GKPass {
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
