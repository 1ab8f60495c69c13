public import ArgumentParser
public import GKPassKit

/// `--if-expiring-within 2h`, `--min-remaining 30m`: parsed once, as the option is read, so `run()` gets seconds
/// and a bad value is a usage error (exit 2) naming the option, with the option's help beside it.
extension DurationText: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { text }
}
