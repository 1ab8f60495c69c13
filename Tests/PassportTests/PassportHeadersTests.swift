import GKText
import Passport
import Testing

@Suite("Passport 1.4 headers")
struct PassportHeadersTests {
    @Test("PassportURLs: DALogin gets https:// prepended; other schemes are refused")
    func nexus() {
        let header = "DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,DAReg=http://register.passport.net/uixpwiz.srf,ConfigVersion=15"
        #expect(PassportHeaders.passportURLs(header)["DARealm"] == "Passport.Net")
        #expect(PassportHeaders.daLoginURL(header) == "https://login.passport.com/login2.srf")
        #expect(PassportHeaders.daLoginURL("DALogin=https://x/login") == "https://x/login", "Escargot's mock sends a scheme")
        #expect(PassportHeaders.daLoginURL("DALogin=http://x/login") == nil, "never send a password over plain HTTP")
        #expect(PassportHeaders.daLoginURL("DARealm=x") == nil)
        #expect(PassportHeaders.daLoginURL("") == nil)
    }

    @Test("success: from-PP is quoted and holds & and = (the real capture's shape)")
    func success() {
        let header = "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVrIn$$&p=5*bOu!UCmw==',ru=http://messenger.msn.com"
        #expect(PassportHeaders.status(header) == .success(ticket: "53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVrIn$$", profile: "5*bOu!UCmw=="))
    }

    @Test("da-status and dastatus are both accepted; redir; failed with cbtxt decoded; failed-noretry")
    func statuses() {
        #expect(PassportHeaders.status("Passport1.4 dastatus=success,from-PP='t=a&p=b'") == .success(ticket: "a", profile: "b"))
        #expect(PassportHeaders.status("Passport1.4 da-status=redir") == .redirect)
        #expect(PassportHeaders.status("Passport1.4 da-status=failed,srealm=Passport.NET,ts=-1,prompt,cburl=https://x/y.gif,cbtxt=The%20e-mail%20address%20or%20password%20is%20incorrect")
            == .failed(reason: "The e-mail address or password is incorrect", noRetry: false))
        #expect(PassportHeaders.status("Passport1.4 da-status=failed-noretry") == .failed(reason: nil, noRetry: true))
    }

    static let hostile: [String] = [
        "", "Passport1.4", "Passport1.4 ", "Basic realm=x", "Passport1.4 da-status=success", "Passport1.4 da-status=success,from-PP='",
        "Passport1.4 da-status=success,from-PP='t=&p=x'", "Passport1.4 da-status=wat", "Passport1.4 ,,,,=,=,'",
        "Passport1.4 da-status=success,from-PP='p=only'", String(repeating: "Passport1.4 a=b,", count: 2000),
    ]

    @Test("hostile headers yield nil or a sane value, never a crash", arguments: hostile)
    func hostileHeaders(header: String) {
        if case .success(let t, _) = PassportHeaders.status(header) { #expect(!t.isEmpty) }
    }

    @Test("the Tweener Authorization escapes member and password, commas and all")
    func authorization() {
        let header = PassportHeaders.tweenerAuthorization(member: "alice@hotmail.com", password: "p,w=d%&é")
        #expect(header == "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger.msn.com,sign-in=alice%40hotmail.com,pwd=p%2Cw%3Dd%25%26%C3%A9")
        // What the DA reads back: split at commas, decode.
        let fields = PassportHeaders.fields(header)!
        #expect(fields.first { $0.key == "pwd" }?.value.flatMap { PercentEncoding.decode($0) } == "p,w=d%&é")
    }
}

