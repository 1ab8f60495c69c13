/// Splits a byte stream into IRC lines, with a bound (style.md "For gkpass" 5: nothing buffers without one).
///
/// ```
///   append("AUTH Gate")  -> nextLine() == nil
///   append("Keeper S :x\r\nPI") -> nextLine() == "AUTH GateKeeper S :x", nextLine() == nil
/// ```
/// Lines end in LF, optionally preceded by CR; the terminator is not returned. A line longer than
/// ``IRCXMessage/maximumLineLength`` throws `.lineTooLong`, after which the framer is poisoned and every call throws:
/// the stream cannot be resynchronised safely.
public struct IRCXLineFramer: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var poisoned = false
    public let maximumLineLength: Int

    public init(maximumLineLength: Int = IRCXMessage.maximumLineLength) {
        self.maximumLineLength = maximumLineLength
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        buffer += bytes
    }

    /// The next complete line without its terminator, nil when more bytes are needed.
    public mutating func nextLine() throws(GateKeeperError) -> [UInt8]? {
        guard !poisoned else { throw GateKeeperError(.lineTooLong, "the stream already sent an over-long line") }
        var index = max(scanned, start)
        while index < buffer.count {
            if buffer[index] == 0x0A {
                var end = index
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let length = end - start
                guard length <= maximumLineLength else { return try poison(length) }
                let line = Array(buffer[start..<end])
                start = index + 1
                scanned = start
                return line
            }
            index += 1
        }
        scanned = index
        // +1 allows for a CR that may still be followed by its LF.
        if buffer.count - start > maximumLineLength + 1 { return try poison(buffer.count - start) }
        return nil
    }

    /// Bytes received after the last complete line (a partial line at end of stream).
    public var pendingByteCount: Int { buffer.count - start }

    private mutating func poison(_ length: Int) throws(GateKeeperError) -> [UInt8]? {
        poisoned = true
        buffer = []
        start = 0
        scanned = 0
        throw GateKeeperError(
            .lineTooLong, "a line of \(length)+ bytes exceeds the \(maximumLineLength)-byte limit")
    }
}
