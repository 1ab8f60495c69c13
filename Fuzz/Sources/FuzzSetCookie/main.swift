// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GKText
import Passport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    // A cookie has a name that a Cookie header can carry back.
    if let cookie = SetCookie(header: text) {
        precondition(!cookie.name.isEmpty && !cookie.name.contains(where: { $0 == "=" || $0 == ";" || $0 == " " }), "a cookie name that cannot be sent back")
    }
    _ = HTTPDate.parse(text)
    // A URL that parses prints as one that parses to itself, and what it resolves to is http(s) with a host.
    if let url = PassportURL(text) {
        precondition(PassportURL(url.description) == url, "a URL does not survive print/parse")
        if let next = url.resolving(text) {
            precondition((next.scheme == "https" || next.scheme == "http") && !next.host.isEmpty, "a resolved URL without scheme or host")
        }
    }
    return 0
}
