// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GateKeeper

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    // Any token that decodes re-encodes to the same bytes.
    if let token = try? GateKeeperToken(decoding: bytes) {
        precondition(token.encoded() == bytes, "a decoded token re-encodes differently")
    }
    return 0
}
