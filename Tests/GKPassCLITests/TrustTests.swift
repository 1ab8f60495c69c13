import Foundation
import GKPassTestSupport
import Testing

/// What gkpass trusts before a password leaves: the CA file (it replaces the system's store, and must be the
/// user's), the sandbox's endpoints.json, and TLS failures told apart by OpenSSL's verify result. Certificates are
/// made here with the openssl CLI; TLS servers are python3's ssl module. Real binaries on loopback.
@Suite("What gkpass trusts: CA files, endpoints.json, TLS failures (binary)", .serialized)
struct TrustTests {
    typealias Context = PassportPeerTests.Context

    /// Runs a shell script in `directory` (openssl to make keys and certificates); fails the test on error.
    static func shell(_ script: String, in directory: String) throws {
        let result = try Binary.runSystem("/bin/sh", ["-c", "set -e; cd '\(directory)'; " + script])
        #expect(result.status == 0, "\(script): \(result.stderr)")
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-trust-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A CA (ca.pem) and a server certificate for 127.0.0.1 and localhost (server.pem, server.key) signed by it;
    /// `caIsCA: false` makes the root without basicConstraints CA:TRUE.
    static func makeChain(in directory: String, caIsCA: Bool = true, names: String = "DNS:localhost,IP:127.0.0.1") throws {
        let caExtensions = caIsCA ? "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign" : "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature"
        try shell("""
            printf '[ca]\\n\(caExtensions)\\n[srv]\\nbasicConstraints=CA:FALSE\\nsubjectAltName=\(names)\\nextendedKeyUsage=serverAuth\\n' >ext.cnf
            openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
            openssl req -x509 -new -key ca.key -sha256 -days 2 -subj '/CN=gkpass trust test root' -addext 'basicConstraints=critical,CA:\(caIsCA ? "TRUE" : "FALSE")' \(caIsCA ? "-addext 'keyUsage=critical,keyCertSign,cRLSign'" : "") -out ca.pem 2>/dev/null
            openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
            openssl req -new -key server.key -subj '/CN=localhost' -out server.csr 2>/dev/null
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 -extfile ext.cnf -extensions srv -out server.pem 2>/dev/null
            cat server.pem ca.pem >chain.pem
            """, in: directory)
    }

    /// A TLS server on 127.0.0.1 (python3 ssl) that answers every request with 200 and a PassportURLs header;
    /// with `requireSNI` it refuses handshakes that name no host (as servers behind name-based front ends do).
    final class TLSServer {
        let pid: pid_t
        let port: Int
        init(chain: String, key: String, requireSNI: Bool = false) throws {
            let script = """
                import socket, ssl, sys, threading
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(sys.argv[1], sys.argv[2])
                if sys.argv[3] == "1":
                    def need_name(sock, name, context):
                        if name is None: return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
                    ctx.sni_callback = need_name
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
                print(s.getsockname()[1], flush=True)
                def serve(c):
                    try:
                        t = ctx.wrap_socket(c, server_side=True); t.recv(65536)
                        t.sendall(b"HTTP/1.1 200 OK\\r\\nPassportURLs: DALogin=localhost/login2.srf\\r\\nContent-Length: 0\\r\\n\\r\\n"); t.close()
                    except Exception: c.close()
                while True:
                    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
                """
            let child = try Spawn.start("/usr/bin/python3", ["-c", script, chain, key, requireSNI ? "1" : "0"], environment: nil, captureStdout: true)
            pid = child.pid
            defer { close(child.stdout!) }
            guard let port = Int(Spawn.firstLine(child.stdout!, timeout: 20)) else {
                kill(pid, SIGKILL)
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the TLS server did not start"])
            }
            self.port = port
        }
        deinit {
            kill(pid, SIGTERM)
            Spawn.wait(pid, timeout: 5)
        }
    }

    @Test("ca_file replaces the system's CAs: a server the system trusts is refused when ca_file names another CA",
          .enabled(if: getuid() == 0 && access("/etc/ssl/certs", W_OK) == 0, "needs root to add a CA to the system store"))
    func caFileReplacesSystemStore() throws {
        let context = try Context(dialect: "msn2003")
        // Put the peer's CA into the system's hashed CA directory (libcurl's CAPATH) for the length of the test.
        let hash = try Binary.runSystem("/usr/bin/openssl", ["x509", "-noout", "-subject_hash", "-in", context.peer.caFile])
        let link = "/etc/ssl/certs/" + String(decoding: hash.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) + ".0"
        #expect(!FileManager.default.fileExists(atPath: link))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: context.peer.caFile)
        defer { try? FileManager.default.removeItem(atPath: link) }
        // No ca_file: the system store, which now holds the peer's CA, is enough (so the store really is used).
        try context.write(caFile: "")
        let system = try context.login()
        #expect(system.status == 0, "\(system.stderr)")
        // ca_file naming another CA: that CA alone is trusted, and the peer is refused.
        let other = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        try Self.makeChain(in: other)
        try context.write(caFile: other + "/ca.pem")
        let replaced = try context.login()
        #expect(replaced.status == 7, "\(replaced.stderr)")
        #expect(replaced.stderr.contains("signed by a CA this network does not trust (issuer: ") && replaced.stderr.contains("passport14-peer test CA"), "\(replaced.stderr)")
        #expect(context.peer.passwordSends == ["da1": 1], "only the first login sent it: \(context.peer.passwordSends)")
    }

    @Test("a ca_file or --cacert others can write, or that another user owns, is refused (exit 6) before anything is sent")
    func caFilePermissions() throws {
        let context = try Context(dialect: "msn2003")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = directory + "/ca.pem"
        try FileManager.default.copyItem(atPath: context.peer.caFile, toPath: copy)
        chmod(copy, 0o666)
        try context.write(caFile: copy)
        let loose = try context.login()
        #expect(loose.status == 6 && loose.stderr.contains("writable by others"), "\(loose.stderr)")
        try context.write()
        let flag = try context.login(["--cacert", copy])
        #expect(flag.status == 6 && flag.stderr.contains("--cacert"), "\(flag.stderr)")
        if getuid() == 0 {
            chmod(copy, 0o644)
            chown(copy, 65534, 65534)
            try context.write(caFile: copy)
            let foreign = try context.login()
            #expect(foreign.status == 6 && foreign.stderr.contains("belongs to uid 65534"), "\(foreign.stderr)")
        }
        #expect(context.peer.requests.isEmpty, "nothing was sent: \(context.peer.requests.map(\.listener))")
    }

    @Test("TLS failures say what is wrong: a root not made as a CA; a server that needs its host name (SNI) reached by IP")
    func tlsDiagnoses() throws {
        let context = try Context(dialect: "msn2003")
        let notCA = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: notCA) }
        try Self.makeChain(in: notCA, caIsCA: false)
        let server = try TLSServer(chain: notCA + "/chain.pem", key: notCA + "/server.key")
        try context.write(caFile: notCA + "/ca.pem", nexus: "https://127.0.0.1:\(server.port)/rdr/pprdr.asp")
        let result = try context.login()
        #expect(result.status == 7 && result.stderr.contains("not marked as a CA"), "\(result.stderr)")
        #expect(!result.stderr.contains("clock"))

