internal import Glibc

/// CLOCK_MONOTONIC, for deadlines that wall-clock changes cannot move: the libsecret watchdog's condition-variable
/// wait.
enum MonotonicClock {
    /// The moment `seconds` from now, as pthread_cond_timedwait takes it (on a CLOCK_MONOTONIC condition).
    static func moment(after seconds: Double) -> Glibc.timespec {
        var now = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let whole = Int(seconds), fraction = Int((seconds - Double(whole)) * 1e9)
        var moment = Glibc.timespec(tv_sec: now.tv_sec + whole, tv_nsec: now.tv_nsec + fraction)
        if moment.tv_nsec >= 1_000_000_000 { moment.tv_sec += 1; moment.tv_nsec -= 1_000_000_000 }
        return moment
    }
}
