import ArgumentParser
import GateKeeper

extension GKPass.GatekeeperCommand {
    /// `gkpass gatekeeper init`: the client's first AUTH line.
    struct InitCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Print the client's first AUTH line (GKSSP sequence 1).",
            discussion: """
                Example, starting a guest login by hand:
                  gkpass gatekeeper init | nc chat.example.net 6667
                """
        )

        @Option(help: "The security package to start.")
        var package: GateKeeperPackage = .gateKeeper

        @Option(help: "The GateKeeper version to offer (the server's challenge decides the answer's version).")
        var version: GateKeeperVersion = .v3

        func run() throws {
            try StandardStreams.writeOutput(GateKeeperClient.initiateLine(package: package, version: version))
        }
    }
}
