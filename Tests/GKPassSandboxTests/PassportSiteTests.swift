import GKPassTestSupport
import GKPassSandbox
import Testing

@Suite("Passport and chat site (pure)")
struct PassportSiteTests {
    static let now: Int64 = 1_800_000_000
    static let alice = SandboxAccount(member: "alice@passport.test", password: "p,w=1%", nickname: "Alice", puid: "00000000000A11CE", subscriber: true, role: "G", da: .secondary)

    func site(_ faults: Set<SandboxFault> = []) -> PassportSite {
        PassportSite(configuration: SandboxConfiguration(httpsPort: 4443, ircxPort: 6667, accounts: [.demo, Self.alice], faults: faults))
    }

    func tweener(_ member: String, _ password: String, path: String = PassportSite.primaryDAPath, faults: Set<SandboxFault> = []) -> SiteResponse {
        let header = "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=\(FormEncoding.encode(member)),pwd=\(FormEncoding.encode(password)),lc=1033,id=507"
        return site(faults).handle(SiteRequest(method: "GET", target: path, headers: [("Authorization", header)]), now: Self.now).0
    }

    func header(_ response: SiteResponse, _ name: String) -> String? {
        response.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    @Test("the nexus names the DA without a scheme")
    func nexus() throws {
        let (response, _) = site().handle(SiteRequest(method: "GET", target: "/rdr/pprdr.asp"), now: Self.now)
        let urls = try #require(header(response, "PassportURLs"))
        #expect(urls.contains("DALogin=127.0.0.1:4443/login2.srf"))
        #expect(!urls.contains("https://"))
    }

    @Test("Passport1.4 fields: %-escapes decoded, a comma in the password survives escaping")
    func fields() throws {
        let fields = try #require(PassportSite.passportFields("Passport1.4 OrgVerb=GET,sign-in=a%40b.c,pwd=x%2Cy%3Dz,ct=1"))
        #expect(fields["sign-in"] == "a@b.c")
        #expect(fields["pwd"] == "x,y=z")
        #expect(PassportSite.passportFields("Basic abc") == nil)
    }

    @Test("Tweener success carries from-PP with t and p that open as a ticket and profile")
    func tweenerSuccess() throws {
        let response = tweener("DEMO@passport.test", "sandbox-demo")
        #expect(response.status == 200)
        let info = try #require(header(response, "Authentication-Info"))
        #expect(info.hasPrefix("Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t="))
        let fromPP = info[info.range(of: "from-PP='")!.upperBound...].prefix { $0 != "'" }
        let t = String(fromPP[fromPP.range(of: "t=")!.upperBound..<fromPP.range(of: "&p=")!.lowerBound])
        let p = String(fromPP[fromPP.range(of: "&p=")!.upperBound...])
        let tokens = PassportV4(secret: PassportV4.defaultSecret)
        #expect(tokens.open(t)?["puid"] == "0001A2B3C4D5E6F7")
        #expect(tokens.open(t)?["ts"] == String(Self.now))
        #expect(tokens.open(p)?["pid"] == "0001A2B3C4D5E6F7")
    }

    @Test("a member on the second DA is redirected there, and succeeds there")
    func secondDA() throws {
        let first = tweener("alice@passport.test", "p,w=1%")
        #expect(first.status == 302)
        #expect(header(first, "Authentication-Info") == "Passport1.4 da-status=redir")
        #expect(header(first, "Location") == "https://127.0.0.1:4443/loginnet/login2.srf?lc=1033")
        #expect(tweener("alice@passport.test", "p,w=1%", path: PassportSite.secondaryDAPath).status == 200)
    }

    @Test("wrong credentials: 401 with da-status=failed and the reason in cbtxt")
    func tweenerFailure() throws {
        for (member, password) in [("demo@passport.test", "nope"), ("nobody@passport.test", "x")] {
            let response = tweener(member, password)
            #expect(response.status == 401)
            let challenge = try #require(header(response, "WWW-Authenticate"))
            #expect(challenge.hasPrefix("Passport1.4 da-status=failed,srealm=Passport.NET"))
            #expect(challenge.contains("cbtxt=The%20e-mail%20address%20or%20password%20is%20incorrect."))
        }
        let none = site().handle(SiteRequest(method: "GET", target: "/login2.srf"), now: Self.now).0
        #expect(none.status == 401)
    }

    static let formCases: [(String, String, String)] = [
        ("", "", "e1"), ("", "x", "e2"), ("demo@passport.test", "", "e3"), ("demo", "x", "e5d"),
        ("demo@", "x", "e5e"), ("@passport.test", "x", "e5e"), ("de mo@passport.test", "x", "e5d"),
        ("nobody@passport.test", "x", "e5b"), ("demo@passport.test", "wrong", "e5a"),
    ]

    @Test("web form failures redirect with the Passport ec= codes", arguments: formCases)
    func formErrors(login: String, password: String, code: String) throws {
        let body = "login=\(FormEncoding.encode(login))&passwd=\(FormEncoding.encode(password))&id=2260&ru=\(FormEncoding.encode("https://127.0.0.1:4443/chatroom.msnw?rm=A"))"
        let request = SiteRequest(method: "POST", target: "/ppsecure/post.srf", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
        let (response, event) = site().handle(request, now: Self.now)
        #expect(response.status == 302)
        #expect(header(response, "Location")?.hasSuffix("&ec=\(code)") == true)
        #expect(event?.result == "ec=\(code)")
    }

    @Test("web form success returns to ru with t= and p= and sets the Passport cookies")
    func formSuccess() throws {
        let target = "/ppsecure/post.srf?id=2260&login=demo%40passport.test&passwd=sandbox-demo&ru=" + FormEncoding.encode("https://127.0.0.1:4443/chatroom.msnw?rm=A")
        let (response, _) = site().handle(SiteRequest(method: "GET", target: target), now: Self.now)
        #expect(response.status == 302)
        let location = try #require(header(response, "Location"))
        #expect(location.hasPrefix("https://127.0.0.1:4443/chatroom.msnw?rm=A&t="))
        #expect(location.contains("&p="))
        let cookies = response.headers.filter { $0.name == "Set-Cookie" }.map(\.value)
        #expect(cookies.contains { $0.hasPrefix("MSPAuth=") } && cookies.contains { $0.hasPrefix("MSPProf=") } && cookies.contains { $0.hasPrefix("MSPSec=") })
    }

    @Test("the web form refuses an unregistered site ID and a missing return URL")
    func formSiteChecks() {
        #expect(site().handle(SiteRequest(method: "GET", target: "/ppsecure/post.srf?id=1&ru=https%3A%2F%2Fx&login=a&passwd=b"), now: Self.now).0.status == 400)
        #expect(site().handle(SiteRequest(method: "GET", target: "/ppsecure/post.srf?id=2260&login=a&passwd=b"), now: Self.now).0.status == 400)
    }

    @Test("chat site: login redirect, then msnredir sets MSNChatNN, then the PARAM page")
    func chatFlow() throws {
        let s = site()
        let anonymous = s.handle(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=Lobby"), now: Self.now).0
        #expect(anonymous.status == 302 && header(anonymous, "Location")?.contains("/ppsecure/login.srf?id=2260&ru=") == true)

        let tickets = s.issueTickets(for: Self.alice, now: Self.now)
        let cookie = ("Cookie", "MSPAuth=\(tickets.ticket); MSPProf=\(tickets.profile)")
        let first = s.handle(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=Lobby", headers: [cookie]), now: Self.now).0
        let step = try #require(header(first, "Location"))
        #expect(step.hasPrefix("https://127.0.0.1:4443/msnchat/1033/utf8/msnredir.asp?ru="))

        let redirect = s.handle(SiteRequest(method: "GET", target: String(step.dropFirst("https://127.0.0.1:4443".count)), headers: [cookie]), now: Self.now).0
        #expect(header(redirect, "Set-Cookie") == "MSNChatNN=Alice; path=/")
        #expect(header(redirect, "Location") == "https://127.0.0.1:4443/chatroom.msnw?rm=Lobby")

        let page = s.handle(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=Lobby", headers: [("Cookie", cookie.1 + "; MSNChatNN=Alice")]), now: Self.now).0
        let html = String(decoding: page.body, as: UTF8.self)
        for name in ["PassportTicket", "PassportProfile", "MSNREGCookie", "NickName", "Server", "SubscriberInfo", "UserRole"] {
            #expect(html.contains("<PARAM NAME=\"\(name)\""), "\(name)")
        }
        #expect(html.contains("<PARAM NAME=\"Server\" VALUE=\"127.0.0.1:6667\">"))
        // The demo account has neither subscription nor role, so those PARAMs are omitted, not invented.
        let demo = s.issueTickets(for: .demo, now: Self.now)
        let demoPage = s.handle(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=Lobby&t=\(FormEncoding.encode(demo.ticket))&p=\(FormEncoding.encode(demo.profile))", headers: [("Cookie", "MSNChatNN=Demo")]), now: Self.now).0
        let demoHTML = String(decoding: demoPage.body, as: UTF8.self)
        #expect(demoHTML.contains("PassportTicket") && !demoHTML.contains("SubscriberInfo") && !demoHTML.contains("UserRole"))
    }

    @Test("msnredir refuses to send anyone off-site")
    func noOpenRedirect() {
        #expect(site().handle(SiteRequest(method: "GET", target: "/msnchat/1033/utf8/msnredir.asp?ru=https%3A%2F%2Fevil.example%2F"), now: Self.now).0.status == 400)
    }

    @Test("faults: http-5xx answers 503, redirect-loop points at itself, expired-tickets are refused by the chat site")
    func faults() throws {
        #expect(tweener("demo@passport.test", "sandbox-demo", faults: [.http5xx]).status == 503)
        let loop = tweener("demo@passport.test", "sandbox-demo", faults: [.redirectLoop])
        #expect(loop.status == 302 && header(loop, "Location") == "https://127.0.0.1:4443/login2.srf")
        let expired = site([.expiredTickets])
        let tickets = expired.issueTickets(for: .demo, now: Self.now)
        let response = expired.handle(SiteRequest(method: "GET", target: "/chatroom.msnw?rm=A", headers: [("Cookie", "MSPAuth=\(tickets.ticket); MSPProf=\(tickets.profile); MSNChatNN=Demo")]), now: Self.now).0
        #expect(header(response, "Location")?.contains("/ppsecure/login.srf") == true)
    }

    @Test("expiry rule: ts in the future (beyond skew) or ts+ttl passed is not current; ttl 0 never expires")
    func expiry() {
        #expect(PassportSite.isCurrent(ts: "100", ttl: "50", now: 120))
        #expect(!PassportSite.isCurrent(ts: "100", ttl: "50", now: 151))
        #expect(PassportSite.isCurrent(ts: "100", ttl: "0", now: 1_000_000))
        #expect(!PassportSite.isCurrent(ts: "1000", ttl: "50", now: 600))
        #expect(!PassportSite.isCurrent(ts: nil, ttl: "50", now: 1))
        #expect(!PassportSite.isCurrent(ts: "x", ttl: "50", now: 1))
    }
}
