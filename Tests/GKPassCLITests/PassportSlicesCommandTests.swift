import Foundation
import GKPassTestSupport
import Testing

/// The Passport blob as servers take it (issue 15): the real `gkpass connect`, `gkpass proxy` and `gkpass ticket`
/// against a real `gkpass-sandbox` that takes the blob in the OCX's 480-byte slices (the default) or on one line
/// (`--passport-slices one-line`). Long tickets come from the sandbox's hidden `--pad-ticket`, which reseals the
/// stored ticket with a padding field; every success is paired with the failure that proves the slicing mattered.
@Suite("passport_slices (binary, sandbox)", .serialized)
struct PassportSlicesCommandTests {
    typealias Context = LoginCommandTests.Context

    /// A sandbox (with `arguments`), the demo account logged in to the file store, and config networks `ocx`
    /// (no passport_slices key: the default) and `oneline` (passport_slices = "one-line") on its IRCX server.
    static func loggedIn(_ arguments: [String] = []) throws -> (Context, [String: String]) {
        let context = try Context(arguments)
        let login = try context.login(["demo@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], keyring: false)
        #expect(login.status == 0, "\(login.stderr)")
        let config = context.sandbox.webNetworkTable("ocx") + context.sandbox.webNetworkTable("oneline", extra: ["passport_slices = \"one-line\""])
        let path = context.state + "-config.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        var environment = context.environment(keyring: false)
        environment["GKPASS_CONFIG"] = path
        return (context, environment)
    }

    /// The stored ticket set of the demo account, as JSON.
    static func storedSet(_ context: Context) throws -> [String: Any] {
        let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: context.ticketFile))) as! [String: Any]
        return try JSONSerialization.jsonObject(with: Data((item["secret"] as! String).utf8)) as! [String: Any]
    }

    /// Replaces the stored ticket set (0600, renamed into place as the store writes it).
    static func store(_ set: [String: Any], _ context: Context) throws {
        var item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: context.ticketFile))) as! [String: Any]
        item["secret"] = String(decoding: try JSONSerialization.data(withJSONObject: set, options: [.sortedKeys]), as: UTF8.self)
        let temporary = context.ticketFile + ".test"
        #expect(FileManager.default.createFile(atPath: temporary, contents: try JSONSerialization.data(withJSONObject: item), attributes: [.posixPermissions: 0o600]))
        #expect(rename(temporary, context.ticketFile) == 0)
    }

    /// Reseals the stored ticket with `gkpass-sandbox --pad-ticket` so it is at least `length` bytes; returns it.
    @discardableResult
    static func padStoredTicket(_ context: Context, to length: Int) throws -> String {
        var set = try storedSet(context)
        let padded = try Binary.run("gkpass-sandbox", ["--pad-ticket", String(length)], input: Array(((set["ticket"] as! String) + "\n").utf8))
        #expect(padded.status == 0, "\(padded.stderr)")
        let ticket = String(decoding: padded.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ticket.utf8.count >= length && ticket != set["ticket"] as? String)
        set["ticket"] = ticket
        if var cookies = set["cookies"] as? [String: String], cookies["MSPAuth"] != nil {
            cookies["MSPAuth"] = ticket
            set["cookies"] = cookies
        }
        try store(set, context)
        return ticket
    }

    static func gkpass(_ arguments: [String], _ environment: [String: String]) throws -> Binary.Result {
        try Binary.run("gkpass", arguments, environment: environment)
    }

    /// The Passport blob `gkpass ticket --format blob` prints.
    static func blob(_ environment: [String: String]) throws -> [UInt8] {
        let result = try gkpass(["ticket", "--format", "blob"], environment)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    static func json(_ result: Binary.Result) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]) ?? [:]
    }

    /// `AUTH GateKeeperPassport S :` lines after the answer in a `-v` trace: [slices sent, S :OK received].
    static func traced(_ stderr: String) -> [Int] {
        let lines = stderr.split(separator: "\n")
        return [
            lines.filter { $0.contains("> AUTH GateKeeperPassport S :") && !$0.contains(":GKSSP") }.count,
            lines.filter { $0.contains("< AUTH GateKeeperPassport S :OK") }.count,
        ]
    }

    @Test("a 600-byte ticket through connect: in 480-byte slices to the OCX-slicing sandbox; one line is refused (910, exit 4)")
    func connectSlicing() throws {
        let (context, environment) = try Self.loggedIn()
        defer { withExtendedLifetime(context) {} }
        try Self.padStoredTicket(context, to: 600)
        let blob = try Self.blob(environment)
        let length = blob.count
        #expect(length >= 616 && length < 960, "blob of \(length) bytes")
        // The built-in sandbox network (endpoints.json says ocx) and a config network without the key (default ocx).
        for network in ["sandbox", "ocx"] {
            let result = try Self.gkpass(["connect", "--network", network, "--json", "-v"], environment)
            #expect(result.status == 0, "\(network): \(result.stderr)")
            #expect(Self.json(result)["user"] as? String == "0001A2B3C4D5E6F7", "\(network)")
            // Two slices (480 + the rest), each asked for by an S :OK: the first after the answer, one after slice 1.
            #expect(Self.traced(result.stderr) == [2, 2], "\(network): \(result.stderr)")
            // Each slice is traced as a fingerprint, never as its text.
            #expect(result.stderr.components(separatedBy: "> AUTH GateKeeperPassport S :‹redacted").count == 3, "\(result.stderr)")
            for slice in [blob.prefix(480), blob.dropFirst(480)] {
                #expect(!result.stderr.contains(String(decoding: slice.suffix(64), as: UTF8.self)), "a slice reached the trace")
            }
        }
        let oneLine = try Self.gkpass(["connect", "--network", "oneline", "-v"], environment)
        #expect(oneLine.status == 4 && oneLine.stderr.contains("refused the Passport ticket (910"), "\(oneLine.stderr)")
        #expect(oneLine.stderr.contains("passport_slices = \"ocx\""), "the hint names the fix: \(oneLine.stderr)")
        #expect(Self.traced(oneLine.stderr) == [1, 1])
        #expect(context.sandbox.log.components(separatedBy: "ircx registered nick=Demo").count == 3, "\(context.sandbox.log)")
    }

    @Test("with passport_slices = \"one-line\" a 600-byte ticket goes on one line to a one-line sandbox; slices are refused there")
    func connectOneLine() throws {
        let (context, environment) = try Self.loggedIn(["--passport-slices", "one-line"])
        defer { withExtendedLifetime(context) {} }
        #expect(context.sandbox.endpoints["passport_slices"] as? String == "one-line")
        try Self.padStoredTicket(context, to: 600)
        // The config network that says one-line, and the built-in sandbox network, which reads it from endpoints.json.
        for network in ["oneline", "sandbox"] {
            let result = try Self.gkpass(["connect", "--network", network, "--json", "-v"], environment)
            #expect(result.status == 0, "\(network): \(result.stderr)")
            #expect(Self.json(result)["user"] as? String == "0001A2B3C4D5E6F7", "\(network)")
            #expect(Self.traced(result.stderr) == [1, 1], "\(network): \(result.stderr)")
        }
        // The OCX's first slice is not a blob to this server.
        let sliced = try Self.gkpass(["connect", "--network", "ocx", "-v"], environment)
        #expect(sliced.status == 4 && sliced.stderr.contains("refused the Passport ticket (910"), "\(sliced.stderr)")
        #expect(sliced.stderr.contains("passport_slices = \"one-line\""), "\(sliced.stderr)")
        #expect(Self.traced(sliced.stderr) == [1, 1])
    }

    @Test("a short ticket works both ways on both kinds of server: one line either way")
    func shortTicket() throws {
        for sandboxSlices in ["ocx", "one-line"] {
            let (context, environment) = try Self.loggedIn(["--passport-slices", sandboxSlices])
            defer { withExtendedLifetime(context) {} }
            #expect(try Self.blob(environment).count < 480)
            for network in ["ocx", "oneline", "sandbox"] {
                let result = try Self.gkpass(["connect", "--network", network, "--json", "-v"], environment)
                #expect(result.status == 0, "\(sandboxSlices) sandbox, \(network): \(result.stderr)")
                #expect(Self.json(result)["nickname"] as? String == "Demo")
                #expect(Self.traced(result.stderr) == [1, 1], "\(sandboxSlices) sandbox, \(network)")
            }
        }
    }

    @Test("a 600-byte ticket through the proxy: a raw IRC client registers via the OCX-slicing and the one-line sandbox")
    func proxy() throws {
        for (sandboxSlices, network, wrong) in [("ocx", "ocx", "oneline"), ("one-line", "oneline", "ocx")] {
            let (context, environment) = try Self.loggedIn(["--passport-slices", sandboxSlices])
            defer { withExtendedLifetime(context) {} }
            try Self.padStoredTicket(context, to: 600)
            let proxy = try ProxyCommandTests.ProxyProcess(["--network", network], environment: environment)
            let client = try LineSocket(port: proxy.port)
            client.send("NICK whatever")
            client.send("USER u 0 * :u")
            #expect(client.expect(" 001 ")?.hasPrefix(":127.0.0.1 001 Demo ") == true, "\(sandboxSlices): \(proxy.stderr) \(context.sandbox.log)")
            client.send("JOIN #slices")
            #expect(client.expect(" 366 ") != nil, "\(sandboxSlices)")
            // The same ticket sent the other way: the client is turned away with the server's refusal.
            let refused = try ProxyCommandTests.ProxyProcess(["--network", wrong], environment: environment)
            let other = try LineSocket(port: refused.port)
            other.send("NICK whatever")
            other.send("USER u 0 * :u")
            #expect(other.expect("refused the Passport ticket") != nil, "\(sandboxSlices): \(refused.stderr)")
            #expect(context.sandbox.log.components(separatedBy: "ircx registered nick=Demo").count == 2, "\(context.sandbox.log)")
        }
    }

    /// The `--format auth` output split into its lines, each checked to end in CRLF, with their data unescaped.
    static func authLines(_ output: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var rest = output[...]
        let prefix = Array("AUTH GateKeeperPassport S :".utf8)
        while let lf = rest.firstIndex(of: 0x0A) {
            let line = Array(rest[..<lf])
            rest = rest[(lf + 1)...]
            #expect(line.starts(with: prefix) && line.last == 0x0D, "\(String(decoding: line, as: UTF8.self))")
            lines.append(Array(line.dropFirst(prefix.count).dropLast()))
        }
        #expect(rest.isEmpty, "output ends with CRLF")
        return lines
    }

    @Test("ticket --format auth: one line per 480-byte slice in the network's slicing, an empty last one for a multiple of 480")
    func ticketAuth() throws {
        let (context, environment) = try Self.loggedIn()
        defer { withExtendedLifetime(context) {} }
        let short = try Self.gkpass(["ticket", "--format", "auth"], environment)
        let shortBlob = try Self.blob(environment)
        #expect(Self.authLines(short.stdout) == [shortBlob])
        try Self.padStoredTicket(context, to: 600)
        let blob = try Self.blob(environment)
        // Through the argument parser and through the fast path (`ticket --format=auth` skips the parser).
        for arguments in [["ticket", "--format", "auth"], ["ticket", "--format=auth", "demo@passport.test"]] {
            let result = try Self.gkpass(arguments, environment)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = Self.authLines(result.stdout)
            #expect(lines.map(\.count) == [480, blob.count - 480], "\(arguments)")
            #expect(Array(lines.joined()) == blob)
        }
        // A network that cannot be read (no sandbox there) is taken as the OCX's, the default.
        var nowhere = environment
        nowhere["GKPASS_SANDBOX_STATE"] = context.state + "-nowhere"
        #expect(Self.authLines(try Self.gkpass(["ticket", "--format", "auth"], nowhere).stdout).count == 2)
        // A ticket whose network says passport_slices = "one-line": the whole blob on one line.
        var set = try Self.storedSet(context)
        set["network"] = "oneline"
        try Self.store(set, context)
        let whole = try Self.gkpass(["ticket", "--format", "auth"], environment)
        #expect(Self.authLines(whole.stdout) == [blob])
        // A blob of exactly 480 bytes (ticket + profile = 464) is a full slice and an empty one.
        set["network"] = "ocx"
        set["ticket"] = String(repeating: "T", count: 464 - (set["profile"] as! String).utf8.count)
        try Self.store(set, context)
        let exact = try Self.gkpass(["ticket", "--format", "auth"], environment)
        #expect(Self.authLines(exact.stdout).map(\.count) == [480, 0], "\(exact.stderr)")
        #expect(Array(exact.stdout.suffix(31)) == Array("\r\nAUTH GateKeeperPassport S :\r\n".utf8))
    }
}
