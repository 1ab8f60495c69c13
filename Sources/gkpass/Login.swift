public import ArgumentParser
public import GKPassKit
internal import Glibc

extension StoreChoice: ExpressibleByArgument {}

extension GKPass {
    /// `gkpass login`: sign in to Passport and store the tickets.
    struct LoginCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login",
            abstract: "Sign in to Passport and store the chat tickets.",
            discussion: """
                Runs the network's Passport sign-in over HTTPS, follows the chat site to collect every cookie \
                (MSPAuth, MSPProf, MSNChatNN, MSNREGCookie ...), and stores them in the keyring (Secret Service) or, \
                where none runs, in a private file under ${XDG_STATE_HOME:-~/.local/state}/gkpass.

                The password is read from a no-echo prompt on the terminal, or from --password-stdin, \
                --password-fd, --password-file (which must be readable only by you), or $CREDENTIALS_DIRECTORY/password \
                (systemd LoadCredential=). It is never accepted as an argument. A failed login leaves any stored \
                ticket as it was.

                Networks: the built-in network sandbox (a running gkpass-sandbox), and the [networks.NAME] tables \
                of ${XDG_CONFIG_HOME:-~/.config}/gkpass/config.toml (or $GKPASS_CONFIG). The network is --network, \
                else $GKPASS_NETWORK, else the config's default_network. See gkpass(1), NETWORKS.

                Exit status: 0 stored; 2 usage; 4 the server rejected the member name or password; 5 keyring locked \
                or unavailable (with --store secret-service); 6 unsafe password file or store; 7 network, TLS or \
                server error; 8 another gkpass holds the account.

                Example:
                  gkpass-sandbox &
                  printf '%s\\n' sandbox-demo | gkpass login demo@passport.test --network sandbox --password-stdin
                """
        )

        @OptionGroup var account: AccountArgument

        @Option(help: ArgumentHelp("The network to sign in to.", valueName: "name"))
        var network: String?

        @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file instead of the network's ca_file or the system's.", valueName: "path"))
        var cacert: String?

        @Option(help: ArgumentHelp("Give up on a request after this many seconds (1 to 300).", valueName: "seconds"))
        var timeout = 30

        @OptionGroup var passwords: PasswordOptions

        @Flag(help: "Also store the password (in the same store, as a separate item) so gkpass refresh can sign in unattended.")
        var rememberPassword = false

        @Option(help: "Where to store the tickets.")
        var store: StoreChoice = .auto

        @Flag(name: .shortAndLong, help: "Trace each request and response on stderr, with every secret replaced by a fingerprint.")
        var verbose = false

        func validate() throws {
            try passwords.refuseUnsafe(command: "login", prompts: true)
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout takes 1 to 300 seconds.") }
        }

        func run() throws {
            let environment = Environment.current
            let now = Int64(time(nil))
            let ladder = StoreLadder(environment: environment)
            guard let member = account.name ?? (try? ladder.fileStore.defaultAccount()) ?? nil else {
                throw GKPassError(.usage, "name the account to sign in (gkpass login alice@hotmail.com)")
            }
            var chosen = try Network.resolve(flag: network, environment: environment)
            if let cacert {
                try Network.requireTrustable(cacert, what: "--cacert")
                chosen.caFile = cacert
            }
            let source: PasswordSource
            if let chosen = passwords.source { source = chosen }
            else if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty { source = .systemdCredential(credentials) }
            else { source = .terminalPrompt("Password for \(member): ") }
            var login = Login(
                account: member, network: chosen, storeChoice: store,
                rememberPassword: rememberPassword, now: now)
            login.requestTimeout = timeout
            let password = try source.read()
            let outcome = try login.run(
                password: password, ladder: ladder, trace: verbose ? { StandardStreams.writeError("gkpass: " + $0) } : nil,
                warn: { StandardStreams.writeError("gkpass: " + $0) })
            StandardStreams.writeError("gkpass: logged in \(member) on \(chosen.name); tickets in the \(outcome.store.rawValue) store until \(TicketSetFormat.expires(outcome.tickets))")
        }
    }
}
