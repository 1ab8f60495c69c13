/// The IRCX `AUTH` command in its three steps (protocol.md §1.1):
/// `AUTH <package> I :<data>` starts, `AUTH <package> S :<data>` continues, `AUTH <package> * …` ends (a client's
/// `*` aborts; a server's `* <user>@<domain> <oid>` reports success).
public struct AuthMessage: Equatable, Sendable {
    public enum Step: UInt8, Sendable {
        case initiate = 0x49  // "I"
        case sequence = 0x53  // "S"
        case done = 0x2A  // "*"
    }

    /// The package name exactly as sent (servers echo the client's spelling).
    public let packageName: [UInt8]
    public let step: Step
    /// For `I` and `S`: the data after unescaping (empty when absent). For `*`: empty.
    public let data: [UInt8]
    /// For `*`: the parameters after the step (`user@domain`, `oid`); otherwise empty.
    public let result: [[UInt8]]

    /// The package, if it is one of ours.
    public var package: GateKeeperPackage? { GateKeeperPackage(name: packageName) }

    /// Reads an AUTH message out of `message`; nil when `message` is not an AUTH command at all.
    /// Escaped data is unescaped strictly (``AuthEscaping/strictUnescape(_:)``).
    public init?(_ message: IRCXMessage) throws(GateKeeperError) {
        guard message.commandName == "AUTH" else { return nil }
        guard message.parameters.count >= 2 else {
            throw GateKeeperError(.malformedLine, "an AUTH line needs a package and a step (I, S or *)")
        }
        let stepBytes = message.parameters[1]
        guard stepBytes.count == 1, let step = Step(rawValue: stepBytes[0]) else {
            throw GateKeeperError(.malformedLine, "an AUTH step is I, S or *")
        }
        self.packageName = message.parameters[0]
        self.step = step
        switch step {
        case .initiate, .sequence:
            guard message.parameters.count <= 3 else {
                throw GateKeeperError(.malformedLine, "an AUTH \(Character(UnicodeScalar(step.rawValue))) line has one data parameter")
            }
            self.data = message.parameters.count == 3 ? try AuthEscaping.strictUnescape(message.parameters[2]) : []
            self.result = []
        case .done:
            self.data = []
            self.result = Array(message.parameters.dropFirst(2))
        }
    }

    /// Builds an `I` or `S` message carrying `data` (escaped on the way out, always as a trailing parameter).
    public init(packageName: some Collection<UInt8>, step: Step, data: some Collection<UInt8>) {
        self.packageName = Array(packageName)
        self.step = step
        self.data = Array(data)
        self.result = []
    }

    /// The wire line with CRLF.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = Array("AUTH ".utf8)
        out += packageName
        out.append(0x20)
        out.append(step.rawValue)
        switch step {
        case .initiate, .sequence:
            out += [0x20, UInt8(ascii: ":")]
            out += AuthEscaping.escape(data)
        case .done:
            for parameter in result {
                out.append(0x20)
                out += parameter
            }
        }
        out += [0x0D, 0x0A]
        return out
    }

    /// Whether this is the server's `S :OK`, which asks a GateKeeperPassport client for its blob (protocol.md §2.1).
    public var isPassportOK: Bool { step == .sequence && data == Array("OK".utf8) }
}
