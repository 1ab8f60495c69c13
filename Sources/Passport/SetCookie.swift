internal import GKText

/// One `Set-Cookie` header (RFC 6265 §5.2, the parts a Passport login needs), parsed leniently the way browsers do:
/// the name and value up to the first `;`, then attributes. Values keep `=` (base64 padding) and are not decoded.
public struct SetCookie: Equatable, Sendable {
    public var name: String
    public var value: String
    /// Lower-cased, without a leading dot; nil for a host-only cookie.
    public var domain: String?
    public var path: String?
    /// Seconds from the response, if `Max-Age` was given (it wins over `Expires`).
    public var maxAge: Int64?
    /// Unix time from `Expires`, if it parsed.
    public var expires: Int64?
    public var secure: Bool
    public var httpOnly: Bool

    /// Nil for headers with no `name=` (which browsers ignore too).
    public init?(header: String) {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        guard let first = parts.first, let equals = first.firstIndex(of: "=") else { return nil }
        let name = first[..<equals].trimmedSpaces()
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        self.name = name
        self.value = first[first.index(after: equals)...].trimmedSpaces()
        secure = false
        httpOnly = false
        for attribute in parts.dropFirst() {
            let pair = attribute.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].trimmedSpaces().lowercased()
            let value = pair.count > 1 ? pair[1].trimmedSpaces() : ""
            switch key {
            case "domain":
                let lowered = value.lowercased()
                domain = lowered.hasPrefix(".") ? String(lowered.dropFirst()) : (lowered.isEmpty ? nil : lowered)
            case "path": path = value.hasPrefix("/") ? value : nil
            case "max-age": maxAge = Int64(value)
            case "expires": expires = HTTPDate.parse(value)
            case "secure": secure = true
            case "httponly": httpOnly = true
            default: continue
            }
        }
    }

    /// When the cookie stops being valid (Unix time), from Max-Age (relative to `now`) or Expires; nil for a
    /// session cookie.
    public func expiry(now: Int64) -> Int64? {
        if let maxAge { return now + maxAge }
        return expires
    }
}
