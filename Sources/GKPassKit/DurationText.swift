/// A duration as people write it on the command line and in the config: `90`, `90s`, `30m`, `2h`, `1d` (a whole
/// number and at most one unit; no unit means seconds). Not `Swift.Duration`, which it would otherwise shadow: this
/// is only the spelling and the whole seconds it stands for.
public struct DurationText: Sendable, Equatable, CustomStringConvertible {
    /// The largest number accepted before the unit (about 115 days in seconds, 27,000 years in days).
    public static let maximumValue: Int64 = 10_000_000

    /// The whole seconds the text stands for.
    public let seconds: Int64
    /// The text as given, for help screens ("default: 2h") and messages.
    public let text: String

    /// Nil for anything but digits with an optional `s`, `m`, `h` or `d` (or more than `maximumValue` of them).
    public init?(_ text: String) {
        guard let last = text.last else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let (digits, unit) = last.isNumber ? (Substring(text), Int64(1)) : (text.dropLast(), units[last] ?? 0)
        guard unit > 0, !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int64(digits), value <= Self.maximumValue
        else { return nil }
        self.seconds = value * unit
        self.text = text
    }

    public var description: String { text }
}
