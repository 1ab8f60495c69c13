/// The HTTPS side of the sandbox as a pure function: a request and the time in, a response and a log line out.
///
/// It plays three servers of the era on one origin (protocol.md §3):
/// - the Passport nexus (`/rdr/pprdr.asp`) and Tweener DAs (`/login2.srf`, secondary `/loginnet/login2.srf`);
/// - the web sign-in form (`/ppsecure/login.srf`, `/ppsecure/post.srf`);
/// - the MSN Chat site (`/chatroom.msnw`, `/msnchat/1033/utf8/msnredir.asp`).
///
/// A second listener may play only a DA on another origin (``Role/otherDA(origin:)``): where the
/// `da-offsite-redirect` and `da-plain-redirect` faults send sign-ins.
public struct PassportSite: Sendable {
    /// Which server a listener plays.
    public enum Role: Sendable, Equatable {
        /// The nexus, both DAs, the web form and the chat site, on ``SandboxConfiguration/httpsOrigin``.
        case site
        /// Only a Tweener DA at `/login2.srf` on `origin` (another loopback address, or plain http). Like a hostile
        /// DA it answers success to a good password, so a test sees the password arrive by the sign-in's success
        /// and by the `password-request` log line; it never redirects further.
        case otherDA(origin: String)
    }

    public let configuration: SandboxConfiguration
    public let role: Role
    let tokens: PassportV4

    public static let primaryDAPath = "/login2.srf"
    public static let secondaryDAPath = "/loginnet/login2.srf"
    public static let nexusPath = "/rdr/pprdr.asp"
    public static let webLoginPath = "/ppsecure/post.srf"
    public static let loginFormPath = "/ppsecure/login.srf"
    public static let chatRoomPath = "/chatroom.msnw"
    public static let chatRedirectPath = "/msnchat/1033/utf8/msnredir.asp"

    public init(configuration: SandboxConfiguration, role: Role = .site) {
        self.configuration = configuration
        self.role = role
        self.tokens = PassportV4(secret: configuration.secret)
    }

    /// What happened, for the sandbox log (never a password or a token).
    public struct Event: Sendable, Equatable {
        public var kind: String
        public var member: String?
        public var result: String
    }

    public func handle(_ request: SiteRequest, now: Int64) -> (SiteResponse, Event?) {
        if case .otherDA(let origin) = role {
            // No site faults here: what a test asks of this DA is only whether the password reached it.
            guard request.path == Self.primaryDAPath else { return (.text(404, "Not found."), nil) }
            return tweener(request, now: now, origin: origin, secondary: false)
        }
        if configuration.faults.contains(.http5xx) {
            return (.text(503, "The service is temporarily unavailable (sandbox fault http-5xx)."), nil)
        }
        switch request.path {
        case Self.nexusPath: return (nexus(), nil)
        case Self.primaryDAPath: return tweener(request, now: now, origin: configuration.httpsOrigin, secondary: false)
        case Self.secondaryDAPath: return tweener(request, now: now, origin: configuration.httpsOrigin, secondary: true)
        case Self.loginFormPath: return (loginForm(request), nil)
        case Self.webLoginPath: return webLogin(request, now: now)
        case Self.chatRoomPath: return chatRoom(request, now: now)
        case Self.chatRedirectPath: return chatRedirect(request)
        case "/": return (.text(200, "gkpass-sandbox: Passport nexus at \(Self.nexusPath)"), nil)
        default: return (.text(404, "Not found."), nil)
        }
    }

    // MARK: - Nexus

    func nexus() -> SiteResponse {
        // DALogin has no scheme, like the real nexus (protocol.md §3a step 1).
        let da = configuration.httpsOrigin.dropFirst("https://".count)
        let urls = [
            "DARealm=Passport.Net", "DALogin=\(da)\(Self.primaryDAPath)", "DAReg=\(da)/reg.srf",
            "Properties=\(da)/properties.srf", "Privacy=\(da)/privacy.srf", "GeneralRedir=\(da)/redir.srf",
            "Help=\(da)/help.srf", "ConfigVersion=15",
        ].joined(separator: ",")
        return SiteResponse(status: 200, headers: [("PassportURLs", urls), ("Content-Type", "text/html")], body: "")
    }

    // MARK: - Tweener (Passport 1.4)

