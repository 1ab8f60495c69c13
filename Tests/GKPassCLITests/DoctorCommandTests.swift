import Foundation
import GKPassTestSupport
import Testing

/// `gkpass doctor` against real pieces: the keyring session, the sandbox, config networks with good and bad CAs,
/// a server with a wrong clock, a loose store directory.
@Suite("gkpass doctor (binary, sandbox, keyring)", .serialized)
struct DoctorCommandTests {
    typealias Context = LoginCommandTests.Context

    static func doctor(_ environment: [String: String], json: Bool = true) throws -> (Binary.Result, [[String: Any]]) {
        let result = try Binary.run("gkpass", ["doctor"] + (json ? ["--json"] : []), environment: environment)
        let checks = json ? (try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [[String: Any]] ?? []) : []
        return (result, checks)
    }

    static func check(_ checks: [[String: Any]], _ name: String) -> (status: String, detail: String, fix: String?)? {
        guard let check = checks.first(where: { $0["name"] as? String == name }) else { return nil }
        return (check["status"] as! String, check["detail"] as! String, check["fix"] as? String)
    }

    @Test("all well: the keyring session, an unlocked collection, the sandbox reachable with agreeing clocks, a valid ticket",
        .enabled(if: ProcessInfo.processInfo.environment["GNOME_KEYRING_CONTROL"] != nil))
    func healthy() throws {
        let context = try Context()
        #expect(try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false).status == 0)
        let (result, checks) = try Self.doctor(context.environment())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.check(checks, "libcurl")?.status == "ok")
        #expect(Self.check(checks, "session bus")?.status == "ok")
        #expect(Self.check(checks, "libsecret")?.status == "ok")
        #expect(Self.check(checks, "secret service")?.status == "ok")
        #expect(Self.check(checks, "default keyring")?.detail == "unlocked")
        #expect(Self.check(checks, "file store")?.status == "ok")
        let network = Self.check(checks, "network sandbox")
        #expect(network?.status == "ok" && network?.detail.contains("TLS trusted") == true && network?.detail.contains("clocks agree") == true, "\(String(describing: network))")
        #expect(Self.check(checks, "account demo@passport.test")?.detail.hasPrefix("valid for") == true)
    }

    @Test("trouble: an untrusted CA fails with the TLS reason, a wrong server clock warns, a loose store fails; exit 6 (the loose store, the first failure); text output prints fixes")
    func trouble() throws {
        let context = try Context()
        let skewed = try SandboxProcess(["--clock-offset", "3600"])
        defer { skewed.stop() }
        let config = context.state + "-config.toml"
        try """
            [networks.untrusted]
            flow = "web"
            login_url = "\(context.sandbox.endpoints["web_login_url"] as! String)"
            chat_room_url = "\(context.sandbox.endpoints["chat_site_url"] as! String)"
            ca_file = "\(skewed.caFile)"

            [networks.skewed]
            flow = "web"
            login_url = "\(skewed.endpoints["web_login_url"] as! String)"
            chat_room_url = "\(skewed.endpoints["chat_site_url"] as! String)"
            ca_file = "\(skewed.caFile)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        var environment = context.environment(keyring: false)
        environment["GKPASS_CONFIG"] = config
        try FileManager.default.createDirectory(atPath: context.state + "/gkpass", withIntermediateDirectories: true)
        chmod(context.state + "/gkpass", 0o755)
        let (result, checks) = try Self.doctor(environment)
        // The first failed check decides the exit status: the store (6), printed before the networks (7).
        #expect(result.status == 6, "\(result.stderr)")
        #expect(Self.check(checks, "libcurl")?.status == "ok")
        #expect(Self.check(checks, "session bus")?.status == "warning")
        let untrusted = Self.check(checks, "network untrusted")
        #expect(untrusted?.status == "failed" && untrusted?.detail.contains("signed by a CA this network does not trust") == true, "\(String(describing: untrusted))")
        let skew = Self.check(checks, "network skewed")
        #expect(skew?.status == "warning" && skew?.detail.contains("ahead of this machine's") == true && skew?.fix?.contains("timedatectl") == true, "\(String(describing: skew))")
        let store = Self.check(checks, "file store")
        #expect(store?.status == "failed" && store?.fix?.contains("chmod 700") == true)
        let (text, _) = try Self.doctor(environment, json: false)
        let output = String(decoding: text.stdout, as: UTF8.self)
        #expect(text.status == 6 && output.contains("FAIL  file store:") && output.contains("      fix: chmod 700"), "\(output)")
        // A broken config is a failed check with its file and line, not a crash.
        try "[networks.x]\nflow = 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        chmod(context.state + "/gkpass", 0o700)
        let (brokenResult, broken) = try Self.doctor(environment)
        #expect(Self.check(broken, "config")?.detail.contains("\(config):2:") == true)
        #expect(brokenResult.status == 2, "a config error is a usage error, as for every command that reads it")
    }
}
