import Foundation
import GKPassTestSupport
import Testing

/// `gkpass proxy` between real IRC clients (WeeChat, raw sockets) and the real sandbox.
@Suite("gkpass proxy (binary, sandbox, WeeChat)", .serialized)
struct ProxyCommandTests {
    typealias Context = LoginCommandTests.Context

    /// A running `gkpass proxy`, stopped with SIGTERM at the end.
    final class ProxyProcess {
        let pid: pid_t
        /// The TCP port, for a TCP listener.
        let port: Int
        /// What followed `listening `: HOST:PORT or unix:PATH.
        let address: String
        let log: String

        init(_ arguments: [String], environment: [String: String], listen: String = "127.0.0.1:0", verbose: Bool = true) throws {
            log = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-proxy-\(UUID().uuidString).log").path
            let child = try Spawn.start(
                Binary.directory.path + "/gkpass", ["proxy", "--listen", listen] + (verbose ? ["-v"] : []) + arguments,
                environment: environment, captureStdout: true, stderrPath: log)
            pid = child.pid
            let out = child.stdout!
            defer { close(out) }
            let text = Spawn.firstLine(out, timeout: 20)
            guard text.hasPrefix("listening ") else {
                kill(pid, SIGKILL)
                _ = Spawn.wait(pid, timeout: 5)
                throw ProxyTestError("no listening line: \(text) \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            address = String(text.dropFirst("listening ".count))
            port = address.hasPrefix("unix:") ? 0 : Int(address.split(separator: ":").last ?? "") ?? 0
        }

        var stderr: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        private var exitStatus: Int32?

        /// Sends `signal` and waits (bounded); returns the wait status. Once reaped, the PID is never signalled
        /// again (it may belong to another process by then).
        @discardableResult
        func stop(_ signal: Int32 = SIGTERM) -> Int32 {
            if let exitStatus { return exitStatus }
            kill(pid, signal)
            let status = Spawn.wait(pid, timeout: 10)
            exitStatus = status
            return status
        }

        deinit {
            stop()
            try? FileManager.default.removeItem(atPath: log)
        }
    }

    /// A guest on the sandbox directly (AUTH GateKeeper answered by `gkpass gatekeeper respond`), registered and in
    /// `room`: the second party of the conversation.
    static func guest(port: Int, nick: String, room: String) throws -> LineSocket {
        let socket = try LineSocket(port: port)
        let initiate = try Binary.run("gkpass", ["gatekeeper", "init", "--version", "3"])
        socket.send(Array("IRCVERS IRC8 MSN-OCX!9.02.0310.2401\r\n".utf8) + initiate.stdout)
        // The challenge is binary: read it as bytes.
        var challenge: [UInt8]?
        while let line = socket.line() {
            if line.starts(with: Array("AUTH GateKeeper S :".utf8)) { challenge = line; break }
        }
        guard let challenge else { throw ProxyTestError("no challenge") }
        let answer = try Binary.run("gkpass", ["gatekeeper", "respond", "--host", "127.0.0.1"], input: challenge + [0x0D, 0x0A])
        socket.send(answer.stdout)
        guard socket.expect("AUTH GateKeeper *") != nil else { throw ProxyTestError("guest refused") }
        socket.send("NICK \(nick)")
        socket.send("USER guest 0 * :guest")
        _ = socket.expect(" 376 ")
        socket.send("JOIN \(room)")
        _ = socket.expect(" 366 ")
        return socket
    }

    /// demo@passport.test (the default account) and user1@passport.test logged in.
    static func loggedIn() throws -> Context {
        let context = try Context(["--generated-accounts", "1"])
        let login = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false)
        #expect(login.status == 0, "\(login.stderr)")
        let second = try context.login(["user1@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], password: "password-1\n", keyring: false)
        #expect(second.status == 0, "\(second.stderr)")
        return context
    }

    @Test("WeeChat, headless, chats through the proxy with a guest on the sandbox: both directions")
    func weechat() throws {
        let context = try Self.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let guest = try Self.guest(port: context.sandbox.ircxPort, nick: ">watcher", room: "#gkpass")
        let home = context.state + "-weechat"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let commands = [
            "/set logger.file.flush_delay 0", "/set irc.server_default.nicks someone",
            "/server add sb 127.0.0.1/\(proxy.port) -notls", "/connect sb",
            "/wait 2 /join -server sb #gkpass", "/wait 4 /msg -server sb #gkpass hello from weechat", "/wait 8 /quit",
        ].joined(separator: ";")
        let weechat = try Spawn.start("/usr/bin/weechat-headless", ["--dir", home, "-r", commands], environment: ["HOME": home, "TERM": "dumb", "PATH": "/usr/bin:/bin"], captureStdout: false)
        // The guest sees WeeChat's line, arriving as the Passport account's nickname, and answers it.
        let heard = guest.expect("hello from weechat", within: 100)
        #expect(heard?.hasPrefix(":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG #gkpass :hello from weechat") == true, "\(heard ?? "nothing") \(proxy.stderr)")
        guest.send("PRIVMSG #gkpass :hi weechat, from a guest")
        #expect(Spawn.wait(weechat.pid, timeout: 30) == 0)
        let log = (try? String(contentsOfFile: home + "/logs/irc.sb.#gkpass.weechatlog", encoding: .utf8)) ?? ""
        #expect(log.contains("Demo\thello from weechat"), "\(log)")
        #expect(log.contains(">watcher\thi weechat, from a guest"), "\(log)")
        #expect(guest.expect("QUIT") != nil, "WeeChat's /quit reaches the server through the proxy")
        try? FileManager.default.removeItem(atPath: home)
    }

    @Test("irssi in tmux joins %#TheLobby (an MSN room name, thanks to the proxy's 005) and chats with a guest both ways")
    func irssi() throws {
        let context = try Self.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let guest = try Self.guest(port: context.sandbox.ircxPort, nick: ">lobbyist", room: "%#TheLobby")
        let home = context.state + "-irssi"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let session = "gkpass-irssi-\(getpid())-\(proxy.port)"
        let tmux = { (arguments: [String]) throws -> Binary.Result in try Binary.runSystem("/usr/bin/tmux", arguments) }
        _ = try tmux(["new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                      "HOME=\(home) TERM=screen /usr/bin/irssi --home=\(home)/.irssi -n someone -c 127.0.0.1 -p \(proxy.port)"])
        defer {
            _ = try? tmux(["kill-session", "-t", session])
            try? FileManager.default.removeItem(atPath: home)
        }
        func screen() -> String { (try? tmux(["capture-pane", "-p", "-t", session, "-S", "-60"])).map { String(decoding: $0.stdout, as: UTF8.self) } ?? "" }
        func waitFor(_ text: String) -> Bool {
            for _ in 0..<100 {
                if screen().contains(text) { return true }
                usleep(100_000)
            }
            return false
        }
        // After the welcome (and the 005 that follows 004), as irssi's own autojoin would.
        #expect(waitFor("End of /MOTD"), "\(screen())")
        _ = try tmux(["send-keys", "-t", session, "/join %#TheLobby", "Enter"])
        // irssi knows % starts a channel (CHANTYPES), so it joins the room itself, not #%#TheLobby, and shows the
        // owner prefix from PREFIX.
        #expect(waitFor("has joined %#TheLobby"), "\(screen()) \(proxy.stderr) \(context.sandbox.log)")
        _ = try tmux(["send-keys", "-t", session, "hello from irssi", "Enter"])
        let heard = guest.expect("hello from irssi", within: 100)
        #expect(heard?.hasPrefix(":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG %#TheLobby :hello from irssi") == true, "\(heard ?? "nothing") \(screen())")
        guest.send("PRIVMSG %#TheLobby :hi irssi, from a guest")
        #expect(waitFor("hi irssi, from a guest"), "\(screen())")
        #expect(!screen().contains("#%#TheLobby"))
        _ = try tmux(["send-keys", "-t", session, "/quit", "Enter"])
        #expect(guest.expect("QUIT") != nil, "irssi's /quit reaches the room through the proxy")
    }

    @Test("raw clients: CAP answered, the default account or PASS's, bytes relayed unchanged, two clients at once, EOF becomes QUIT")
    func raw() throws {
        let context = try Self.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let guest = try Self.guest(port: context.sandbox.ircxPort, nick: ">peer", room: "#raw")
        let first = try LineSocket(port: proxy.port)
        first.send("CAP LS 302")
        #expect(first.text() == ":gkpass CAP * LS :")
        first.send("NICK whatever")
        first.send("USER u 0 * :u")
        #expect(first.expect(" 001 ")?.hasPrefix(":127.0.0.1 001 Demo ") == true)
        first.send("JOIN #raw")
        #expect(first.expect(" 366 ") != nil)
        // UTF-8, a CTCP ACTION (\u{01}) and a colon: the guest receives exactly these bytes.
        let payload: [UInt8] = Array("PRIVMSG #raw :\u{01}ACTION grüßt: a:b\u{01}".utf8)
        first.send(payload + [0x0D, 0x0A])
        #expect(guest.expect("ACTION")?.utf8.suffix(payload.count - 9).elementsEqual(payload.suffix(payload.count - 9)) == true)
        // A second client at the same time; its PASS names the other account.
        let second = try LineSocket(port: proxy.port)
        second.send("PASS user1@passport.test")
        second.send("NICK x")
        second.send("USER u 0 * :u")
        #expect(second.expect(" 001 ")?.hasPrefix(":127.0.0.1 001 User1 ") == true)
        // The proxy answers PING itself, prefixed with the server's name, as clients expect (HexChat).
        second.send("PING :still-here")
        #expect(second.expect("PONG") == ":127.0.0.1 PONG 127.0.0.1 :still-here")
        // The first leaves without QUIT: the proxy says it for them.
        close(first.fd)
        #expect(guest.expect("QUIT")?.contains("client closed") == true)
        #expect(proxy.stderr.components(separatedBy: "connected to").count == 3, "\(proxy.stderr)")
    }

    @Test("SIGTERM: each client gets an ERROR line, each server a QUIT, one disconnect line per client, and the proxy ends as SIGTERM does")
    func stopTellsEveryone() throws {
        let context = try Self.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let guest = try Self.guest(port: context.sandbox.ircxPort, nick: ">peer", room: "#stop")
        let bridged = try LineSocket(port: proxy.port)
        bridged.send("NICK x")
        bridged.send("USER u 0 * :u")
        #expect(bridged.expect(" 001 ") != nil)
        bridged.send("JOIN #stop")
        #expect(bridged.expect(" 366 ") != nil)
        // One still registering: it is told too.
        let registering = try LineSocket(port: proxy.port)
        registering.send("NICK y")
        for _ in 0..<500 where !proxy.stderr.contains("client 2 connected") { usleep(10_000) }
        #expect(proxy.stop(SIGTERM) == 128 + SIGTERM, "\(proxy.stderr)")
        #expect(bridged.expect("ERROR") == "ERROR :Closing link (gkpass proxy stopped)")
        #expect(registering.expect("ERROR") == "ERROR :Closing link (gkpass proxy stopped)")
        let quit = guest.expect("QUIT")
        // The server words it as irc7 does: "Quit: " and the reason.
        #expect(quit?.hasSuffix("QUIT :Quit: gkpass proxy stopped") == true, "\(quit ?? "nothing") \(context.sandbox.log)")
        let log = proxy.stderr
        for number in [1, 2] {
            #expect(log.components(separatedBy: "client \(number) disconnected: the proxy stopped").count == 2, "\(log)")
        }
    }

    @Test("the client learns MSN's room names and owner prefix: an ISUPPORT (005) after 004, which MSN servers never sent")
    func isupport() throws {
        let context = try Self.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let client = try LineSocket(port: proxy.port)
        client.send("NICK x")
        client.send("USER u 0 * :u")
        var welcome: [String] = []
        while let line = client.text() {
            welcome.append(line)
            if line.contains(" 376 ") || line.contains(" 422 ") { break }
        }
        let isupport = welcome.firstIndex { $0.contains(" 005 ") }
        let myInfo = welcome.firstIndex { $0.contains(" 004 ") }
        #expect(isupport != nil && myInfo != nil && isupport! == myInfo! + 1, "\(welcome)")
        if let isupport {
            let line = welcome[isupport]
            #expect(line.hasPrefix(":127.0.0.1 005 Demo "), "\(line)")
            for token in ["CHANTYPES=%#&", "PREFIX=(qov).@+", "NETWORK=sandbox", "CASEMAPPING=ascii", "IRCX"] {
                #expect(line.contains(" " + token + " "), "\(token) in \(line)")
            }
        }
        #expect(welcome.filter { $0.contains(" 005 ") }.count == 1, "the sandbox, like MSN's servers, sends none of its own")
    }

    @Test("PASS picks an account only when it names a stored one; anything else is ignored, never echoed nor logged")
    func passIsNotEchoed() throws {
        let context = try Self.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let secret = "hunter2-typed-into-PASS"
        let client = try LineSocket(port: proxy.port)
        client.send("PASS \(secret)")
        client.send("NICK x")
        client.send("USER u 0 * :u")
        // The default account, not an error about an account called hunter2…
        let welcome = client.expect(" 001 ")
        #expect(welcome?.hasPrefix(":127.0.0.1 001 Demo ") == true, "\(welcome ?? "nothing")")
        client.send("PING :done")
        var seen: [String] = []
        while let line = client.text() {
            seen.append(line)
            if line.contains("PONG") { break }
        }
        #expect(!seen.contains { $0.contains("hunter2") }, "\(seen)")
        // One NOTICE says the PASS was not used (but not what it was).
        #expect(seen.filter { $0.contains("PASS is not a stored account") } == [":gkpass NOTICE Demo :PASS is not a stored account; using demo@passport.test"], "\(seen)")
        #expect(!proxy.stderr.contains("hunter2"), "\(proxy.stderr)")
        #expect(!context.sandbox.log.contains("hunter2"))
    }

    @Test("a directory that places the room on another server: connect follows 613, and the proxy joins it there through a second upstream")
    func directory() throws {
        let roomServer = try SandboxProcess()
        defer { roomServer.stop() }
        let context = try Context(["--room-server", "127.0.0.1:\(roomServer.ircxPort)"])
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        let environment = context.environment(keyring: false)
        let connect = try Binary.run("gkpass", ["connect", "--room", "#moved", "--json"], environment: environment)
        #expect(connect.status == 0, "\(connect.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(connect.stdout)) as? [String: Any] ?? [:]
        #expect(object["server"] as? String == "127.0.0.1:\(roomServer.ircxPort)" && object["directory"] as? String == "127.0.0.1:\(context.sandbox.ircxPort)")

        let watcher = try Self.guest(port: roomServer.ircxPort, nick: ">there", room: "#moved")
        let proxy = try ProxyProcess([], environment: environment)
        let client = try LineSocket(port: proxy.port)
        client.send("NICK a")
        client.send("USER a 0 * :a")
        #expect(client.expect(" 376 ") != nil)
        client.send("JOIN #moved")
        #expect(client.expect(" 366 ") != nil)
        #expect(watcher.expect("JOIN")?.hasPrefix(":Demo!") == true, "the JOIN reached the room's server")
        #expect(proxy.stderr.contains("client 1: registered on 127.0.0.1:\(roomServer.ircxPort)"), "\(proxy.stderr)")
        client.send("PRIVMSG #moved :over here")
        #expect(watcher.expect("over here") != nil)
        // The home upstream stays open beside it: the client's own PINGs and WHOIS still go there.
        client.send("WHOIS Demo")
        #expect(client.expect(" 311 ")?.hasPrefix(":127.0.0.1 311 Demo Demo ") == true)
    }

    @Test("an expired ticket with a remembered password is refreshed before the client's upstream logs in")
    func refreshesFirst() throws {
        let context = try Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password"], keyring: false).status == 0)
        try StoredTicketFile.expire(context.ticketFile)
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let client = try LineSocket(port: proxy.port)
        client.send("NICK a")
        client.send("USER a 0 * :a")
        #expect(client.expect(" 001 ")?.contains(" 001 Demo ") == true, "\(proxy.stderr)")
        #expect(proxy.stderr.contains("refreshed the ticket of demo@passport.test before connecting"), "\(proxy.stderr)")
        #expect(context.sandbox.log.components(separatedBy: "http web member=demo@passport.test result=success").count == 3)
    }

    @Test("no ticket: the client is told why (NOTICE, ERROR); a silent server is PINGed; a server that leaves is reconnected while the client stays; non-loopback needs --allow-remote")
    func edges() throws {
        let empty = try Context()
        let proxy = try ProxyProcess(["nobody@passport.test"], environment: empty.environment(keyring: false))
        let client = try LineSocket(port: proxy.port)
        client.send("NICK a")
        client.send("USER a 0 * :a")
        let notice = client.expect("NOTICE")
        #expect(notice?.hasPrefix(":gkpass NOTICE a :no ticket for nobody@passport.test") == true, "no second gkpass: \(notice ?? "nothing")")
        #expect(client.expect("ERROR :Closing link") != nil)
        for _ in 0..<500 where !proxy.stderr.contains("client 1 disconnected") { usleep(10_000) }
        // With -v too, a refused client is logged once, in its disconnect line.
        #expect(proxy.stderr.components(separatedBy: "client 1 disconnected: refused, no ticket for nobody@passport.test").count == 2, "\(proxy.stderr)")
        #expect(!proxy.stderr.contains("client 1 refused"), "\(proxy.stderr)")

        let context = try Self.loggedIn()
        let pinging = try ProxyProcess(["--keepalive", "1"], environment: context.environment(keyring: false))
        let quiet = try LineSocket(port: pinging.port)
        quiet.send("NICK a")
        quiet.send("USER a 0 * :a")
        #expect(quiet.expect(" 376 ") != nil)
        // Once the proxy has sent a keep-alive PING upstream, the server's PONG to it comes before the answer to ours.
        for _ in 0..<500 where !pinging.stderr.contains("keep-alive PING to") { usleep(10_000) }
        quiet.send("PING :me")
        // The proxy's own keep-alive PONGs are swallowed: the next thing the client sees is its own PONG.
        let next = quiet.text() ?? ""
        #expect(next.contains("PONG") && next.contains("me") && !next.contains("gkpass-keepalive"), "\(next)")
        #expect(pinging.stderr.contains("keep-alive PING to 127.0.0.1:\(context.sandbox.ircxPort)"), "\(pinging.stderr)")
        // The server goes away: the client is told, and stays connected while the proxy tries to reconnect.
        context.sandbox.stop()
        let lost = quiet.expect("NOTICE")
        #expect(lost == ":gkpass NOTICE Demo :lost the connection to 127.0.0.1:\(context.sandbox.ircxPort) (the server closed the connection); reconnecting", "\(lost ?? "nothing")")
        quiet.send("PING :alone")
        #expect(quiet.expect("PONG") == ":127.0.0.1 PONG 127.0.0.1 :alone")
        // Its reconnects fail (-v): the address is said once, not again inside the reason (ProxyLineTests has the
        // "Connection refused" case).
        for _ in 0..<500 where !pinging.stderr.contains("cannot reconnect to") { usleep(10_000) }
        let port = context.sandbox.ircxPort
        #expect(pinging.stderr.contains("cannot reconnect to 127.0.0.1:\(port): "), "\(pinging.stderr)")
        #expect(!pinging.stderr.contains("cannot connect to 127.0.0.1:\(port)"), "\(pinging.stderr)")

        let remote = try Binary.run("gkpass", ["proxy", "--listen", "0.0.0.0:0"])
        #expect(remote.status == 2 && remote.stderr.contains("--allow-remote"), "\(remote.stderr)")
    }
}

struct ProxyTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
