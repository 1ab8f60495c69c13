import ArgumentParser
import GKPassKit
internal import Glibc
import TicketStore

extension GKPass {
    /// `gkpass refresh`: sign in again before tickets expire, for cron and systemd timers.
    struct RefreshCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refresh",
            abstract: "Sign in again when a ticket is about to expire (for cron and systemd timers).",
            discussion: """
                For ACCOUNT (default: the default account) or every account with --all: when the stored ticket has \
                less than --if-expiring-within left (default 2h), sign in again and store the new ticket in the \
                same store. The password is the one kept by gkpass login --remember-password, or (for one account) \
                --password-stdin, --password-fd, --password-file or $CREDENTIALS_DIRECTORY/password.

                One refresh per account at a time: each takes the account's lock (waiting up to --lock-timeout), \
                then looks again and does nothing when another process refreshed meanwhile. Network, TLS and \
                server errors are retried (--retries, with backoff from 1 s doubling to 30 s); a rejected password \
                is not, and the old ticket stays until a new one is stored. --all works through the accounts \
                --jobs at a time.

                Works from cron: with no DBUS_SESSION_BUS_ADDRESS it finds the user's bus at \
                $XDG_RUNTIME_DIR/bus (or /run/user/UID/bus), else reads the file store. With --quiet it prints \
                nothing on success, so cron mails only failures.

                Exit status: 0 every account fresh or refreshed; otherwise the first failing account's: 3 no \
                ticket, 4 no password or the server rejected it (run gkpass login), 5 keyring locked, 7 network \
                error after the retries, 8 another gkpass held the account past --lock-timeout.

                Examples:
                  gkpass refresh --all --quiet                    # crontab: 0 * * * * gkpass refresh --all --quiet
                  systemctl --user enable --now gkpass-refresh.timer
                """
        )

        @OptionGroup var account: AccountArgument

        @Flag(help: "Refresh every account that has a ticket or a remembered password.")
        var all = false

        @Option(help: ArgumentHelp("Refresh only tickets with less than this left: 90s, 30m, 2h, 1d.", valueName: "duration"))
        var ifExpiringWithin = DurationText("2h")!

        @Option(help: ArgumentHelp("Wait at most this long for another gkpass holding an account.", valueName: "seconds"))
        var lockTimeout: Double = 30

        @Option(help: ArgumentHelp("Retries after a network error (0 to 10).", valueName: "n"))
        var retries = 3

        @Option(help: ArgumentHelp("With --all, sign in this many accounts at once (1 to 64).", valueName: "n"))
        var jobs = 8

        @Option(help: ArgumentHelp("Give up on a request after this many seconds (1 to 300).", valueName: "seconds"))
        var timeout = 30

        @OptionGroup var passwords: PasswordOptions

        @Flag(name: .shortAndLong, help: "Print nothing when every account is fine.")
        var quiet = false

        @Flag(name: .shortAndLong, help: "Trace each request, with secrets replaced by fingerprints.")
        var verbose = false

        func validate() throws {
            try passwords.refuseUnsafe(command: "refresh", prompts: false)
            guard lockTimeout >= 0, lockTimeout <= 3600 else { throw ValidationError("--lock-timeout takes 0 to 3600 seconds.") }
            guard (0...10).contains(retries) else { throw ValidationError("--retries takes 0 to 10.") }
            guard (1...64).contains(jobs) else { throw ValidationError("--jobs takes 1 to 64.") }
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout takes 1 to 300 seconds.") }
            if all && account.name != nil { throw ValidationError("Give an ACCOUNT or --all, not both.") }
            if all && passwords.count > 0 { throw ValidationError("--all uses remembered passwords; a password option is for one account.") }
        }

        func run() throws {
            let environment = Environment.current
            let ladder = StoreLadder(environment: environment)
            var refresh = Refresh(threshold: ifExpiringWithin.seconds, lockTimeout: lockTimeout, retries: retries)
            refresh.requestTimeout = timeout
            let accounts = try Refresh.accounts(all: all, given: account.name, ladder: ladder)
            let password = all ? nil : try password(environment: environment)
            let trace: (@Sendable (String) -> Void)? = verbose ? { @Sendable line in StandardStreams.writeError("gkpass: " + line) } : nil
            let quiet = quiet
            let failure = refresh.run(accounts: accounts, password: password, jobs: jobs, ladder: ladder, trace: trace) { report in
                for line in report.lines(quiet: quiet) { StandardStreams.writeError("gkpass: " + line) }
            }
            if let failure { throw ExitCode(failure.exitCode.rawValue) }
        }

        /// The password for one account: from the option given, else systemd's credential when one is there, else
        /// none (the remembered one is used). Never a prompt: refresh runs from cron.
        func password(environment: [String: String]) throws(GKPassError) -> SecretBytes? {
            if let source = passwords.source { return try source.read() }
            if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty, access(credentials + "/password", F_OK) == 0 {
                return try PasswordSource.systemdCredential(credentials).read()
            }
            return nil
        }
    }
}
