import Foundation
import Crypto
import _CryptoExtras

/// The revival networks' Passport token format, as MSNLD/irc7 and irc7-com check it (`PassportV4.cs`; protocol.md
/// §2.5), so tickets the sandbox issues are the kind a revival IRCX server verifies.
///
/// ```
/// cryptKey = SHA256("ENCRYPTION" + secret)[0..<16]     signKey = SHA256("SIGNATURE" + secret)[0..<16]
/// body     = k=v&k=v…   (values form-encoded)
/// plain    = body + "&sig=" + urlencode(base64(HMAC-SHA256(signKey, body)))
/// token    = base64(IV(16) || AES-128-CBC-PKCS7(cryptKey, IV, plain))
/// ```
/// Ticket fields: `puid, domain, ts, ttl` (and `pad`, filler for accounts with `ticket_padding`). Profile: `pid, ts`.
/// Registration cookie: `nick`. SubscriberInfo: `ts, subscriber`. UserRole: `umode, utype`.
public struct PassportV4: Sendable {
    /// irc7's default secret (`DefaultServer.json`), so a stock irc7 server accepts the sandbox's tickets.
    public static let defaultSecret = "mysecret"

    let cryptKey: SymmetricKey
    let signKey: SymmetricKey

    public init(secret: String) {
        cryptKey = SymmetricKey(data: Array(SHA256.hash(data: Array(("ENCRYPTION" + secret).utf8))).prefix(16))
        signKey = SymmetricKey(data: Array(SHA256.hash(data: Array(("SIGNATURE" + secret).utf8))).prefix(16))
    }

    /// Seals `fields` in order. `iv` is for tests; by default 16 fresh random bytes are used.
    public func seal(_ fields: KeyValuePairs<String, String>, iv: [UInt8]? = nil) -> String {
        seal(fields.map { ($0.key, $0.value) }, iv: iv)
    }

    public func seal(_ fields: [(String, String)], iv: [UInt8]? = nil) -> String {
        let body = fields.map { FormEncoding.encode($0.0) + "=" + FormEncoding.encode($0.1) }.joined(separator: "&")
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: signKey)).base64EncodedString()
        let plain = Array((body + "&sig=" + FormEncoding.encode(signature)).utf8)
        var rng = SystemRandomNumberGenerator()
        let ivBytes = iv ?? (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Both can only fail on a wrong-sized IV, which this code never builds.
        let sealed = try! AES._CBC.encrypt(plain, using: cryptKey, iv: try! AES._CBC.IV(ivBytes: ivBytes))
        return Data(ivBytes + sealed).base64EncodedString()
    }

    /// The fields of a token this secret sealed, or nil when it does not decrypt or its signature is wrong.
    public func open(_ token: String) -> [String: String]? {
        guard let raw = Data(base64Encoded: token).map(Array.init), raw.count > 16, raw.count % 16 == 0,
            let iv = try? AES._CBC.IV(ivBytes: raw[0..<16]),
            let plain = try? AES._CBC.decrypt(raw[16...], using: cryptKey, iv: iv),
            let text = String(bytes: plain, encoding: .utf8)
        else { return nil }
        let parts = text.components(separatedBy: "&sig=")
        guard parts.count == 2, let signatureText = FormEncoding.decode(parts[1]),
            let signature = Data(base64Encoded: signatureText)
        else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array(parts[0].utf8), using: signKey)
        else { return nil }
        var fields: [String: String] = [:]
        for (key, value) in FormEncoding.parse(parts[0]) where fields[key] == nil { fields[key] = value }
        return fields
    }
}
