internal import Glibc

/// One `flock(2)` per account, in the file store's `locks/` directory, whichever store holds the items: it
/// serialises writers and refreshes across processes (design.md §6). Released when the lock is deinitialised or
/// the process dies, so a killed refresh never leaves an account locked.
public final class AccountLock {
    private let fd: Int32

    /// Polling interval while waiting for another holder.
    static let pollMicroseconds: UInt32 = 20_000

    /// Takes the lock, waiting up to `timeout` seconds; throws `.lockTimeout` (exit 8) after that.
    public init(store: FileStore, account: String, timeout: Double) throws(StoreError) {
        try store.prepareDirectories()
        let path = store.locksDirectory + "/" + FileStore.fileName(for: account) + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(errno == ELOOP ? .unsafe : .io, "cannot open the lock \(path): \(FileStore.errorText())")
        }
        var info = stat()
        fstat(fd, &info)
        do { try FileStore.checkPrivate(info, path: path, directory: false) } catch {
            close(fd)
            throw error
        }
        var waited = 0.0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw StoreError(.io, "cannot lock \(path): \(FileStore.errorText())")
            }
            guard waited < timeout else {
                close(fd)
                throw StoreError(
                    .lockTimeout, "another gkpass process holds \(account) (waited \(Int(timeout)) s)",
                    hint: "retry later, or raise --lock-timeout")
            }
            usleep(Self.pollMicroseconds)
            waited += Double(Self.pollMicroseconds) / 1_000_000
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
