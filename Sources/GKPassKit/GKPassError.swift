/// The error every gkpass use case throws: one line for the user, an optional hint, and the exit code of
/// design.md §4. The CLI's `main()` is the only place that turns it into output and an exit status.
public struct GKPassError: Error, Sendable, CustomStringConvertible {
    /// Exit codes, design.md §4. Other programs rely on these numbers; never renumber.
    public enum ExitCode: Int32, Sendable, CaseIterable {
        case success = 0
        /// Any other error.
        case failure = 1
        /// Usage error: bad flags or arguments.
        case usage = 2
        /// No ticket; not logged in.
        case noTicket = 3
        /// Re-authentication needed: ticket expired or credentials rejected. Do not retry blindly.
        case reauthenticate = 4
        /// Keyring unavailable or locked, and no interactive unlock possible.
        case keyringUnavailable = 5
        /// Unsafe file or permission refused.
        case unsafe = 6
        /// Network, TLS or server error (transient; retry later).
        case network = 7
        /// Lock timeout: another refresh holds the account.
        case lockTimeout = 8
    }

    public let exitCode: ExitCode
    /// What failed, phrased `<what failed> while <doing what>` where that helps (style.md "For gkpass" 8).
    public let message: String
    /// How to fix it, when there is something the user can do.
    public let hint: String?

    /// Whether trying again later may help (connect failures, timeouts, resets, 5xx): `refresh` retries only these.
    /// An answer that could not be read is exit 7 too, but never transient: the password is sent once per login.
    public let transient: Bool

    public init(_ exitCode: ExitCode, _ message: String, hint: String? = nil, transient: Bool = false) {
        self.exitCode = exitCode
        self.message = message
        self.hint = hint
        self.transient = transient
    }

    public var description: String { message }
}

extension GKPassError {
    /// The error object a command given `--json` prints on stderr, `{"code": N, "message": "…", "hint": "…"}` (no
    /// `hint` key when there is none), so a script parsing JSON needs no second parser. The CLI also gives its own
    /// usage errors this way, hence the parts rather than a GKPassError.
    public static func json(code: Int32, message: String, hint: String?) throws(GKPassError) -> String {
        struct Object: Encodable {
            var code: Int32
            var message: String
            var hint: String?
        }
        return try JSONOutput.line(Object(code: code, message: message, hint: hint))
    }
}
