/// Long tickets for tests of the OCX's slicing (protocol.md §2.2): real Passport tickets ran to "approx 2 lines",
/// while the sandbox issues short ones. `gkpass-sandbox --pad-ticket N` (hidden, tests only) reseals a ticket the
/// sandbox issued with one more field, so a test can put a ticket of any length in gkpass's store and prove that
/// the IRCX server takes it. The fields the server checks (`puid`, `domain`, `ts`, `ttl`) are kept as they were.
extension PassportV4 {
    /// `token` sealed again with its fields and a `pad` field of `x`s, so that the result is at least `length`
    /// characters long; nil when `token` is not one this secret sealed.
    public func padded(_ token: String, toAtLeast length: Int) -> String? {
        guard let fields = open(token) else { return nil }
        // The order the DA seals them in, then anything else a token carried; `pad` last.
        let known = ["puid", "domain", "ts", "ttl", "pid"]
        var ordered = known.compactMap { key in fields[key].map { (key, $0) } }
        ordered += fields.filter { !known.contains($0.key) && $0.key != "pad" }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        var padding = 0
        while true {
            let sealed = seal(ordered + [("pad", String(repeating: "x", count: padding))])
            if sealed.utf8.count >= length { return sealed }
            // base64 of AES-CBC grows by 4 characters per 3 bytes, in 16-byte blocks: close the gap in a few steps.
            padding += max(1, (length - sealed.utf8.count) * 3 / 4)
        }
    }
}
