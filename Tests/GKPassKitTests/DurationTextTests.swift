import GKPassKit
import Testing

@Suite("Durations as written (DurationText)")
struct DurationTextTests {
    @Test("a whole number and at most one unit", arguments: [
        ("0", 0), ("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86_400), ("400d", 34_560_000),
        ("10000000", 10_000_000), ("10000000d", 864_000_000_000),
    ] as [(String, Int64)])
    func accepted(text: String, seconds: Int64) {
        let duration = DurationText(text)
        #expect(duration?.seconds == seconds)
        #expect(duration?.text == text && duration?.description == text)
    }

    @Test("anything else is refused", arguments: [
        "", "s", "h", "2x", "2H", "1.5h", "-1", "+1", " 1", "1 ", "1h30m", "10000001", "10000001s", "٣s", "99999999999999999999",
    ])
    func refused(text: String) {
        #expect(DurationText(text) == nil)
    }
}
