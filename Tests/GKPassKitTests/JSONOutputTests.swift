import Foundation
import GateKeeper
@testable import GKPassKit
import Testing
import TicketStore

/// The JSON outputs went from hand-joined strings to `Encodable`/`JSONEncoder`. Each is compared here with the
/// hand-written renderer it replaced (copied below as it was at b5786ea): the same keys, the same value types,
/// the same values, for strings that need escaping too. Key order is now sorted (it carries no meaning in JSON);
/// DEL and C1 controls are still escaped, never raw.
@Suite("JSON outputs: the same documents as before Encodable")
struct JSONOutputTests {
    /// A JSON value with its type kept: `true` is not `1`, `null` is not a missing key.
    enum Value: Decodable, Equatable {
        case null, bool(Bool), number(Int64), string(String), array([Value]), object([String: Value])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Int64.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([Value].self) { self = .array(value) }
            else { self = .object(try container.decode([String: Value].self)) }
        }
    }

    static func parsed(_ text: String) throws -> Value { try JSONDecoder().decode(Value.self, from: Data(text.utf8)) }

    /// Strings that need every kind of escape, and ones that need none.
    static let awkward = ["plain", "quote \" backslash \\ slash /", "line\nbreak\r\ttab", "nul \u{0} esc \u{1B}[31m bell \u{7}",
                          "del \u{7F} c1 \u{85}\u{9B}31m", "é ü 日本 😀", ""]

    /// Checks that `new` and `old` are the same document, and that `new` is one line with no raw control.
    static func same(_ new: String, _ old: String, _ comment: Comment? = nil) throws {
        #expect(try parsed(new) == parsed(old), comment)
        #expect(new.hasSuffix("}\n") || new.hasSuffix("]\n"))
        #expect(!new.dropLast().unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }, comment)
    }

    // MARK: - The renderers as they were

    static func legacyString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func legacyStatus(_ r: StatusReport) -> String {
        let q = legacyString
        var fields = [
            "\"account\":\(q(r.account))", "\"default\":\(r.isDefault)", "\"network\":\(q(r.network))",
            "\"server\":" + (r.server.map { q($0.description) } ?? "null"),
            "\"store\":\(q(r.store.rawValue))", "\"obtained\":\(q(r.obtained))",
            "\"expires\":\(q(r.expires))", "\"remaining_seconds\":\(max(0, r.remaining))",
            "\"expired\":\(r.remaining <= 0)", "\"remembers_password\":\(r.remembersPassword)", "\"blob_layout\":\(q(r.blobLayout))",
            "\"has_profile\":\(r.hasProfile)",
        ]
        fields.append("\"cookies\":[" + r.cookies.map(q).joined(separator: ",") + "]")
        fields.append("\"page_values\":[" + r.pageValues.map(q).joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    static func legacyList(_ summaries: [AccountSummary]) -> String {
        "[" + summaries.map { s in
            var fields = ["\"account\":\(legacyString(s.account))", "\"network\":\(legacyString(s.network))",
                          "\"store\":\(legacyString(s.store.rawValue))", "\"default\":\(s.isDefault)",
                          "\"remembers_password\":\(s.remembersPassword)"]
            fields.append("\"expires\":" + (s.expires.map(legacyString) ?? "null"))
            fields.append("\"remaining_seconds\":" + (s.remaining.map { String(max($0, 0)) } ?? "null"))
            return "{" + fields.joined(separator: ",") + "}"
        }.joined(separator: ",") + "]\n"
    }

    static func legacyDoctor(_ checks: [Doctor.Check]) -> String {
        let q = legacyString
        return "[" + checks.map { check in
            "{\"name\":\(q(check.name)),\"status\":\(q(check.status.rawValue)),\"detail\":\(q(check.detail)),\"fix\":" + (check.fix.map(q) ?? "null") + "}"
        }.joined(separator: ",") + "]\n"
    }

    static func legacyConnect(_ outcome: Connect.Outcome, network: String) -> String {
        let string = legacyString
        var fields = [
            "\"network\":\(string(network))", "\"server\":\(string(outcome.server.description))",
            "\"directory\":" + (outcome.directory.map { string($0.description) } ?? "null"),
            "\"package\":\(string(outcome.package.rawValue))", "\"version\":\(outcome.version.rawValue)",
            "\"user\":\(string(outcome.user))", "\"domain\":\(string(outcome.domain))", "\"nickname\":\(string(outcome.nickname))",
            "\"room\":" + (outcome.room.map(string) ?? "null"),
        ]
        fields.append("\"refused_props\":[" + outcome.refusedProps.map(string).joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    static func legacyError(code: Int32, message: String, hint: String?) -> String {
        let q = legacyString
        return "{\"code\":\(code),\"message\":\(q(message))" + (hint.map { ",\"hint\":\(q($0))" } ?? "") + "}\n"
    }

    // MARK: - Comparisons

    @Test("status --json", arguments: awkward)
    func status(text: String) throws {
        var report = StatusReport(
            account: "a\(text)@b.test", isDefault: true, network: "net\(text)", flow: .web,
            server: Network.Endpoint(host: "irc.example.net", port: 6667), store: .file, fileStoreRoot: "/home/me/.local/state/gkpass",
            obtained: "2026-11-29T00:00:00Z", expires: "2026-11-30T00:00:00Z", remaining: 3600, remembersPassword: false,
            blobLayout: "ticket-profile", hasProfile: true, cookies: ["MSPAuth", "MSPProf", text], pageValues: [])
        try Self.same(try report.json(), Self.legacyStatus(report), "\(text)")
        report.server = nil
        report.remaining = -50
        report.store = .secretService
        report.fileStoreRoot = nil
        report.isDefault = false
        report.hasProfile = false
        report.pageValues = ["MSNREGCookie", text]
        try Self.same(try report.json(), Self.legacyStatus(report), "\(text), expired")
        #expect(try Self.parsed(report.json()) == Self.parsed(Self.legacyStatus(report)))
    }

    @Test("list --json, empty and full", arguments: awkward)
    func list(text: String) throws {
        #expect(try AccountSummary.json([]) == "[]\n" && Self.legacyList([]) == "[]\n")
        let summaries = [
            AccountSummary(account: "a\(text)@b.test", network: text, store: .file, expires: "2026-11-30T00:00:00Z", remaining: 90,
                           isDefault: true, remembersPassword: true),
            AccountSummary(account: "c@d.test", network: "sandbox", store: .secretService, expires: nil, remaining: nil,
                           isDefault: false, remembersPassword: false),
            AccountSummary(account: "e@f.test", network: "sandbox", store: .file, expires: "2026-11-28T00:00:00Z", remaining: -10,
                           isDefault: false, remembersPassword: false),
        ]
        try Self.same(try AccountSummary.json(summaries), Self.legacyList(summaries), "\(text)")
    }

    @Test("doctor --json", arguments: awkward)
    func doctor(text: String) throws {
        let checks = [
            Doctor.Check("session bus", .ok, "unix:path=/run/user/1000/bus (\(text))"),
            Doctor.Check("network \(text)", .failed, "cannot connect: \(text)", fix: "check the URL \(text)"),
            Doctor.Check("default keyring", .warning, "locked", fix: nil),
        ]
        try Self.same(try Doctor.json(checks), Self.legacyDoctor(checks), "\(text)")
        try Self.same(try Doctor.json([]), Self.legacyDoctor([]))
    }

    @Test("connect --json", arguments: awkward)
    func connect(text: String) throws {
        var outcome = Connect.Outcome(
            server: Network.Endpoint(host: "127.0.0.1", port: 6667), directory: Network.Endpoint(host: "dir.test", port: 6667),
            package: .gateKeeperPassport, version: .v3, user: "0001A2B3C4D5E6F7", domain: "GateKeeper", nickname: "Demo\(text)",
            room: "%#The\(text)Lobby", refusedProps: ["MSNPROFILE", text])
        try Self.same(try outcome.json(network: "sandbox\(text)"), Self.legacyConnect(outcome, network: "sandbox\(text)"), "\(text)")
        outcome.directory = nil
        outcome.room = nil
        outcome.refusedProps = []
        outcome.package = .gateKeeper
        outcome.version = .v1
        try Self.same(try outcome.json(network: "n"), Self.legacyConnect(outcome, network: "n"), "\(text)")
    }

    @Test("the error object, with and without a hint", arguments: awkward)
    func error(text: String) throws {
        try Self.same(try GKPassError.json(code: 3, message: "no ticket for \(text)", hint: "run gkpass login \(text)"),
                      Self.legacyError(code: 3, message: "no ticket for \(text)", hint: "run gkpass login \(text)"))
        let bare = try GKPassError.json(code: 2, message: text, hint: nil)
        try Self.same(bare, Self.legacyError(code: 2, message: text, hint: nil))
        #expect(!bare.contains("hint"))
    }

    @Test("keys come out sorted, the same on every run; / is not escaped; DEL and C1 as \\u escapes")
    func bytes() throws {
        #expect(try GKPassError.json(code: 7, message: "a/b \u{7F}\u{9B}", hint: "h") == "{\"code\":7,\"hint\":\"h\",\"message\":\"a/b \\u007f\\u009b\"}\n")
        let checks = [Doctor.Check("x", .ok, "y")]
        #expect(try Doctor.json(checks) == "[{\"detail\":\"y\",\"fix\":null,\"name\":\"x\",\"status\":\"ok\"}]\n")
    }
}
