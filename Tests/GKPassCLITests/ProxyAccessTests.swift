import Foundation
import GKPassTestSupport
import Testing

/// Who may use `gkpass proxy` and how much: a second Unix user refused on TCP loopback and on the Unix socket,
/// --allow-remote's password, the client limit, localhost, the log, and the server's 910 through the proxy.
@Suite("gkpass proxy: access, limits, 910 (binary, sandbox, a second Unix user)", .serialized)
struct ProxyAccessTests {
    typealias ProxyProcess = ProxyCommandTests.ProxyProcess

    /// A raw IRC client in Python, run as any user: connects to HOST:PORT or unix:PATH, sends the lines given,
    /// prints every line it receives, and ends with EOF (the proxy closed), TIMEOUT or CONNECT-ERROR errno.
    /// With `--quit-after-001` it sends QUIT once registered.
    static let client = #"""
        import socket, sys
        target, lines = sys.argv[1], sys.argv[2:]
        quit_after_001 = "--quit-after-001" in lines
        lines = [l for l in lines if l != "--quit-after-001"]
        if target.startswith("unix:"):
            s, address = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), target[5:]
        else:
            host, port = target.rsplit(":", 1)
            host = host.strip("[]")
            s, address = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM), (host, int(port))
        try:
            s.connect(address)
        except OSError as e:
            print("CONNECT-ERROR", e.errno, flush=True)
            sys.exit(0)
        s.settimeout(20)
        try:
            for line in lines:
                s.sendall(line.encode() + b"\r\n")
        except OSError:
            pass  # refused and closed already: what it said is still to be read
        data, quit_sent = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    print(data.decode(errors="replace").replace("\r", ""), end="")
                    print("EOF")
                    break
                data += chunk
                if quit_after_001 and not quit_sent and b" 001 " in data:
                    s.sendall(b"QUIT :bye\r\n")
                    quit_sent = True
        except socket.timeout:
            print(data.decode(errors="replace").replace("\r", ""), end="")
            print("TIMEOUT")
        except ConnectionResetError:
            print(data.decode(errors="replace").replace("\r", ""), end="")
            print("RESET")
        """#

    /// Runs ``client`` as `user` (nil: as this process's user).
    /// A client registering as `d` once the proxy has let go of a client that quit (it notices within its poll
    /// interval): up to 20 tries 0.2 s apart; what the last try read.
    static func registerOnceFree(port: Int) throws -> String {
        var read = ""
        for _ in 0..<20 {
            read = try connect("127.0.0.1:\(port)", ["NICK d", "USER d 0 * :d", "--quit-after-001"])
            if read.contains(" 001 ") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return read
    }

    static func connect(_ target: String, _ lines: [String], as user: String? = nil) throws -> String {
        let python = ["/usr/bin/python3", "-c", client, target] + lines
        let result = user.map { try? Binary.run("/usr/sbin/runuser", ["-u", $0, "--"] + python, absolute: true) }
            ?? (try? Binary.run(python[0], Array(python.dropFirst()), absolute: true))
        guard let result else { throw ProxyTestError("cannot run python3") }
        #expect(result.status == 0, "\(result.stderr)")
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// A Unix user made for the test with useradd (no home, no shell), deleted at the end.
    final class TemporaryUser {
        let name = "gkpx" + String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        let uid: UInt32
        init() throws {
            let add = try Binary.run("/usr/sbin/useradd", ["-M", "-s", "/usr/sbin/nologin", name], absolute: true)
            guard add.status == 0 else { throw ProxyTestError("useradd: \(add.stderr)") }
            let id = try Binary.run("/usr/bin/id", ["-u", name], absolute: true)
            guard let uid = UInt32(String(decoding: id.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ProxyTestError("no uid for \(name)")
            }
            self.uid = uid
        }
        deinit { _ = try? Binary.run("/usr/sbin/userdel", [name], absolute: true) }
    }

    static let canMakeUsers = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd")
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")

    @Test("a second Unix user is refused on loopback TCP and on the Unix socket before anything goes upstream; the owner is let in",
        .enabled(if: canMakeUsers, "needs root (useradd, runuser) and /usr/bin/python3"))
    func secondUser() throws {
        let context = try ProxyCommandTests.loggedIn()
        let intruder = try TemporaryUser()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false), verbose: false)
        let refusal = "ERROR :Closing link (gkpass: this proxy serves uid \(getuid()) only)"
        let registration = ["NICK intruder", "USER i 0 * :i", "JOIN #gkpass"]

        let tcp = try Self.connect("127.0.0.1:\(proxy.port)", registration, as: intruder.name)
        #expect(tcp == refusal + "\nEOF\n", "\(tcp)")
        #expect(proxy.stderr.contains("(uid \(intruder.uid))") && proxy.stderr.contains("disconnected: refused, this proxy serves uid \(getuid()) only"), "\(proxy.stderr)")
        // Nothing reached the server: no connection, no AUTH, no NICK.
        #expect(!context.sandbox.log.contains("intruder") && !context.sandbox.log.contains("ircx auth"), "\(context.sandbox.log)")

        let owner = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK me", "USER m 0 * :m", "--quit-after-001"])
        #expect(owner.contains(":127.0.0.1 001 Demo ") && owner.hasSuffix("EOF\n"), "\(owner)")

        // The Unix socket: mode 600 keeps others out at connect(); where the mode is looser (here on purpose),
        // SO_PEERCRED still refuses them.
        let directory = context.state + "-socket"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o711)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/proxy.sock"
        let unix = try ProxyProcess([], environment: context.environment(keyring: false), listen: "unix:" + path, verbose: false)
        #expect(unix.address == "unix:" + path)
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK && info.st_mode & 0o777 == 0o600, "\(String(info.st_mode, radix: 8))")
        let denied = try Self.connect("unix:" + path, registration, as: intruder.name)
        #expect(denied == "CONNECT-ERROR \(EACCES)\n", "\(denied)")
        chmod(path, 0o666)
        let peercred = try Self.connect("unix:" + path, registration, as: intruder.name)
        #expect(peercred == refusal + "\nEOF\n", "\(peercred)")
        #expect(unix.stderr.contains("unix:\(path) (uid \(intruder.uid))"), "\(unix.stderr)")
        let ownerUnix = try Self.connect("unix:" + path, ["NICK me", "USER m 0 * :m", "--quit-after-001"])
        #expect(ownerUnix.contains(" 001 Demo ") && ownerUnix.hasSuffix("EOF\n"), "\(ownerUnix)")
        #expect(!context.sandbox.log.contains("intruder"))
    }

    @Test("--listen unix:PATH refuses to replace a file that is not a socket (6) and replaces a stale socket of ours")
    func unixPath() throws {
        let context = try ProxyCommandTests.loggedIn()
        let directory = context.state + "-unix"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/not-a-socket"
        try "keep me\n".write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try Binary.run("gkpass", ["proxy", "--listen", "unix:" + file], environment: context.environment(keyring: false))
        #expect(refused.status == 6 && refused.stderr.contains("not a socket"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me\n")
        // A proxy killed with SIGKILL leaves its socket behind; the next one takes the path over.
        let path = directory + "/proxy.sock"
        let first = try ProxyProcess([], environment: context.environment(keyring: false), listen: "unix:" + path)
        // While it listens, a second proxy does not steal the path.
        let busy = try Binary.run("gkpass", ["proxy", "--listen", "unix:" + path], environment: context.environment(keyring: false))
        #expect(busy.status == 1 && busy.stderr.contains("another process is listening"), "\(busy.stderr)")
        first.stop(SIGKILL)
        let second = try ProxyProcess([], environment: context.environment(keyring: false), listen: "unix:" + path)
        let answer = try Self.connect("unix:" + path, ["NICK me", "USER m 0 * :m", "--quit-after-001"])
        #expect(answer.contains(" 001 Demo "), "\(answer) \(second.stderr)")
        // Stopped with SIGTERM, it removes its socket.
        #expect(second.stop(SIGTERM) == 128 + SIGTERM, "ends as SIGTERM would have ended it")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("--listen unix:PATH in a directory others can write: refused (6) unless sticky; a sticky one (like /tmp) gets a warning")
    func unixSharedDirectory() throws {
        let context = try ProxyCommandTests.loggedIn()
        let directory = context.state + "-shared"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o777)
        let path = directory + "/proxy.sock"
        let refused = try Binary.run("gkpass", ["proxy", "--listen", "unix:" + path], environment: context.environment(keyring: false))
        #expect(refused.status == 6 && refused.stderr.contains("\(directory) is writable by others (mode 777)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        chmod(directory, 0o1777)
        let sticky = try ProxyProcess([], environment: context.environment(keyring: false), listen: "unix:" + path, verbose: false)
        let warnings = sticky.stderr.split(separator: "\n").filter { $0.hasPrefix("gkpass: warning: ") }
        #expect(warnings.count == 1 && warnings[0].contains("\(directory) is shared (mode 1777)"), "\(sticky.stderr)")
        let answer = try Self.connect("unix:" + path, ["NICK me", "USER m 0 * :m", "--quit-after-001"])
        #expect(answer.contains(" 001 Demo "), "\(answer)")
    }

    @Test("--allow-remote needs --password-file (2); then a wrong or missing PASS is refused, the right one let in, and no PASS value is shown or logged")
    func remotePassword() throws {
        let bare = try Binary.run("gkpass", ["proxy", "--listen", "127.0.0.1:0", "--allow-remote"])
        #expect(bare.status == 2 && bare.stderr.contains("--password-file"), "\(bare.stderr)")
        let context = try ProxyCommandTests.loggedIn()
        let password = "proxy-pass-\(UUID().uuidString)"
        let file = context.state + "-proxy-password"
        try (password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        chmod(file, 0o644)
        let loose = try Binary.run("gkpass", ["proxy", "--listen", "127.0.0.1:0", "--allow-remote", "--password-file", file], environment: context.environment(keyring: false))
        #expect(loose.status == 6, "\(loose.stderr)")
        chmod(file, 0o600)
        let proxy = try ProxyProcess(["--allow-remote", "--password-file", file], environment: context.environment(keyring: false))
        let wrongPass = "wrong-\(password)"
        let wrong = try Self.connect("127.0.0.1:\(proxy.port)", ["PASS \(wrongPass)", "NICK a", "USER a 0 * :a"])
        #expect(wrong.contains("ERROR :Closing link (gkpass: wrong password (PASS))") && !wrong.contains(" 001 ") && wrong.hasSuffix("EOF\n"), "\(wrong)")
        let missing = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK a", "USER a 0 * :a"])
        #expect(missing.contains("ERROR :Closing link (gkpass: this proxy needs a password (PASS))") && !missing.contains(" 001 "), "\(missing)")
        // An account name as PASS is no password here, and picks no account.
        let account = try Self.connect("127.0.0.1:\(proxy.port)", ["PASS user1@passport.test", "NICK a", "USER a 0 * :a"])
        #expect(account.contains("wrong password") && !account.contains(" 001 "), "\(account)")
        let right = try Self.connect("127.0.0.1:\(proxy.port)", ["PASS :\(password)", "NICK a", "USER a 0 * :a", "--quit-after-001"])
        #expect(right.contains(":127.0.0.1 001 Demo ") && right.hasSuffix("EOF\n"), "\(right)")
        // Not a trace of either value, anywhere.
        for output in [wrong, missing, account, right, proxy.stderr, context.sandbox.log] {
            #expect(!output.contains(password) && !output.contains("proxy-pass-"), "\(output)")
        }
        #expect(context.sandbox.log.components(separatedBy: "ircx auth").count == 2, "only the right PASS reached the server: \(context.sandbox.log)")
    }

    @Test("--max-clients: one client more gets an ERROR line and is closed; a freed place is taken again")
    func clientLimit() throws {
        let context = try ProxyCommandTests.loggedIn()
        let proxy = try ProxyProcess(["--max-clients", "2"], environment: context.environment(keyring: false), verbose: false)
        let first = try LineSocket(port: proxy.port)
        first.send("NICK a")
        first.send("USER a 0 * :a")
        #expect(first.expect(" 001 ") != nil)
        // The other account: the server allows one connection per nickname.
        let second = try LineSocket(port: proxy.port)
        second.send("PASS user1@passport.test")
        second.send("NICK b")
        second.send("USER b 0 * :b")
        #expect(second.expect(" 001 ") != nil)
        let third = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK c", "USER c 0 * :c"])
        #expect(third == "ERROR :Closing link (gkpass: too many clients (at most 2))\nEOF\n", "\(third)")
        first.send("QUIT :done")
        #expect(first.isClosedByPeer())
        // The proxy notices the QUIT within its poll interval.
        let fourth = try Self.registerOnceFree(port: proxy.port)
        #expect(fourth.contains(" 001 "), "\(fourth) \(proxy.stderr)")
        #expect(proxy.stderr.contains("disconnected: refused, too many clients (at most 2)"), "\(proxy.stderr)")
    }

    @Test("one client per account: a second one for an account in use is refused before any upstream login, naming the first")
    func oneClientPerAccount() throws {
        let context = try ProxyCommandTests.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let first = try LineSocket(port: proxy.port)
        first.send("NICK a")
        first.send("USER a 0 * :a")
        #expect(first.expect(" 001 ") != nil)
        let logins = context.sandbox.log.components(separatedBy: "ircx auth").count
        let second = try Self.connect("127.0.0.1:\(proxy.port)", ["PASS demo@passport.test", "NICK b", "USER b 0 * :b"])
        #expect(second.hasSuffix(
            "ERROR :Closing link (gkpass: demo@passport.test is already connected through this proxy (client 1); PASS another account)\nEOF\n"),
            "\(second)")
        #expect(context.sandbox.log.components(separatedBy: "ircx auth").count == logins, "no second login upstream")
        // Another account is fine, and so is the same one once the first has gone.
        let other = try Self.connect("127.0.0.1:\(proxy.port)", ["PASS user1@passport.test", "NICK c", "USER c 0 * :c", "--quit-after-001"])
        #expect(other.contains(" 001 "), "\(other)")
        first.send("QUIT :done")
        #expect(first.isClosedByPeer())
        let again = try Self.registerOnceFree(port: proxy.port)
        #expect(again.contains(" 001 "), "\(again) \(proxy.stderr)")
    }

    @Test("a client that stops reading while its room floods is dropped once its queue passes the limit; the proxy stays well")
    func slowClient() throws {
        let context = try ProxyCommandTests.loggedIn()
        let proxy = try ProxyProcess(["--max-queued-bytes", "65536"], environment: context.environment(keyring: false), verbose: false)
        let guest = try ProxyCommandTests.guest(port: context.sandbox.ircxPort, nick: ">flood", room: "#flood")
        // A client with a tiny receive window that joins, then reads nothing for 15 seconds.
        let script = #"""
            import socket, sys, time
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", int(sys.argv[1])))
            s.sendall(b"NICK a\r\nUSER a 0 * :a\r\nJOIN #flood\r\n")
            data = b""
            while b" 366 " not in data:
                data += s.recv(4096)
            print("joined", flush=True)
            time.sleep(15)
            s.settimeout(5)
            try:
                while s.recv(65536):
                    pass
                print("EOF")
            except ConnectionResetError:
                print("RESET")
            except socket.timeout:
                print("TIMEOUT")
            """#
        let slow = try Spawn.start("/usr/bin/python3", ["-c", script, String(proxy.port)], environment: nil, captureStdout: true)
        defer { kill(slow.pid, SIGKILL); _ = Spawn.wait(slow.pid, timeout: 5) }
        #expect(Spawn.firstLine(slow.stdout!, timeout: 20) == "joined")
        // 6 MB: more than the kernel's socket buffers toward the client can take (tcp_wmem's 4 MiB at most).
        let line = "PRIVMSG #flood :" + String(repeating: "x", count: 480)
        for _ in 0..<12_000 { guest.send(line) }
        let quit = guest.expect("QUIT", within: 30)
        #expect(quit?.contains("client too slow") == true, "\(quit ?? "no QUIT") \(proxy.stderr)")
        let end = Spawn.firstLine(slow.stdout!, timeout: 30)
        #expect(end == "EOF" || end == "RESET", "\(end)")
        #expect(proxy.stderr.contains("client 1 disconnected: fell more than 65536 bytes behind the server"), "\(proxy.stderr)")
        // The proxy still serves others.
        let next = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK b", "USER b 0 * :b", "--quit-after-001"])
        #expect(next.contains(" 001 Demo "), "\(next)")
    }

    @Test("--listen localhost:0 resolves and serves; without -v the log is one line per connect and one per disconnect, nothing per chat line")
    func localhostAndLog() throws {
        let context = try ProxyCommandTests.loggedIn()
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false), listen: "localhost:0", verbose: false)
        #expect(proxy.address.hasPrefix("127.0.0.1:") || proxy.address.hasPrefix("[::1]:"), "\(proxy.address)")
        #expect(proxy.port > 0)
        let guest = try ProxyCommandTests.guest(port: context.sandbox.ircxPort, nick: ">ear", room: "#log")
        let chat = try Self.connect(proxy.address, ["NICK a", "USER a 0 * :a", "JOIN #log", "PRIVMSG #log :one", "PRIVMSG #log :two", "PING :x", "QUIT :bye"])
        #expect(chat.contains(" 001 Demo ") && chat.hasSuffix("EOF\n"), "\(chat)")
        #expect(guest.expect("PRIVMSG #log :two") != nil)
        var lines: [Substring] = []
        for _ in 0..<20 {
            lines = proxy.stderr.split(separator: "\n")
            if lines.count >= 2 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("gkpass: proxy: client 1 connected from ") == true, "\(lines)")
        #expect(lines.last == "gkpass: proxy: client 1 disconnected: quit", "\(lines)")
        let outside = try Binary.run("gkpass", ["proxy", "--listen", "example.invalid:0"])
        #expect(outside.status == 2, "\(outside.stderr)")
    }

    /// Spoils the stored ticket of demo@passport.test (its expiry untouched): the server cannot open it and
    /// answers the blob with 910.
    static func spoilTicket(_ context: LoginCommandTests.Context) throws {
        try rewriteItem(context.ticketFile) { secret in
            var document = try JSONSerialization.jsonObject(with: Data(secret.utf8)) as! [String: Any]
            let ticket = document["ticket"] as! String
            document["ticket"] = String(ticket.prefix(ticket.count / 2)) + String(ticket.suffix(ticket.count / 2 - 2))
            return String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
        }
    }

    /// Rewrites the `secret` of a file-store item, keeping it private.
    static func rewriteItem(_ path: String, _ change: (String) throws -> String) throws {
        var item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        item["secret"] = try change(item["secret"] as! String)
        try JSONSerialization.data(withJSONObject: item).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
    }

    @Test("910 without a remembered password: the client is told to run gkpass login, and nothing is retried")
    func rejectedTicketNoPassword() throws {
        let context = try LoginCommandTests.Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        try Self.spoilTicket(context)
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let answer = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK a", "USER a 0 * :a"])
        let notice = answer.split(separator: "\n").first { $0.hasPrefix(":gkpass NOTICE a :") } ?? ""
        #expect(notice.contains("refused the Passport ticket (910") && notice.hasSuffix("; run gkpass login demo@passport.test for a new ticket"), "\(answer)")
        #expect(answer.contains("ERROR :Closing link") && answer.hasSuffix("EOF\n") && !answer.contains(" 001 "), "\(answer)")
        let log = context.sandbox.log
        #expect(log.components(separatedBy: "result=910").count == 2, "one login upstream, no retry: \(log)")
        #expect(log.components(separatedBy: "http web").count == 2, "no sign-in but gkpass login's: \(log)")
    }

    @Test("910 with a remembered password that no longer works: one refresh is tried, then the client is told to log in")
    func rejectedTicketRefreshFails() throws {
        let context = try LoginCommandTests.Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password"], keyring: false).status == 0)
        try Self.spoilTicket(context)
        try Self.rewriteItem(context.state + "/gkpass/items/demo@passport.test.password.json") { _ in "changed-since" }
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let answer = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK a", "USER a 0 * :a"])
        #expect(answer.contains("run gkpass login demo@passport.test") && !answer.contains(" 001 "), "\(answer)")
        #expect(proxy.stderr.contains("could not refresh demo@passport.test"), "\(proxy.stderr)")
        let log = context.sandbox.log
        #expect(log.components(separatedBy: "result=910").count == 2, "one login upstream: \(log)")
        #expect(log.components(separatedBy: "http web member=demo@passport.test result=ec=e5a").count == 2, "one refresh, refused: \(log)")
        #expect(!answer.contains("changed-since") && !proxy.stderr.contains("changed-since"))
    }

    @Test("910 with a remembered password: a ticket the server no longer takes is refreshed and the client logged in")
    func rejectedTicketRefreshed() throws {
        let context = try LoginCommandTests.Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password"], keyring: false).status == 0)
        try Self.spoilTicket(context)
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let answer = try Self.connect("127.0.0.1:\(proxy.port)", ["NICK a", "USER a 0 * :a", "--quit-after-001"])
        #expect(answer.contains(":127.0.0.1 001 Demo "), "\(answer) \(proxy.stderr) \(context.sandbox.log)")
        #expect(proxy.stderr.contains("refreshed the ticket of demo@passport.test after the server refused it"), "\(proxy.stderr)")
        #expect(context.sandbox.log.components(separatedBy: "result=910").count == 2, "\(context.sandbox.log)")
    }
}
