internal import Glibc

/// Finding the user's D-Bus session bus without ever starting one (design.md §6): cron jobs and systemd services
/// have no `DBUS_SESSION_BUS_ADDRESS`, but a logged-in user's bus socket is at `$XDG_RUNTIME_DIR/bus`.
public enum SessionBus {
    /// The bus address to use, or nil when there is none. An explicit address wins; otherwise
    /// `$XDG_RUNTIME_DIR/bus` (or `/run/user/UID/bus`) if it is a socket owned by the user.
    public static func address(environment: [String: String], uid: UInt32? = nil) -> String? {
        let uid = uid ?? getuid()
        if let explicit = environment["DBUS_SESSION_BUS_ADDRESS"], !explicit.isEmpty { return explicit }
        let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/user/\(uid)"
        let socket = runtime + "/bus"
        var info = stat()
        guard lstat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, info.st_uid == uid else { return nil }
        return "unix:path=" + socket
    }
}
