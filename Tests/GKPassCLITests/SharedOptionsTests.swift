import Foundation
import Testing

/// The option groups `login` and `refresh` share (the account, the password sources) and the typed durations of
/// `check` and `refresh`, through the real binary. Every case here is refused while parsing, before any store or
/// network is touched, so no sandbox runs; the store still points at a private, empty place.
@Suite("shared options (binary)")
struct SharedOptionsTests {
    static func gkpass(_ arguments: [String]) throws -> Binary.Result {
        var environment = ProcessInfo.processInfo.environment
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-options-\(UUID().uuidString)").path
        environment["XDG_STATE_HOME"] = state
        environment["XDG_CONFIG_HOME"] = state + "/config"
        environment["XDG_RUNTIME_DIR"] = state + "/no-runtime"
        environment["GKPASS_SANDBOX_STATE"] = state + "/no-sandbox"
        for key in ["DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "CREDENTIALS_DIRECTORY"] { environment[key] = nil }
        defer { try? FileManager.default.removeItem(atPath: state) }
        return try Binary.run("gkpass", arguments, environment: environment)
    }

    static let secret = "hunter2-do-not-echo"

    @Test("login and refresh refuse --password=... alike (exit 2), pointing to the safe ways, without echoing it",
          arguments: [["login", "demo@passport.test"], ["refresh", "demo@passport.test"], ["refresh"]])
    func passwordOption(command: [String]) throws {
        for spelling in [["--password=\(Self.secret)"], ["--password", Self.secret]] {
            let result = try Self.gkpass(command + spelling)
            #expect(result.status == 2, "\(command + spelling): \(result.stderr)")
            #expect(result.stderr.contains("gkpass never takes a password as an argument (other users can read it in ps)."))
            #expect(result.stderr.contains("--password-stdin, --password-fd or --password-file"))
            #expect(!result.stderr.contains(Self.secret), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("login and refresh refuse an argument after the account (exit 2) without echoing it",
          arguments: ["login", "refresh"])
    func extraArgument(command: String) throws {
        let one = try Self.gkpass([command, "demo@passport.test", Self.secret])
        #expect(one.status == 2, "\(one.stderr)")
        #expect(one.stderr.contains("gkpass \(command) takes one account; the extra argument is not shown, as it may be a password."))
        #expect(!one.stderr.contains(Self.secret), "\(one.stderr)")
        let two = try Self.gkpass([command, "demo@passport.test", Self.secret, Self.secret + "2"])
        #expect(two.status == 2 && two.stderr.contains("the 2 extra arguments are not shown"), "\(two.stderr)")
        #expect(!two.stderr.contains(Self.secret))
    }

    @Test("the safe ways named match what the command can do: login prompts, refresh (for cron) does not")
    func safeWaysPerCommand() throws {
        #expect(try Self.gkpass(["login", "a@b.test", "x"]).stderr.contains("use the prompt, --password-stdin"))
        let refresh = try Self.gkpass(["refresh", "a@b.test", "x"]).stderr
        #expect(refresh.contains("use --password-stdin") && !refresh.contains("prompt"), "\(refresh)")
    }

    @Test("both refuse two password sources at once (exit 2)", arguments: ["login", "refresh"])
    func twoSources(command: String) throws {
        let result = try Self.gkpass([command, "demo@passport.test", "--password-stdin", "--password-fd", "3"])
        #expect(result.status == 2 && result.stderr.contains("Choose one of --password-stdin, --password-fd and --password-file."), "\(result.stderr)")
    }

    @Test("a bad duration is a usage error (exit 2) naming the option and the value, with the option's help",
          arguments: [
            (["check", "--min-remaining"], "--min-remaining"), (["refresh", "--if-expiring-within"], "--if-expiring-within"),
          ])
    func badDuration(command: [String], option: String) throws {
        for value in ["soon", "2x", "1.5h", "h", "2H", "10000001s"] {
            let result = try Self.gkpass(command + [value])
            #expect(result.status == 2, "\(value): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: The value '\(value)' is invalid for '\(option) <duration>'\n"), "\(result.stderr)")
            #expect(result.stderr.contains("1d"), "the help beside it shows the spellings: \(result.stderr)")
        }
    }

    @Test("help shows each duration's default as written", arguments: [("check", "(default: 0)"), ("refresh", "(default: 2h)")])
    func durationDefaults(command: String, shown: String) throws {
        let help = try Self.gkpass([command, "--help"])
        #expect(help.status == 0 && String(decoding: help.stdout, as: UTF8.self).contains(shown))
    }
}
