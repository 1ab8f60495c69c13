internal import Glibc

/// One `flock(2)` per account, in the file store's `locks/` directory, whichever store holds the items: it
/// serialises writers and refreshes across processes (design.md §6). Released when the lock is deinitialised or
/// the process dies, so a killed refresh never leaves an account locked.
public final class AccountLock {
    private let fd: Int32

    /// Polling interval while waiting for another holder.
    static let pollMicroseconds: UInt32 = 20_000

    private let path: String

    /// Takes the lock, waiting up to `timeout` seconds; throws `.lockTimeout` (exit 8) after that.
    public init(store: FileStore, account: String, timeout: Double) throws(StoreError) {
        try store.prepareDirectories()
        let path = store.locksDirectory + "/" + FileStore.fileName(for: account) + ".lock"
        var waited = 0.0
        while true {
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
            // A logout may have removed the lock file while we waited: a lock on an unlinked file guards nothing,
            // so take the one that is there now.
            var now = stat()
            if stat(path, &now) == 0, now.st_ino == info.st_ino, now.st_dev == info.st_dev {
                self.fd = fd
                self.path = path
                return
            }
            close(fd)
        }
    }

    /// Removes the lock file while it is held: for an account that no longer has anything stored (logout), so
    /// `locks/` does not keep a file per account ever seen. Waiters notice and lock the new file.
    public func removeFile() {
        unlink(path)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
