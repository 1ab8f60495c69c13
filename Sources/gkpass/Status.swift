import ArgumentParser
import GKPassKit
internal import Glibc

extension GKPass {
    /// `gkpass status`: one account in detail, like `klist`.
    struct StatusCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show one account's tickets in detail: network, store, times, what was collected. No secret values.",
            discussion: """
                Prints the account (and whether it is the default), the network and its IRCX server, the store, when \
                the ticket was obtained and when it expires, whether a password is remembered for gkpass refresh, \
                and the names (never the values) of the cookies and chat-page values the login collected.

                Exit status: 0 the ticket is valid; 3 no ticket; 4 it has expired (the status is printed first); \
                5 keyring locked or unavailable (gkpass list works while locked); 6 unsafe store file.
                """
        )

        @OptionGroup var account: AccountArgument

        @Flag(help: "Print a JSON object instead of text.")
        var json = false

        func run() throws {
            let ladder = StoreLadder(environment: Environment.current)
            let report = try StatusReport.read(account: account.name, ladder: ladder, now: Int64(time(nil)))
            try StandardStreams.writeOutput(Array((json ? report.json() : report.text).utf8))
            if report.expired { throw ExitCode(GKPassError.ExitCode.reauthenticate.rawValue) }
        }
    }
}
