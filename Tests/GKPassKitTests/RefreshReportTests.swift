import GKPassKit
import Testing

/// What `gkpass refresh` prints per account (after "gkpass: "), decided in GKPassKit.
@Suite("refresh: per-account lines")
struct RefreshReportTests {
    static func lines(_ outcome: Result<Refresh.Outcome, GKPassError>, quiet: Bool = false) -> [String] {
        Refresh.AccountReport(account: "a@b.test", outcome: outcome).lines(quiet: quiet)
    }

    @Test("one line per account on success; none with --quiet")
    func success() {
        #expect(Self.lines(.success(.fresh(remaining: 3 * 3600 + 120))) == ["a@b.test: valid for 3h 2m; nothing to do"])
        #expect(Self.lines(.success(.refreshed(expires: "2026-11-30T01:00:00Z", attempts: 1))) == ["a@b.test: refreshed; valid until 2026-11-30T01:00:00Z"])
        #expect(Self.lines(.success(.refreshed(expires: "2026-11-30T01:00:00Z", attempts: 3))) == ["a@b.test: refreshed; valid until 2026-11-30T01:00:00Z (attempt 3)"])
        #expect(Self.lines(.success(.refreshedElsewhere(expires: "2026-11-30T01:00:00Z")))
            == ["a@b.test: a new ticket was stored meanwhile (by another gkpass); valid until 2026-11-30T01:00:00Z"])
        #expect(Self.lines(.success(.fresh(remaining: 60)), quiet: true).isEmpty)
    }

    @Test("a failure is the message, then the hint when there is one, even with --quiet")
    func failure() {
        let error = GKPassError(.reauthenticate, "no password to refresh a@b.test with", hint: "run gkpass login a@b.test --remember-password")
        let expected = ["a@b.test: no password to refresh a@b.test with", "hint: run gkpass login a@b.test --remember-password"]
        #expect(Self.lines(.failure(error)) == expected)
        #expect(Self.lines(.failure(error), quiet: true) == expected)
        #expect(Self.lines(.failure(GKPassError(.network, "timed out"))) == ["a@b.test: timed out"])
    }
}
