import Foundation
import GKPassTestSupport
import Testing

/// `gkpass export` and `gkpass status`, and JSON errors, against a real login on the sandbox. The exported
/// cookies are proven by curl and wget fetching the sandbox's chat room page with them.
@Suite("gkpass export and status (binary, sandbox)", .serialized)
struct ExportStatusCommandTests {
    typealias Context = LoginCommandTests.Context

    static func gkpass(_ context: Context, _ arguments: [String]) throws -> Binary.Result {
        try TicketCommandTests.gkpass(context, arguments)
    }

    static func stored(_ context: Context) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try gkpass(context, ["ticket", "--format", "json"]).stdout)) as! [String: Any]
    }

    static func room(_ context: Context) -> String { (context.sandbox.endpoints["chat_site_url"] as! String) + "?rm=Exported" }

    @Test("netscape cookies.txt works with curl -b and wget --load-cookies; cookie-header with curl -H: the chat site knows us")
    func cookies() throws {
        let context = try TicketCommandTests.loggedIn()
        let jar = context.state + "-cookies.txt"
        defer { try? FileManager.default.removeItem(atPath: jar) }
        let netscape = try Self.gkpass(context, ["export", "--format", "netscape"])
        #expect(netscape.status == 0, "\(netscape.stderr)")
        let text = String(decoding: netscape.stdout, as: UTF8.self)
        #expect(text.hasPrefix("# Netscape HTTP Cookie File\n"))
        #expect(text.contains("127.0.0.1\tFALSE\t/\tTRUE\t") && text.contains("\tMSPAuth\t") && !text.contains("MSNREGCookie"))
        #expect(FileManager.default.createFile(atPath: jar, contents: Data(netscape.stdout), attributes: [.posixPermissions: 0o600]))
        let curl = try Run.curl(["--cacert", context.sandbox.caFile, "-b", jar, Self.room(context)])
        let ticket = try Self.stored(context)["ticket"] as! String
        #expect(curl.stdout.contains("<PARAM NAME=\"PassportTicket\" VALUE=\"\(ticket)\">"), "\(curl.stdout)")
        let wget = try Run.program("/usr/bin/wget", ["-q", "-O", "-", "--ca-certificate", context.sandbox.caFile, "--load-cookies", jar, Self.room(context)])
        #expect(wget.stdout.contains("NAME=\"MSNREGCookie\""), "\(wget.stderr)")
        let header = String(decoding: try Self.gkpass(context, ["export", "--format", "cookie-header"]).stdout, as: UTF8.self)
        #expect(header.hasPrefix("Cookie: MSNChatNN=Demo; MSPAuth=") && header.hasSuffix("\n"))
        let byHeader = try Run.curl(["--cacert", context.sandbox.caFile, "-H", header.trimmingCharacters(in: .newlines), Self.room(context)])
        #expect(byHeader.stdout.contains("NAME=\"PassportProfile\""))
        // Without the cookies the chat site sends us to sign in: the pages above were earned by the export.
        let anonymous = try Run.curl(["--cacert", context.sandbox.caFile, "-o", "/dev/null", "-w", "%{http_code}", Self.room(context)])
        #expect(anonymous.stdout == "302")
    }

    @Test("env: export lines for eval with every value the login collected; json is the stored document")
    func envAndJSON() throws {
        let context = try TicketCommandTests.loggedIn()
        let stored = try Self.stored(context)
        let cookies = stored["cookies"] as! [String: String]
        let shell = try Binary.run("/bin/sh", ["-c", "eval \"$('\(Binary.directory.path)/gkpass' export --format env)\" && printf '%s|%s|%s' \"$GKPASS_PROFILE\" \"$GKPASS_MSNREGCOOKIE\" \"$GKPASS_MSNCHATNN\""],
            environment: context.environment(keyring: false), absolute: true)
        #expect(String(decoding: shell.stdout, as: UTF8.self) == "\(stored["profile"] as! String)|\(cookies["MSNREGCookie"]!)|Demo")
        let env = String(decoding: try Self.gkpass(context, ["export", "--format", "env"]).stdout, as: UTF8.self)
        #expect(env.split(separator: "\n").allSatisfy { $0.hasPrefix("export GKPASS_") })
        #expect(!env.contains("GKPASS_SUBSCRIBERINFO") && !env.contains("GKPASS_USERROLE"), "the demo account has neither: nothing invented")
        #expect(try Self.gkpass(context, ["export", "--format", "json"]).stdout == (try Self.gkpass(context, ["ticket", "--format", "json"])).stdout)
        #expect(try Self.gkpass(context, ["export"]).status == 2, "--format is required")
    }

    @Test("status: text and JSON with names but no secret values; expired prints and exits 4; errors as JSON with --json")
    func status() throws {
        let context = try TicketCommandTests.loggedIn()
        let stored = try Self.stored(context)
        let text = try Self.gkpass(context, ["status"])
        let output = String(decoding: text.stdout, as: UTF8.self)
        #expect(text.status == 0 && output.hasPrefix("account   demo@passport.test (default)\n"), "\(output)")
        #expect(output.contains("cookies   MSNChatNN MSPAuth MSPProf") && output.contains("password  not remembered"))
        #expect(!output.contains(stored["ticket"] as! String) && !output.contains(stored["profile"] as! String))
        let json = try JSONSerialization.jsonObject(with: Data(try Self.gkpass(context, ["status", "--json"]).stdout)) as! [String: Any]
        #expect(json["account"] as? String == "demo@passport.test" && json["store"] as? String == "file" && json["expired"] as? Bool == false)
        #expect((json["page_values"] as? [String])?.contains("MSNREGCookie") == true)

        let missing = try Self.gkpass(context, ["status", "nobody@passport.test", "--json"])
        #expect(missing.status == 3)
        let error = try JSONSerialization.jsonObject(with: Data(missing.stderr.utf8)) as? [String: Any]
        #expect(error?["code"] as? Int == 3 && (error?["message"] as? String)?.contains("no ticket") == true, "\(missing.stderr)")
        let usage = try Self.gkpass(context, ["list", "--json", "--bogus"])
        let usageError = try JSONSerialization.jsonObject(with: Data(usage.stderr.utf8)) as? [String: Any]
        #expect(usage.status == 2 && usageError?["code"] as? Int == 2)

        let short = try TicketCommandTests.loggedIn()
        try StoredTicketFile.expire(short.ticketFile)
        let expired = try Self.gkpass(short, ["status"])
        #expect(expired.status == 4 && String(decoding: expired.stdout, as: UTF8.self).contains("(EXPIRED)"))
    }

    @Test("an unsafe store file is exit 6 for export and status too")
    func unsafe() throws {
        let context = try TicketCommandTests.loggedIn()
        chmod(context.ticketFile, 0o644)
        for arguments in [["export", "--format", "env"], ["status"], ["ticket"]] {
            let result = try Self.gkpass(context, arguments)
            #expect(result.status == 6 && result.stdout.isEmpty, "\(arguments): \(result.stderr)")
        }
    }
}