        let sni = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: sni) }
        try Self.makeChain(in: sni)
        let picky = try TLSServer(chain: sni + "/chain.pem", key: sni + "/server.key", requireSNI: true)
        try context.write(caFile: sni + "/ca.pem", nexus: "https://127.0.0.1:\(picky.port)/rdr/pprdr.asp")
        let byIP = try context.login()
        #expect(byIP.status == 7 && byIP.stderr.contains("use the server's host name"), "\(byIP.stderr)")
        // By name the same server answers (and points at a DA that is not there: exit 7 for that, not for TLS).
        try context.write(caFile: sni + "/ca.pem", nexus: "https://localhost:\(picky.port)/rdr/pprdr.asp")
        let byName = try context.login()
        #expect(!byName.stderr.contains("TLS:"), "\(byName.stderr)")
        // The DA's address came from the nexus, not from any file of the user's: the message says so.
        #expect(byName.stderr.contains("the DA the nexus localhost named in its DALogin") && byName.stderr.contains("DALogin=localhost:443"), "\(byName.stderr)")

        // A certificate for localhost only, reached as 127.0.0.1: the message names what it is for.
        let named = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: named) }
        try Self.makeChain(in: named, names: "DNS:localhost")
        let localOnly = try TLSServer(chain: named + "/chain.pem", key: named + "/server.key")
        try context.write(caFile: named + "/ca.pem", nexus: "https://127.0.0.1:\(localOnly.port)/rdr/pprdr.asp")
        let mismatch = try context.login()
        #expect(mismatch.status == 7 && mismatch.stderr.contains("is for another host name than 127.0.0.1 (it is for DNS:localhost)"), "\(mismatch.stderr)")
    }

    @Test("a ca_file that holds no PEM certificate is the user's mistake (exit 2), said before anything is sent")
    func caFileNotPEM() throws {
        let context = try Context(dialect: "msn2003")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "garbage\n".write(toFile: directory + "/bad.pem", atomically: true, encoding: .utf8)
        try context.write(caFile: directory + "/bad.pem")
        let result = try context.login()
        #expect(result.status == 2 && result.stderr.contains("holds no PEM certificate"), "\(result.stderr)")
        #expect(context.peer.requests.isEmpty)
    }

    @Test("the sandbox's endpoints.json is trusted only when it and its directory are yours and not writable by others")
    func endpointsOwnership() throws {
        let context = try LoginCommandTests.Context()
        var environment = context.environment(keyring: false)
        let login = { () throws -> Binary.Result in
            try Binary.run("gkpass", ["login", "demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"],
                input: Array("sandbox-demo\n".utf8), environment: environment)
        }
        let state = context.sandbox.stateDirectory
        chmod(state, 0o777)
        let open = try login()
        #expect(open.status == 6 && open.stderr.contains("sandbox state directory") && open.stderr.contains("writable by others"), "\(open.stderr)")
        chmod(state, 0o700)
        chmod(state + "/endpoints.json", 0o666)
        let loose = try login()
        #expect(loose.status == 6 && loose.stderr.contains("endpoints.json"), "\(loose.stderr)")
        chmod(state + "/endpoints.json", 0o644)
        if getuid() == 0 {
            chown(state + "/endpoints.json", 65534, 65534)
            let foreign = try login()
            #expect(foreign.status == 6 && foreign.stderr.contains("belongs to uid 65534"), "\(foreign.stderr)")
            chown(state + "/endpoints.json", 0, 0)
        }
        environment["GKPASS_SANDBOX_STATE"] = state
        #expect(try login().status == 0)
    }

    @Test("a password given as an extra argument is refused (exit 2) without being repeated")
    func passwordArgumentNotEchoed() throws {
        let context = try LoginCommandTests.Context()
        let result = try Binary.run("gkpass", ["login", "demo@passport.test", "hunter2-as-argument"], environment: context.environment(keyring: false))
        #expect(result.status == 2 && result.stderr.contains("not shown, as it may be a password"), "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
    }

    @Test("Ctrl-C at the password prompt puts the terminal's echo back")
    func interruptedPrompt() throws {
        let context = try LoginCommandTests.Context()
        let script = """
            import os, pty, sys, select, time, termios, signal
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen = b""
            end = time.time() + 20
            while b"Password for" not in seen and time.time() < end:
                if select.select([fd], [], [], 0.2)[0]:
                    try: seen += os.read(fd, 4096)
                    except OSError: break
            time.sleep(0.3)
            during = termios.tcgetattr(fd)[3] & termios.ECHO
            os.write(fd, b"\\x03")
            _, status = os.waitpid(pid, 0)
            after = termios.tcgetattr(fd)[3] & termios.ECHO
            print("during=%d after=%d signal=%d" % (during != 0, after != 0, os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0))
            """
        let result = try Binary.run(
            "/usr/bin/python3", ["-c", script, Binary.directory.path + "/gkpass", "login", "demo@passport.test", "--network", "sandbox", "--store", "file"],
            environment: context.environment(keyring: false), absolute: true)
        let report = String(decoding: result.stdout, as: UTF8.self)
        #expect(report.contains("during=0 after=1 signal=\(SIGINT)"), "\(report) \(result.stderr)")
    }
}
