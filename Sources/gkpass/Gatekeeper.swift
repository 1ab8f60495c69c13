public import ArgumentParser
public import GateKeeper

extension GKPass {
    /// `gkpass gatekeeper`: the GKSSP exchange, one wire line at a time, for clients and scripts.
    struct GatekeeperCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gatekeeper",
            abstract: "Speak the client side of AUTH GateKeeper and GateKeeperPassport, one line at a time.",
            discussion: """
                Lines are written exactly as they go on the wire, ending in CRLF. Input is read as bytes and may \
                end in CRLF or LF.
                """,
            subcommands: [InitCommand.self, RespondCommand.self]
        )
    }
}

extension GateKeeperPackage: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: Array(argument.utf8)) }
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension GateKeeperVersion: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = UInt32(argument) else { return nil }
        self.init(rawValue: value)
    }
    public var defaultValueDescription: String { String(rawValue) }
    public static var allValueStrings: [String] { allCases.map { String($0.rawValue) } }
}
