// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GateKeeper

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let blob = try? PassportBlob(decoding: bytes) {
        let again = try! PassportBlob(decoding: blob.encoded())
        precondition(again == blob, "a decoded blob does not survive encode/decode")
    }
    _ = PassportBlob.trailingByteCount(of: bytes)
    return 0
}
