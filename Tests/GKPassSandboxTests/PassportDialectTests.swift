import Foundation
import GKPassSandbox
import GKPassTestSupport
import GateKeeper
import Testing

/// How the sandbox models servers that differ: DA dialects, long tickets, and DAs a redirect points off-site.
@Suite("Passport dialects, long tickets and redirecting DAs (pure)")
struct PassportDialectTests {
    static let now: Int64 = 1_800_000_000
    static let tokens = PassportV4(secret: PassportV4.defaultSecret)
    static let long = SandboxAccount(
        member: "long@passport.test", password: "long-pw", nickname: "Long", puid: "00000000000010F6", ticketPadding: 600)

    static func configuration(_ dialect: PassportDialect = .msn2003, faults: Set<SandboxFault> = []) -> SandboxConfiguration {
        var configuration = SandboxConfiguration(httpsPort: 4443, ircxPort: 6667, accounts: [.demo, long], faults: faults)
        configuration.passportDialect = dialect
        return configuration
    }

    static func signIn(_ site: PassportSite, member: String = "demo@passport.test", password: String = "sandbox-demo") -> (SiteResponse, PassportSite.Event?) {
        let header = "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=\(FormEncoding.encode(member)),pwd=\(FormEncoding.encode(password)),lc=1033"
        return site.handle(SiteRequest(method: "GET", target: PassportSite.primaryDAPath, headers: [("Authorization", header)]), now: now)
    }

