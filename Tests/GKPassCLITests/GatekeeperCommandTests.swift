import Foundation
import GateKeeper
import Testing

/// End to end: the built `gkpass` binary, bytes on stdin and stdout, exit codes of design.md §4.
@Suite("gkpass gatekeeper (binary)")
struct GatekeeperCommandTests {
    static func escape(_ bytes: [UInt8]) -> [UInt8] { AuthEscaping.escape(bytes) }

    static func challengeLine(_ package: String, version: UInt32, challenge: [UInt8]) -> [UInt8] {
        var token = Array("GKSSP".utf8) + [0, 0, 0]
        token += [UInt8(version), 0, 0, 0, 2, 0, 0, 0] + challenge
        return Array("AUTH \(package) S :".utf8) + escape(token) + [0x0D, 0x0A]
    }

    /// Independent oracle: Python's hmac module, not gkpass's OpenSSL path.
    static func pythonHMAC(_ message: [UInt8]) throws -> String {
        let hexMessage = message.map { String(format: "%02x", $0) }.joined()
        let result = try Binary.runSystem(
            "/usr/bin/env",
            ["python3", "-c", "import hmac,sys;print(hmac.new(b'SRFMKSJANDRESKKC',bytes.fromhex(sys.argv[1]),'md5').hexdigest())", hexMessage])
        #expect(result.status == 0, "python3 is needed as the independent HMAC oracle")
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func answerToken(_ stdout: [UInt8], package: String) throws -> [UInt8] {
        let prefix = Array("AUTH \(package) S :".utf8)
        try #require(stdout.starts(with: prefix) && stdout.suffix(2) == [0x0D, 0x0A])
        return try AuthEscaping.strictUnescape(stdout[prefix.count..<(stdout.count - 2)])
    }

    @Test("init prints the §5 v3 line, exactly, CRLF included")
    func initLine() throws {
        let result = try Binary.run("gkpass", ["gatekeeper", "init"])
        #expect(result.status == 0)
        #expect(result.stdout == Array("AUTH GateKeeper I :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{1}\\0\\0\\0\r\n".utf8))
        let passport = try Binary.run("gkpass", ["gatekeeper", "init", "--package", "GateKeeperPassport", "--version", "2"])
        #expect(passport.stdout == Array("AUTH GateKeeperPassport I :GKSSP\\0\\0\\0\u{2}\\0\\0\\0\u{1}\\0\\0\\0\r\n".utf8))
    }

    /// protocol.md §6's worked message-3 example (challenge 01..08, host localhost, that GUID) challenged as
    /// `version`, answered by the binary: the challenge line, the result, and the answer token in hex.
    static func workedExample(version: UInt32) throws -> (line: [UInt8], result: Binary.Result, token: String) {
        let line = challengeLine("GateKeeper", version: version, challenge: [1, 2, 3, 4, 5, 6, 7, 8])
        let result = try Binary.run(
            "gkpass", ["gatekeeper", "respond", "--host", "localhost", "--guid", "D6976AC3-D30A-4249-B168-07102BBA1896"],
            input: line)
        #expect(result.status == 0, "\(result.stderr)")
        let token = try answerToken(result.stdout, package: "GateKeeper")
        return (line, result, token.map { String(format: "%02x", $0) }.joined())
    }

    @Test("respond reproduces the worked message-3 example byte for byte")
    func workedExample() throws {
        let (_, result, token) = try Self.workedExample(version: 3)
        #expect(token == "474b5353500000000300000003000000279a49b56166014bbdaf9a4263124877c36a97d60ad34942b16807102bba1896")
        // The 0x0A inside the GUID goes on the wire as \n.
        #expect(String(decoding: result.stdout, as: UTF8.self).contains("\\n"))
    }

    @Test("respond answers any challenge, including ones that need every escape, as a v3 server would check it")
    func anyChallenge() throws {
        var challenges: [[UInt8]] = [[0x00, 0x20, 0x2C, 0x5C, 0x0A, 0x0D, 0x09, 0x41], [UInt8](repeating: 0x5C, count: 8),
                                     [0xFF, 0x80, 0x3A, 0x00, 0x00, 0x0D, 0x0A, 0x20]]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 { challenges.append((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }) }
        for challenge in challenges {
            for lf in [[UInt8(0x0D), 0x0A], [0x0A]] {
                var line = Self.challengeLine("GateKeeper", version: 3, challenge: challenge)
                line.removeLast(2)
                line += lf
                let result = try Binary.run(
                    "gkpass", ["gatekeeper", "respond", "--host", "1.2.3.4", "--guid", "{d6976ac3-d30a-4249-b168-07102bba1896}"],
                    input: line)
                #expect(result.status == 0, "\(result.stderr)")
                let token = try Self.answerToken(result.stdout, package: "GateKeeper")
                #expect(token.count == 48)
                let digest = token[16..<32].map { String(format: "%02x", $0) }.joined()
                #expect(digest == (try Self.pythonHMAC(challenge + Array("1.2.3.4".utf8))))
            }
        }
    }

    @Test("GateKeeperPassport answers carry the zero GUID; v1 answers carry none")
    func passportAndV1() throws {
        let passport = try Binary.run(
            "gkpass", ["gatekeeper", "respond", "--host", "1.2.3.4"],
            input: Self.challengeLine("GateKeeperPassport", version: 3, challenge: [UInt8](repeating: 0, count: 8)))
        #expect(passport.status == 0, "\(passport.stderr)")
        let token = try Self.answerToken(passport.stdout, package: "GateKeeperPassport")
        #expect(Array(token[16..<32]).map { String(format: "%02x", $0) }.joined() == "9ea5b9a84dbd1d4177284ec15d29282b")
        #expect(Array(token[32..<48]) == [UInt8](repeating: 0, count: 16))

        let v1 = try Binary.run(
            "gkpass", ["gatekeeper", "respond"],
            input: Self.challengeLine("GateKeeper", version: 1, challenge: [UInt8](repeating: 0, count: 8)))
        #expect(v1.status == 0, "\(v1.stderr)")
        #expect(try Self.answerToken(v1.stdout, package: "GateKeeper").count == 32)
    }

    @Test("a version 4 challenge gets the version 3 answer with 4 in its header (irc7-sspi, vortex-sspi), byte for byte")
    func version4() throws {
        // The worked example of protocol.md §6 (challenge 01..08, host localhost, that GUID), challenged as version 4.
        let (line, _, token) = try Self.workedExample(version: 4)
        #expect(token == "474b5353500000000400000003000000279a49b56166014bbdaf9a4263124877c36a97d60ad34942b16807102bba1896")
        // Like version 3, it cannot be answered without the host.
        let hostless = try Binary.run("gkpass", ["gatekeeper", "respond", "--guid", "D6976AC3D30A4249B16807102BBA1896"], input: line)
        #expect(hostless.status == 2 && hostless.stderr.contains("version 4"), "\(hostless.stderr)")
    }

    @Test("without --guid a guest answer uses this user's stable GUID, the same on every run")
    func stableGUID() throws {
        let line = Self.challengeLine("GateKeeper", version: 2, challenge: [UInt8](repeating: 7, count: 8))
        let first = try Binary.run("gkpass", ["gatekeeper", "respond"], input: line)
        let second = try Binary.run("gkpass", ["gatekeeper", "respond"], input: line)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        let guid = try Self.answerToken(first.stdout, package: "GateKeeper")[32..<48]
        #expect(guid.contains { $0 != 0 })
    }

    static let failures: [(String, [String], String, Int32, String)] = [
        ("empty stdin", [], "", 1, "no challenge line"),
        ("not AUTH", [], "PING :x\r\n", 1, "not AUTH"),
        ("910", [], ":srv 910 n GateKeeper :Authentication failed\r\n", 1, "910"),
        ("bad escape", ["--host", "h"], "AUTH GateKeeper S :GKSSP\\0\\0\\0\\z\r\n", 1, "escape"),
        ("truncated token", ["--host", "h"], "AUTH GateKeeper S :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{2}\\0\\0\\0\u{1}\r\n", 1, "bytes"),
        ("wrong sequence", ["--host", "h"], "AUTH GateKeeper S :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{3}\\0\\0\\0\r\n", 1, "bytes"),
        ("OK line", [], "AUTH GateKeeperPassport S :OK\r\n", 1, "blob"),
        ("v3 without host", [], "AUTH GateKeeper S :GKSSP\\0\\0\\0\u{3}\\0\\0\\0\u{2}\\0\\0\\0ABCDEFGH\r\n", 2, "--host"),
        ("bad guid", ["--guid", "xyz"], "", 2, "GUID"),
        ("guid with passport", ["--guid", "D6976AC3D30A4249B16807102BBA1896"],
         "AUTH GateKeeperPassport S :GKSSP\\0\\0\\0\u{2}\\0\\0\\0\u{2}\\0\\0\\0ABCDEFGH\r\n", 2, "zero GUID"),
        ("package mismatch", ["--package", "GateKeeperPassport"],
         "AUTH GateKeeper S :GKSSP\\0\\0\\0\u{2}\\0\\0\\0\u{2}\\0\\0\\0ABCDEFGH\r\n", 1, "not GateKeeperPassport"),
        ("unknown option", ["--frobnicate"], "", 2, "Unknown option"),
        ("bad package value", ["--package", "NTLM"], "", 2, "package"),
        ("over-long line", [], "AUTH GateKeeper S :" + String(repeating: "A", count: 2000) + "\r\n", 1, "longer than"),
    ]

    @Test("bad input gets one clear line on stderr and the documented exit code, never a crash", arguments: failures)
    func failuresExit(name: String, arguments: [String], input: String, status: Int32, fragment: String) throws {
        let result = try Binary.run("gkpass", ["gatekeeper", "respond"] + arguments, input: Array(input.utf8))
        #expect(result.status == status, "\(name): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(name)")
        #expect(result.stderr.contains(fragment), "\(name): \(result.stderr)")
        if status == 1 {
            #expect(result.stderr.hasPrefix("gkpass: "), "\(name)")
            // One error line; at most one more, and only a "gkpass: hint:" line.
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 || (lines.count == 2 && lines[1].hasPrefix("gkpass: hint: ")), "\(name): \(result.stderr)")
        }
    }

    @Test("respond reads one line and leaves the rest of stdin unread")
    func readsOneLine() throws {
        let line = Self.challengeLine("GateKeeper", version: 2, challenge: [UInt8](repeating: 1, count: 8))
        let result = try Binary.run(
            "/bin/sh", ["-c", "'\(Binary.directory.path)/gkpass' gatekeeper respond --guid D6976AC3D30A4249B16807102BBA1896 >/dev/null; cat"],
            input: line + Array("LEFT FOR THE NEXT READER\n".utf8), absolute: true)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(String(decoding: result.stdout, as: UTF8.self) == "LEFT FOR THE NEXT READER\n")
    }

    @Test("help and version exit 0; usage errors exit 2, not argument-parser's 64")
    func exitCodes() throws {
        #expect(try Binary.run("gkpass", ["--help"]).status == 0)
        #expect(try Binary.run("gkpass", ["--version"]).status == 0)
        #expect(try Binary.run("gkpass", ["gatekeeper", "init", "--version", "4"]).status == 2)
        #expect(try Binary.run("gkpass", ["no-such-command"]).status == 2)
    }
}
