import Foundation
import GKPassSandbox
import GKPassTestSupport
import Testing

/// The real `gkpass-sandbox` binary with the DA redirect faults and the dialects, seen with curl only; the sandbox
/// log's `password-request` lines show which listener got a password.
@Suite("gkpass-sandbox dialects and redirecting DAs (real binary, curl)", .serialized)
struct SandboxDialectEndToEndTests {
    static let signIn = "Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=demo%40passport.test,pwd=sandbox-demo,lc=1033"

    /// The `password-request` lines in `log` for `host`.
    static func passwordRequests(_ log: String, host: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.contains(" password-request host=\(host) ") }
    }

    static func port(of url: String) -> String { String(url.split(separator: ":").last!.prefix { $0.isNumber }) }

    @Test("da-offsite-redirect: 302 to 127.0.0.2 over TLS; curl -L keeps the password home, a resent one is logged there")
    func offsiteRedirect() throws {
        let sandbox = try SandboxProcess(["--fault", "da-offsite-redirect"])
        defer { sandbox.stop() }
        #expect(sandbox.endpoints["passport_dialect"] as? String == "msn2003")
        let offsite = try #require(sandbox.endpoints["offsite_da_url"] as? String)
        #expect(offsite.hasPrefix("https://127.0.0.2:") && offsite.hasSuffix("/login2.srf"))

        let first = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", "-H", Self.signIn, sandbox.httpsOrigin + "/login2.srf"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("HTTP/1.1 302 Found\r\n"))
        #expect(first.stdout.contains("\r\nAuthentication-Info: Passport1.4 da-status=redir\r\n"))
        #expect(first.stdout.contains("\r\nLocation: \(offsite)\r\n"))

        // curl -L does not resend Authorization to another host: the off-site DA sees the request, not the password.
        let followed = try Run.curl(["--cacert", sandbox.caFile, "-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", "-H", Self.signIn, sandbox.httpsOrigin + "/login2.srf"])
        #expect(followed.stdout == "401 \(offsite)", "\(followed.stderr)")
        #expect(Self.passwordRequests(sandbox.log, host: "127.0.0.2").isEmpty, "\(sandbox.log)")
        #expect(Self.passwordRequests(sandbox.log, host: "127.0.0.1").count == 2)

        // Sent there on purpose, over TLS with the sandbox CA (the certificate covers 127.0.0.2), it signs in and logs.
        let resent = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", "-H", Self.signIn, offsite])
        #expect(resent.status == 0, "\(resent.stderr)")
        #expect(resent.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(resent.stdout.contains("Authentication-Info: Passport1.4 da-status=success,"))
        let log = sandbox.log
        #expect(Self.passwordRequests(log, host: "127.0.0.2").map { $0.split(separator: " ", maxSplits: 1).last! }
            == ["password-request host=127.0.0.2 port=\(Self.port(of: offsite)) path=/login2.srf scheme=https"])
        #expect(Self.passwordRequests(log, host: "127.0.0.1").allSatisfy { $0.hasSuffix(" port=\(Self.port(of: sandbox.httpsOrigin)) path=/login2.srf scheme=https") })
        #expect(log.contains("result=redirected-offsite"))
        #expect(!log.contains("sandbox-demo"), "the log never holds the password")
    }

    @Test("da-plain-redirect: 302 to plain http; a password sent there is logged as scheme=http")
    func plainRedirect() throws {
        let sandbox = try SandboxProcess(["--fault", "da-plain-redirect"])
        defer { sandbox.stop() }
        let plain = try #require(sandbox.endpoints["plain_da_url"] as? String)
        #expect(sandbox.endpoints["offsite_da_url"] == nil)
        #expect(plain == "http://127.0.0.1:\(Self.port(of: plain))/login2.srf")
        let first = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", "-H", Self.signIn, sandbox.httpsOrigin + "/login2.srf"])
        #expect(first.stdout.hasPrefix("HTTP/1.1 302 Found\r\n"))
        #expect(first.stdout.contains("\r\nAuthentication-Info: Passport1.4 da-status=redir\r\n"))
        #expect(first.stdout.contains("\r\nLocation: \(plain)\r\n"))
        let resent = try Run.curl(["-D", "-", "-o", "/dev/null", "-H", Self.signIn, plain])
        #expect(resent.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(resent.stderr)")
        #expect(sandbox.log.contains("password-request host=127.0.0.1 port=\(Self.port(of: plain)) path=/login2.srf scheme=http\n"))
    }

    @Test("--passport-dialect bare-token: endpoints.json says so, and the DA answers a bare from-PP")
    func bareToken() throws {
        let sandbox = try SandboxProcess(["--passport-dialect", "bare-token"])
        defer { sandbox.stop() }
        #expect(sandbox.endpoints["passport_dialect"] as? String == "bare-token")
        let result = try Run.curl(["--cacert", sandbox.caFile, "-D", "-", "-o", "/dev/null", "-H", Self.signIn, sandbox.httpsOrigin + "/login2.srf"])
        let info = try #require(result.stdout.split(separator: "\r\n").first { $0.hasPrefix("Authentication-Info:") })
        #expect(info.hasPrefix("Authentication-Info: Passport1.4 da-status=success,from-PP='"))
        #expect(info.hasSuffix("'") && !info.contains("t=") && !info.contains("&p="))
    }

    @Test("a state directory whose certificate lacks 127.0.0.2 gets a new one; one that has it keeps it")
    func certificateCoversOffsiteHost() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try CertificateAuthority.prepare(stateDirectory: directory, hosts: ["127.0.0.1"])
        #expect(try CertificateAuthority.prepare(stateDirectory: directory, hosts: ["127.0.0.1"]).serverCertificatePEM == old.serverCertificatePEM)
        let new = try CertificateAuthority.prepare(stateDirectory: directory, hosts: ["127.0.0.1", "127.0.0.2"])
        #expect(new.serverCertificatePEM != old.serverCertificatePEM, "reissued for the new address")
        #expect(new.caFile == old.caFile)
        #expect(try CertificateAuthority.prepare(stateDirectory: directory, hosts: ["127.0.0.1", "127.0.0.2"]).serverCertificatePEM == new.serverCertificatePEM)
        let text = try Run.program("/usr/bin/openssl", ["x509", "-noout", "-ext", "subjectAltName"], input: new.serverCertificatePEM)
        #expect(text.stdout.contains("IP Address:127.0.0.2") && text.stdout.contains("IP Address:127.0.0.1"), "\(text.stdout)")
        let verify = try Run.program("/usr/bin/openssl", ["verify", "-CAfile", new.caFile], input: new.serverCertificatePEM)
        #expect(verify.stdout.contains("OK"), "\(verify.stderr)")
    }
}
