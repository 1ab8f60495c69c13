import Foundation
import GKPassTestSupport
import Testing

/// Real IRC clients (irssi in tmux, WeeChat headless) through ONE `gkpass proxy` connection to rooms on two of the
/// sandbox's chat servers: chat both ways in each room, a restart of the second server (the proxy rejoins the room:
/// a NOTICE, no second JOIN on the client's screen), and a reconnect whose comma JOIN lands each room on its server.
/// The commands typed are the ones docs/irc-clients.md gives.
@Suite("gkpass proxy as a bridge: irssi and WeeChat in rooms on two chat servers (binary, sandbox --chat-servers 2)", .serialized)
struct ProxyBridgeClientTests {
    typealias ProxyProcess = ProxyCommandTests.ProxyProcess

    /// `gkpass-sandbox --chat-servers 2 --room %#TheLobby=0 --room %#Second=1 --stdin-commands` (for `restart-chat`),
    /// and demo@passport.test logged in to a private file store.
    final class TwoServers {
        let context: LoginCommandTests.Context
        /// Chat server 0 (home, directory, %#TheLobby) and 1 (%#Second).
        let ports: [Int]
        var stateDirectory: String { context.state }
        var environment: [String: String] { context.environment(keyring: false) }
        var log: String { context.sandbox.log }

        init() throws {
            context = try LoginCommandTests.Context(["--chat-servers", "2", "--room", "%#TheLobby=0", "--room", "%#Second=1"], commands: true)
            ports = (context.sandbox.endpoints["chat_servers"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? Int }
            guard ports.count == 2 else { throw ProxyTestError("no two chat servers in endpoints.json") }
            let login = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false)
            guard login.status == 0 else { throw ProxyTestError("login: \(login.stderr)") }
        }

        /// `restart-chat INDEX 1` on the sandbox's stdin; true once the server listens again (bounded).
        @discardableResult
        func restartChat(_ index: Int) -> Bool {
            let before = log.components(separatedBy: "ircx chat-server index=\(index) listening again").count - 1
            context.sandbox.restartChat(index, seconds: 1)
            return context.sandbox.waitListening(index, restarts: before + 1)
        }
    }

    /// Polls `read` (at most about 20 s) until it contains `text`.
    static func eventually(_ read: () -> String, contains text: String) -> Bool {
        for _ in 0..<200 {
            if read().contains(text) { return true }
            usleep(100_000)
        }
        return false
    }

