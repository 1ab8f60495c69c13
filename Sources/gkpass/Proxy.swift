import ArgumentParser
import GKPassKit
internal import Glibc

extension GKPass {
    /// `gkpass proxy`: a local plain-IRC endpoint that logs in upstream with the stored ticket.
    struct ProxyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "proxy",
            abstract: "Let an ordinary IRC client chat on an MSN Chat network: a local IRC endpoint that logs in for it.",
            discussion: """
                Point irssi, WeeChat, HexChat or a bot at the --listen address as a plain IRC server. For each client \
                connection the proxy opens its own connection to the network's IRCX server, logs in with \
                GateKeeperPassport and the stored ticket, the blob sent as the network's passport_slices says \
                (the client's PASS, if any, names the account; else ACCOUNT, else the default account), sends the account's PROPs, and from registration on relays every line \
                both ways unchanged. It answers CAP itself, PINGs a silent server, and, when the network has a \
                directory, asks it where a JOINed room lives and moves the connection there before the first JOIN. A ticket with \
                less than 10 minutes left is refreshed first (as gkpass refresh does, with the password remembered by \
                gkpass login --remember-password); without one, an expired ticket is refused with a NOTICE.

                It listens on loopback only unless --allow-remote is given: anyone who reaches the port chats as you.
                On start it prints one line on stdout: listening HOST:PORT. Stop it with Ctrl-C or SIGTERM.

                Exit status: 2 usage (or a non-loopback address without --allow-remote); 1 cannot listen.

                Example:
                  gkpass proxy --listen 127.0.0.1:6667 &
                  irssi -c 127.0.0.1 -p 6667
                """
        )

        @Argument(help: ArgumentHelp("The account for clients that send no PASS (default: the default account).", valueName: "account"))
        var account: String?

        @Option(help: ArgumentHelp("Where to listen (port 0: chosen by the system).", valueName: "host:port"))
        var listen: String

        @Option(help: ArgumentHelp("The network (default: the one each ticket is for).", valueName: "name"))
        var network: String?

        @Flag(help: "Allow a listen address other than loopback.")
        var allowRemote = false

        @Option(help: ArgumentHelp("Seconds for each upstream login (1–300).", valueName: "seconds"))
        var timeout = 30

        @Option(help: .hidden)
        var keepalive = 90

        @Flag(name: .shortAndLong, help: "Log each client connection on stderr.")
        var verbose = false

        func validate() throws {
            // Port 0 (the system's choice) is fine here; Endpoint itself wants a real port.
            guard let endpoint = Network.Endpoint(listen.hasSuffix(":0") ? String(listen.dropLast()) + "1" : listen) else {
                throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:6667.")
            }
            let loopback = endpoint.host.hasPrefix("127.") || endpoint.host == "::1"
            if !loopback && !allowRemote {
                throw ValidationError("\(endpoint.host) is not loopback: anyone who reaches it would chat as you. Add --allow-remote if that is what you want.")
            }
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout takes 1 to 300 seconds.") }
        }

        func run() throws {
            let endpoint = Self.endpoint(listen)
            var proxy = GKPassKit.Proxy(listen: endpoint, defaultAccount: account, networkName: network, environment: Environment.current)
            proxy.timeout = Double(timeout)
            proxy.keepAlive = Double(max(1, keepalive))
            let (fd, port) = try proxy.bind()
            signal(SIGPIPE, SIG_IGN)
            try StandardStreams.writeOutput(Array("listening \(Network.Endpoint(host: endpoint.host, port: port))\n".utf8))
            let verbose = verbose
            proxy.serve(fd: fd) { line in if verbose { StandardStreams.writeError("gkpass: proxy: " + line) } }
        }

        /// HOST:PORT where PORT may be 0.
        static func endpoint(_ text: String) -> Network.Endpoint {
            if let endpoint = Network.Endpoint(text) { return endpoint }
            let host = text.dropLast(2)
            return Network.Endpoint(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : String(host), port: 0)
        }
    }
}
