import Foundation
import GKPassKit
import Testing
import TicketStore

@Suite("Ticket set renderings")
struct TicketSetFormatTests {
    static func set(cookies: [String: String]) -> TicketSet {
        TicketSet(
            account: "a@b.test", network: "n", obtained: Date(timeIntervalSince1970: 0), expires: Date(timeIntervalSince1970: 60),
            ticket: "real-ticket", profile: "real-profile", cookies: cookies, blobLayout: nil)
    }

    /// What `eval` would leave in the environment: the last assignment of each name wins.
    static func evaluated(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let assignment = line.dropFirst("export ".count)
            let eq = assignment.firstIndex(of: "=")!
            out[String(assignment[..<eq])] = String(assignment[assignment.index(after: eq)...])
        }
        return out
    }

    @Test("env: a cookie named like gkpass's own variables, or like another cookie, never overrides them")
    func environmentCollisions() {
        let text = TicketSetFormat.environment(Self.set(cookies: ["TICKET": "forged", "profile": "forged2", "a-b": "1", "a_b": "2", "MSNREGCookie": "reg"]))
        let env = Self.evaluated(text)
        #expect(env["GKPASS_TICKET"] == "'real-ticket'" && env["GKPASS_PROFILE"] == "'real-profile'")
        #expect(env["GKPASS_COOKIE_TICKET"] == "'forged'" && env["GKPASS_COOKIE_PROFILE"] == "'forged2'")
        #expect(Set([env["GKPASS_A_B"], env["GKPASS_COOKIE_A_B"]]) == Set(["'1'", "'2'"]))
        #expect(env["GKPASS_MSNREGCOOKIE"] == "'reg'")
        #expect(text.split(separator: "\n").count == env.count, "no name is assigned twice")
    }
}
