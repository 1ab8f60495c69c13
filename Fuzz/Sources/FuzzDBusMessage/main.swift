// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import TicketStore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    DBusFuzzing.check(bytes)
    return 0
}
