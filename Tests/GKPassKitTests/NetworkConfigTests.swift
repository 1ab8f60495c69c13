import Foundation
import GKPassKit
import GateKeeper
import Testing

@Suite("config.toml networks")
struct NetworkConfigTests {
    static let full = """
        # my networks
        default_network = "revival"

        [networks.revival]
        flow = "web"
        login_url = "https://login.example.net/ppsecure/post.srf"
        chat_room_url = "https://chat.example.net/chatroom.msnw?rm=TheLobby"
        site_id = 2260
        server = "irc.example.net:6667"
        directory = "dir.example.net:6667"
        gatekeeper_version = 2
        truncate_host = false
        blob_layout = "profile-nickname"
        ticket_lifetime = "12h"

        [networks."old-tweener"]
        flow = "tweener"
        nexus_url = "https://nexus.example.net/rdr/pprdr.asp"
        ca_file = "ca.pem"
        """

    func parse(_ text: String) throws(GKPassError) -> NetworkConfig {
        try NetworkConfig.parse(text, path: "config.toml", baseDirectory: "/etc", home: "/home/me")
    }

    func failure(_ text: String) -> GKPassError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test("every key is read, in file order, with defaults for what is left out")
    func full() throws {
        // ca_file must be a readable PEM file that root or the user owns: the system's CA bundle stands in for one.
        let config = try parse(Self.full.replacingOccurrences(of: "ca.pem", with: "ssl/certs/ca-certificates.crt"))
        #expect(config.defaultNetwork == "revival")
        #expect(config.networks.map(\.name) == ["revival", "old-tweener"])
        let revival = config.networks[0]
        #expect(revival.flow == .web && revival.webLoginURL == "https://login.example.net/ppsecure/post.srf")
        #expect(revival.server == Network.Endpoint(host: "irc.example.net", port: 6667))
        #expect(revival.directory?.description == "dir.example.net:6667")
        #expect(revival.gatekeeperVersion == .v2 && !revival.truncateHost && revival.blobLayout == .profileNickname)
        #expect(revival.ticketLifetime == 12 * 3600 && revival.siteID == "2260")
        let tweener = config.networks[1]
        #expect(tweener.flow == .tweener && tweener.caFile == "/etc/ssl/certs/ca-certificates.crt" && tweener.gatekeeperVersion == .v3)
        #expect(tweener.truncateHost && tweener.blobLayout == .ticketProfile && tweener.ticketLifetime == 86_400)
    }

