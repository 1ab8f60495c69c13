// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import Passport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = PassportHeaders.fields(text)
    _ = PassportHeaders.status(text)
    _ = PassportHeaders.passportURLs(text)
    _ = PassportHeaders.daLoginURL(text)
    return 0
}