    /// The fields of a `Passport1.4 k=v,k=v` header, values %-decoded. Nil when the scheme is not Passport1.4.
    public static func passportFields(_ header: String) -> [String: String]? {
        let scheme = "Passport1.4"
        guard header.hasPrefix(scheme) else { return nil }
        var fields: [String: String] = [:]
        for item in header.dropFirst(scheme.count).split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].trimmed().lowercased()
            let raw = pair.count > 1 ? String(pair[1]) : ""
            guard let value = FormEncoding.decode(raw, plusIsSpace: false) else { return nil }
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }

    func tweener(_ request: SiteRequest, now: Int64, origin: String, secondary: Bool) -> (SiteResponse, Event?) {
        let here = origin + (secondary ? Self.secondaryDAPath : Self.primaryDAPath)
        let redir = [(name: "Authentication-Info", value: "Passport1.4 da-status=redir")]
        if role == .site && configuration.faults.contains(.redirectLoop) {
            return (.redirect(here, extra: redir), nil)
        }
        let parsed = request.header("Authorization").flatMap(Self.passportFields)
        if role == .site && !secondary {
            // Before the password is checked, as a DA that homes every member elsewhere answers (MS-PASS 2.2.5).
            let signIn = parsed?["sign-in"].flatMap { $0.isEmpty ? nil : $0 }
            if let offsite = configuration.offsiteDAURL {
                return (.redirect(offsite, extra: redir), Event(kind: "tweener", member: signIn, result: "redirected-offsite"))
            }
            if let plain = configuration.plainDAURL {
                return (.redirect(plain, extra: redir), Event(kind: "tweener", member: signIn, result: "redirected-plain"))
            }
        }
        guard let fields = parsed, let member = fields["sign-in"], let password = fields["pwd"], !member.isEmpty else {
            return (tweenerFailure("Sign in with your e-mail address and password.", origin: origin), Event(kind: "tweener", member: nil, result: "no-credentials"))
        }
        guard let account = configuration.account(member: member), account.password == password else {
            return (
                tweenerFailure("The e-mail address or password is incorrect.", origin: origin),
                Event(kind: "tweener", member: member, result: "rejected")
            )
        }
        if role == .site && account.da == .secondary && !secondary {
            // The member lives on the other DA: resend the same Authorization there (protocol.md §3a step 3).
            return (
                .redirect(
                    configuration.httpsOrigin + Self.secondaryDAPath + "?lc=1033",
                    extra: [("Authentication-Info", "Passport1.4 da-status=redir")]),
                Event(kind: "tweener", member: account.member, result: "redirected")
            )
        }
        let issued = credentials(for: account, now: now)
        let info = Self.successInfo(dialect: configuration.passportDialect, ticket: issued.ticket, profile: issued.profile ?? "")
        return (
            .html("<html><body>Signed in.</body></html>", extra: [("Authentication-Info", info)]),
            Event(kind: "tweener", member: account.member, result: "success")
        )
    }

    /// The `Authentication-Info` value of a successful sign-in, as each kind of server words it (protocol.md §3a
    /// step 4). Only msn2003 uses `profile`. The t-only form keeps MS-PASS's shape (`tname` for each cookie it
    /// names, then `ru`) and drops what has no profile: `tname=MSPProf` and `&p=`.
    public static func successInfo(dialect: PassportDialect, ticket: String, profile: String) -> String {
        switch dialect {
        case .msn2003:
            return "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,"
                + "from-PP='t=\(ticket)&p=\(profile)',ru=http://messenger.msn.com"
        case .bareToken:
            return "Passport1.4 da-status=success,from-PP='\(ticket)'"
        case .tOnly:
            return "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPSec,from-PP='t=\(ticket)',ru=http://messenger.msn.com"
        }
    }

    func tweenerFailure(_ message: String, origin: String) -> SiteResponse {
        let challenge =
            "Passport1.4 da-status=failed,srealm=Passport.NET,ts=-1,prompt,"
            + "cburl=\(origin)/images/passport.gif,cbtxt=\(FormEncoding.encode(message))"
        return .html(
            "<html><head><meta http-equiv=\"Refresh\" content=\"0; URL=\(origin)/pp25/login2.srf?f=11\"></head></html>",
            status: 401, extra: [("WWW-Authenticate", challenge)])
    }

    // MARK: - Passwords in requests

    /// Whether `request` carries a password: a `Passport1.4` Authorization with a `pwd` field (Tweener), or a
    /// `passwd` parameter in the query or the body (the web form, posted, or in the query as Vincula's updater sent
    /// it). Deliberately looser than the handlers: a field that does not decode still carried a password.
    public static func carriesPassword(_ request: SiteRequest) -> Bool {
        if let header = request.header("Authorization"), header.lowercased().hasPrefix("passport1.4") {
            let items = header.dropFirst("passport1.4".count).split(separator: ",")
            if items.contains(where: { $0.split(separator: "=", maxSplits: 1).first?.trimmed().lowercased() == "pwd" }) {
                return true
            }
        }
        let keys = { (text: String) in
            text.split(separator: "&").map { FormEncoding.decode($0.split(separator: "=", maxSplits: 1).first ?? "") }
        }
        return keys(request.query).contains("passwd") || keys(String(decoding: request.body, as: UTF8.self)).contains("passwd")
    }

    // MARK: - Web form (post.srf)

    func loginForm(_ request: SiteRequest) -> SiteResponse {
        let id = escapeHTML(request.parameter("id") ?? configuration.siteID)
        let ru = escapeHTML(request.parameter("ru") ?? "")
        let ec = request.parameter("ec").map { "<p class=\"error\">Error \(escapeHTML($0))</p>" } ?? ""
        return .html(
            """
            <html><head><title>Sign in to .NET Passport</title></head><body>\(ec)
            <form name="hotmail_com" method="post" action="\(configuration.httpsOrigin)\(Self.webLoginPath)">
            <input type="hidden" name="id" value="\(id)"><input type="hidden" name="ru" value="\(ru)">
            <input type="text" name="login"><input type="password" name="passwd">
            <input type="hidden" name="sec" value="0"><input type="hidden" name="mspp_shared" value="0">
            <input type="submit" value="Sign In"></form></body></html>
            """)
    }

    /// The `ec=` code Passport's web form gives for bad input (protocol.md §3b), or nil when the form is complete.
    public static func formError(login: String, password: String) -> String? {
        if login.isEmpty && password.isEmpty { return "e1" }
        if login.isEmpty { return "e2" }
        if password.isEmpty { return "e3" }
        guard let at = login.firstIndex(of: "@") else { return "e5d" }
        let local = login[..<at], domain = login[login.index(after: at)...]
        if local.isEmpty || domain.isEmpty { return "e5e" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@")
        if !login.allSatisfy(allowed.contains) || domain.contains("@") || !domain.contains(".") { return "e5d" }
        return nil
    }

    func webLogin(_ request: SiteRequest, now: Int64) -> (SiteResponse, Event?) {
        guard request.method == "GET" || request.method == "POST" else {
            return (.text(405, "Use GET or POST."), nil)
        }
        let here = configuration.httpsOrigin + Self.webLoginPath + (request.query.isEmpty ? "" : "?" + request.query)
        if configuration.faults.contains(.redirectLoop) { return (.redirect(here), nil) }
        guard request.parameter("id") == configuration.siteID else {
            return (.text(400, "The site ID is not registered with this Passport service."), nil)
        }
        guard let ru = request.parameter("ru"), ru.hasPrefix("http://") || ru.hasPrefix("https://") else {
            return (.text(400, "The return URL (ru) is missing or not an http(s) URL."), nil)
        }
        let login = request.parameter("login") ?? "", password = request.parameter("passwd") ?? ""
        let failure = { (code: String) -> (SiteResponse, Event?) in
            let back = self.configuration.httpsOrigin + Self.loginFormPath + "?id=\(self.configuration.siteID)"
                + "&ru=\(FormEncoding.encode(ru))&ec=\(code)"
            return (.redirect(back), Event(kind: "web", member: login.isEmpty ? nil : login, result: "ec=\(code)"))
        }
        if let code = Self.formError(login: login, password: password) { return failure(code) }
        guard let account = configuration.account(member: login) else { return failure("e5b") }
        guard account.password == password else { return failure("e5a") }
        let (ticket, profile) = credentials(for: account, now: now)
        let separator = ru.contains("?") ? "&" : "?"
        let location = ru + separator + "t=\(FormEncoding.encode(ticket))" + (profile.map { "&p=\(FormEncoding.encode($0))" } ?? "")
        let expires = cookieDate(now + Int64(configuration.ticketLifetime))
        var cookies: [(name: String, value: String)] = [("Set-Cookie", "MSPAuth=\(ticket); path=/; expires=\(expires); secure")]
        if let profile { cookies.append(("Set-Cookie", "MSPProf=\(profile); path=/; expires=\(expires); secure")) }
        cookies.append(("Set-Cookie", "MSPSec=1; path=/; secure"))
        return (
            .redirect(location, extra: cookies),
            Event(kind: "web", member: account.member, result: "success")
        )
    }

    // MARK: - Chat site

    /// The signed-in member behind a ticket/profile pair, if the pair is genuine (and not expired). A profile that
    /// is missing or empty is accepted only in a dialect that issues none; one that is there must match.
    func member(ticket: String, profile: String?, now: Int64) -> SandboxAccount? {
        guard let t = tokens.open(ticket), let puid = t["puid"], Self.isCurrent(ts: t["ts"], ttl: t["ttl"], now: now)
        else { return nil }
        if let profile, !profile.isEmpty {
            guard let p = tokens.open(profile), p["pid"] == puid, t["ts"] == p["ts"] else { return nil }
        } else if configuration.passportDialect.issuesProfile {
            return nil
        }
        return configuration.accounts.first { $0.puid == puid }
    }

    func chatRoom(_ request: SiteRequest, now: Int64) -> (SiteResponse, Event?) {
        let room = request.parameter("rm") ?? "TheLobby"
        let here = configuration.httpsOrigin + Self.chatRoomPath + "?rm=" + FormEncoding.encode(room)
        if configuration.faults.contains(.redirectLoop) { return (.redirect(here), nil) }
        var setCookies: [(name: String, value: String)] = []
        let cookies = request.cookies
        var ticket = cookies["MSPAuth"], profile = cookies["MSPProf"]
        // t/p on the return URL: the partner site writes them to its MSPAuth/MSPProf cookies (KB Q299644). A network
        // without profiles returns `t=` alone.
        let p = request.parameter("p")
        if let t = request.parameter("t"), p != nil || !configuration.passportDialect.issuesProfile {
            ticket = t
            profile = p
            setCookies = [("Set-Cookie", "MSPAuth=\(t); path=/")] + (p.map { [("Set-Cookie", "MSPProf=\($0); path=/")] } ?? [])
        }
        guard let ticket, let account = member(ticket: ticket, profile: profile, now: now) else {
            let login = configuration.httpsOrigin + Self.loginFormPath + "?id=\(configuration.siteID)&ru=\(FormEncoding.encode(here))"
            return (.redirect(login), nil)
        }
        guard cookies["MSNChatNN"] != nil else {
            let step = configuration.httpsOrigin + Self.chatRedirectPath + "?ru=" + FormEncoding.encode(here)
            return (.redirect(step, extra: setCookies), nil)
        }
        let ts = tokens.open(ticket)?["ts"] ?? "0"
        var params: [(String, String)] = [
            ("RoomName", room), ("NickName", account.nickname),
            ("Server", "\(configuration.publicHost):\(configuration.ircxPort)"), ("Locale", "EN-US"),
            // Without profiles the page keeps the PARAM, empty: it is the same page template, filled from an MSPProf
            // cookie the site never set, and scrapers (Vincula, zmic) look for the PARAM by name.
            ("PassportTicket", ticket), ("PassportProfile", profile ?? ""),
            ("MSNREGCookie", tokens.seal(["nick": account.nickname])), ("MSNProfile", "0"),
        ]
        if account.subscriber == true { params.append(("SubscriberInfo", tokens.seal(["ts": ts, "subscriber": "1"]))) }
        if let role = account.role { params.append(("UserRole", tokens.seal(["umode": "o", "utype": role]))) }
        let paramHTML = params.map { "<PARAM NAME=\"\($0.0)\" VALUE=\"\(escapeHTML($0.1))\">" }.joined(separator: "\n")
        return (
            .html(
                """
                <html><head><title>MSN Chat - \(escapeHTML(room))</title></head><body>
                <OBJECT ID="ChatFrame" CLASSID="CLSID:F58E1CEF-A068-4C15-BA5E-587CAF3EE8C6" width="100%">
                \(paramHTML)
                </OBJECT></body></html>
                """, extra: setCookies),
            Event(kind: "chat", member: account.member, result: "page")
        )
    }

    func chatRedirect(_ request: SiteRequest) -> (SiteResponse, Event?) {
        // Only same-site return paths: the sandbox is no open redirector.
        let ru = request.parameter("ru") ?? ""
        guard ru.hasPrefix(configuration.httpsOrigin + "/") else { return (.text(400, "Bad return URL."), nil) }
        let cookies = request.cookies
        guard let ticket = cookies["MSPAuth"], let p = tokens.open(ticket), let puid = p["puid"],
            let account = configuration.accounts.first(where: { $0.puid == puid })
        else {
            return (.redirect(configuration.httpsOrigin + Self.loginFormPath + "?id=\(configuration.siteID)&ru=\(FormEncoding.encode(ru))"), nil)
        }
        return (.redirect(ru, extra: [("Set-Cookie", "MSNChatNN=\(FormEncoding.encode(account.nickname)); path=/")]), nil)
    }

    // MARK: - Tickets

    /// A ticket and profile for `account`, PassportV4-sealed. The `expired-tickets` fault backdates them. The
    /// account's `ticket_padding` lengthens the ticket (see ``paddedTicket(_:padding:)``).
    public func issueTickets(for account: SandboxAccount, now: Int64) -> (ticket: String, profile: String) {
        let lifetime = configuration.ticketLifetime
        let ts = configuration.faults.contains(.expiredTickets) ? now - 2 * Int64(max(lifetime, 60)) : now
        let ttl = configuration.faults.contains(.expiredTickets) ? max(lifetime, 60) : lifetime
        let fields = [("puid", account.puid), ("domain", "GateKeeperPassport"), ("ts", String(ts)), ("ttl", String(ttl))]
        let ticket = paddedTicket(fields, padding: account.ticketPadding ?? 0)
        let profile = tokens.seal(["pid": account.puid, "ts": String(ts)])
        return (ticket, profile)
    }

    /// What the DA hands out in this network's dialect: the ticket, and the profile only where profiles exist.
    public func credentials(for account: SandboxAccount, now: Int64) -> (ticket: String, profile: String?) {
        let issued = issueTickets(for: account, now: now)
        return (issued.ticket, configuration.passportDialect.issuesProfile ? issued.profile : nil)
    }

    /// `fields` sealed with a `pad` field, so the token is at least `padding` bytes longer than the same fields
    /// sealed without it, and at most about one AES block (22 base64 bytes) more than that: an account that asks
    /// for 600 gets a ticket that still fits a one-line server's 1,024-byte AUTH line with its profile.
    ///
    /// Measured, not computed: base64 turns 3 filler bytes into 4, AES rounds up to 16-byte blocks, and the
    /// signature's escaping changes the length by a few bytes from seal to seal. So the filler starts below 3/4 of
    /// `padding` and grows one block at a time until the token is long enough.
    func paddedTicket(_ fields: [(String, String)], padding: Int) -> String {
        let plain = tokens.seal(fields)
        guard padding > 0 else { return plain }
        var filler = max(0, padding * 3 / 4 - 32)
        while true {
            let ticket = tokens.seal(fields + [("pad", String(repeating: "0", count: filler))])
            if ticket.utf8.count >= plain.utf8.count + padding { return ticket }
            filler += 16
        }
    }

    /// irc7's expiry rule (protocol.md §2.5), which irc7 itself leaves switched off and the sandbox enforces: issued no
    /// later than now (5 minutes' skew allowed) and `ts + ttl` not passed; `ttl == 0` never expires.
    public static func isCurrent(ts: String?, ttl: String?, now: Int64) -> Bool {
        guard let ts = ts.flatMap({ Int64($0) }), let ttl = ttl.flatMap({ Int64($0) }) else { return false }
        guard ts <= now + 300 else { return false }
        return ttl == 0 || ts + ttl >= now
    }

    func escapeHTML(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// An RFC 1123 date for cookie `expires`.
    func cookieDate(_ seconds: Int64) -> String {
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var day = seconds / 86_400
        let rest = seconds % 86_400
        let weekday = days[Int(day % 7)]
        // Civil-from-days (Howard Hinnant).
        day += 719_468
        let era = (day >= 0 ? day : day - 146_096) / 146_097
        let doe = day - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekday), \(two(d)) \(months[Int(m - 1)]) \(y) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) GMT"
    }
}
