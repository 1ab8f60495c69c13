/// The one error type of the GateKeeper module.
///
/// Callers compare ``kind`` (and ``blame``), never whole errors or message text. The diagnostics are for people and
/// never contain secret material: no Passport ticket or profile bytes ever reach them.
public struct GateKeeperError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in the protocol's terms.
    public enum Kind: Sendable, Equatable, Hashable {
        // Remote: the peer's bytes break the protocol (protocol.md §1, §2).
        case tokenTooShort
        case tokenTooLong
        case badSignature
        case unsupportedVersion
        case unexpectedSequence
        case badEscape
        case lineTooLong
        case malformedLine
        case malformedBlob
        case unexpectedMessage
        // Local: the caller asked for something the protocol cannot express.
        case invalidArgument
        case invalidState
    }

    /// Who is to blame, after h11's LocalProtocolError / RemoteProtocolError split.
    public enum Blame: Sendable, Equatable {
        /// The caller misused the API or the environment cannot do what was asked.
        case local
        /// The peer sent bytes that break the protocol.
        case remote
    }

    public let kind: Kind
    private let diagnostics: String

    public init(_ kind: Kind, _ diagnostics: String) {
        self.kind = kind
        self.diagnostics = diagnostics
    }

    public var blame: Blame {
        switch kind {
        case .tokenTooShort, .tokenTooLong, .badSignature, .unsupportedVersion, .unexpectedSequence, .badEscape,
            .lineTooLong, .malformedLine, .malformedBlob, .unexpectedMessage:
            return .remote
        case .invalidArgument, .invalidState:
            return .local
        }
    }

    /// A one-line, human-readable account of the failure. Never contains secrets.
    public var description: String { diagnostics }

    public static func == (lhs: GateKeeperError, rhs: GateKeeperError) -> Bool { lhs.kind == rhs.kind }
}
