import ArgumentParser
import GKPassKit

extension GKPass {
    /// `gkpass logout`: forget the tickets (and, when asked, the remembered password).
    struct LogoutCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logout",
            abstract: "Remove the stored tickets of an account, or of every account with --all.",
            discussion: "Removing what is not there is not an error. Exit status: 0 done; 2 usage; 5 keyring locked or unavailable; 6 unsafe store file; 8 another gkpass holds the account."
        )

        @OptionGroup var account: AccountArgument

        @Flag(help: "Log out every account gkpass knows.")
        var all = false

        @Flag(help: "Also remove the password remembered with --remember-password.")
        var forgetPassword = false

        func validate() throws {
            if all && account.name != nil { throw ValidationError("Give an account or --all, not both.") }
        }

        func run() throws {
            let ladder = StoreLadder(environment: Environment.current)
            let accounts: [String]
            if all {
                do { accounts = try ladder.fileStore.recordedAccounts() } catch { throw GKPassError(store: error) }
            } else if let account = account.name {
                accounts = [account]
            } else {
                guard let name = try? ladder.fileStore.defaultAccount() ?? nil else { return }
                accounts = [name]
            }
            for member in accounts { _ = try StoredTicket.remove(account: member, password: forgetPassword, ladder: ladder) }
        }
    }
}
