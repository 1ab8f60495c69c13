import ArgumentParser
import GKPassKit
internal import Glibc

/// The write end of the proxy's stop pipe, for the signal handler (set once, before the handlers go in).
nonisolated(unsafe) private var stopFD: Int32 = -1

extension GKPass {
    /// `gkpass proxy`: a local plain-IRC endpoint that logs in upstream with the stored ticket.
    struct ProxyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "proxy",
            abstract: "Let an ordinary IRC client chat on an MSN Chat network: a local IRC endpoint that logs in for it.",
            discussion: """
                Point irssi, WeeChat, HexChat or a bot at the --listen address as a plain IRC server. Each client \
                connection is a bridge to the whole network: the proxy logs in to the network's IRCX server (its \
                home server) with GateKeeperPassport and the stored ticket, the blob sent as the network's \
                passport_slices says (the client's PASS names the account when it equals a stored account name \
                exactly; else ACCOUNT, else the default account), sends the account's PROPs, and shows the client \
                that server's welcome, with an ISUPPORT (005) line after 004 that tells it MSN's room names \
                (CHANTYPES=%#&) and the owner prefix (PREFIX=(qov).@+); a JOIN of #%#Room or #%&Room, from a \
                client that has not read that line yet (irssi rejoining on reconnect), is taken as %#Room or \
                %&Room. It answers CAP and the client's PINGs itself, and the servers' PINGs too.

                When the network has a directory, each room of a JOIN (comma lists split, keys kept with their \
                room) is looked up there (FINDS; once per room for the connection) and joined on its server: the \
                proxy opens one more connection per server, shared by every room there, without stalling the \
                others. Lines that name a room go to that room's server; a private message goes to a server that \
                shares a room with the nick, else home; everything else goes home. Later servers' welcome, MOTD and \
                user modes are not shown. A room whose server cannot be found or reached fails alone: 437 (403 when \
                the directory does not know it) with the room as parameter.

                A lost server is reconnected after 1, 2, 4 ... seconds (at most 60, plus up to a second of jitter) \
                and its rooms joined again: one NOTICE per room when it goes and one when it is back, and no second \
                JOIN; instead of a second NAMES list the client sees a PART for each member who left meanwhile and \
                a JOIN (with their MODE) for each who came. The client stays connected meanwhile, also when the home server is the one lost; lines for a \
                server that is away are refused with a NOTICE, not queued. A server silent for 90 seconds \
                is PINGed, and lost after twice that.

                A ticket with less than 10 minutes left is refreshed first (as gkpass refresh does, with the password \
                remembered by gkpass login --remember-password); without one, an expired ticket is refused with a \
                NOTICE. If a server refuses the ticket (910), it is refreshed once that way and the login tried once \
                more; without a remembered password the client gets a NOTICE to run gkpass login ACCOUNT.

                Only you may use it. On a loopback address the proxy asks the kernel which user owns each \
                connecting socket (sock_diag, as identd and ss -e do; /proc/net/tcp where netlink is denied) and \
                closes connections of any other user with an ERROR line, before anything is read or sent upstream. \
                --listen unix:PATH makes a Unix socket of mode 600, removed again on Ctrl-C or SIGTERM (a stale \
                socket of yours left by a killed proxy is replaced; anything else at PATH is refused) and checks each client with SO_PEERCRED. Put it in a directory \
                only you can write, such as $XDG_RUNTIME_DIR: a directory others can write is refused (exit 6) \
                unless it is sticky, and a sticky shared one (/tmp) gets a warning on stderr.

                --allow-remote allows an address other than loopback and requires --password-file: every client \
                must then send that password as its IRC PASS (compared in constant time; a wrong one is answered \
                after a second), and chats as ACCOUNT or the default account. The connection is plain text, PASS \
                included: reach the proxy through SSH port forwarding (ssh -L) or a VPN, not over an open network. A PASS value is never echoed nor logged. Without --allow-remote a PASS that \
                names no stored account is ignored, and the client gets one NOTICE after the welcome: PASS is not a \
                stored account; using ACCOUNT.

                One client per account: the server would refuse a second login of an account by its nickname, so \
                the proxy refuses a second client of an account it already serves, before any upstream login: ERROR \
                :Closing link (gkpass: ACCOUNT is already connected through this proxy (client N); PASS another \
                account). It first gives the other client up to 5 seconds to finish leaving: a client that \
                reconnects (irssi's /reconnect) opens its new connection while the old one still says QUIT.

                At most --max-clients clients (16) at once; one more gets an ERROR line. A client that falls more \
                than 1 MiB behind its servers (it stopped reading) is closed with an ERROR line. When a server reads \
                more slowly than its client sends (16 KiB wait for it), or 256 KiB of replies wait for the client, \
                the proxy stops reading that client until the queue is down to a sixteenth: TCP then slows the \
                client down, as a direct connection would, and no line is lost. A server that reads nothing for 90 \
                seconds while lines wait for it is dropped and reconnected, like a silent one.

                On start it prints one line on stdout: listening ADDRESS (HOST:PORT or unix:PATH). On stderr it \
                logs one line when a client connects and one when it disconnects (with -v, also each login, \
                room placement, refresh, reconnection and keep-alive).

                Stop it with Ctrl-C or SIGTERM: each client gets ERROR :Closing link (gkpass proxy stopped), each \
                server QUIT :gkpass proxy stopped, each client one disconnect line in the log, a Unix socket is \
                removed, and the proxy ends as the signal does, within about 2 seconds (a second signal ends it at \
                once).

                Exit status: 2 usage (a non-loopback address without --allow-remote, --allow-remote without \
                --password-file); 6 unsafe password file or socket path; 1 cannot listen; 130 (Ctrl-C) or 143 \
                (SIGTERM) after a stop.

                Examples:
                  gkpass proxy --listen 127.0.0.1:6667 &
                  irssi -c 127.0.0.1 -p 6667
                  gkpass proxy --listen unix:${XDG_RUNTIME_DIR:?}/gkpass.sock &
                  socat - UNIX-CONNECT:${XDG_RUNTIME_DIR:?}/gkpass.sock
                """
        )

        @Argument(help: ArgumentHelp("The account for clients that send no PASS (default: the default account).", valueName: "account"))
        var account: String?

        @Option(help: ArgumentHelp("Where to listen: HOST:PORT (port 0: chosen by the system) or unix:PATH.", valueName: "address"))
        var listen: String

        @Option(help: ArgumentHelp("The network (default: the one each ticket is for).", valueName: "name"))
        var network: String?

        @Flag(help: "Allow a listen address other than loopback (needs --password-file).")
        var allowRemote = false

        @Option(help: ArgumentHelp("With --allow-remote: a file (mode 600) whose first line every client must send as PASS.", valueName: "path"))
        var passwordFile: String?

        @Option(help: ArgumentHelp("The most clients at once (1 to 1024).", valueName: "n"))
        var maxClients = 16

        @Option(help: ArgumentHelp("Seconds for each upstream login (1 to 300).", valueName: "seconds"))
        var timeout = 30

        @Option(help: .hidden)
        var keepalive = 90

        /// Tests: the bytes queued toward one client before it is dropped (default 1 MiB).
        @Option(help: .hidden)
        var maxQueuedBytes: Int?

        @Flag(name: .shortAndLong, help: "Also log each login, room placement, refresh, reconnection and keep-alive on stderr.")
        var verbose = false

        func validate() throws {
            guard let address = GKPassKit.Proxy.Listen(listen) else {
                throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:6667, or unix:PATH.")
            }
            if case .tcp(let host, _) = address, !allowRemote, Self.isLiteralAddress(host), !Self.isLoopback(host) {
                throw ValidationError("\(host) is not loopback: anyone who reaches it would chat as you. Add --allow-remote (with --password-file) if that is what you want.")
            }
            if allowRemote && passwordFile == nil {
                throw ValidationError("--allow-remote needs --password-file: without a password, anyone who reaches the port would chat as you.")
            }
            if passwordFile != nil && !allowRemote {
                throw ValidationError("--password-file is for --allow-remote; local clients are checked by user instead.")
            }
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout takes 1 to 300 seconds.") }
            guard (1...1024).contains(maxClients) else { throw ValidationError("--max-clients takes 1 to 1024.") }
        }

        func run() throws {
            var proxy = GKPassKit.Proxy(listen: GKPassKit.Proxy.Listen(listen)!, defaultAccount: account, networkName: network, environment: Environment.current)
            proxy.timeout = Double(timeout)
            proxy.keepAlive = Double(max(1, keepalive))
            proxy.allowRemote = allowRemote
            proxy.maximumClients = maxClients
            if let maxQueuedBytes { proxy.maximumQueuedToClient = max(1024, maxQueuedBytes) }
            if let passwordFile { proxy.password = try PasswordSource.file(passwordFile).read() }
            guard let stop = GKPassKit.Proxy.Stop() else { throw GKPassError(.failure, "cannot make a pipe: \(String(cString: strerror(errno)))") }
            proxy.stop = stop
            let listener = try proxy.bind()
            signal(SIGPIPE, SIG_IGN)
            Self.stopOnSignal(stop)
            if let warning = listener.warning { StandardStreams.writeError("gkpass: warning: " + warning) }
            try StandardStreams.writeOutput(Array("listening \(listener.address)\n".utf8))
            let verbose = verbose
            proxy.serve(listener) { line, always in if always || verbose { StandardStreams.writeError("gkpass: proxy: " + line) } }
            // Every client and server has been told; the socket file goes, then the proxy ends as the signal would
            // have ended it (130 for Ctrl-C, 143 for SIGTERM), as every gkpass command does.
            if case .unix(let path) = proxy.listen { unlink(path) }
            let number = stop.signalNumber == 0 ? SIGTERM : stop.signalNumber
            signal(number, SIG_DFL)
            raise(number)
        }

        /// Ctrl-C, SIGTERM or a hangup stop the proxy (see ``GKPassKit/Proxy/Stop``): every client gets an ERROR
        /// line and every server a QUIT, and a Unix socket is removed. A second one ends the proxy at once.
        static func stopOnSignal(_ stop: GKPassKit.Proxy.Stop) {
            stopFD = stop.writeFD
            for number in [SIGINT, SIGTERM, SIGHUP] {
                signal(number) { number in
                    var byte = UInt8(truncatingIfNeeded: number)
                    _ = write(stopFD, &byte, 1)
                    signal(number, SIG_DFL)
                }
            }
        }

        /// A numeric IPv4 or IPv6 address (names such as localhost are checked after they resolve).
        static func isLiteralAddress(_ host: String) -> Bool {
            var v4 = in_addr(), v6 = in6_addr()
            return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
        }

        static func isLoopback(_ host: String) -> Bool {
            host.hasPrefix("127.") || host == "::1" || host.lowercased().hasPrefix("::ffff:127.")
        }
    }
}
