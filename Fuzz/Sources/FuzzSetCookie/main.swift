// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import Passport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = SetCookie(header: text)
    _ = HTTPDate.parse(text)
    if let url = PassportURL(text) { _ = url.description; _ = url.resolving(text) }
    return 0
}
