import ArgumentParser
import GKPassKit
internal import Glibc

extension GKPass {
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
                text = try AccountSummary.json(summaries)
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
}

extension String {
    /// Left-aligned in a column `width` characters wide.
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    /// Without trailing spaces (the last column of a table row).
    func trimmedRight() -> String { String(self.reversed().drop { $0 == " " }.reversed()) }
}
