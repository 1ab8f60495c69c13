import Foundation
import GKPassTestSupport
import GKText
import Passport
import Testing

/// `gkpass login` against a Passport server we did not write: the independent peer in Tests/Peers, written from
/// MS-PASS and protocol.md alone. Every dialect it speaks logs in; the password reaches only the DA hosts the
/// network names, once per login; the -v trace keeps no unkeyed hash of it. Real binaries, real TLS on loopback.
@Suite("Passport dialects and the password's path (binary, independent peer)", .serialized)
struct PassportPeerTests {
    static let member = "member@peer.test"
    static let password = "peer-pass,with comma&amp"

    /// A private store and config for one test, with the peer as network `peer` (Tweener, no chat site).
    final class Context {
        let peer: PeerProcess
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-peer-home-\(UUID().uuidString)").path
        var config: String { state + "-config.toml" }

        init(dialect: String, peerArguments: [String] = [], extra: String = "", caFile: String? = nil) throws {
            peer = try PeerProcess(dialect: dialect, peerArguments)
            try write(extra: extra, caFile: caFile)
        }

        /// config.toml for network `peer`; `caFile` "" leaves ca_file out (the system's CAs).
        func write(extra: String = "", caFile: String? = nil, nexus: String? = nil) throws {
            let file = caFile ?? peer.caFile
            let ca = file.isEmpty ? "" : "ca_file = \"\(file)\""
            try """
                [networks.peer]
                flow = "tweener"
                nexus_url = "\(nexus ?? peer.nexusURL)"
                \(ca)
                ticket_lifetime = "10m"
                \(extra)
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit {
            peer.stop()
            try? FileManager.default.removeItem(atPath: state)
            try? FileManager.default.removeItem(atPath: config)
        }

        var environment: [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_STATE_HOME"] = state
            environment["GKPASS_CONFIG"] = config
            for key in ["DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "GKPASS_NETWORK"] { environment[key] = nil }
            environment["XDG_RUNTIME_DIR"] = state + "/no-runtime"
            return environment
        }

        func gkpass(_ arguments: [String], input: String = "") throws -> Binary.Result {
            try Binary.run("gkpass", arguments, input: Array(input.utf8), environment: environment)
        }

        func login(_ extra: [String] = [], password: String = PassportPeerTests.password) throws -> Binary.Result {
            try gkpass(["login", PassportPeerTests.member, "--network", "peer", "--password-stdin", "--store", "file"] + extra, input: password + "\n")
        }

        var ticketFile: String { state + "/gkpass/items/\(PassportPeerTests.member).ticket.json" }
    }

    @Test("each success form logs in, and the ticket is the token the server gave", arguments: ["msn2003", "bare-token", "t-only", "reordered", "dastatus"])
    func dialect(dialect: String) throws {
        let context = try Context(dialect: dialect)
        let result = try context.login()
        #expect(result.status == 0, "\(dialect): \(result.stderr)")
        #expect(context.peer.passwordSends == ["da1": 1], "one password send: \(context.peer.passwordSends)")
        let ticket = String(decoding: try context.gkpass(["ticket", "--format", "ticket"]).stdout, as: UTF8.self)
        #expect(ticket.hasSuffix("$$\n"), "a compact Passport token: \(ticket.count) bytes")
        let profile = try context.gkpass(["ticket", "--format", "profile"])
        let blob = String(decoding: try context.gkpass(["ticket", "--format", "blob"]).stdout, as: UTF8.self)
        let t = String(ticket.dropLast())
        #expect(blob.hasPrefix(String(format: "%08X", t.utf8.count) + t))
        if dialect == "bare-token" || dialect == "t-only" {
            // No profile: the blob ends in an empty second string, profile prints nothing and succeeds.
            #expect(blob == String(format: "%08X", t.utf8.count) + t + "00000000")
            #expect(profile.status == 0 && profile.stdout.isEmpty)
            let status = try context.gkpass(["status"])
            #expect(String(decoding: status.stdout, as: UTF8.self).contains("ticket only"))
            let json = try context.gkpass(["status", "--json"])
            #expect(String(decoding: json.stdout, as: UTF8.self).contains("\"has_profile\":false"))
        } else {
            #expect(profile.status == 0 && profile.stdout.count > 1)
            #expect(!blob.hasSuffix("00000000"))
        }
    }

    @Test("a ticket-only login: the cookie formats say there are no HTTP cookies, alike (exit 3); env and json work")
    func exportsAgree() throws {
        let context = try Context(dialect: "bare-token")
        #expect(try context.login().status == 0)
        for format in ["cookie-header", "netscape"] {
            let result = try context.gkpass(["export", "--format", format])
            #expect(result.status == 3 && result.stdout.isEmpty, "\(format): \(result.stderr)")
            #expect(result.stderr.contains("collected no HTTP cookies"), "\(format): \(result.stderr)")
        }
        let env = try context.gkpass(["export", "--format", "env"])
        #expect(env.status == 0 && String(decoding: env.stdout, as: UTF8.self).contains("export GKPASS_PROFILE=''"))
        #expect(try context.gkpass(["export", "--format", "json"]).status == 0)
    }

    @Test("tickets whose lifetime the server does not say live the network's ticket_lifetime")
    func lifetime() throws {
        let context = try Context(dialect: "bare-token")
        let before = Date()
        #expect(try context.login().status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(try context.gkpass(["status", "--json"]).stdout)) as! [String: Any]
        let remaining = json["remaining_seconds"] as! Int
        #expect(remaining <= 600 && remaining >= 600 - Int(Date().timeIntervalSince(before)) - 2, "ticket_lifetime = 10m: \(remaining)")
    }

    @Test("a second DA gets the password only when da_hosts names it; an off-list or plain-http redirect is exit 7 naming the host")
    func redirects() throws {
        let refused = try Context(dialect: "redirect")
        let result = try refused.login()
        #expect(result.status == 7 && result.stderr.contains("to 127.0.0.2, which is not one of this network's DAs"), "\(result.stderr)")
        #expect(result.stderr.contains("da_hosts"))
        #expect(refused.peer.passwordSends == ["da1": 1], "\(refused.peer.passwordSends)")
        #expect(!FileManager.default.fileExists(atPath: refused.ticketFile))

        let listed = try Context(dialect: "redirect", extra: "da_hosts = [\"127.0.0.2\"]")
        let ok = try listed.login()
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(listed.peer.passwordSends == ["da1": 1, "da2": 1], "\(listed.peer.passwordSends)")

        // A hostile DA: redirects to a third host. Listed second DAs do not make it trusted.
        let offsite = try Context(dialect: "offsite-redirect", extra: "da_hosts = [\"127.0.0.2\"]")
        let hostile = try offsite.login()
        #expect(hostile.status == 7 && hostile.stderr.contains("127.0.0.3"), "\(hostile.stderr)")
        #expect(offsite.peer.passwordSends["offsite"] == nil && offsite.peer.requests.allSatisfy { $0.listener != "offsite" })

        let plain = try Context(dialect: "plain-redirect", extra: "da_hosts = [\"127.0.0.2\"]")
        let http = try plain.login()
        #expect(http.status == 7 && http.stderr.contains("plain http://127.0.0.2"), "\(http.stderr)")
        #expect(plain.peer.passwordSends == ["da1": 1], "\(plain.peer.passwordSends)")
    }

    @Test("an unreadable success is one password send per login, the nexus cache is kept, and refresh does not resend it")
    func unreadable() throws {
        let context = try Context(dialect: "unreadable")
        let first = try context.login()
        #expect(first.status == 7, "\(first.stderr)")
        // Which step, and what the server answered: its structure, not its values.
        #expect(first.stderr.contains("the Passport DA 127.0.0.1 answered 200 with tickets gkpass cannot read (Authentication-Info: Passport1.4 da-status=success)"), "\(first.stderr)")
        #expect(context.peer.passwordSends == ["da1": 1])
        let second = try context.login(["-v"])
        #expect(second.status == 7 && second.stderr.contains("from the cache"), "the cache survives an unreadable answer: \(second.stderr)")
        #expect(context.peer.passwordSends == ["da1": 2], "\(context.peer.passwordSends)")
    }

    @Test("refresh: an unreadable answer is not retried (one send); a 5xx is (transient)")
    func refresh() throws {
        // Log in for real first, remembering the password, then point the network at a server that answers in a
        // way no client can read. The cached DA is gone with the first peer: unreachable, so the nexus is asked.
        let good = try Context(dialect: "msn2003")
        #expect(try good.login(["--remember-password"]).status == 0)
        let bad = try PeerProcess(dialect: "unreadable")
        defer { bad.stop() }
        try good.write(caFile: bad.caFile, nexus: bad.nexusURL)
        let result = try good.gkpass(["refresh", "--if-expiring-within", "1d"])
        #expect(result.status == 7, "\(result.stderr)")
        #expect(bad.passwordSends == ["da1": 1], "refresh sent the password \(bad.passwordSends) times")

        let flaky = try PeerProcess(dialect: "msn2003", ["--fault", "5xx-once"])
        defer { flaky.stop() }
        try good.write(caFile: flaky.caFile, nexus: flaky.nexusURL)
        let retried = try good.gkpass(["refresh", "--if-expiring-within", "1d"])
        #expect(retried.status == 0 && retried.stderr.contains("attempt 2"), "\(retried.stderr)")
        #expect(flaky.passwordSends == ["da1": 2])
    }

    @Test("refresh of a ticket-only account signs in again and stores the new token, still without a profile")
    func refreshTicketOnly() throws {
        let context = try Context(dialect: "bare-token")
        #expect(try context.login(["--remember-password"]).status == 0)
        let before = try context.gkpass(["ticket", "--format", "ticket"]).stdout
        let result = try context.gkpass(["refresh", "--if-expiring-within", "1d"])
        #expect(result.status == 0 && result.stderr.contains("refreshed"), "\(result.stderr)")
        let after = try context.gkpass(["ticket", "--format", "ticket"]).stdout
        #expect(after != before && !after.isEmpty, "the peer issues a new token per login")
        #expect(try context.gkpass(["ticket", "--format", "profile"]).stdout.isEmpty)
        #expect(context.peer.passwordSends == ["da1": 2])
        #expect(try context.gkpass(["check"]).status == 0)
    }

    @Test("the -v trace keeps each header's shape and holds no unkeyed hash of the password or the Authorization header")
    func trace() throws {
        let context = try Context(dialect: "msn2003")
        let result = try context.login(["-v"])
        #expect(result.status == 0, "\(result.stderr)")
        let trace = result.stderr
        #expect(trace.contains("Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger.msn.com,sign-in=‹redacted:"), "\(trace)")
        #expect(trace.contains(",pwd=‹redacted:") && trace.contains("Authentication-Info: Passport1.4 da-status=success,tname=MSPAuth"))
        let header = PassportHeaders.tweenerAuthorization(member: Self.member, password: Self.password)
        let encoded = PercentEncoding.encode(Self.password)
        // Every unkeyed hash a dictionary attack could use, of every form the secret takes: FNV-1a 32 (what -v
        // printed before), MD5, SHA-1, SHA-256, as 8 hex digits and whole.
        let script = """
            import hashlib, sys
            def fnv(b):
                h = 0x811C9DC5
                for c in b: h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
                return "%08x" % h
            for text in sys.argv[1:]:
                b = text.encode()
                print(fnv(b))
                for name in ("md5", "sha1", "sha256"):
                    d = hashlib.new(name, b).hexdigest()
                    print(d); print(d[:8])
            """
        let hashes = try Binary.runSystem("/usr/bin/python3", ["-c", script, Self.password, encoded, header, Self.member])
        let lines = String(decoding: hashes.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 4 * 7)
        for hash in lines { #expect(!trace.lowercased().contains(hash), "an unkeyed hash is in the trace: \(hash)") }
        for secret in [Self.password, encoded, "peer-pass"] { #expect(!trace.contains(secret)) }
    }

    @Test("server text is shown, not obeyed: control characters in cbtxt are escaped before the terminal")
    func controlCharacters() throws {
        let context = try Context(dialect: "msn2003", peerArguments: ["--fault", "cbtxt-control"])
        let result = try context.login(password: "wrong")
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("Bad\\x1B[31mpassword\\x07\\x0D\\x0Aforged"), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\u{07}") && !result.stderr.contains("\r"))
        #expect(result.stderr.split(separator: "\n").count <= 2)
    }
}
