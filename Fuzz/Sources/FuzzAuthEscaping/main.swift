// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GateKeeper

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    // Lenient unescape never fails; strict either fails or agrees with it; escape/unescape round-trips.
    let unescaped = AuthEscaping.unescape(bytes)
    if let strict = try? AuthEscaping.strictUnescape(bytes) { precondition(strict == unescaped, "strict and lenient unescape disagree") }
    precondition(AuthEscaping.unescape(AuthEscaping.escape(bytes)) == bytes, "escape does not round-trip")
    precondition(!AuthEscaping.escape(bytes).contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D || $0 == 0x20 }), "escape left a raw delimiter")
    return 0
}
