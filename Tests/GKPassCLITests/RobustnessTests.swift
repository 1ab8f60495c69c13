import Foundation
import GKPassTestSupport
import Testing

/// Issue 9's fault matrix and secrets audit, through the real binaries: each fault gives its exit code and a
/// message that says what happened, and never touches the stored ticket; a known password never leaks.
@Suite("Robustness: fault matrix and secrets audit (binary, sandbox)", .serialized)
struct RobustnessTests {
    typealias Context = LoginCommandTests.Context

    static let auditPassword = "Zq9-audit-\(UInt32.random(in: 100_000...999_999))-pw"
    static let member = "audit@passport.test"

    static func accountsFile(_ directory: String) throws -> String {
        let path = directory + "-accounts.json"
        try #"{"accounts": [{"member": "\#(member)", "password": "\#(auditPassword)", "nickname": "Audit", "puid": "00A0D17000000001"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func login(_ environment: [String: String], _ extra: [String] = [], password: String = auditPassword) throws -> Binary.Result {
        try Binary.run("gkpass", ["login", member, "--network", "sandbox", "--password-stdin", "--store", "file"] + extra,
            input: Array((password + "\n").utf8), environment: environment)
    }

    static let faults: [(name: String, sandbox: [String], flags: [String], message: String)] = [
        ("untrusted CA", [], ["--cacert", "OTHER-CA"], "signed by a CA this network does not trust"),
        ("certificate for another host", ["--fault", "wrong-host-certificate"], [], "is for another host name"),
        ("expired certificate", ["--fault", "expired-certificate"], [], "has expired"),
        ("server closes mid-header", ["--fault", "truncated-headers"], [], "closed the connection in the middle of the response headers"),
        ("1 MiB response header", ["--fault", "huge-header"], [], "sent a response header longer than any HTTP server should"),
        ("redirect loop", ["--fault", "redirect-loop"], [], "redirected more than"),
        ("5xx", ["--fault", "http-5xx"], [], "try again later"),
        ("slow loris server", ["--fault", "slow", "--slow-seconds", "5"], ["--timeout", "1"], "did not answer in time"),
        ("dropped connection", ["--fault", "drop"], [], "closed the connection without answering"),
    ]

    @Test("fault matrix: exit 7 with what went wrong, in one line and a hint, and the stored ticket unchanged byte for byte")
    func faultMatrix() throws {
        let context = try Context(["--accounts", try Self.accountsFile(FileManager.default.temporaryDirectory.path + "/gkpass-matrix-\(UUID().uuidString)")])
        var environment = context.environment(keyring: false)
        #expect(try Self.login(environment).status == 0)
        let ticket = context.state + "/gkpass/items/\(Self.member).ticket.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: ticket))
        let other = try SandboxProcess()
        defer { other.stop() }
        for fault in Self.faults {
            let broken = try SandboxProcess(["--accounts", try Self.accountsFile(context.state + "-\(fault.name.hashValue)")] + fault.sandbox)
            defer { broken.stop() }
            environment["GKPASS_SANDBOX_STATE"] = broken.stateDirectory
            let flags = fault.flags.map { $0 == "OTHER-CA" ? other.caFile : $0 }
            let started = Date()
            let result = try Self.login(environment, flags)
            #expect(result.status == 7, "\(fault.name): \(result.stderr)")
            #expect(result.stderr.contains(fault.message), "\(fault.name): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count <= 2, "\(fault.name): \(result.stderr)")
            #expect(Date().timeIntervalSince(started) < 20, "\(fault.name) took too long to fail")
            #expect(try Data(contentsOf: URL(fileURLWithPath: ticket)) == before, "\(fault.name) touched the stored ticket")
        }
    }

