internal import FoundationEssentials
internal import Glibc
public import TicketStore

/// `gkpass refresh`: sign in again only when a ticket is about to expire, with a password the user left for it,
/// one process at a time per account (design.md §6 lock). Modelled on k5start/krenew.
public struct Refresh: Sendable {
    /// Refresh when the ticket has less than this many seconds left.
    public var threshold: Int64
    public var lockTimeout: Double
    /// Extra attempts after a transient failure (connect, timeout, reset, 5xx); rejections (exit 4) and answers
    /// that could not be read are never retried, so they cost one password send.
    public var retries: Int
    /// The first backoff in seconds; it doubles per attempt, capped at `maximumBackoff`.
    public var backoff: Double = 1
    public static let maximumBackoff: Double = 30
    public var requestTimeout: Int = 30

    public init(threshold: Int64, lockTimeout: Double, retries: Int) {
        self.threshold = threshold
        self.lockTimeout = lockTimeout
        self.retries = retries
    }

    /// What a refresh of one account did. (Not `Result`, which would shadow `Swift.Result` inside this type.)
    public enum Outcome: Sendable, Equatable {
        case fresh(remaining: Int64)
        case refreshed(expires: String, attempts: Int)
        case refreshedElsewhere(expires: String)
    }

    /// Store calls from several worker threads go one at a time (libsecret's sync API shares one connection).
    static let storeMutex = PThreadMutex()

    /// Refreshes `account` if needed. `password` overrides the remembered one (--password-file and friends).
    public func run(
        account: String, password override: SecretBytes?, ladder: StoreLadder, trace: ((String) -> Void)?,
        sleep: ((Double) -> Void)? = nil
    ) throws(GKPassError) -> Outcome {
        let (store, current) = try Self.storeMutex.locked { () throws(GKPassError) -> (any ItemStore, TicketSet?) in
            let store = try ladder.storeForReading(account: account)
            return (store, try Self.ticket(account, in: store))
        }
        let now = Int64(time(nil))
        if let current, Int64(current.expires.timeIntervalSince1970) - now > threshold {
            return .fresh(remaining: Int64(current.expires.timeIntervalSince1970) - now)
        }
        let lock: AccountLock
        do { lock = try AccountLock(store: ladder.fileStore, account: account, timeout: lockTimeout) } catch { throw GKPassError(store: error) }
        defer { withExtendedLifetime(lock) {} }
        // Single flight: inside the lock, look again. Another process may have refreshed while we waited.
        let (latest, remembered) = try Self.storeMutex.locked { () throws(GKPassError) -> (TicketSet?, SecretBytes?) in
            let latest = try Self.ticket(account, in: store)
            if override != nil { return (latest, nil) }
            do throws(StoreError) { return (latest, try store.read(account: account, kind: .password)?.secret) } catch { throw GKPassError(store: error) }
        }
        // Skip when the ticket changed since the first look (another process refreshed it while we waited for the
        // lock) or is fresh enough now. A run that starts after another finished sees the new ticket at its first
        // look and decides on its expiry, like any later run.
        if let latest, latest.ticket != current?.ticket || Int64(latest.expires.timeIntervalSince1970) - Int64(time(nil)) > threshold {
            return .refreshedElsewhere(expires: TicketSet.format(latest.expires))
        }
        guard let password = override ?? remembered else {
            throw GKPassError(
                .reauthenticate, "no password to refresh \(account) with",
                hint: "run gkpass login \(account) --remember-password, or give --password-file")
        }
        guard let networkName = latest?.network ?? current?.network ?? (try? store.list().first { $0.account == account }?.network) ?? nil else {
            throw GKPassError(.noTicket, "no ticket for \(account), so no network to refresh it on", hint: "run gkpass login \(account)")
        }
        let network = try Network.named(networkName, environment: ladder.environment)
        var attempt = 0
        while true {
            attempt += 1
            var login = Login(account: account, network: network, storeChoice: .auto, rememberPassword: false, now: Int64(time(nil)))
            login.requestTimeout = requestTimeout
            do throws(GKPassError) {
                let (set, _) = try login.obtain(password: password, ladder: ladder, trace: trace)
                try Self.storeMutex.locked { () throws(GKPassError) in
                    do throws(StoreError) { try login.keep(set, password: SecretBytes?.none, in: store, ladder: ladder) } catch { throw GKPassError(store: error) }
                }
                return .refreshed(expires: TicketSet.format(set.expires), attempts: attempt)
            } catch where error.transient && attempt <= retries {
                let delay = min(backoff * Double(1 << (attempt - 1)), Self.maximumBackoff)
                trace?("\(account): \(error.message); retrying in \(delay) s")
                if let sleep { sleep(delay) } else { usleep(UInt32(delay * 1_000_000)) }
            }
        }
    }

    static func ticket(_ account: String, in store: any ItemStore) throws(GKPassError) -> TicketSet? {
        do {
            guard let item = try store.read(account: account, kind: .ticket) else { return nil }
            return try TicketSet(decoding: item.secret)
        } catch { throw GKPassError(store: error) }
    }

    /// Runs `body` for indices 0..<count on at most `jobs` threads; returns when all are done.
    static func forEach(count: Int, jobs: Int, _ body: @escaping @Sendable (Int) -> Void) {
        final class Counter: @unchecked Sendable {
            let mutex = PThreadMutex()
            var next = 0
            func take() -> Int { mutex.locked { defer { next += 1 }; return next } }
        }
        let counter = Counter()
        let work: @Sendable () -> Void = {
            while true {
                let index = counter.take()
                guard index < count else { return }
                body(index)
            }
        }
        // A thread that cannot be started is no worse than fewer jobs; with none at all, work here.
        let threads = (0..<max(1, min(jobs, count))).compactMap { _ in PThread.start(work) }
        if threads.isEmpty { work() }
        for thread in threads { PThread.join(thread) }
    }
}