@Suite("Cookies and URLs")
struct CookieTests {
    @Test("Set-Cookie keeps = in values and reads the attributes")
    func setCookie() throws {
        let cookie = try #require(SetCookie(header: "MSPAuth=+Oo2CH/x==; path=/; expires=Fri, 27 Nov 2026 13:51:02 GMT; secure; HttpOnly; Domain=.Passport.com"))
        #expect(cookie.name == "MSPAuth" && cookie.value == "+Oo2CH/x==")
        #expect(cookie.path == "/" && cookie.secure && cookie.httpOnly && cookie.domain == "passport.com")
        #expect(cookie.expires == 1_795_787_462)
        #expect(SetCookie(header: "a=b; Max-Age=60")?.expiry(now: 1000) == 1060)
        for junk in ["", "=x", "novalue", " =", "a b=c"] { #expect(SetCookie(header: junk) == nil, "\(junk)") }
    }

    @Test("the jar matches host, domain, path and secure, and an expired cookie deletes")
    func jar() throws {
        var jar = CookieJar()
        let chat = try #require(PassportURL("https://chat.example.com/msnchat/1033/utf8/msnredir.asp"))
        jar.store(SetCookie(header: "MSNChatNN=Demo; path=/")!, from: chat, now: 0)
        jar.store(SetCookie(header: "Deep=1")!, from: chat, now: 0)
        jar.store(SetCookie(header: "Wide=1; domain=example.com; path=/")!, from: chat, now: 0)
        // Without Path the default-path is the request's directory (RFC 6265 5.1.4).
        #expect(jar.cookies.first { $0.name == "Deep" }?.path == "/msnchat/1033/utf8")
        jar.store(SetCookie(header: "Evil=1; domain=attacker.test")!, from: chat, now: 0)
        #expect(jar.header(for: PassportURL("https://chat.example.com/chatroom.msnw")!, now: 1) == "MSNChatNN=Demo; Wide=1")
        #expect(jar.header(for: PassportURL("https://chat.example.com/msnchat/1033/utf8/x")!, now: 1)?.contains("Deep=1") == true)
        #expect(jar.header(for: PassportURL("https://other.example.com/")!, now: 1) == "Wide=1")
        #expect(jar.header(for: PassportURL("https://attacker.test/")!, now: 1) == nil)
        jar.store(SetCookie(header: "MSNChatNN=x; path=/; Max-Age=0")!, from: chat, now: 5)
        #expect(jar.value("MSNChatNN") == nil)
    }

    @Test("URLs: ports, IPv6, queries; Location resolution; credentials and odd schemes refused")
    func urls() throws {
        let url = try #require(PassportURL("https://127.0.0.1:4443/chatroom.msnw?rm=TheLobby&t=a%2Bb"))
        #expect(url.host == "127.0.0.1" && url.port == 4443 && url.path == "/chatroom.msnw")
        #expect(url.queryValue("t") == "a+b" && url.queryValue("rm") == "TheLobby")
        #expect(url.resolving("/msnchat/x.asp?ru=1")?.description == "https://127.0.0.1:4443/msnchat/x.asp?ru=1")
        #expect(url.resolving("other.srf")?.description == "https://127.0.0.1:4443/other.srf")
        #expect(url.resolving("https://login.passport.com/x")?.host == "login.passport.com")
        #expect(PassportURL("https://[::1]:8443/a")?.host == "::1")
        #expect(PassportURL("https://example.com")?.path == "/")
        for junk in ["ftp://x/", "https://user:pw@x/", "https://x:99999/", "https://", "x", "https://exa mple.com/"] {
            #expect(PassportURL(junk) == nil, "\(junk)")
        }
    }
}

@Suite("Chat page PARAM scraper")
struct ChatPageTests {
    @Test("reads PARAMs in any case and quoting, decodes entities, first wins")
    func params() {
        let html = """
            <OBJECT><PARAM NAME="PassportTicket" VALUE="t+/=&amp;x"><param name='NickName' value='D&#39;mo'>
            <Param Name=Server Value=127.0.0.1:6667><PARAM NAME="NickName" VALUE="second">
            <PARAM VALUE="v" NAME="Reversed"><PARAM NAME="NoValue"></OBJECT>
            """
        let params = ChatPage.params(Array(html.utf8))
        #expect(params["PassportTicket"] == "t+/=&x")
        #expect(params["NickName"] == "D'mo")
        #expect(params["Server"] == "127.0.0.1:6667")
        #expect(params["Reversed"] == "v")
        #expect(params["NoValue"] == nil)
        // A PARAM whose name is empty is no PARAM (found by FuzzChatPage's property check).
        #expect(ChatPage.params(Array("<param name=\"\" value=x><PARAM NAME='' VALUE=y>".utf8)).isEmpty)
    }

