import ArgumentParser
import GKPassKit
internal import Glibc

extension GKPass {
    /// `gkpass doctor`: check everything gkpass depends on.
    struct DoctorCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check the keyring, the file store, the config, each network and each account; print the fix for what fails.",
            discussion: """
                Checks, in order: that libcurl loads; the D-Bus session bus and where it was found; when it is \
                yours, that libsecret loads, a Secret Service provider on it and whether the default collection is \
                unlocked; the file store's directory and modes; the config file; \
                each network (the running sandbox and every configured one): one HTTPS request to its Passport \
                entry point, proving it is reachable and its certificate trusted, and comparing the server's clock \
                with this machine's; and each account's ticket. Reads no secret.

                Exit status: 0 nothing failed (warnings allowed); otherwise the code of the first failed check, the \
                one the same problem gives the commands that meet it: 2 a config error; 5 someone else's session bus \
                or no libsecret; 6 an unsafe file store; 7 no libcurl, or a network unreachable or untrusted; 1 \
                anything else.
                """
        )

        @Flag(help: "Print a JSON array of {name, status, detail, fix} instead of text.")
        var json = false

        @Option(help: ArgumentHelp("Seconds for each network probe (1 to 60).", valueName: "seconds"))
        var timeout = 10

        func validate() throws {
            guard (1...60).contains(timeout) else { throw ValidationError("--timeout takes 1 to 60 seconds.") }
        }

        func run() throws {
            let checks = Doctor(environment: Environment.current).run(now: Int64(time(nil)), probeTimeout: timeout)
            var text = ""
            if json {
                text = try Doctor.json(checks)
            } else {
                for check in checks {
                    let mark = switch check.status { case .ok: "ok  "; case .warning: "warn"; case .failed: "FAIL" }
                    text += "\(mark)  \(check.name): \(check.detail)\n"
                    if let fix = check.fix, check.status != .ok { text += "      fix: \(fix)\n" }
                }
            }
            try StandardStreams.writeOutput(Array(text.utf8))
            let code = Doctor.exitCode(checks)
            if code != .success { throw ExitCode(code.rawValue) }
        }
    }
}