    @Test("mistakes are reported with the file, the line and what is expected", arguments: [
        ("[networks.a]\nflow = \"web\"\nlogin_url = \"https://x/post.srf\"\nchat_room_url = \"https://x/c\"\n\nbogus = 1\n", "config.toml:6: unknown key bogus in [networks.a]"),
        ("[networks.a]\nflow = \"smoke\"\n", "config.toml:2: networks.a.flow must be \"tweener\" or \"web\""),
        ("[networks.a]\nnexus_url = \"https://n/rdr/pprdr.asp\"\n", "config.toml:1: [networks.a] needs flow"),
        ("[networks.a]\nflow = \"tweener\"\n", "config.toml:1: [networks.a] uses the tweener flow and needs nexus_url"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"http://n/rdr/pprdr.asp\"\n", "config.toml:3: networks.a.nexus_url must be an https:// URL"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"https://n/x\"\nserver = \"irc.example.net\"\n", "config.toml:4: networks.a.server must be HOST:PORT"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"https://n/x\"\ngatekeeper_version = 4\n", "config.toml:4: networks.a.gatekeeper_version must be 1, 2 or 3"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"https://n/x\"\ntruncate_host = \"yes\"\n", "config.toml:4: networks.a.truncate_host must be true or false"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"https://n/x\"\nticket_lifetime = \"soon\"\n", "config.toml:4: networks.a.ticket_lifetime must be seconds"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"https://n/x\"\nca_file = \"/nonexistent/ca.pem\"\n", "config.toml:4: networks.a.ca_file /nonexistent/ca.pem cannot be read"),
        ("[networks.a]\nflow = \"tweener\"\nnexus_url = \"https://n/x\"\nblob_layout = \"both\"\n", "config.toml:4: networks.a.blob_layout must be"),
        ("[networks.sandbox]\nflow = \"web\"\n", "config.toml:1: sandbox is built in"),
        ("default_network = \"nowhere\"\n", "config.toml:1: default_network nowhere is not a network here"),
        ("colour = \"blue\"\n", "config.toml:1: unknown key colour"),
        ("networks = 3\n", "config.toml:1: networks must be a table"),
        ("[networks.a]\nflow = \"web\"\nlogin_url = \"https://x\n", "config.toml:3:"),
        ("[networks.a]\nflow = \"web\"\nflow = \"tweener\"\n", "config.toml:3:"),
        ("[networks.\"a b\"]\nflow = \"web\"\n", "config.toml:1: network name a b may only use"),
    ])
    func mistakes(text: String, expected: String) {
        let error = failure(text)
        #expect(error?.exitCode == .usage)
        #expect(error?.message.hasPrefix(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test("the TOML reader: tables, dotted and quoted keys, strings with escapes, integers, booleans, arrays, lines")
    func reader() throws {
        let text = """
            \u{FEFF}# comment = not a key
            top = 'lit\\eral'   # trailing
            [networks."x.y"]
            flow = "w\\u00E9b\\t\\"q\\""
            a.b = -1_000
            list = [ 1, "two",
              # inside
              [true, false], ]
            [ networks . z ]\r
            n = +7\r\n
            """
        let root = try TOMLReader.parse(Array(text.utf8))
        #expect(root.keys == ["top", "networks"])
        #expect(root["top"] == .init(value: .string("lit\\eral"), line: 2))
        guard case .table(let networks) = root["networks"]?.value, case .table(let xy) = networks["x.y"]?.value,
            case .table(let z) = networks["z"]?.value, case .table(let a) = xy["a"]?.value
        else { Issue.record("tables missing: \(root)"); return }
        #expect(networks.keys == ["x.y", "z"] && xy.line == 3 && z.line == 9)
        #expect(xy["flow"] == .init(value: .string("wéb\t\"q\""), line: 4))
        #expect(a["b"] == .init(value: .integer(-1000), line: 5))
        #expect(xy["list"] == .init(value: .array([.integer(1), .string("two"), .array([.boolean(true), .boolean(false)])]), line: 6))
        #expect(z["n"] == .init(value: .integer(7), line: 10))
    }

    @Test("the TOML reader refuses, with the line, what config.toml never needs and what is not TOML", arguments: [
        ("a = 1.5", 1, "only whole decimal numbers"), ("a = 1979-05-27", 1, "only whole decimal numbers"), ("a = 0x1F", 1, "only whole decimal numbers"),
        ("\na = \"\"\"x\"\"\"", 2, "multi-line strings"), ("a = {b = 1}", 1, "inline tables"), ("[[a]]", 1, "arrays of tables"),
        ("a = 1\na = 2", 2, "a is already set on line 1"), ("[t]\n[t]", 2, "[t] is defined twice"), ("a = 1\n[a]", 2, "a is an integer (line 1), not a table"),
        ("a = \"open", 1, "not closed before the end of the file"), ("a = 'open\n'", 1, "not closed on its line"), ("a = \"\\q\"", 1, "unknown escape"),
        ("a = \"\\u12\"", 1, "needs 4 hex digits"), ("a = \"\\uD800\"", 1, "needs 4 hex digits"), ("a = 1 b = 2", 1, "after the value"),
        ("a = 01", 1, "may not start with 0"), ("a = 1__0", 1, "underscore"), ("a = 99999999999999999999", 1, "too large"), ("a = truth", 1, "expected a value"),
        ("= 1", 1, "expected a key"), ("a 1", 1, "expected = after the key a"), ("[a", 1, "expected ]"), ("a = [1 2]", 1, "expected , or ]"),
        ("a = \"x\u{01}\"", 1, "control character"), ("\n\na =", 3, "expected a value"), ("# \u{7F}", 1, "control character in a comment"),
        ("a = " + String(repeating: "[", count: 40), 1, "nested too deeply"),
    ])
    func readerErrors(text: String, line: Int, message: String) {
        do {
            _ = try TOMLReader.parse(Array(text.utf8))
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
    }

    @Test("the TOML reader survives bytes that are not text")
    func readerHostile() {
        #expect(throws: TOMLError.self) { try TOMLReader.parse([0x61, 0x20, 0x3D, 0x20, 0x22, 0xFF, 0xFE, 0x22]) }
        #expect(throws: TOMLError.self) { try TOMLReader.parse([0x61, 0x00]) }
        #expect(throws: TOMLError.self) { try TOMLReader.parse(Array(repeating: 0x20, count: TOMLReader.maximumSize + 1)) }
        #expect(throws: TOMLError.self) { try TOMLReader.parse(Array("a = ".utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000)) }
    }

    @Test("hostile configs are refused at once: 40 KB of deep dotted keys (stack), 30,000 tables (time)")
    func readerLimits() {
        // Before the limits the first overflowed the stack and the second took 78 s.
        let deep = String(repeating: "a.", count: 20_000) + "b = 1"
        #expect(throws: TOMLError.self) { try TOMLReader.parse(Array(deep.utf8)) }
        let tables = (0..<30_000).map { "[t\($0)]\n" }.joined()
        do {
            _ = try TOMLReader.parse(Array(tables.utf8))
            Issue.record("30,000 tables accepted")
        } catch {
            #expect(error.message.contains("larger than any gkpass config") && error.line == TOMLReader.maximumEntries + 1, "\(error)")
        }
        // What a config needs still reads: 16 dotted parts, and many networks.
        #expect(throws: Never.self) { try TOMLReader.parse(Array((String(repeating: "a.", count: 15) + "b = 1").utf8)) }
        #expect(throws: Never.self) { try TOMLReader.parse(Array((0..<500).map { "[networks.n\($0)]\nflow = \"web\"\n" }.joined().utf8)) }
    }

    @Test("where a directory may send the ticket: servers when listed, else the configured hosts and their domains")
    func chatServers() throws {
        var network = Network(name: "n", flow: .web, server: .init(host: "irc.example.net", port: 6667), directory: .init(host: "dir.example.net", port: 6667))
        for host in ["irc.example.net", "IRC2.example.net", "example.net", "a.b.example.net"] { #expect(network.allowsChatServer(host), "\(host)") }
        for host in ["example.org", "evilexample.net", "irc.example.net.evil.test", "127.0.0.1"] { #expect(!network.allowsChatServer(host), "\(host)") }
        network.servers = ["10.0.0.9"]
        #expect(network.allowsChatServer("10.0.0.9") && !network.allowsChatServer("irc.example.net"))
        let byIP = Network(name: "n", flow: .web, server: .init(host: "127.0.0.1", port: 1))
        #expect(byIP.allowsChatServer("127.0.0.1") && !byIP.allowsChatServer("127.0.0.5") && !byIP.allowsChatServer("0.0.1"))
        let config = try parse("[networks.x]\nflow = \"web\"\nlogin_url = \"https://a/b\"\nchat_room_url = \"https://a/c\"\nservers = [\"Irc1.Example.net\", \"[::1]\"]\n")
        #expect(config.networks.first?.servers == ["irc1.example.net", "::1"])
        #expect(throws: GKPassError.self) { try parse("[networks.x]\nflow = \"web\"\nlogin_url = \"https://a/b\"\nchat_room_url = \"https://a/c\"\nservers = [\"irc:6667\"]\n") }
    }

    @Test("a FIFO at the config path is refused, not read forever")
    func fifo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-fifo-\(UUID().uuidString).toml").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        do {
            _ = try NetworkConfig.load(environment: ["GKPASS_CONFIG": path])
            Issue.record("a FIFO was read as a config")
        } catch {
            #expect(error.exitCode == .usage && error.message.contains("not a regular file"), "\(error)")
        }
    }

    @Test("an empty file is an empty config; HOST:PORT forms")
    func small() throws {
        #expect(try parse("").networks.isEmpty)
        #expect(Network.Endpoint("[::1]:6667") == Network.Endpoint(host: "::1", port: 6667))
        #expect(Network.Endpoint("[::1]:6667")?.description == "[::1]:6667")
        for bad in ["::1:6667", "host:0", "host:70000", "host:", ":6667", "host:66x", "a b:1"] { #expect(Network.Endpoint(bad) == nil, "\(bad)") }
    }
}