    static func header(_ response: SiteResponse, _ name: String) -> String? {
        response.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    static func body(_ response: SiteResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    /// The text between `start` and the next `end` in `text`.
    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let from = text.range(of: start) else { return nil }
        let rest = text[from.upperBound...]
        guard let to = rest.range(of: end) else { return nil }
        return String(rest[..<to.lowerBound])
    }

    // MARK: - Dialects at the DA

    @Test("each dialect's success header, exactly")
    func successHeaders() {
        #expect(
            PassportSite.successInfo(dialect: .msn2003, ticket: "TICKET", profile: "PROFILE")
                == "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t=TICKET&p=PROFILE',ru=http://messenger.msn.com")
        #expect(PassportSite.successInfo(dialect: .bareToken, ticket: "TICKET", profile: "PROFILE") == "Passport1.4 da-status=success,from-PP='TICKET'")
        #expect(
            PassportSite.successInfo(dialect: .tOnly, ticket: "TICKET", profile: "PROFILE")
                == "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPSec,from-PP='t=TICKET',ru=http://messenger.msn.com")
    }

    @Test("msn2003 (the default) answers t= and p=, both genuine")
    func msn2003() throws {
        #expect(SandboxConfiguration().passportDialect == .msn2003)
        let (response, _) = Self.signIn(PassportSite(configuration: Self.configuration()))
        let info = try #require(Self.header(response, "Authentication-Info"))
        let t = try #require(Self.between(info, "from-PP='t=", "&p="))
        let p = try #require(Self.between(info, "&p=", "'"))
        #expect(info == "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t=\(t)&p=\(p)',ru=http://messenger.msn.com")
        #expect(Self.tokens.open(t)?["puid"] == "0001A2B3C4D5E6F7")
        #expect(Self.tokens.open(p)?["pid"] == "0001A2B3C4D5E6F7")
    }

    @Test("bare-token answers the ticket alone as from-PP, and it carries puid, domain, ts and ttl")
    func bareToken() throws {
        let (response, event) = Self.signIn(PassportSite(configuration: Self.configuration(.bareToken)))
        #expect(response.status == 200)
        #expect(event?.result == "success")
        let info = try #require(Self.header(response, "Authentication-Info"))
        let token = try #require(Self.between(info, "from-PP='", "'"))
        #expect(info == "Passport1.4 da-status=success,from-PP='\(token)'")
        #expect(!token.contains("t=") && !token.contains("&p="))
        let fields = try #require(Self.tokens.open(token))
        #expect(fields["puid"] == "0001A2B3C4D5E6F7" && fields["domain"] == "GateKeeperPassport")
        #expect(fields["ts"] == String(Self.now) && fields["ttl"] == "86400")
    }

    @Test("t-only answers t= and no p=")
    func tOnly() throws {
        let (response, _) = Self.signIn(PassportSite(configuration: Self.configuration(.tOnly)))
        let info = try #require(Self.header(response, "Authentication-Info"))
        let t = try #require(Self.between(info, "from-PP='t=", "'"))
        #expect(info == "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPSec,from-PP='t=\(t)',ru=http://messenger.msn.com")
        #expect(!info.contains("&p=") && !info.contains("MSPProf"))
        #expect(Self.tokens.open(t)?["puid"] == "0001A2B3C4D5E6F7")
    }

    @Test("without profiles the web form returns t= alone and sets no MSPProf", arguments: [PassportDialect.bareToken, .tOnly])
    func webFormWithoutProfile(dialect: PassportDialect) throws {
        let site = PassportSite(configuration: Self.configuration(dialect))
        let ru = FormEncoding.encode("https://127.0.0.1:4443/chatroom.msnw?rm=A")
        let (response, _) = site.handle(SiteRequest(method: "GET", target: "/ppsecure/post.srf?id=2260&login=demo%40passport.test&passwd=sandbox-demo&ru=\(ru)"), now: Self.now)
        #expect(response.status == 302)
        let location = try #require(Self.header(response, "Location"))
        #expect(location.hasPrefix("https://127.0.0.1:4443/chatroom.msnw?rm=A&t="))
        #expect(!location.contains("&p="))
        let cookies = response.headers.filter { $0.name == "Set-Cookie" }.map(\.value)
        #expect(cookies.contains { $0.hasPrefix("MSPAuth=") })
        #expect(!cookies.contains { $0.hasPrefix("MSPProf=") })
    }

    // MARK: - The chat site without profiles

    @Test("without profiles the chat page takes t= alone, or MSPAuth alone, and leaves PassportProfile empty", arguments: [PassportDialect.bareToken, .tOnly])
    func chatPageWithoutProfile(dialect: PassportDialect) throws {
        let site = PassportSite(configuration: Self.configuration(dialect))
        let ticket = site.credentials(for: .demo, now: Self.now)
        #expect(ticket.profile == nil)
        let fromQuery = site.handle(
            SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A&t=\(FormEncoding.encode(ticket.ticket))", headers: [("Cookie", "MSNChatNN=Demo")]),
            now: Self.now
        ).0
        #expect(fromQuery.status == 200)
        let html = Self.body(fromQuery)
        #expect(html.contains("<PARAM NAME=\"PassportTicket\" VALUE=\"\(ticket.ticket)\">"))
        #expect(html.contains("<PARAM NAME=\"PassportProfile\" VALUE=\"\">"))
        #expect(fromQuery.headers.filter { $0.name == "Set-Cookie" }.map(\.value) == ["MSPAuth=\(ticket.ticket); path=/"])

        let fromCookie = site.handle(
            SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A", headers: [("Cookie", "MSPAuth=\(ticket.ticket); MSNChatNN=Demo")]), now: Self.now
        ).0
        #expect(fromCookie.status == 200)
        #expect(Self.body(fromCookie).contains("<PARAM NAME=\"PassportProfile\" VALUE=\"\">"))

        // A forged ticket is still refused: the ticket alone is verified, not trusted.
        let forged = site.handle(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A", headers: [("Cookie", "MSPAuth=AAAA; MSNChatNN=Demo")]), now: Self.now).0
        #expect(forged.status == 302 && Self.header(forged, "Location")?.contains("/ppsecure/login.srf") == true)
    }

    @Test("msn2003 still needs the profile at the chat site: t= or MSPAuth alone is sent to sign in")
    func chatPageNeedsProfileInMSN2003() throws {
        let site = PassportSite(configuration: Self.configuration())
        let ticket = site.issueTickets(for: .demo, now: Self.now).ticket
        for request in [
            SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A&t=\(FormEncoding.encode(ticket))", headers: [("Cookie", "MSNChatNN=Demo")]),
            SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A", headers: [("Cookie", "MSPAuth=\(ticket); MSNChatNN=Demo")]),
            SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A", headers: [("Cookie", "MSPAuth=\(ticket); MSPProf=; MSNChatNN=Demo")]),
        ] {
            let response = site.handle(request, now: Self.now).0
            #expect(response.status == 302)
            #expect(Self.header(response, "Location")?.contains("/ppsecure/login.srf") == true)
        }
    }

    // MARK: - The IRCX server without profiles

    static func harness(_ dialect: PassportDialect) -> IRCXSessionTests.Harness {
        var configuration = SandboxConfiguration(ircxPort: 6667, accounts: [.demo, long])
        configuration.passportDialect = dialect
        return IRCXSessionTests.Harness(configuration)
    }

    @Test("without profiles the IRCX server takes a blob whose profile is empty", arguments: [PassportDialect.bareToken, .tOnly])
    func ircxTicketOnly(dialect: PassportDialect) throws {
        let h = Self.harness(dialect)
        let ticket = PassportSite(configuration: h.configuration).credentials(for: .demo, now: Self.now).ticket
        let blob = PassportBlob(first: Array(ticket.utf8), second: [])
        #expect(blob.encoded().suffix(8) == Array("00000000".utf8))
        let (s, c) = h.connect()
        #expect(try h.authenticate(s, c, package: .gateKeeperPassport, blob: blob) == "AUTH GateKeeperPassport * 0001A2B3C4D5E6F7@GateKeeperPassport 0")

        // Still verified: a forged ticket, or an expired one, is 910.
        let (s2, c2) = h.connect()
        #expect(try h.authenticate(s2, c2, package: .gateKeeperPassport, blob: PassportBlob(first: Array("forged".utf8), second: [])).contains(" 910 "))
        let old = PassportSite(configuration: h.configuration).credentials(for: .demo, now: Self.now - 200_000).ticket
        let (s3, c3) = h.connect()
        #expect(try h.authenticate(s3, c3, package: .gateKeeperPassport, blob: PassportBlob(first: Array(old.utf8), second: [])).contains(" 910 "))
    }

    @Test("msn2003 refuses a blob whose profile is empty")
    func ircxNeedsProfileInMSN2003() throws {
        let h = Self.harness(.msn2003)
        let ticket = PassportSite(configuration: h.configuration).issueTickets(for: .demo, now: Self.now).ticket
        let (s, c) = h.connect()
        #expect(try h.authenticate(s, c, package: .gateKeeperPassport, blob: PassportBlob(first: Array(ticket.utf8), second: [])).contains(" 910 "))
        #expect(c.closed)
    }

    // MARK: - Long tickets

    /// The lengths an unpadded demo ticket comes out at. They differ from seal to seal (the signature's escaping moves
    /// the plaintext across an AES block now and then, about one seal in seven), so enough seals to see both.
    static func plainTicketLengths(_ site: PassportSite) -> [Int] {
        (0..<200).map { _ in site.issueTickets(for: .demo, now: now).ticket.utf8.count }
    }

    @Test("ticket_padding makes the ticket that much longer (within one AES block), and it still opens")
    func ticketPadding() throws {
        let site = PassportSite(configuration: Self.configuration(.bareToken))
        let plain = Self.plainTicketLengths(site)
        let long = site.issueTickets(for: Self.long, now: Self.now).ticket
        #expect(long.utf8.count >= 600)
        #expect(long.utf8.count >= plain.min()! + 600)
        #expect(long.utf8.count <= plain.max()! + 600 + 24, "not 4/3 of the padding: base64's growth is counted")
        let fields = try #require(Self.tokens.open(long))
        #expect(fields["puid"] == Self.long.puid && fields["domain"] == "GateKeeperPassport" && fields["ts"] == String(Self.now))
        #expect(fields["pad"]?.allSatisfy { $0 == "0" } == true)

        // The DA hands out the long ticket.
        let (response, _) = Self.signIn(site, member: Self.long.member, password: Self.long.password)
        let token = try #require(Self.header(response, "Authentication-Info").flatMap { Self.between($0, "from-PP='", "'") })
        #expect(token.utf8.count >= 600)
        #expect(Self.tokens.open(token)?["puid"] == Self.long.puid)
    }

    @Test("small and large paddings grow the ticket by about that much", arguments: [1, 7, 16, 33, 450, 4000])
    func paddingSizes(padding: Int) throws {
        var account = SandboxAccount.demo
        account.ticketPadding = padding
        let site = PassportSite(configuration: Self.configuration())
        let plain = Self.plainTicketLengths(site)
        for _ in 0..<4 {
            let padded = site.issueTickets(for: account, now: Self.now).ticket.utf8.count
            #expect(padded >= plain.min()! + padding)
            #expect(padded <= plain.max()! + padding + 24)
        }
    }

    @Test("the accounts file: ticket_padding is read, bounded, and optional")
    func accountsFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"accounts": [{"member": "a@passport.test", "password": "p", "nickname": "A", "puid": "000000000000000A", "ticket_padding": 700}, {"member": "b@passport.test", "password": "p", "nickname": "B", "puid": "000000000000000B"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let accounts = try SandboxAccount.load(path: path)
        #expect(accounts.map(\.ticketPadding) == [700, nil])
        for bad in ["-1", "16385"] {
            try #"{"accounts": [{"member": "a@passport.test", "password": "p", "nickname": "A", "puid": "000000000000000A", "ticket_padding": \#(bad)}]}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: SandboxError.self) { try SandboxAccount.load(path: path) }
        }
        try #"{"accounts": [{"member": "a@passport.test", "password": "p", "nickname": "A"}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SandboxError.self, "puid is required") { try SandboxAccount.load(path: path) }
    }

    // MARK: - Redirecting DAs

    @Test("da-offsite-redirect: 302, da-status=redir, Location on the other loopback address; before any password check")
    func offsiteRedirect() throws {
        var configuration = Self.configuration(faults: [.daOffsiteRedirect])
        configuration.offsiteDAURL = "https://127.0.0.2:4444/login2.srf"
        let site = PassportSite(configuration: configuration)
        for password in ["sandbox-demo", "wrong"] {
            let (response, event) = Self.signIn(site, password: password)
            #expect(response.status == 302)
            #expect(Self.header(response, "Authentication-Info") == "Passport1.4 da-status=redir")
            #expect(Self.header(response, "Location") == "https://127.0.0.2:4444/login2.srf")
            #expect(event?.kind == "tweener" && event?.member == "demo@passport.test" && event?.result == "redirected-offsite")
        }
        // The second DA path and the rest of the site are unchanged.
        let second = site.handle(SiteRequest(method: "GET", target: PassportSite.secondaryDAPath), now: Self.now).0
        #expect(second.status == 401)
    }

    @Test("da-plain-redirect: 302, da-status=redir, Location on plain http")
    func plainRedirect() throws {
        var configuration = Self.configuration(faults: [.daPlainRedirect])
        configuration.plainDAURL = "http://127.0.0.1:8080/login2.srf"
        let (response, event) = Self.signIn(PassportSite(configuration: configuration))
        #expect(response.status == 302)
        #expect(Self.header(response, "Authentication-Info") == "Passport1.4 da-status=redir")
        #expect(Self.header(response, "Location") == "http://127.0.0.1:8080/login2.srf")
        #expect(event?.result == "redirected-plain")
    }

    @Test("the other DA signs in whoever sends it the password, in the network's dialect, and serves nothing else")
    func otherDA() throws {
        var configuration = Self.configuration(.tOnly, faults: [.daOffsiteRedirect, .redirectLoop, .http5xx])
        configuration.offsiteDAURL = "https://127.0.0.2:4444/login2.srf"
        let other = PassportSite(configuration: configuration, role: .otherDA(origin: "https://127.0.0.2:4444"))
        let (response, event) = Self.signIn(other)
        #expect(response.status == 200, "it never redirects further, nor fails with the site's faults")
        #expect(event?.result == "success")
        let t = try #require(Self.header(response, "Authentication-Info").flatMap { Self.between($0, "from-PP='t=", "'") })
        #expect(Self.tokens.open(t)?["puid"] == "0001A2B3C4D5E6F7")
        let wrong = Self.signIn(other, password: "wrong").0
        #expect(wrong.status == 401)
        #expect(Self.header(wrong, "WWW-Authenticate")?.contains("cburl=https://127.0.0.2:4444/images/passport.gif") == true)
        for path in ["/rdr/pprdr.asp", "/chatroom.msnw", "/ppsecure/post.srf", "/loginnet/login2.srf"] {
            #expect(other.handle(SiteRequest(method: "GET", target: path), now: Self.now).0.status == 404, "\(path)")
        }
    }

    @Test("the off-site host is another IPv4 loopback address, or none")
    func offsiteHost() {
        #expect(SandboxConfiguration.offsiteHost(forListenAddress: "127.0.0.1") == "127.0.0.2")
        #expect(SandboxConfiguration.offsiteHost(forListenAddress: "127.5.6.7") == "127.0.0.2")
        #expect(SandboxConfiguration.offsiteHost(forListenAddress: "127.0.0.2") == "127.0.0.3")
        #expect(SandboxConfiguration.offsiteHost(forListenAddress: "::1") == nil)
        #expect(SandboxConfiguration.offsiteHost(forListenAddress: "192.168.1.2") == nil)
        #expect(SandboxConfiguration.offsiteHost(forListenAddress: "127.0.0") == nil)
    }

    // MARK: - Password-bearing requests

    @Test("which requests carry a password: Tweener pwd, the form's passwd in a body or a query")
    func carriesPassword() {
        let form = [("Content-Type", "application/x-www-form-urlencoded")]
        #expect(PassportSite.carriesPassword(SiteRequest(method: "GET", target: "/login2.srf", headers: [("Authorization", "Passport1.4 sign-in=a%40b.c,pwd=x")])))
        #expect(PassportSite.carriesPassword(SiteRequest(method: "GET", target: "/x", headers: [("authorization", "passport1.4 sign-in=a, PWD =%ZZ")])), "undecodable still counts")
        #expect(PassportSite.carriesPassword(SiteRequest(method: "POST", target: "/ppsecure/post.srf", headers: form, body: Array("login=a&passwd=b".utf8))))
        #expect(PassportSite.carriesPassword(SiteRequest(method: "GET", target: "/ppsecure/post.srf?login=a&passwd=b")))
        #expect(!PassportSite.carriesPassword(SiteRequest(method: "GET", target: "/login2.srf", headers: [("Authorization", "Passport1.4 sign-in=a%40b.c")])))
        #expect(!PassportSite.carriesPassword(SiteRequest(method: "GET", target: "/rdr/pprdr.asp")))
        #expect(!PassportSite.carriesPassword(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A&t=x&p=y")))
    }
}