    @Test("hostile pages: unterminated tags, huge pages, binary junk", arguments: [
        "<PARAM NAME=\"a\" VALUE=\"unterminated", "<PARAM", "<param name=>", "\u{0}\u{1}<param\u{ff}", "&&&&;;;<PARAM NAME=x VALUE=&#xFFFFFFFF;>",
    ])
    func hostile(html: String) {
        _ = ChatPage.params(Array(html.utf8))
        #expect(ChatPage.params([UInt8](repeating: 0x3C, count: ChatPage.maximumSize + 1)).isEmpty)
    }

    @Test("ec= codes map to messages; only e5a/e5b (and unknown codes) count as rejected credentials")
    func codes() {
        #expect(WebLoginError.describe("e5a").rejected)
        #expect(WebLoginError.describe("e5b").rejected)
        #expect(!WebLoginError.describe("e2").rejected)
        #expect(WebLoginError.describe("E5A").message.contains("password"))
    }
}

/// The success answers of the Passport servers in the wild (docs/passport-dialects.md), parsed to the same tickets.
@Suite("Passport dialects")
struct PassportDialectTests {
    @Test("every success form servers send", arguments: [
        // MS-PASS 2.2.11 / MSN 2003 capture.
        ("Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t=T1$$&p=P1==',ru=http://messenger.msn.com", "T1$$", "P1=="),
        // Messenger revival servers: a bare token, no profile.
        ("Passport1.4 da-status=success,from-PP='t0k3n*!$$'", "t0k3n*!$$", ""),
        // A bare base64 token keeps its padding.
        ("Passport1.4 da-status=success,from-PP='YWJj/+=='", "YWJj/+==", ""),
        // t= alone.
        ("Passport1.4 da-status=success,from-PP='t=T2'", "T2", ""),
        // Keys in another order, fields in another order, names in another case.
        ("Passport1.4 from-PP='p=P3&t=T3',ru=http://x,da-status=success", "T3", "P3"),
        ("passport1.4 DA-Status=Success,From-PP='t=T4&p=P4'", "T4", "P4"),
        // The msnp-wiki revision's spelling.
        ("Passport1.4 dastatus=success,from-PP='t=T5&p=P5'", "T5", "P5"),
        // An empty profile is legal.
        ("Passport1.4 da-status=success,from-PP='t=T6&p='", "T6", ""),
    ])
    func success(header: String, ticket: String, profile: String) {
        #expect(PassportHeaders.status(header) == .success(ticket: ticket, profile: profile))
    }

    @Test("answers no client can read are nil, never a success with an empty or made-up ticket", arguments: [
        "Passport1.4 da-status=success", "Passport1.4 da-status=success,from-PP=''", "Passport1.4 da-status=success,from-PP='p=only'",
        "Passport1.4 da-status=success,from-PP='t=&p=x'", "Passport1.4 da-status=success,from-PP='t=a b'",
        "Passport1.4 da-status=success,from-PP='two words'", "Passport1.4 da-status=maybe,from-PP='t=a'", "Basic da-status=success,from-PP='t=a'",
    ])
    func unreadable(header: String) {
        #expect(PassportHeaders.status(header) == nil)
    }
}

/// Where a DA's redirect may take the password (issue #15: "The password's path").
@Suite("Passport DA redirects")
struct DARedirectTests {
    static let da = PassportURL("https://login.example.net/login2.srf")!

    static func response(_ status: Int, location: String, redir: Bool) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Location", location)]
        if redir { headers.append(("Authentication-Info", "Passport1.4 da-status=redir")) }
        return HTTPResponse(status: status, headers: headers, body: [])
    }