    @Test("disk full on the file store: exit 1 naming ENOSPC, the old ticket intact", .enabled(if: getuid() == 0))
    func diskFull() throws {
        let context = try Context(["--accounts", try Self.accountsFile(FileManager.default.temporaryDirectory.path + "/gkpass-full-\(UUID().uuidString)")])
        let mount = context.state + "-tmpfs"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try Binary.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", mount], absolute: true)
        try #require(mounted.status == 0, "cannot mount a tmpfs here: \(mounted.stderr)")
        defer { _ = try? Binary.run("/bin/umount", [mount], absolute: true) }
        var environment = context.environment(keyring: false)
        environment["XDG_STATE_HOME"] = mount
        #expect(try Self.login(environment).status == 0)
        let ticket = mount + "/gkpass/items/\(Self.member).ticket.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: ticket))
        // Fill the file system to the last block.
        _ = try Binary.run("/bin/dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=4k"], absolute: true)
        let full = try Self.login(environment)
        #expect(full.status == 1 && full.stderr.contains("No space left on device"), "\(full.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: ticket)) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: mount + "/gkpass/items").filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty, "a failed write left \(leftovers)")
    }

    @Test("secrets audit: the password is never in argv, environ, a file outside the store, or --verbose output; no core dumps")
    func secretsAudit() throws {
        let context = try Context(["--accounts", try Self.accountsFile(FileManager.default.temporaryDirectory.path + "/gkpass-audit-\(UUID().uuidString)"),
            "--fault", "slow", "--slow-seconds", "1"])
        let home = context.state + "-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        var environment = context.environment(keyring: false)
        environment["HOME"] = home
        environment["XDG_CONFIG_HOME"] = home + "/.config"
        environment["XDG_CACHE_HOME"] = home + "/.cache"
        // A login that takes seconds (slow server), watched from outside while it runs.
        let input = context.state + "-input"
        #expect(FileManager.default.createFile(atPath: input, contents: Data((Self.auditPassword + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let stdin = open(input, O_RDONLY)
        let child = try Spawn.start(Binary.directory.path + "/gkpass",
            ["login", Self.member, "--network", "sandbox", "--password-stdin", "--store", "file", "--remember-password", "-v"],
            environment: environment, stdinFD: stdin, captureStdout: false, stderrPath: context.state + "-login.err")
        close(stdin)
        // Watched once it is waiting on the slow server: its -v trace has shown the first request.
        var waited = 0
        while waited < 500, !((try? String(contentsOfFile: context.state + "-login.err", encoding: .utf8)) ?? "").contains("gkpass: > ") {
            usleep(10_000)
            waited += 1
        }
        let proc = "/proc/\(child.pid)"
        let cmdline = FileManager.default.contents(atPath: proc + "/cmdline") ?? Data()
        let environ = FileManager.default.contents(atPath: proc + "/environ") ?? Data()
        let limits = (try? String(contentsOfFile: proc + "/limits", encoding: .utf8)) ?? ""
        #expect(!cmdline.isEmpty, "the login finished before it could be watched")
        for (what, data) in [("argv", cmdline), ("environ", environ)] {
            #expect(data.range(of: Data(Self.auditPassword.utf8)) == nil, "the password is in the login's \(what)")
        }
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }
        #expect(core?.split(separator: " ").filter { !$0.isEmpty }.dropFirst(4).first == "0", "core dumps are not off: \(core ?? "")")
        #expect(Spawn.wait(child.pid, timeout: 60) == 0)
        var stderr = (try? String(contentsOfFile: context.state + "-login.err", encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: context.state + "-login.err")
        // Every command that touches the tickets, verbose where it can be.
        for arguments in [["refresh", Self.member, "--if-expiring-within", "2d", "-v"], ["ticket"], ["export", "--format", "env"], ["status"],
                          ["connect", "--room", "#audit", "-v"], ["doctor"], ["list"]] {
            let result = try Binary.run("gkpass", arguments, environment: environment)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            stderr += result.stderr
        }
        #expect(!stderr.contains(Self.auditPassword), "the password reached stderr")
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: context.state + "/gkpass/items/\(Self.member).ticket.json"))) as! [String: Any]
        let document = try JSONSerialization.jsonObject(with: Data((stored["secret"] as! String).utf8)) as! [String: Any]
        #expect(!stderr.contains(document["ticket"] as! String) && !stderr.contains(document["profile"] as! String), "a ticket reached stderr")
        // Files: everything under HOME and the state directory but the store's items.
        var leaks: [String] = []
        for root in [home, context.state] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            for case let path as String in walker where !path.hasPrefix("gkpass/items/") {
                let full = root + "/" + path
                if let data = FileManager.default.contents(atPath: full), data.range(of: Data(Self.auditPassword.utf8)) != nil { leaks.append(full) }
            }
        }
        #expect(leaks.isEmpty, "the password is in \(leaks)")
        #expect(FileManager.default.fileExists(atPath: context.state + "/gkpass/items/\(Self.member).password.json"), "--remember-password keeps it in the store only")
    }

    @Test("a keyring daemon killed under a stored ticket: ticket, status and login exit 5 at once, with words, and nothing is lost")
    func killedKeyringDaemon() throws {
        // A private bus without service activation (so nothing restarts the daemon) and a private gnome-keyring.
        let context = try Context()
        let gkpass = Binary.directory.path + "/gkpass"
        let script = """
            printf 'sandbox-demo\n' | '\(gkpass)' login demo@passport.test --network sandbox --password-stdin --store secret-service >/dev/null 2>&1 || { echo login-failed; exit 90; }
            '\(gkpass)' ticket demo@passport.test >/dev/null || { echo read-failed; exit 91; }
            \(Self.findKeyringOwner)
            kill -9 "$owner"; sleep 0.3
            start=$(date +%s%N)
            '\(gkpass)' ticket demo@passport.test; echo "ticket=$?"
            '\(gkpass)' status demo@passport.test >/dev/null; echo "status=$?"
            printf 'sandbox-demo\n' | '\(gkpass)' login demo@passport.test --network sandbox --password-stdin --store secret-service; echo "login=$?"
            echo "elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))"
            """
        let run = try Self.inPrivateKeyring(script, context: context)
        let out = String(decoding: run.stdout, as: UTF8.self)
        #expect(out.contains("ticket=5") && out.contains("status=5") && out.contains("login=5"), "\(out) \(run.stderr)")
        #expect(run.stderr.contains("no Secret Service provider") || run.stderr.contains("keyring"), "\(run.stderr)")
        let elapsed = Self.elapsedMilliseconds(out)
        #expect(elapsed < 15_000, "a dead keyring is reported within the deadlines, not after hanging: \(elapsed) ms")
        #expect(context.sandbox.log.components(separatedBy: "http web member=demo@passport.test result=success").count == 2,
            "one login reached the sandbox: the one after the kill never sent the password, the store is checked first")
    }

    @Test("a stuck keyring daemon (SIGSTOP): ticket gives up at its 5 s deadline with exit 5 and words; after SIGCONT it reads again")
    func stuckKeyringDaemon() throws {
        let context = try Context()
        let gkpass = Binary.directory.path + "/gkpass"
        let script = """
            printf 'sandbox-demo\n' | '\(gkpass)' login demo@passport.test --network sandbox --password-stdin --store secret-service >/dev/null 2>&1 || { echo login-failed; exit 90; }
            \(Self.findKeyringOwner)
            kill -STOP "$owner"
            start=$(date +%s%N)
            '\(gkpass)' ticket demo@passport.test >/dev/null 2>stuck.err; echo "ticket=$?"
            echo "elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))"
            kill -CONT "$owner"
            '\(gkpass)' ticket demo@passport.test >/dev/null; echo "after=$?"
            cat stuck.err >&2
            """
        let work = context.state + "-stuck"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let run = try Self.inPrivateKeyring("cd '\(work)' || exit 99\n" + script, context: context)
        let out = String(decoding: run.stdout, as: UTF8.self)
        #expect(out.contains("ticket=5") && out.contains("after=0"), "\(out) \(run.stderr)")
        #expect(run.stderr.contains("did not answer within 5 s"), "\(run.stderr)")
        let elapsed = Self.elapsedMilliseconds(out)
        #expect(elapsed >= 4_500 && elapsed < 10_000, "the deadline, not a hang and not an early give-up: \(elapsed) ms")
    }

    @Test("a locked keyring: ticket, status and export exit 5 at once while list still lists; locked in the middle of a refresh --all, nothing is lost")
    func lockedKeyring() throws {
        let context = try Context(["--generated-accounts", "2", "--fault", "slow", "--slow-seconds", "1"])
        let gkpass = Binary.directory.path + "/gkpass"
        let script = """
            for n in 1 2; do
                printf 'password-%s\n' $n | '\(gkpass)' login user$n@passport.test --network sandbox --password-stdin --store secret-service --remember-password >/dev/null 2>&1 || { echo login-failed; exit 90; }
            done
            '\(gkpass)' list > before.txt
            lock() { dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null; }
            # Locked in the middle of a run: the first sign-in takes seconds (slow server); lock after one.
            '\(gkpass)' refresh --all --jobs 1 --if-expiring-within 2d 2>refresh.err & pid=$!
            sleep 1.5; lock
            wait $pid; echo "refresh=$?"
            start=$(date +%s%N)
            '\(gkpass)' ticket user1@passport.test >/dev/null 2>ticket.err; echo "ticket=$?"
            '\(gkpass)' status user2@passport.test >/dev/null 2>/dev/null; echo "status=$?"
            '\(gkpass)' export user2@passport.test --format env >/dev/null 2>/dev/null; echo "export=$?"
            echo "elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))"
            '\(gkpass)' list > after.txt; echo "list=$?"
            cmp -s before.txt after.txt && echo same-list
            cat ticket.err refresh.err >&2
            """
        let work = context.state + "-locked"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let run = try Self.inPrivateKeyring("cd '\(work)' || exit 99\n" + script, context: context)
        let out = String(decoding: run.stdout, as: UTF8.self)
        #expect(out.contains("refresh=5") && out.contains("ticket=5") && out.contains("status=5") && out.contains("export=5"), "\(out) \(run.stderr)")
        #expect(out.contains("list=0") && out.contains("same-list"), "list works while locked, and shows the tickets as they were: \(out)")
        #expect(run.stderr.contains("locked") && run.stderr.contains("never prompts"), "\(run.stderr)")
        let elapsed = Self.elapsedMilliseconds(out)
        #expect(elapsed < 10_000, "locked is reported at once: \(elapsed) ms")
    }

    /// Shell lines that set `owner` to the PID of the daemon that owns org.freedesktop.secrets on the script's
    /// private bus, and only it (exit 92 when nobody does).
    static let findKeyringOwner = """
        owner=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '/uint32/ {print $2}')
        [ -n "$owner" ] || { echo no-owner; exit 92; }
        """

    /// Runs `script` with /bin/sh on a bus of its own (no service activation) with a fresh, unlocked gnome-keyring
    /// already started, and removes the keyring's data afterwards.
    static func inPrivateKeyring(_ script: String, context: Context) throws -> Binary.Result {
        let config = context.state + "-bus.conf"
        try PrivateBus.writeConfig(to: config)
        defer { try? FileManager.default.removeItem(atPath: config) }
        var environment = context.environment(keyring: false)
        environment["PATH"] = "/usr/bin:/bin"
        let body = PrivateBus.startKeyring + script + "\nstatus=$?; rm -rf \"$XDG_DATA_HOME\"; exit $status\n"
        return try Binary.run("/usr/bin/dbus-run-session", ["--config-file=\(config)", "--", "/bin/sh", "-c", body], environment: environment, absolute: true)
    }

    /// The `elapsed_ms=N` a scenario script printed; Int.max when it printed none.
    static func elapsedMilliseconds(_ output: String) -> Int {
        output.split(separator: "\n").first { $0.hasPrefix("elapsed_ms=") }.flatMap { Int($0.dropFirst("elapsed_ms=".count)) } ?? .max
    }
}
