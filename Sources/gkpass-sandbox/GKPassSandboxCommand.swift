public import ArgumentParser
import Foundation
public import GKPassSandbox
public import GateKeeper

extension SandboxFault: ExpressibleByArgument {}
extension PassportBlob.Layout: ExpressibleByArgument {}
extension PassportSlicing: ExpressibleByArgument {}
extension PassportDialect: ExpressibleByArgument {}

/// `gkpass-sandbox`: a local MSN Chat network for tests, demos and client authors.
@main
struct GKPassSandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gkpass-sandbox",
        abstract: "Run a local MSN Chat network: Passport over HTTPS, the chat site, and an IRCX server.",
        discussion: """
            Everything listens on loopback (127.0.0.1) on ports the system picks, unless told otherwise. On start \
            the sandbox makes its own certificate authority in the state directory (once), writes \
            STATE_DIR/endpoints.json with every URL, port and the CA file, and prints one line on stdout:
              ready https=https://127.0.0.1:PORT ircx=127.0.0.1:PORT endpoints=STATE_DIR/endpoints.json

            Services (one HTTPS origin):
              /rdr/pprdr.asp            Passport nexus (PassportURLs header)
              /login2.srf               Tweener DA (Passport1.4); /loginnet/login2.srf is the second DA
              /ppsecure/login.srf       web sign-in form; /ppsecure/post.srf takes login, passwd, id, ru
              /chatroom.msnw?rm=ROOM    chat site: MSNChatNN via /msnchat/1033/utf8/msnredir.asp, then PARAMs
            IRCX (plain TCP): IRCVERS, IRCX, ISIRCX, AUTH GateKeeper and GateKeeperPassport v1-v3, PROP $ \
            MSNREGCOOKIE, NICK/USER, JOIN (with a key)/PART (with a reason)/PRIVMSG/NOTICE/QUIT, TOPIC, NAMES, WHOIS, \
            WHISPER, PROP on rooms (TOPIC, ONJOIN, HOSTKEY, OWNERKEY), MODE +q/+o/+v, and FINDS (answered with \
            613). Replies follow MSNLD/irc7 and irc7-com, including where they differ from what IRC clients \
            expect: no 005; owners are marked . in NAMES (PREFIX=(qov).@+), and a room's first member is its owner; \
            800 reads 1 0 GateKeeper,GateKeeperPassport 1024 *; WHOIS shows guests as GUID@GateKeeper and members as \
            PUID@GateKeeperPassport; PROP answers 818/819, and 908 where the member may not; PING gets \
            :SERVER PONG SERVER :TOKEN. Nicknames are bytes, as irc7 keeps them: a first byte of 0x41 or more \
            (after > for guests), then such bytes, digits or -, at most 64 bytes, so a UTF-8 nickname (an e-acute \
            is the bytes C3 A9), from NICK or the registration cookie, is taken and shown byte for byte. Input lines are at \
            most 1,024 bytes; a longer one closes the link. With --passport-slices ocx (the default) the Passport blob \
            comes in slices of at most 480 bytes, each full one answered with AUTH GateKeeperPassport S :OK, and a \
            longer line gets 910; with one-line it comes whole on one line, as MSNLD/irc7 takes it.

            Chat servers (--chat-servers N, 1 to 16): N IRCX servers in one process, each on its own port (server \
            0 on --ircx-port, the others on ports the system picks), all taking the same tickets and guests. Each \
            has its own nicknames and rooms: %#A on server 1 is another room than %#A on server 0. Server 0 is \
            named like the single server (--server-name, default the listen address), server N is \
            chatN.sandbox.test; the name is the numerics' prefix, and GateKeeper v3 answers hash the listen address \
            (or --server-name) on every server. FINDS, on any of them, answers 613 with the server that hosts the \
            room: FNV-1a (32-bit) of the room name with ASCII letters lower-cased, prefix included, mod N, unless \
            --room ROOM=INDEX pins it. A JOIN for a room on a server the directory did not name creates the room \
            there, as irc7's JOIN creates any room it does not have. endpoints.json lists them in chat_servers \
            ([{host, port, name}, ...], server 0 first); ircx and directory stay server 0.

            Restarting a chat server (for clients that must survive one going away): with --stdin-commands, the \
            line restart-chat INDEX [SECONDS] on stdin closes server INDEX's listener and every connection it holds, \
            forgets its nicknames and rooms, and listens again on the same port after SECONDS (default 1, at most \
            600). The log says "ircx chat-server index=INDEX restart" when it closed and "ircx chat-server \
            index=INDEX listening again" when it is back. End of input on stdin does not stop the sandbox, but no \
            more commands are read after it.

            Demo account: member name demo@passport.test, password sandbox-demo, nickname Demo.

            Passport dialects (--passport-dialect): how the Tweener DA words success in its Authentication-Info \
            header. Real servers differ, and a client must take all three.
              msn2003     from-PP='t=TICKET&p=PROFILE' with tname=MSPAuth, tname=MSPProf, tname=MSPSec and ru \
            (MS-PASS, MSN 2003; the default)
              bare-token  from-PP='TICKET' alone: the token is the ticket (Messenger revival servers)
              t-only      from-PP='t=TICKET' with tname=MSPAuth, tname=MSPSec and ru
            bare-token and t-only issue no profile anywhere: the web form returns t= alone and sets no MSPProf, the \
            chat page's PassportProfile PARAM is empty, and the IRCX server takes a GateKeeperPassport blob whose \
            profile is empty (%08X ticket 00000000). The ticket is still verified. With msn2003 the profile is \
            required everywhere. --blob-layout profile-nickname needs a profile, so it works with msn2003 only.

            Faults (--fault, repeatable):
              slow                    delay every HTTP response and IRCX reply by --slow-seconds
              http-5xx                Passport and chat-site endpoints answer 503
              drop                    close HTTP connections without answering
              malformed-headers       send HTTP responses with a header line that has no colon
              truncated-headers       close HTTP connections in the middle of the response headers
              huge-header             send HTTP responses with a 1 MiB header line
              redirect-loop           login endpoints redirect to themselves forever
              da-offsite-redirect     the DA redirects sign-ins to a DA on another loopback address (127.0.0.2)
              da-plain-redirect       the DA redirects sign-ins to a DA over plain http
              expired-tickets         issue tickets that are already expired (IRCX refuses them with 910)
              wrong-challenge         check GateKeeper answers against the wrong bytes (every answer gets 910)
              malformed-challenge     send a GateKeeper challenge with a broken GKSSP signature
              expired-certificate     serve a TLS certificate that expired yesterday
              wrong-host-certificate  serve a TLS certificate for another host name
              stall-reading           the IRCX server stops reading a client for --slow-seconds at its first PRIVMSG
            With a redirect fault, /login2.srf answers every sign-in, before it looks at the password, with 302, \
            da-status=redir and a Location on a second listener the sandbox opens for it: \
            https://127.0.0.2:PORT/login2.srf for da-offsite-redirect (same CA; 127.0.0.3 when listening on \
            127.0.0.2; needs an IPv4 loopback --listen), http://127.0.0.1:PORT/login2.srf for da-plain-redirect. \
            Like a hostile DA, that listener signs in whoever sends it the password. endpoints.json names them \
            offsite_da_url and plain_da_url.

            Accounts file (--accounts): {"accounts": [{"member": "alice@passport.test", "password": "...", \
            "nickname": "Alice", "puid": "0000000000A11CE0", "subscriber": true, "role": "G", \
            "da": "secondary", "ticket_padding": 600}]}
              Required: member (a member name with @), password (not empty), nickname (not empty), puid (the \
            Passport unique ID, 16 hex digits; the IRCX server reports it as the user).
              Optional: subscriber (true: the chat page carries SubscriberInfo), role (A, S or G: the chat page \
            carries UserRole), da (primary or secondary: secondary members get a da-status=redir 302 to \
            /loginnet/login2.srf), ticket_padding (0 to 16384: the member's tickets are that many bytes longer, \
            or up to 22 more, for servers that take long blobs in 480-byte slices; default 0).

            Log (stderr, one event per line, never a password or a ticket). Every HTTP request that carries a \
            password (a Passport1.4 Authorization with a pwd field, or a passwd parameter in the query or a form \
            body) logs the listener it reached, whatever the answer:
              password-request host=127.0.0.2 port=PORT path=/login2.srf scheme=https

            endpoints.json also holds passport_dialect (msn2003, bare-token or t-only), and offsite_da_url and \
            plain_da_url when their faults are on.

            Environment: GKPASS_SANDBOX_STATE sets the state directory (default \
            ${XDG_RUNTIME_DIR:-/tmp}/gkpass-sandbox-UID). Stop with Ctrl-C or SIGTERM.

            One sandbox per state directory: a running one holds STATE_DIR/sandbox.lock (flock, with its pid in \
            it), and a second one on the same directory exits 8 naming that pid; give it another --state-dir. A \
            killed sandbox leaves no lock behind, and its endpoints.json is replaced. On exit a sandbox removes \
            endpoints.json only if it still records its own pid.

            Exit status: 0 stopped with Ctrl-C or SIGTERM; 1 cannot start (a port in use, a bad accounts file); \
            2 usage; 8 another gkpass-sandbox runs on the state directory.
            """
    )

    @Option(help: ArgumentHelp("The state directory (CA, certificates, endpoints.json).", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("The address to listen on. Anything but loopback exposes the sandbox.", valueName: "address"))
    var listen = "127.0.0.1"

    @Option(help: ArgumentHelp("The HTTPS port (0: chosen by the system).", valueName: "port"))
    var httpsPort = 0

    @Option(help: ArgumentHelp("The IRCX port (0: chosen by the system).", valueName: "port"))
    var ircxPort = 0

    @Option(help: ArgumentHelp("A JSON accounts file: member, password, nickname and puid required, the rest optional (see above); the demo account is added unless it names one.", valueName: "file"))
    var accounts: String?

    @Option(help: ArgumentHelp("Also create N accounts user1@passport.test ... with passwords password-1 ... (load tests).", valueName: "n"))
    var generatedAccounts = 0

    @Option(help: ArgumentHelp("Switch on a fault (repeatable).", valueName: "name"))
    var fault: [SandboxFault] = []

    @Option(help: ArgumentHelp("Seconds the slow fault waits, and the stall-reading fault stops reading.", valueName: "seconds"))
    var slowSeconds = 3.0

    @Option(help: "The Passport blob layout the IRCX server requires.")
    var blobLayout: PassportBlob.Layout = .ticketProfile

    @Option(help: "How the IRCX server takes the Passport blob: ocx (480-byte slices, each answered with S :OK) or one-line.")
    var passportSlices: PassportSlicing = .ocx
    @Option(help: "How the Tweener DA words success, and whether the network has profiles at all (see above).")
    var passportDialect: PassportDialect = .msn2003

    @Option(help: ArgumentHelp("Lifetime of issued tickets in seconds (0: never expire).", valueName: "seconds"))
    var ticketLifetime = 86_400

    @Option(help: ArgumentHelp("The IRCX server name that version 3 answers must hash (default: the listen address).", valueName: "name"))
    var serverName: String?

    @Flag(help: "Check version 3 answers against the whole server name instead of its first 15 bytes.")
    var noTruncate = false

    @Option(help: ArgumentHelp("A file holding the PassportV4 secret (default: irc7's default, mysecret).", valueName: "file"))
    var secretFile: String?

    @Option(help: .hidden)
    var fixedChallenge: String?

    /// Tests only: read a ticket this sandbox's secret sealed on stdin, print it resealed with a padding field so it
    /// is at least this many bytes long, and exit (long tickets for the OCX's 480-byte slices).
    @Option(help: .hidden)
    var padTicket: Int?

    @Option(help: ArgumentHelp("Skew the HTTP Date header by this many seconds (a server with a wrong clock).", valueName: "seconds"))
    var clockOffset: Int64 = 0

    @Option(help: ArgumentHelp("Answer FINDS with this chat server (613) instead of this sandbox, to put rooms on another sandbox.", valueName: "host:port"))
    var roomServer: String?

    @Option(help: ArgumentHelp("Run N IRCX chat servers (1 to 16), each on its own port; the directory spreads rooms across them.", valueName: "n"))
    var chatServers = 1

    @Option(help: ArgumentHelp("Put ROOM on chat server INDEX (0 to N-1) instead of where the hash puts it (repeatable).", valueName: "room=index"))
    var room: [String] = []

    // Benchmarks that compare a path through gkpass proxy with a direct one need both to meet the same server
    // capacity: with one event loop every connection is served by the same thread, wherever NIO would have put it.
    @Option(help: ArgumentHelp("Serve every connection on N event-loop threads (default: one per core).", valueName: "n"))
    var eventLoops: Int?

    // Off by default: a sandbox started in the background of an interactive shell (gkpass-sandbox &) that read its
    // terminal would be stopped by SIGTTIN.
    @Flag(help: "Take commands on stdin, one a line: restart-chat INDEX [SECONDS] (see above).")
    var stdinCommands = false

    /// `--room` values as the directory takes them; nil for one that is not `ROOM=INDEX` with a valid room and index.
    func roomPins() -> [[UInt8]: Int]? {
        var pins: [[UInt8]: Int] = [:]
        for value in room {
            guard let equals = value.lastIndex(of: "="), let index = Int(value[value.index(after: equals)...]),
                (0..<chatServers).contains(index), IRCXSession.isValidRoom(Array(value[..<equals].utf8))
            else { return nil }
            pins[Array(value[..<equals].utf8)] = index
        }
        return pins
    }

    func validate() throws {
        if let padTicket, !(1...65_536).contains(padTicket) { throw ValidationError("--pad-ticket takes 1 to 65536.") }
        if let fixedChallenge, fixedChallenge.count != 16 || UInt64(fixedChallenge, radix: 16) == nil {
            throw ValidationError("--fixed-challenge takes 16 hex digits.")
        }
        guard (0...65535).contains(httpsPort), (0...65535).contains(ircxPort) else {
            throw ValidationError("Ports are 0 to 65535.")
        }
        guard generatedAccounts >= 0, generatedAccounts <= 100_000 else {
            throw ValidationError("--generated-accounts takes 0 to 100000.")
        }
        guard slowSeconds >= 0, slowSeconds <= 600 else { throw ValidationError("--slow-seconds takes 0 to 600.") }
        if let eventLoops, !(1...256).contains(eventLoops) { throw ValidationError("--event-loops takes 1 to 256.") }
        guard ticketLifetime >= 0 else { throw ValidationError("--ticket-lifetime cannot be negative.") }
        if blobLayout == .profileNickname && !passportDialect.issuesProfile {
            throw ValidationError("--blob-layout profile-nickname needs a profile, and the \(passportDialect.rawValue) dialect issues none.")
        }
        guard (1...ChatDirectory.maximumServers).contains(chatServers) else {
            throw ValidationError("--chat-servers takes 1 to \(ChatDirectory.maximumServers).")
        }
        guard roomPins() != nil else {
            throw ValidationError("--room takes ROOM=INDEX: a room name such as %#Lobby and a server index from 0 to \(chatServers - 1).")
        }
        if let roomServer {
            guard let colon = roomServer.lastIndex(of: ":"), let port = Int(roomServer[roomServer.index(after: colon)...]), (1...65535).contains(port),
                colon > roomServer.startIndex
            else { throw ValidationError("--room-server takes HOST:PORT.") }
        }
    }

    func run() throws {
        var accountList: [SandboxAccount] = []
        do {
            if let accounts { accountList = try SandboxAccount.load(path: accounts) }
            if !accountList.contains(where: { $0.member.lowercased() == SandboxAccount.demo.member }) {
                accountList.insert(.demo, at: 0)
            }
            accountList += SandboxAccount.generated(count: generatedAccounts)
            var secret = PassportV4.defaultSecret
            if let secretFile {
                secret = try String(contentsOfFile: secretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !secret.isEmpty else { throw SandboxError("\(secretFile) is empty") }
            }
            if let padTicket {
                let token = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
                guard let padded = PassportV4(secret: secret).padded(token, toAtLeast: padTicket) else {
                    throw SandboxError("the ticket on standard input is not one this sandbox's secret sealed")
                }
                FileHandle.standardOutput.write(Data((padded + "\n").utf8))
                return
            }
            if !["127.0.0.1", "::1", "localhost"].contains(listen) {
                FileHandle.standardError.write(Data("gkpass-sandbox: warning: listening on \(listen), not loopback: other machines can reach the sandbox\n".utf8))
            }
            let configuration = SandboxConfiguration(
                publicHost: listen == "localhost" ? "127.0.0.1" : listen, serverName: serverName, truncateHost: !noTruncate,
                blobLayout: blobLayout, accounts: accountList, secret: secret, ticketLifetime: ticketLifetime,
                faults: Set(fault), slowSeconds: slowSeconds,
                fixedChallenge: fixedChallenge.map { text in
                    stride(from: 0, to: 16, by: 2).map { UInt8(text.dropFirst($0).prefix(2), radix: 16)! }
                })
            var configured = configuration
            configured.clockOffset = clockOffset
            configured.passportSlices = passportSlices
            configured.passportDialect = passportDialect
            configured.directory = ChatDirectory(serverCount: chatServers, pins: roomPins() ?? [:])
            if let roomServer, let colon = roomServer.lastIndex(of: ":") {
                configured.roomServer = (String(roomServer[..<colon]), Int(roomServer[roomServer.index(after: colon)...])!)
            }
            // Signal handling goes in before the ready line: a SIGTERM sent right after "ready" must not be lost.
            let stop = installStopSignalHandlers()
            let sandbox = try Sandbox.start(
                .init(
                    stateDirectory: stateDir ?? Sandbox.defaultStateDirectory(), listen: listen == "localhost" ? "127.0.0.1" : listen,
                    httpsPort: httpsPort, ircxPort: ircxPort, configuration: configured, eventLoops: eventLoops))
            FileHandle.standardOutput.write(Data((sandbox.readyLine + "\n").utf8))
            if stdinCommands { Thread.detachNewThread { Self.readCommands(sandbox) } }
            stop.semaphore.wait()
            stop.sources.forEach { $0.cancel() }
            sandbox.stop()
            FileHandle.standardError.write(Data("gkpass-sandbox: stopped\n".utf8))
        } catch let error as SandboxError {
            FileHandle.standardError.write(Data("gkpass-sandbox: \(error.description)\n".utf8))
            throw ExitCode.failure
        } catch let error as SandboxBusy {
            FileHandle.standardError.write(Data("gkpass-sandbox: \(error.description)\n".utf8))
            throw ExitCode(8)
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("gkpass-sandbox: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Commands on stdin (--stdin-commands), one a line, for tests that need a server to go away:
    /// `restart-chat INDEX [SECONDS]`. End of input ends the reading, not the sandbox.
    static func readCommands(_ sandbox: Sandbox) {
        func say(_ text: String) { FileHandle.standardError.write(Data("gkpass-sandbox: \(text)\n".utf8)) }
        while let line = readLine(strippingNewline: true) {
            let words = line.split(separator: " ")
            guard let command = words.first else { continue }
            guard command == "restart-chat" else {
                say("unknown command on stdin: \(command.prefix(40)) (known: restart-chat INDEX [SECONDS])")
                continue
            }
            guard (2...3).contains(words.count), let index = Int(words[1]), let seconds = words.count == 3 ? Double(words[2]) : 1,
                (0...600).contains(seconds)
            else {
                say("restart-chat takes INDEX and optionally SECONDS (0 to 600, default 1)")
                continue
            }
            do { try sandbox.restartChatServer(index, after: seconds) } catch { say("\(error)") }
        }
    }

    /// Routes SIGINT and SIGTERM to a semaphore: default actions off (as libdispatch requires), then the sources.
    /// Called before the ready line, so a signal sent after it is always caught.
    func installStopSignalHandlers() -> (semaphore: DispatchSemaphore, sources: [any DispatchSourceSignal]) {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let semaphore = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { semaphore.signal() }
            source.resume()
            return source
        }
        return (semaphore, sources)
    }
}
