// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GateKeeper

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    // Parse a line; what parses serialises to a line that parses to the same message. Then frame the bytes.
    if let message = try? IRCXMessage(parsing: bytes) {
        let again = try! IRCXMessage(parsing: message.serialized())
        precondition(again == message, "a parsed line does not survive serialise/parse")
        _ = try? AuthMessage(message)
    }
    var framer = IRCXLineFramer()
    framer.append(bytes)
    while let line = try? framer.nextLine() { _ = try? IRCXMessage(parsing: line) }
    return 0
}
