import ArgumentParser
import GKPassKit

/// The ways a command may be given a password (design.md §3: never as an argument), for `login` and `refresh`.
/// Declared once so both refuse `--password=...` and a stray positional argument the same way: with a pointer to
/// the safe ways, and without repeating what was typed, since it is most likely the password.
///
/// Declare it after the command's account argument: `extra` must come after it.
struct PasswordOptions: ParsableArguments {
    /// Anything after the account: refused without being repeated (see `refuseUnsafe`).
    @Argument(help: .hidden)
    var extra: [String] = []

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("Read the password from the first line of this open file descriptor.", valueName: "n"))
    var passwordFd: Int32?

    @Option(help: ArgumentHelp("Read the password from the first line of this file (mode 600).", valueName: "path"))
    var passwordFile: String?

    /// `--password` exists only to be refused with a useful sentence instead of "unknown option".
    @Option(name: .customLong("password"), help: .hidden)
    var refusedPassword: String?

    /// Refuses a password given as an argument and more than one source. `command` names the command in the
    /// message; `prompts` says whether it can ask on the terminal (login can; refresh runs from cron and cannot).
    /// Called first from the command's `validate()`, which knows both.
    func refuseUnsafe(command: String, prompts: Bool) throws {
        let safeWays = (prompts ? "the prompt, " : "") + "--password-stdin, --password-fd or --password-file"
        if refusedPassword != nil {
            throw ValidationError(
                "gkpass never takes a password as an argument (other users can read it in ps). Use \(safeWays).")
        }
        if !extra.isEmpty {
            throw ValidationError(
                "gkpass \(command) takes one account; the \(extra.count == 1 ? "extra argument is" : "\(extra.count) extra arguments are") not shown, as it may be a password. A password is never an argument: use \(safeWays).")
        }
        if count > 1 {
            throw ValidationError("Choose one of --password-stdin, --password-fd and --password-file.")
        }
    }

    /// How many of the three options were given.
    var count: Int { [passwordStdin, passwordFd != nil, passwordFile != nil].filter { $0 }.count }

    /// The source the options name, or nil when none was given (the command then falls back to its own).
    var source: PasswordSource? {
        if passwordStdin { return .standardInput }
        if let passwordFd { return .fileDescriptor(passwordFd) }
        if let passwordFile { return .file(passwordFile) }
        return nil
    }
}
