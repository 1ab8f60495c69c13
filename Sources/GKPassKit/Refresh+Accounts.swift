public import TicketStore

/// `gkpass refresh` over several accounts (`--all`): which accounts, the loop over them with a bounded number of
/// sign-ins at once, and what to tell the user about each. The CLI parses, prints the lines and sets the exit status.
extension Refresh {
    /// What became of one account.
    public struct AccountReport: Sendable {
        public var account: String
        public var outcome: Swift.Result<Outcome, GKPassError>

        public init(account: String, outcome: Swift.Result<Outcome, GKPassError>) {
            self.account = account
            self.outcome = outcome
        }

        /// The lines for stderr, without the program's prefix: one per account on success (none when `quiet`),
        /// and on failure the message and the hint if there is one (even when `quiet`: cron mails only failures).
        public func lines(quiet: Bool) -> [String] {
            switch outcome {
            case .success(let outcome):
                if quiet { return [] }
                switch outcome {
                case .fresh(let remaining):
                    return ["\(account): valid for \(AccountSummary.describe(remaining: remaining)); nothing to do"]
                case .refreshed(let expires, let attempts):
                    return ["\(account): refreshed; valid until \(expires)" + (attempts > 1 ? " (attempt \(attempts))" : "")]
                case .refreshedElsewhere(let expires):
                    return ["\(account): a new ticket was stored meanwhile (by another gkpass); valid until \(expires)"]
                }
            case .failure(let error):
                return ["\(account): \(error.message)"] + (error.hint.map { ["hint: \($0)"] } ?? [])
            }
        }
    }

    /// The accounts to refresh: every recorded account with `all` (exit 3 when there is none), else `given`, else
    /// the default account.
    public static func accounts(all: Bool, given: String?, ladder: StoreLadder) throws(GKPassError) -> [String] {
        guard all else { return [try StoredTicket.account(given, ladder: ladder)] }
        let accounts: [String]
        do { accounts = try ladder.fileStore.recordedAccounts() } catch { throw GKPassError(store: error) }
        guard !accounts.isEmpty else {
            throw GKPassError(.noTicket, "no accounts to refresh", hint: "log in first: gkpass login ACCOUNT --remember-password")
        }
        return accounts
    }

    /// Refreshes each of `accounts`, at most `jobs` at once, and hands each account's report to `report` as soon as
    /// it is known (on a worker thread; reports may arrive in any order). Returns the error of the first account,
    /// in the order given, that failed; nil when all are fresh or refreshed. `password` overrides the remembered
    /// one for every account (the CLI allows it for one account only).
    public func run(
        accounts: [String], password: SecretBytes?, jobs: Int, ladder: StoreLadder, trace: (@Sendable (String) -> Void)?,
        report: @escaping @Sendable (AccountReport) -> Void
    ) -> GKPassError? {
        let failures = Failures(count: accounts.count)
        let refresher = self
        Self.forEach(count: accounts.count, jobs: jobs) { index in
            let name = accounts[index]
            let outcome: Swift.Result<Outcome, GKPassError>
            do throws(GKPassError) {
                outcome = .success(try refresher.run(account: name, password: password, ladder: ladder, trace: trace))
            } catch {
                outcome = .failure(error)
                failures.set(index, error)
            }
            report(AccountReport(account: name, outcome: outcome))
        }
        return failures.first
    }

    /// Per-account failures, written from the worker threads.
    private final class Failures: @unchecked Sendable {
        private var errors: [GKPassError?]
        private let lock = PThreadMutex()
        init(count: Int) { errors = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ error: GKPassError) { lock.locked { errors[index] = error } }
        var first: GKPassError? { lock.locked { errors.compactMap { $0 }.first } }
    }
}
