/// The one error type of the Passport module. ``kind`` maps to design.md §4 exit codes in GKPassKit; the message
/// is one line for the user and never contains a password, ticket or cookie value.
public struct PassportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server rejected the member name or password (exit 4; do not retry blindly).
        case rejected
        /// DNS, connect, timeout (exit 7).
        case network
        /// TLS: unknown CA, name mismatch, expired certificate (exit 7).
        case tls
        /// The server answered 5xx, or something no Passport server sends (exit 7).
        case server
        /// Too many redirects (exit 7).
        case redirectLoop
        /// The caller asked for something impossible: a bad URL, a missing setting (exit 2).
        case configuration
    }

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
