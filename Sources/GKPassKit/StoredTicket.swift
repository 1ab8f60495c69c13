internal import FoundationEssentials
public import GateKeeper
import TicketStore

/// Reading the stored ticket set for `gkpass ticket` and friends: the default account, the recorded store,
/// exit 3 when there is none and exit 4 when it has expired.
public enum StoredTicket {
    /// The account to use: the one given, else the default account; exit 3 when there is neither.
    public static func account(_ given: String?, ladder: StoreLadder) throws(GKPassError) -> String {
        if let given { return given }
        do {
            if let name = try ladder.fileStore.defaultAccount() { return name }
        } catch { throw GKPassError(store: error) }
        throw GKPassError(.noTicket, "not logged in: no default account", hint: "run gkpass login ACCOUNT --network NAME")
    }

    /// The stored ticket set of `account`; exit 3 when absent, exit 4 when expired at `now`.
    public static func read(account: String, ladder: StoreLadder, now: Int64) throws(GKPassError) -> TicketSet {
        let store = try ladder.storeForReading(account: account)
        let secret: SecretBytes?
        do { secret = try store.readSecret(account: account, kind: .ticket) } catch { throw GKPassError(store: error) }
        guard let secret else {
            throw GKPassError(.noTicket, "no ticket for \(account)", hint: "run gkpass login \(account)")
        }
        let set: TicketSet
        do { set = try TicketSet(decoding: secret) } catch { throw GKPassError(store: error) }
        guard Int64(set.expires.timeIntervalSince1970) > now else {
            throw GKPassError(.reauthenticate, "the ticket for \(account) expired at \(TicketSet.format(set.expires))", hint: "run gkpass login \(account)")
        }
        return set
    }

    /// The Passport blob in `layout` (design.md §5): ticket-profile by default; profile-nickname needs MSNChatNN.
    public static func blob(_ set: TicketSet, layout: PassportBlob.Layout) throws(GKPassError) -> PassportBlob {
        switch layout {
        case .ticketProfile:
            return PassportBlob(first: Array(set.ticket.utf8), second: Array(set.profile.utf8))
        case .profileNickname:
            guard let nickname = set.cookies["MSNChatNN"] else {
                throw GKPassError(.noTicket, "the stored tickets for \(set.account) have no MSNChatNN, which this network's blob needs", hint: "log in again")
            }
            return PassportBlob(first: Array(set.profile.utf8), second: Array(nickname.utf8))
        }
    }

    /// Removes the ticket (and with `password`, the remembered password) wherever the account's items live.
    /// Absent items are not an error: logging out twice succeeds.
    public static func remove(account: String, password: Bool, ladder: StoreLadder) throws(GKPassError) -> Bool {
        let store = try ladder.storeForReading(account: account)
        do {
            let lock = try AccountLock(store: ladder.fileStore, account: account, timeout: 30)
            defer { withExtendedLifetime(lock) {} }
            var removed = try store.delete(account: account, kind: .ticket)
            if password { removed = try store.delete(account: account, kind: .password) || removed }
            if try ladder.fileStore.defaultAccount() == account { try ladder.fileStore.clearDefaultAccount() }
            let keepsPassword = password ? false : try store.read(account: account, kind: .password) != nil
            if !keepsPassword {
                try ladder.fileStore.forgetRecord(account: account)
                // Nothing of the account is left: neither is its lock file.
                lock.removeFile()
            }
            return removed
        } catch { throw GKPassError(store: error) }
    }
}
