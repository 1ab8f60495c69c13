import ArgumentParser
import GKPassKit
internal import Glibc
import TicketStore

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
            let environment = Environment.current
            let ladder = StoreLadder(environment: environment)
            let now = Int64(time(nil))
            let member = try StoredTicket.account(account.name, ladder: ladder)
            let store = try ladder.storeForReading(account: member)
            let set: TicketSet
            let remembers: Bool
            do {
                guard let item = try store.read(account: member, kind: .ticket) else {
                    throw GKPassError(.noTicket, "no ticket for \(member)", hint: "run gkpass login \(member)")
                }
                set = try TicketSet(decoding: item.secret)
                remembers = try store.list().contains { $0.account == member && $0.kind == .password }
            } catch let error as StoreError { throw GKPassError(store: error) }
            let isDefault = (try? ladder.fileStore.defaultAccount()) == member
            let remaining = Int64(set.expires.timeIntervalSince1970) - now
            let network = try? Network.named(set.network, environment: environment)
            let cookies = TicketSetFormat.httpCookies(set).map(\.name)
            let page = TicketSetFormat.pageValues(set).map(\.name)
            let layout = set.blobLayout ?? network?.blobLayout.rawValue ?? "ticket-profile"
            let where_ = store.kind == .file ? "file (\(ladder.fileStore.root))" : "secret-service"
            var text: String
            if json {
                let q = TicketSetFormat.json
                var fields = [
                    "\"account\":\(q(member))", "\"default\":\(isDefault)", "\"network\":\(q(set.network))",
                    "\"server\":" + (network?.server.map { q($0.description) } ?? "null"),
                    "\"store\":\(q(store.kind.rawValue))", "\"obtained\":\(q(TicketSet.format(set.obtained)))",
                    "\"expires\":\(q(TicketSet.format(set.expires)))", "\"remaining_seconds\":\(max(0, remaining))",
                    "\"expired\":\(remaining <= 0)", "\"remembers_password\":\(remembers)", "\"blob_layout\":\(q(layout))",
                    "\"has_profile\":\(!set.profile.isEmpty)",
                ]
                fields.append("\"cookies\":[" + cookies.map(q).joined(separator: ",") + "]")
                fields.append("\"page_values\":[" + page.map(q).joined(separator: ",") + "]")
                text = "{" + fields.joined(separator: ",") + "}\n"
            } else {
                let rows: [(String, String)] = [
                    ("account", member + (isDefault ? " (default)" : "")),
                    ("network", set.network + (network.map { " (\($0.flow.rawValue) flow" + ($0.server.map { "; IRCX \($0)" } ?? "") + ")" } ?? " (not configured any more)")),
                    ("store", where_),
                    ("obtained", TicketSet.format(set.obtained)),
                    ("expires", TicketSet.format(set.expires) + (remaining > 0 ? " (in \(AccountSummary.describe(remaining: remaining)))" : " (EXPIRED)")),
                    ("password", remembers ? "remembered (gkpass refresh can sign in)" : "not remembered"),
                    ("tickets", set.profile.isEmpty ? "ticket only (the server gave no profile; the blob's profile is empty)" : "ticket and profile"),
                    ("cookies", cookies.isEmpty ? "-" : cookies.joined(separator: " ")),
                    ("chat page", page.isEmpty ? "-" : page.joined(separator: " ")),
                    ("blob", layout),
                ]
                text = rows.map { "\($0.0.padding(to: 10))\($0.1)\n" }.joined()
            }
            try StandardStreams.writeOutput(Array(text.utf8))
            if remaining <= 0 { throw ExitCode(GKPassError.ExitCode.reauthenticate.rawValue) }
        }
    }
}
