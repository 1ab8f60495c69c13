/// The one error type of the ticket stores. ``kind`` decides the exit code (design.md §4) in GKPassKit; the message
/// is one line for the user and never contains secret material.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No session bus, or no Secret Service on it (exit 5; `auto` falls back to the file store).
        case unavailable
        /// The keyring collection is locked and gkpass never prompts (exit 5).
        case locked
        /// The keyring did not answer within the deadline (exit 5).
        case timeout
        /// The session bus is not the user's own, or gkpass cannot check whose it is (exit 5). Unlike
        /// ``unavailable``, `--store auto` does not fall back: someone pointed gkpass at that bus.
        case untrusted
        /// A file or directory is not private to the user, not owned by them, or a symlink (exit 6).
        case unsafe
        /// Another process holds the account's lock past the timeout (exit 8).
        case lockTimeout
        /// The stored item does not parse (exit 1).
        case corrupt
        /// Any other failure to read or write (exit 1).
        case io
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

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.kind == rhs.kind }
}
