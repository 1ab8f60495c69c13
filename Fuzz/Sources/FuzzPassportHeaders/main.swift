// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import Passport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    let fields = PassportHeaders.fields(text)
    // A success always carries a ticket made of token characters: nothing a line, a cookie or a query would
    // have to escape, and never an empty ticket.
    if case .success(let ticket, let profile) = PassportHeaders.status(text) {
        for token in [ticket, profile] {
            precondition(token.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x27 && $0 != 0x22 && $0 != 0x2C && $0 != 0x26 },
                "a success token holds a character no token has")
        }
        precondition(!ticket.isEmpty, "a success without a ticket")
    }
    // The redacted form of a Passport header never shows a sign-in or pwd value.
    if let fields, let redacted = Redaction.passport(text, secret: { _ in "\u{2039}\u{203A}" }) {
        for field in fields where ["pwd", "sign-in"].contains(field.key.lowercased()) {
            if let value = field.value, value.utf8.count >= 3 {
                precondition(!redacted.contains(field.key + "=" + value), "a password reached the redacted header")
            }
        }
    }
    _ = PassportHeaders.passportURLs(text)
    // The DA the nexus names is always https.
    if let da = PassportHeaders.daLoginURL(text) { precondition(da.lowercased().hasPrefix("https://"), "a DALogin that is not https") }
    return 0
}
