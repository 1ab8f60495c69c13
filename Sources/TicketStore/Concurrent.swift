internal import Glibc

/// One piece of work started now on its own (detached) thread; ``wait()`` returns its result. The direct Secret
/// Service read uses it to do its cryptography on the second core while the first waits for D-Bus: the key pair
/// while connecting and searching, the session key while the secret is on its way.
///
/// A result nobody waits for is dropped when the work ends; the thread never outlives the work. When no thread can
/// be started, ``wait()`` does the work itself.
final class Concurrent<Value>: @unchecked Sendable {
    private final class Slot { var value: Value? }
    private let slot: Slot
    private let thread: BackgroundThread

    init(_ work: @escaping () -> Value) {
        let slot = Slot()
        self.slot = slot
        thread = BackgroundThread { slot.value = work() }
    }

    /// The work's value: waits for the thread, or does the work here if the thread never took it.
    func wait() -> Value {
        thread.wait()
        return slot.value!
    }
}

/// The thread behind ``Concurrent`` (not generic: a C thread entry point cannot capture a generic parameter).
final class BackgroundThread: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var work: (() -> Void)?
    private var done = false

    init(_ work: @escaping () -> Void) {
        self.work = work
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self).toOpaque()
        if pthread_create(&thread, &attributes, { raw in
            Unmanaged<BackgroundThread>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, retained) != 0 {
            Unmanaged<BackgroundThread>.fromOpaque(retained).release()
        }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes the work (once), does it, and says so.
    private func run() {
        pthread_mutex_lock(mutex)
        let taken = work
        work = nil
        pthread_mutex_unlock(mutex)
        guard let taken else { return }
        taken()
        pthread_mutex_lock(mutex)
        done = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits for the work to end, or does it here if the thread never took it.
    func wait() {
        run()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !done { pthread_cond_wait(condition, mutex) }
    }
}