    @Test("followed: da-status=redir to the DA's own host or a da_hosts host; a bare 302 from the nexus's DA itself")
    func followed() throws {
        let own = try TweenerLogin.followable(Self.response(302, location: "/pp/login2.srf?lc=1033", redir: true), from: Self.da, da: Self.da, daHosts: [])
        #expect(own.host == "login.example.net" && own.path == "/pp/login2.srf")
        let second = try TweenerLogin.followable(
            Self.response(302, location: "https://loginnet.example.net/login2.srf", redir: true), from: Self.da, da: Self.da, daHosts: ["loginnet.example.net"])
        #expect(second.host == "loginnet.example.net")
        let bare = try TweenerLogin.followable(Self.response(302, location: "/x/login2.srf", redir: false), from: Self.da, da: Self.da, daHosts: [])
        #expect(bare.path == "/x/login2.srf")
    }

    @Test("refused, naming the host: off the list, plain http, a bare 3xx from a hop that is not the nexus's DA, no Location", arguments: [
        (302, "https://evil.example.org/login2.srf", true, "https://login.example.net/login2.srf", "evil.example.org"),
        (302, "https://loginnet.example.net.evil.test/login2.srf", true, "https://login.example.net/login2.srf", "loginnet.example.net.evil.test"),
        (302, "http://login.example.net/login2.srf", true, "https://login.example.net/login2.srf", "plain http://login.example.net"),
        (307, "https://login.example.net/other.srf", false, "https://login.example.net/login2.srf", "without da-status=redir"),
        (302, "https://login.example.net/z.srf", false, "https://login.example.net/second.srf", "without da-status=redir"),
    ])
    func refused(status: Int, location: String, redir: Bool, from: String, named: String) {
        do {
            _ = try TweenerLogin.followable(
                Self.response(status, location: location, redir: redir), from: PassportURL(from)!, da: Self.da, daHosts: ["loginnet.example.net"])
            Issue.record("followed \(location)")
        } catch {
            #expect(error.kind == .unreadable && !error.isTransient)
            #expect(error.message.contains(named), "\(error.message)")
        }
    }
}

@Suite("The -v trace's redaction")
struct RedactionTests {
    @Test("Passport headers keep their shape: field names, da-status, t=/p= structure and lengths; values are keyed fingerprints")
    func shape() {
        let password = "hunter2,x"
        let header = PassportHeaders.tweenerAuthorization(member: "alice@hotmail.com", password: password)
        let traced = Redaction.header("Authorization", header)
        #expect(traced.hasPrefix("Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger.msn.com,sign-in=‹redacted:"))
        #expect(traced.contains(",pwd=‹redacted:") && traced.contains(" len=11›"), "\(traced)")
        #expect(!traced.contains("hunter2") && !traced.contains("alice"))
        let info = Redaction.header("authentication-info", "Passport1.4 da-status=success,tname=MSPAuth,from-PP='t=TTTT&p=PP',ru=http://m")
        #expect(info.hasPrefix("Passport1.4 da-status=success,tname=MSPAuth,from-PP='t=‹redacted:"))
        #expect(info.contains(" len=4›&p=‹redacted:") && info.hasSuffix(" len=2›',ru=http://m"), "\(info)")
        #expect(Redaction.header("Cookie", "MSPAuth=abc; MSPProf=de").hasPrefix("MSPAuth=‹redacted:"))
        #expect(!Redaction.header("Cookie", "MSPAuth=abc; MSPProf=de").contains("abc"))
    }

    @Test("fingerprints are 8 hex digits of a keyed HMAC: stable within the run, not an unkeyed hash of the value")
    func keyed() {
        let a = Redaction.fingerprint("sandbox-demo"), b = Redaction.fingerprint("sandbox-demo")
        #expect(a == b && a != Redaction.fingerprint("sandbox-demO"))
        let hex = a.dropFirst("‹redacted:".count).prefix(8)
        #expect(hex.count == 8 && hex.allSatisfy(\.isHexDigit))
        // The old unkeyed FNV-1a of the value must not be what is printed.
        var fnv: UInt32 = 0x811C_9DC5
        for byte in "sandbox-demo".utf8 { fnv = (fnv ^ UInt32(byte)) &* 0x0100_0193 }
        #expect(!a.contains(String(fnv, radix: 16)))
    }
}
