internal import Crypto

/// The GateKeeper answer: HMAC-MD5 keyed with `SRFMKSJANDRESKKC` over the challenge, plus the server host for v3
/// (protocol.md §1.4), on swift-crypto's MD5 (`Insecure.MD5`), which is compiled into the binary: the protocol core
/// loads no library.
///
/// HMAC (RFC 2104) is spelled out over the concrete `Insecure.MD5` rather than taken from `HMAC<Insecure.MD5>`:
/// swift-crypto's generic HMAC is not specialised across the module boundary, and looking up its generic
/// metadata on every answer made it 1.6 times as slow as OpenSSL's keyed context; the two agree on every input
/// (GateKeeperHMACTests). One instance holds the MD5 states after the key's inner and outer pads; each answer
/// continues copies of them, so the key is hashed once. The class is not `Sendable`: give each thread or
/// connection its own.
public final class GateKeeperHMAC {
    /// The HMAC key every GateKeeper implementation uses [S1, S2, S3, S4, S5].
    public static let key: [UInt8] = Array("SRFMKSJANDRESKKC".utf8)
    /// The original OCX copied at most 15 host bytes into a 16-byte buffer (protocol.md §1.4, [S13, S14]).
    public static let truncatedHostLength = 15

    /// MD5 after `key ^ ipad` and after `key ^ opad` (the key, 16 bytes, zero-padded to MD5's 64-byte block).
    private let inner: Insecure.MD5
    private let outer: Insecure.MD5

    public init() {
        let padded = Self.key + [UInt8](repeating: 0, count: Insecure.MD5.blockByteCount - Self.key.count)
        var inner = Insecure.MD5(), outer = Insecure.MD5()
        padded.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        padded.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The message GateKeeper hashes: the challenge, then for v3 the host (its first 15 bytes when `truncateHost`).
    public static func message(
        challenge: some Collection<UInt8>, version: GateKeeperVersion, host: some Collection<UInt8>,
        truncateHost: Bool = true
    ) -> [UInt8] {
        var message = Array(challenge)
        if version.hashesHost { message += hashedHost(Array(host), truncate: truncateHost) }
        return message
    }

    /// The host bytes v3 hashes: all of them, or the first 15 as the OCX did.
    static func hashedHost(_ host: [UInt8], truncate: Bool) -> ArraySlice<UInt8> {
        truncate ? host.prefix(truncatedHostLength) : host[...]
    }

    /// The 16-byte answer for `challenge` from a server known to the client as `host` (used only for v3).
    ///
    /// The challenge and host are fed to the MAC as two updates, so no message buffer is built.
    public func answer(
        challenge: some Collection<UInt8>, version: GateKeeperVersion, host: some Collection<UInt8>,
        truncateHost: Bool = true
    ) -> [UInt8] {
        let challenge = Array(challenge)
        guard version.hashesHost else { return mac(challenge, []) }
        return mac(challenge, Self.hashedHost(Array(host), truncate: truncateHost))
    }

    /// HMAC-MD5 of `message` under the GateKeeper key.
    public func mac(_ message: [UInt8]) -> [UInt8] { mac(message, []) }

    /// HMAC-MD5 of `first` followed by `second`.
    func mac(_ first: [UInt8], _ second: ArraySlice<UInt8>) -> [UInt8] {
        var hasher = inner
        first.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        if !second.isEmpty { second.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        let innerDigest = hasher.finalize()
        var outerHasher = outer
        innerDigest.withUnsafeBytes { outerHasher.update(bufferPointer: $0) }
        return outerHasher.finalize().withUnsafeBytes { Array($0) }
    }
}
