internal import CCrypto

/// The GateKeeper answer: HMAC-MD5 keyed with `SRFMKSJANDRESKKC` over the challenge, plus the server host for v3
/// (protocol.md §1.4), computed by OpenSSL libcrypto.
///
/// One instance owns one keyed `EVP_MAC_CTX`; each answer duplicates it, so the key schedule runs once. That is twice
/// as fast as OpenSSL 3's one-shot `HMAC()`, which fetches the algorithm on every call. The class is not `Sendable`:
/// give each thread or connection its own.
public final class GateKeeperHMAC {
    /// The HMAC key every GateKeeper implementation uses [S1, S2, S3, S4, S5].
    public static let key: [UInt8] = Array("SRFMKSJANDRESKKC".utf8)
    /// The original OCX copied at most 15 host bytes into a 16-byte buffer (protocol.md §1.4, [S13, S14]).
    public static let truncatedHostLength = 15

    private let keyed: OpaquePointer

    /// Creates the keyed context. Throws `.cryptoUnavailable` when libcrypto cannot be loaded or refuses HMAC-MD5 (a
    /// FIPS-only provider).
    public init() throws(GateKeeperError) {
        if let why = gk_crypto_load() {
            throw GateKeeperError(.cryptoUnavailable, "cannot load OpenSSL's libcrypto.so.3 (\(String(cString: why))); GateKeeper cannot work without it")
        }
        let context = Self.key.withUnsafeBufferPointer { key in
            gk_hmac_ctx_new("MD5", key.baseAddress!, key.count)
        }
        guard let context else {
            gk_err_clear_error()
            throw GateKeeperError(
                .cryptoUnavailable,
                "OpenSSL refused HMAC-MD5 (is only a FIPS provider loaded?); GateKeeper cannot work without it")
        }
        self.keyed = context
    }

    deinit { gk_evp_mac_ctx_free(keyed) }

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
        // A duplicate of an initialised context fails only when memory runs out, where Swift itself would trap
        // anyway; the checks make any such failure loud rather than a wrong answer.
        guard let context = gk_evp_mac_ctx_dup(keyed) else { fatalError("EVP_MAC_CTX_dup failed: out of memory") }
        defer { gk_evp_mac_ctx_free(context) }
        var ok = first.withUnsafeBufferPointer { gk_evp_mac_update(context, $0.baseAddress, $0.count) == 1 }
        if !second.isEmpty {
            ok = ok && second.withUnsafeBufferPointer { gk_evp_mac_update(context, $0.baseAddress, $0.count) == 1 }
        }
        var length = 0
        let digest = [UInt8](unsafeUninitializedCapacity: GateKeeperToken.digestLength) { buffer, count in
            ok = ok && gk_evp_mac_final(context, buffer.baseAddress, &length, buffer.count) == 1
            count = ok ? length : 0
        }
        precondition(ok && digest.count == GateKeeperToken.digestLength, "HMAC-MD5 failed on an initialised context")
        return digest
    }
}
