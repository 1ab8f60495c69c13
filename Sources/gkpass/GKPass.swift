import ArgumentParser
import GKPassKit
internal import CProcess
internal import Glibc

/// The `gkpass` root command. It only configures; each subcommand lives in its own file as an extension.
@main
struct GKPass: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gkpass",
        abstract: "Microsoft Passport and GateKeeper credentials for MSN Chat (IRCX) networks.",
        discussion: """
            gkpass answers the IRCX AUTH GateKeeper and GateKeeperPassport exchanges that MSN Chat networks \
            require, so ordinary IRC clients and scripts can authenticate from the shell.

            Exit status:
              0  success
              1  other error (including input that is not what the command reads)
              2  usage error
              3  no ticket / not logged in
              4  re-authentication needed (expired ticket or rejected credentials)
              5  keyring unavailable or locked
              6  unsafe file or permission refused
              7  network, TLS or server error (transient)
              8  lock timeout: another refresh holds the account
            """,
        version: "\(GKPassVersion.string) (\(buildCommit))",
        subcommands: [
            LoginCommand.self, LogoutCommand.self, ListCommand.self, StatusCommand.self, CheckCommand.self, TicketCommand.self,
            ExportCommand.self, RefreshCommand.self, SwitchCommand.self, ConnectCommand.self, ProxyCommand.self,
            DoctorCommand.self, GatekeeperCommand.self,
        ]
    )

    /// Parses, runs, and decides the exit status in one place (style.md "For gkpass" 7). argument-parser exits 64
    /// for usage errors on Linux; gkpass's contract says 2.
    static func main() {
        // Before anything holds a secret: no core dumps, no same-user ptrace or /proc/PID/mem of this process.
        _ = gk_process_protect_secrets()
        // The per-connection path ends here, whatever its outcome, without running exit handlers: GLib's worker
        // thread may still be running GDBus when exit() would tear the process down under it, and the Swift
        // runtime's teardown frees nothing the kernel does not. Output and diagnostics were written with write(2),
        // the stores keep no buffers, and secrets were wiped where they were used.
        do {
            if try TicketCommand.fastPath(CommandLine.arguments.dropFirst()) { Glibc._exit(0) }
        } catch let error as GKPassError {
            report(code: error.exitCode.rawValue, message: error.message, hint: error.hint)
            Glibc._exit(error.exitCode.rawValue)
        } catch {
            report(code: GKPassError.ExitCode.failure.rawValue, message: "\(error)", hint: nil)
            Glibc._exit(GKPassError.ExitCode.failure.rawValue)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as GKPassError {
            report(code: error.exitCode.rawValue, message: error.message, hint: error.hint)
            Glibc.exit(error.exitCode.rawValue)
        } catch {
            if exitCode(for: error) == .validationFailure {
                if wantsJSON { report(code: GKPassError.ExitCode.usage.rawValue, message: message(for: error), hint: nil) }
                else { StandardStreams.writeErrorVerbatim(fullMessage(for: error)) }
                Glibc.exit(GKPassError.ExitCode.usage.rawValue)
            }
            exit(withError: error)
        }
    }

    /// Whether the command line asked for JSON: then errors are JSON too.
    static var wantsJSON: Bool { CommandLine.arguments.dropFirst().contains("--json") }

    /// An error on stderr: `gkpass: message` (and `gkpass: hint: …`), or with --json one object
    /// `{"code": N, "message": "…", "hint": "…"}` so a script parsing JSON needs no second parser.
    static func report(code: Int32, message: String, hint: String?) {
        if wantsJSON, let object = try? GKPassError.json(code: code, message: message, hint: hint) {
            try? StandardStreams.write(Array(object.utf8), to: STDERR_FILENO)
        } else {
            StandardStreams.writeError("gkpass: \(message)")
            if let hint { StandardStreams.writeError("gkpass: hint: \(hint)") }
        }
    }
}
