import Foundation
import GKPassTestSupport
import GKText
import Passport
import Testing

/// The Passport flows over libcurl against the real gkpass-sandbox, over TLS trusted through its CA file.
@Suite("Passport login flows against the sandbox", .serialized)
struct LoginFlowTests {
    static func session(_ sandbox: SandboxProcess, timeout: Int = 20, trust: Bool = true) throws -> PassportSession {
        let client = try HTTPClient(options: .init(caFile: trust ? sandbox.caFile : "/etc/ssl/certs/ca-certificates.crt", connectTimeout: 5, totalTimeout: timeout, userAgent: "gkpass-test"))
        return PassportSession(client: client, now: Int64(Date().timeIntervalSince1970))
    }

    static func url(_ sandbox: SandboxProcess, _ path: String) -> PassportURL { PassportURL(sandbox.httpsOrigin + path)! }

    func expectError(_ kind: PassportError.Kind, containing fragment: String? = nil, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(kind)")
        } catch let error as PassportError {
            #expect(error.kind == kind, "\(error)")
            if let fragment { #expect(error.message.contains(fragment), "\(error.message)") }
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("Tweener: nexus, then the DA; two requests; the tickets are the sandbox's")
    func tweener() throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let session = try Self.session(sandbox)
        let da = try TweenerLogin.discoverDA(session, nexus: Self.url(sandbox, "/rdr/pprdr.asp"))
        #expect(da.path == "/login2.srf")
        let tickets = try TweenerLogin.signIn(session, da: da, member: "demo@passport.test", password: "sandbox-demo")
        #expect(!tickets.ticket.isEmpty && !tickets.profile.isEmpty)
        #expect(session.requestCount == 2)
    }

    @Test("Tweener: a member on the second DA is followed there with the same Authorization; wrong password is rejected with the server's words")
    func tweenerRedirectAndReject() throws {
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("acc-\(UUID().uuidString).json").path
        try #"{"accounts": [{"member": "far@passport.test", "password": "p,w=%", "nickname": "Far", "puid": "00000000000000FA", "da": "secondary"}]}"#.write(toFile: accounts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accounts) }
        let sandbox = try SandboxProcess(["--accounts", accounts])
        defer { sandbox.stop() }
        let session = try Self.session(sandbox)
        let tickets = try TweenerLogin.signIn(session, da: Self.url(sandbox, "/login2.srf"), member: "far@passport.test", password: "p,w=%")
        #expect(!tickets.ticket.isEmpty)
        #expect(session.requestCount == 2)
        expectError(.rejected, containing: "The e-mail address or password is incorrect.") {
            _ = try TweenerLogin.signIn(try Self.session(sandbox), da: Self.url(sandbox, "/login2.srf"), member: "demo@passport.test", password: "nope")
        }
    }

    @Test("web form, then the chat site: MSNChatNN and the PARAMs, with the same tickets")
    func webAndChat() throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let session = try Self.session(sandbox)
        let (tickets, landing) = try WebLogin.signIn(
            session, postURL: Self.url(sandbox, "/ppsecure/post.srf"), siteID: "2260",
            returnURL: sandbox.httpsOrigin + "/chatroom.msnw?rm=TheLobby", member: "demo@passport.test", password: "sandbox-demo")
        #expect(tickets.cookieExpiry != nil, "the DA's MSPAuth cookie carries an expiry")
        let chat = try ChatSiteStep.run(session, room: landing)
        #expect(chat.params["PassportTicket"] == tickets.ticket)
        #expect(chat.params["PassportProfile"] == tickets.profile)
        #expect(chat.params["NickName"] == "Demo" && chat.nickname == "Demo")
        #expect(chat.params["MSNREGCookie"] != nil)
        #expect(session.requestCount == 4, "post.srf, chatroom, msnredir, chatroom")
    }

    @Test("web form failures map the ec= codes", arguments: [
        ("demo@passport.test", "wrong", PassportError.Kind.rejected, "password"),
        ("nobody@passport.test", "x", .rejected, "not a Passport"),
        ("no-at-sign", "x", .configuration, "valid e-mail"),
    ])
    func webErrors(member: String, password: String, kind: PassportError.Kind, fragment: String) throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        expectError(kind, containing: fragment) {
            _ = try WebLogin.signIn(try Self.session(sandbox), postURL: Self.url(sandbox, "/ppsecure/post.srf"), siteID: "2260",
                returnURL: sandbox.httpsOrigin + "/chatroom.msnw?rm=A", member: member, password: password)
        }
    }

    @Test("faults become typed errors: 5xx, dropped connection, broken headers, redirect loop, slow server, untrusted CA")
    func faults() throws {
        let login = { (sandbox: SandboxProcess, session: PassportSession) throws -> Void in
            _ = try TweenerLogin.signIn(session, da: Self.url(sandbox, "/login2.srf"), member: "demo@passport.test", password: "sandbox-demo")
        }
        // 5xx and a dropped connection are transient (refresh may try again); a malformed answer and a redirect loop
        // are final, so the password is not sent again.
        for (fault, kind, fragment, transient) in [
            ("http-5xx", PassportError.Kind.server, "503", true), ("drop", .network, "without answering", true),
            ("malformed-headers", .unreadable, "malformed", false), ("redirect-loop", .redirectLoop, "more than", false),
        ] {
            let sandbox = try SandboxProcess(["--fault", fault])
            defer { sandbox.stop() }
            expectError(kind, containing: fragment) { try login(sandbox, try Self.session(sandbox)) }
            #expect(PassportError(kind, "").isTransient == transient, "\(fault)")
        }
        let slow = try SandboxProcess(["--fault", "slow", "--slow-seconds", "5"])
        defer { slow.stop() }
        expectError(.network, containing: "did not answer in time") { try login(slow, try Self.session(slow, timeout: 1)) }
        let plain = try SandboxProcess()
        defer { plain.stop() }
        expectError(.tls, containing: "does not trust") { try login(plain, try Self.session(plain, trust: false)) }
    }

    @Test("the --verbose trace shows every request but no password, ticket, profile or cookie value")
    func redactedTrace() throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let session = try Self.session(sandbox)
        var lines: [String] = []
        session.trace = { lines.append($0) }
        let (tickets, landing) = try WebLogin.signIn(
            session, postURL: Self.url(sandbox, "/ppsecure/post.srf"), siteID: "2260",
            returnURL: sandbox.httpsOrigin + "/chatroom.msnw?rm=TheLobby", member: "demo@passport.test", password: "sandbox-demo")
        let chat = try ChatSiteStep.run(session, room: landing)
        let text = lines.joined(separator: "\n")
        #expect(text.contains("> POST ") && text.contains("< 302"))
        for secret in ["sandbox-demo", tickets.ticket, tickets.profile, PercentEncoding.encode(tickets.ticket), chat.params["MSNREGCookie"]!] {
            #expect(!text.contains(secret), "a secret leaked into the trace")
        }
        #expect(text.contains("‹redacted:"))
        // The form body's shape: field names and the public values, the member name and password fingerprinted.
        #expect(text.contains("> (body) login=‹redacted:") && text.contains("&passwd=‹redacted:") && text.contains("&id=2260&ru="), "\(text)")
    }
}
