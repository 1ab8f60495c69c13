import Foundation
import GKPassSandbox
import GKPassTestSupport
import Testing

/// The real `gkpass-sandbox` binary speaking each dialect, seen with curl only.
@Suite("gkpass-sandbox dialects (real binary, curl)", .serialized)
struct SandboxDialectEndToEndTests {
    static let signIn = "Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=demo%40passport.test,pwd=sandbox-demo,lc=1033"

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
}
