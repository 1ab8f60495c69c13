/// The one error type of the Passport module. ``kind`` maps to design.md §4 exit codes in GKPassKit; the message
/// is one line for the user and never contains a password, ticket or cookie value.
public struct PassportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in the classes that decide what may happen next (issue #15): a *transient* failure may be
    /// retried with backoff, a *rejection* or an *unreadable* answer never is (the password is sent once per login).
    public enum Kind: Sendable, Equatable {
        /// The server rejected the member name or password (exit 4; do not retry blindly).
        case rejected
        /// The host could not be resolved or connected to: nothing was sent (exit 7, transient). The only failure
        /// after which a cached DA is dropped and the nexus asked again.
        case unreachable
        /// A timeout or reset after connecting (exit 7, transient).
        case network
        /// TLS: unknown CA, name mismatch, expired certificate, a handshake the server refused (exit 7).
        case tls
        /// The server answered 5xx (exit 7, transient).
        case server
        /// An answer no client can read, or one it must not follow: 200 without a ticket, malformed headers, an
        /// unknown status, a redirect off the network's DA hosts or to plain HTTP (exit 7, never retried).
        case unreadable
        /// Too many redirects (exit 7, never retried).
        case redirectLoop
        /// libcurl could not be loaded, or lacks what gkpass needs: the message names the library and the package to
        /// install (exit 7, like every failure of a network command; retrying does not help).
        case library
        /// The caller asked for something impossible: a bad URL, a missing setting (exit 2).
        case configuration
    }

    /// Whether trying again later may help, and may send the password again: connect failures, timeouts, resets
    /// and 5xx. Everything else is final for this run.
    public var isTransient: Bool { kind == .unreachable || kind == .network || kind == .server }

    public let kind: Kind
    public let message: String
    public let hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String { message }

    public static func == (lhs: PassportError, rhs: PassportError) -> Bool { lhs.kind == rhs.kind }
}