    /// Every line of every file under `directory` whose name contains `room` (case-insensitive): a client's log
    /// of one room, wherever and however the client spelled the file.
    static func logs(in directory: String, room: String) -> String {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return "" }
        var text = ""
        for case let path as String in walker where path.lowercased().contains(room.lowercased()) {
            text += (try? String(contentsOfFile: directory + "/" + path, encoding: .utf8)) ?? ""
        }
        return text
    }

    /// How many lines of `text` contain every one of `fragments`.
    static func count(_ text: String, _ fragments: String...) -> Int {
        text.split(separator: "\n").filter { line in fragments.allSatisfy { line.contains($0) } }.count
    }

    // MARK: - irssi

    @Test("irssi (tmux): /connect, /join %#TheLobby and %#Second (server 1), both ways in each; server 1 restarts (NOTICE, no second JOIN); /reconnect rejoins both")
    func irssi() throws {
        let network = try TwoServers()
        let proxy = try ProxyProcess([], environment: network.environment)
        let lobbyist = try ProxyCommandTests.guest(port: network.ports[0], nick: ">lobbyist", room: "%#TheLobby")
        let seconder = try ProxyCommandTests.guest(port: network.ports[1], nick: ">seconder", room: "%#Second")
        let home = network.stateDirectory + "-irssi"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let session = "gkpass-bridge-irssi-\(getpid())-\(proxy.port)"
        func tmux(_ arguments: [String]) { _ = try? Binary.runSystem("/usr/bin/tmux", arguments) }
        func type(_ text: String) { tmux(["send-keys", "-t", session, "-l", text]); tmux(["send-keys", "-t", session, "Enter"]) }
        func screen() -> String { (try? Binary.runSystem("/usr/bin/tmux", ["capture-pane", "-p", "-t", session, "-S", "-200"])).map { String(decoding: $0.stdout, as: UTF8.self) } ?? "" }
        tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "50", "HOME=\(home) TERM=screen /usr/bin/irssi --home=\(home)/.irssi -n someone"])
        defer {
            tmux(["kill-session", "-t", session])
            try? FileManager.default.removeItem(atPath: home)
        }
        func lobby() -> String { Self.logs(in: home + "/irclogs", room: "%#TheLobby") }
        func second() -> String { Self.logs(in: home + "/irclogs", room: "%#Second") }

        // irssi's own logs (autolog: ~/irclogs/TAG/ROOM.log, one file per room) are what its windows showed.
        #expect(Self.eventually(screen, contains: "Irssi"), "\(screen())")
        type("/set autolog on")
        type("/connect 127.0.0.1 \(proxy.port)")
        #expect(Self.eventually(screen, contains: "End of /MOTD"), "\(screen()) \(proxy.stderr)")
        type("/join %#TheLobby")
        #expect(Self.eventually(lobby, contains: "has joined %#TheLobby"), "\(screen()) \(proxy.stderr)")
        type("/join %#Second")
        #expect(Self.eventually(second, contains: "has joined %#Second"), "\(screen()) \(proxy.stderr)")
        #expect(seconder.expect("JOIN")?.hasPrefix(":Demo!") == true, "the JOIN reached server 1")
        #expect(proxy.stderr.contains("registered on 127.0.0.1:\(network.ports[1])"), "\(proxy.stderr)")

        // Both ways in each room; the window of %#Second is the active one, the lobby is named.
        type("hello second, from irssi")
        #expect(seconder.expect("hello second, from irssi")?.hasPrefix(":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG %#Second :") == true)
        type("/msg %#TheLobby hello lobby, from irssi")
        #expect(lobbyist.expect("hello lobby, from irssi")?.hasPrefix(":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG %#TheLobby :") == true)
        seconder.send("PRIVMSG %#Second :hi irssi, from server 1")
        lobbyist.send("PRIVMSG %#TheLobby :hi irssi, from server 0")
        #expect(Self.eventually(second, contains: "hi irssi, from server 1"), "\(second())")
        #expect(Self.eventually(lobby, contains: "hi irssi, from server 0"), "\(lobby())")

        // Server 1 restarts: the proxy tells the room, rejoins it, and irssi sees no second JOIN.
        #expect(network.restartChat(1), "\(network.log)")
        #expect(Self.eventually(second, contains: "rejoined %#Second"), "\(second()) \(proxy.stderr)")
        #expect(Self.count(second(), "Demo", "has joined %#Second") == 1, "\(second())")
        let returned = try ProxyCommandTests.guest(port: network.ports[1], nick: ">returned", room: "%#Second")
        type("/msg %#Second after the restart, from irssi")
        #expect(returned.expect("after the restart, from irssi")?.hasPrefix(":Demo!") == true, "\(second()) \(proxy.stderr)")
        returned.send("PRIVMSG %#Second :welcome back, irssi")
        #expect(Self.eventually(second, contains: "welcome back, irssi"), "\(second())")
        type("/msg %#TheLobby the lobby never left")
        #expect(lobbyist.expect("the lobby never left") != nil)

        // irssi's /reconnect: a new connection to the proxy, and one comma JOIN of both rooms, each on its server.
        type("/reconnect")
        #expect(lobbyist.expect("JOIN")?.hasPrefix(":Demo!") == true, "back in the lobby on server 0: \(screen()) \(proxy.stderr)")
        #expect(returned.expect("JOIN")?.hasPrefix(":Demo!") == true, "back in %#Second on server 1: \(proxy.stderr)")
        #expect(proxy.stderr.components(separatedBy: "registered on 127.0.0.1:\(network.ports[1])").count == 3, "\(proxy.stderr)")
        type("/msg %#Second reconnected, second")
        #expect(returned.expect("reconnected, second")?.hasPrefix(":Demo!") == true)
        type("/msg %#TheLobby reconnected, lobby")
        #expect(lobbyist.expect("reconnected, lobby")?.hasPrefix(":Demo!") == true)
        returned.send("PRIVMSG %#Second :still here, from server 1")
        #expect(Self.eventually(second, contains: "still here, from server 1"), "\(second())")
        type("/quit")
        #expect(lobbyist.expect("QUIT") != nil && returned.expect("QUIT") != nil, "irssi's /quit reaches both servers")
    }

    // MARK: - WeeChat

    /// WeeChat headless, driven line by line through its FIFO (`BUFFER *TEXT`), logging every buffer.
    final class WeeChat {
        let home: String
        let fifo: String
        let pid: pid_t

        init(home: String, serverLine: String) throws {
            self.home = home
            fifo = home + "/weechat_fifo"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let commands = [
                "/set logger.file.flush_delay 0", "/set irc.server_default.nicks someone",
                "/set fifo.file.path \(fifo)", "/fifo enable", serverLine,
            ].joined(separator: ";")
            pid = try Spawn.start("/usr/bin/weechat-headless", ["--dir", home, "-r", commands], environment: ["HOME": home, "TERM": "dumb", "PATH": "/usr/bin:/bin"], captureStdout: false).pid
        }

        /// One FIFO line: `irc.server.sb */connect sb` runs a command in that buffer, `irc.sb.%#Room *text` says it.
        func send(_ line: String) -> Bool {
            for _ in 0..<100 {
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 {
                    defer { close(fd) }
                    let bytes = Array((line + "\n").utf8)
                    return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
                }
                usleep(100_000)
            }
            return false
        }

        func log(_ room: String) -> String { ProxyBridgeClientTests.logs(in: home + "/logs", room: room) }

        func quit() -> Int32 {
            _ = send("core.weechat */quit")
            return Spawn.wait(pid, timeout: 20)
        }

        deinit { kill(pid, SIGKILL); Spawn.wait(pid, timeout: 5) }
    }

    @Test("WeeChat: /server add, /join %#TheLobby and %#Second (server 1), both ways in each; server 1 restarts (NOTICE, no second JOIN); a proxy restart rejoins both")
    func weechat() throws {
        let network = try TwoServers()
        var proxy = try ProxyProcess([], environment: network.environment)
        let port = proxy.port
        let lobbyist = try ProxyCommandTests.guest(port: network.ports[0], nick: ">lobbyist", room: "%#TheLobby")
        let seconder = try ProxyCommandTests.guest(port: network.ports[1], nick: ">seconder", room: "%#Second")
        let weechat = try WeeChat(home: network.stateDirectory + "-weechat", serverLine: "/server add sb 127.0.0.1/\(port) -notls")
        defer { try? FileManager.default.removeItem(atPath: weechat.home) }
        func lobby() -> String { weechat.log("%#TheLobby") }
        func second() -> String { weechat.log("%#Second") }

        #expect(weechat.send("core.weechat */set irc.server.sb.autoreconnect_delay 1"))
        #expect(weechat.send("core.weechat */connect sb"))
        #expect(Self.eventually({ weechat.log("irc.server.sb") }, contains: "End of /MOTD"), "\(weechat.log("irc.server.sb")) \(proxy.stderr)")
        #expect(weechat.send("irc.server.sb */join %#TheLobby"))
        #expect(weechat.send("irc.server.sb */join %#Second"))
        #expect(Self.eventually(lobby, contains: "has joined %#TheLobby"), "\(lobby()) \(proxy.stderr)")
        #expect(Self.eventually(second, contains: "has joined %#Second"), "\(second()) \(proxy.stderr)")
        #expect(seconder.expect("JOIN")?.hasPrefix(":Demo!") == true, "the JOIN reached server 1")

        #expect(weechat.send("irc.sb.%#Second *hello second, from weechat"))
        #expect(seconder.expect("hello second, from weechat")?.hasPrefix(":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG %#Second :") == true)
        #expect(weechat.send("irc.sb.%#TheLobby *hello lobby, from weechat"))
        #expect(lobbyist.expect("hello lobby, from weechat")?.hasPrefix(":Demo!0001A2B3C4D5E6F7@GateKeeperPassport PRIVMSG %#TheLobby :") == true)
        seconder.send("PRIVMSG %#Second :hi weechat, from server 1")
        lobbyist.send("PRIVMSG %#TheLobby :hi weechat, from server 0")
        #expect(Self.eventually(second, contains: ">seconder\thi weechat, from server 1"), "\(second())")
        #expect(Self.eventually(lobby, contains: ">lobbyist\thi weechat, from server 0"), "\(lobby())")

        // Server 1 restarts: a NOTICE in the room's buffer, one JOIN in all.
        #expect(network.restartChat(1), "\(network.log)")
        #expect(Self.eventually(second, contains: "rejoined %#Second"), "\(second()) \(proxy.stderr)")
        #expect(Self.count(second(), "Demo", "has joined %#Second") == 1, "\(second())")
        let returned = try ProxyCommandTests.guest(port: network.ports[1], nick: ">returned", room: "%#Second")
        #expect(weechat.send("irc.sb.%#Second *after the restart, from weechat"))
        #expect(returned.expect("after the restart, from weechat")?.hasPrefix(":Demo!") == true, "\(second()) \(proxy.stderr)")
        returned.send("PRIVMSG %#Second :welcome back, weechat")
        #expect(Self.eventually(second, contains: ">returned\twelcome back, weechat"), "\(second())")

        // The proxy restarts on the same port: WeeChat reconnects by itself and rejoins both rooms with one comma
        // JOIN; the new proxy places each room on its server.
        proxy.stop()
        #expect(lobbyist.expect("QUIT") != nil && returned.expect("QUIT") != nil, "the old proxy's upstreams are gone")
        proxy = try ProxyProcess([], environment: network.environment, listen: "127.0.0.1:\(port)")
        #expect(lobbyist.expect("JOIN")?.hasPrefix(":Demo!") == true, "back in the lobby on server 0: \(proxy.stderr)")
        #expect(returned.expect("JOIN")?.hasPrefix(":Demo!") == true, "back in %#Second on server 1: \(proxy.stderr)")
        #expect(proxy.stderr.contains("registered on 127.0.0.1:\(network.ports[1])"), "\(proxy.stderr)")
        #expect(weechat.send("irc.sb.%#Second *after the proxy restart"))
        #expect(returned.expect("after the proxy restart")?.hasPrefix(":Demo!") == true, "\(proxy.stderr)")
        #expect(weechat.send("irc.sb.%#TheLobby *lobby after the proxy restart"))
        #expect(lobbyist.expect("lobby after the proxy restart")?.hasPrefix(":Demo!") == true, "\(proxy.stderr)")
        lobbyist.send("PRIVMSG %#TheLobby :lobby answers")
        #expect(Self.eventually(lobby, contains: ">lobbyist\tlobby answers"), "\(lobby())")
        #expect(weechat.quit() == 0)
    }
}
