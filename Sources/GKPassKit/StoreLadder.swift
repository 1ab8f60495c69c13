public import TicketStore

/// `--store auto|secret-service|file` and the ladder behind `auto` (design.md §6).
public enum StoreChoice: String, Sendable, CaseIterable {
    case auto
    case secretService = "secret-service"
    case file
}

public struct StoreLadder: Sendable {
    public let environment: [String: String]
    public let fileStore: FileStore
    /// Seconds the keyring may take to answer before `auto` gives up on it.
    public let deadline: Double

    public init(environment: [String: String], deadline: Double = 5) {
        self.environment = environment
        self.fileStore = FileStore(root: FileStore.defaultRoot(environment: environment))
        self.deadline = deadline
    }

    /// The store to write `account` to. `auto` prefers an unlocked Secret Service and otherwise falls back to the
    /// file store with one warning; `secret-service` never falls back.
    public func storeForWriting(_ choice: StoreChoice, warn: (String) -> Void) throws(GKPassError) -> any ItemStore {
        switch choice {
        case .file:
            return fileStore
        case .secretService:
            do { return try openUnlockedSecretService() } catch { throw GKPassError(store: error) }
        case .auto:
            do { return try openUnlockedSecretService() } catch {
                // A bus that is someone else's is refused, not stepped around: whoever set the address meant it.
                if error.kind == .untrusted { throw GKPassError(store: error) }
                warn("warning: \(error.message); using the file store \(fileStore.root)")
                return fileStore
            }
        }
    }

    func openUnlockedSecretService() throws(StoreError) -> SecretServiceStore {
        let store = try SecretServiceStore(environment: environment, deadline: deadline)
        try store.ensureUnlocked()
        return store
    }

    /// The store that holds `account` (as recorded at login), for reading and deleting.
    public func storeForReading(account: String) throws(GKPassError) -> any ItemStore {
        let recorded: StoreKind?
        do { recorded = try fileStore.recordedStore(account: account) } catch { throw GKPassError(store: error) }
        return try store(recorded: recorded)
    }

    /// The store a record names (the file store when there is no record).
    public func store(recorded: StoreKind?) throws(GKPassError) -> any ItemStore {
        switch recorded {
        case .some(.secretService):
            do { return try SecretServiceStore(environment: environment, deadline: deadline) } catch { throw GKPassError(store: error) }
        case .some(.file), .none:
            return fileStore
        }
    }
}

extension GKPassError {
    /// Store failures in the exit codes of design.md §4.
    public init(store error: StoreError) {
        let code: ExitCode
        switch error.kind {
        case .unavailable, .locked, .timeout, .untrusted: code = .keyringUnavailable
        case .unsafe: code = .unsafe
        case .lockTimeout: code = .lockTimeout
        case .corrupt, .io: code = .failure
        }
        self.init(code, error.message, hint: error.hint)
    }
}
