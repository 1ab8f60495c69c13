internal import CCrypto
internal import Glibc

/// The Secret Service's transport encryption, `dh-ietf1024-sha256-aes128-cbc-pkcs7` (Secret Service API 0.2,
/// "Transfer of Secrets"), on OpenSSL: the same algorithm libsecret and secret-tool negotiate, so the secret never
/// crosses the bus in clear.
///
/// The exchange: our Diffie-Hellman public key goes to `OpenSession`; the service answers with its own; both sides
/// derive the shared secret (left-padded to the prime's 128 bytes), run HKDF-SHA256 over it with no salt and no
/// info, and keep the first 16 bytes as an AES-128 key. A secret then arrives as an IV and AES-128-CBC ciphertext
/// with PKCS#7 padding.
///
/// Why not libsecret's own: libsecret does the same two modular exponentiations in libgcrypt's generic bignum code,
/// about 1 ms each on the CI machine, 23 M of the 31 M instructions of a `secret-tool lookup` (callgrind), and
/// OpenSSL's constant-time Montgomery exponentiation takes 0.3 ms each. Pure: bytes in, bytes out; the only input
/// from outside is the kernel's random generator for the private exponent.
final class SecretTransport {
    static let algorithm = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
    /// RFC 2409 §6.2, the Second Oakley Group: the 1024-bit MODP prime, generator 2.
    static let prime: [UInt8] = Hex.bytes(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
            + "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF")
    static let generator: UInt = 2
    static let keyLength = 16

    private let context: OpaquePointer
    private let modulus: OpaquePointer
    private let montgomery: OpaquePointer
    /// The private exponent: 1023 bits from the kernel's CSPRNG (getrandom), cleared on release.
    private let exponent: OpaquePointer
    /// AES-128-CBC from the provider, fetched here so that OpenSSL's provider start-up (0.4 ms) happens on the
    /// thread that makes the key pair, not while the secret waits.
    private let cipher: OpaquePointer
    /// Our public key, big-endian, left-padded to 128 bytes: what `OpenSession` sends.
    let publicKey: [UInt8]

    /// A fresh key pair. The exponent comes straight from getrandom(2), which is what OpenSSL's own generator
    /// would be seeded from: instantiating that generator costs 0.9 ms on first use, three times the
    /// exponentiation itself. Throws when OpenSSL cannot allocate or compute (the caller then lets libsecret
    /// negotiate instead).
    init() throws(StoreError) {
        func refuse(_ what: String) -> StoreError {
            gk_err_clear_error()
            return StoreError(.unavailable, "OpenSSL failed the Secret Service key exchange (\(what))")
        }
        if let why = gk_crypto_load() { throw StoreError(.unavailable, "cannot load OpenSSL's libcrypto.so.3: \(String(cString: why))") }
        var random = [UInt8](repeating: 0, count: Self.prime.count)
        defer { SecretBytes.wipe(&random) }
        var filled = 0
        while filled < random.count {
            let got = random.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, $0.count - filled, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "getrandom failed for the Secret Service key exchange")
            }
            filled += got
        }
        random[0] &= 0x7F  // below 2^1023, so below the prime
        random[random.count - 1] |= 0x02  // and at least 2
        // Fetched from the provider: EVP_aes_128_cbc() would first register every legacy cipher (0.3 ms).
        guard let cipher = gk_evp_cipher_fetch("AES-128-CBC") else { throw refuse("no AES-128-CBC") }
        guard let context = gk_bn_ctx_new(), let modulus = gk_bn_bin2bn(Self.prime, Int32(Self.prime.count), nil) else {
            gk_evp_cipher_free(cipher)
            throw refuse("allocating numbers")
        }
        guard let montgomery = gk_bn_mont_ctx_new(), gk_bn_mont_ctx_set(montgomery, modulus, context) == 1,
            let exponent = gk_bn_secure_new() ?? gk_bn_new(), gk_bn_bin2bn(random, Int32(random.count), exponent) != nil,
            let generator = gk_bn_new()
        else {
            gk_bn_free(modulus)
            gk_bn_ctx_free(context)
            gk_evp_cipher_free(cipher)
            throw refuse("allocating numbers")
        }
        defer { gk_bn_free(generator) }
        gk_bn_set_consttime(exponent)
        self.cipher = cipher
        self.context = context
        self.modulus = modulus
        self.montgomery = montgomery
        self.exponent = exponent
        guard gk_bn_set_word(generator, Self.generator) == 1, let power = gk_bn_new() else { throw refuse("allocating numbers") }
        defer { gk_bn_free(power) }
        var bytes = [UInt8](repeating: 0, count: Self.prime.count)
        guard gk_bn_mod_exp_mont_consttime(power, generator, exponent, modulus, context, montgomery) == 1,
            gk_bn_bn2binpad(power, &bytes, Int32(bytes.count)) == Int32(bytes.count)
        else { throw refuse("computing the public key") }
        publicKey = bytes
    }

    deinit {
        gk_evp_cipher_free(cipher)
        gk_bn_clear_free(exponent)
        gk_bn_mont_ctx_free(montgomery)
        gk_bn_free(modulus)
        gk_bn_ctx_free(context)
    }

    /// The AES key from the service's public key (`OpenSession`'s output). Throws `.corrupt` for a public key
    /// outside 2 ... p-2 (which would make the shared secret guessable).
    func sessionKey(servicePublicKey: [UInt8]) throws(StoreError) -> SecretBytes {
        guard !servicePublicKey.isEmpty, servicePublicKey.count <= Self.prime.count,
            let peer = gk_bn_bin2bn(servicePublicKey, Int32(servicePublicKey.count), nil)
        else { throw StoreError(.corrupt, "the Secret Service sent an unusable key exchange answer (\(servicePublicKey.count) bytes)") }
        defer { gk_bn_free(peer) }
        guard let limit = gk_bn_dup(modulus), gk_bn_sub_word(limit, 1) == 1 else { throw StoreError(.io, "OpenSSL could not allocate a number") }
        defer { gk_bn_free(limit) }
        guard gk_bn_cmp(peer, gk_bn_value_one()) > 0, gk_bn_cmp(peer, limit) < 0 else {
            throw StoreError(.corrupt, "the Secret Service sent a key exchange answer outside the group")
        }
        guard let power = gk_bn_secure_new() ?? gk_bn_new() else { throw StoreError(.io, "OpenSSL could not allocate a number") }
        defer { gk_bn_clear_free(power) }
        // Padded: a shared secret with leading zero bytes still counts 128 bytes, as the service computes it.
        var shared = [UInt8](repeating: 0, count: Self.prime.count)
        defer { SecretBytes.wipe(&shared) }
        guard gk_bn_mod_exp_mont_consttime(power, peer, exponent, modulus, context, montgomery) == 1,
            gk_bn_bn2binpad(power, &shared, Int32(shared.count)) == Int32(shared.count)
        else {
            gk_err_clear_error()
            throw StoreError(.io, "OpenSSL failed to compute the Secret Service session key")
        }
        return try Self.hkdfSHA256(shared, length: Self.keyLength)
    }

    /// HKDF-SHA256 (RFC 5869) with no salt (that is, 32 zero bytes) and no info: the first `length` (≤ 32) bytes.
    static func hkdfSHA256(_ input: [UInt8], length: Int) throws(StoreError) -> SecretBytes {
        precondition(length <= 32)
        var pseudorandom = try hmacSHA256(key: [UInt8](repeating: 0, count: 32), input)
        defer { SecretBytes.wipe(&pseudorandom) }
        var block = try hmacSHA256(key: pseudorandom, [0x01])
        defer { SecretBytes.wipe(&block) }
        return SecretBytes(block.prefix(length))
    }

    static func hmacSHA256(key: [UInt8], _ message: [UInt8]) throws(StoreError) -> [UInt8] {
        if let why = gk_crypto_load() { throw StoreError(.unavailable, "cannot load OpenSSL's libcrypto.so.3: \(String(cString: why))") }
        guard let context = key.withUnsafeBufferPointer({ gk_hmac_ctx_new("SHA256", $0.baseAddress!, $0.count) }) else {
            gk_err_clear_error()
            throw StoreError(.unavailable, "OpenSSL refused HMAC-SHA256 for the Secret Service key exchange")
        }
        defer { gk_evp_mac_ctx_free(context) }
        var digest = [UInt8](repeating: 0, count: 32)
        var length = 0
        guard gk_evp_mac_update(context, message, message.count) == 1, gk_evp_mac_final(context, &digest, &length, digest.count) == 1, length == 32 else {
            throw StoreError(.unavailable, "OpenSSL failed to compute HMAC-SHA256 for the Secret Service key exchange")
        }
        return digest
    }

    /// The plaintext of a secret sent as `parameters` (the 16-byte IV) and `value` (AES-128-CBC, PKCS#7) under
    /// `key` (``sessionKey(servicePublicKey:)``).
    /// Throws `.corrupt` when it does not decrypt: a wrong IV length, a partial block, or bad padding.
    func decrypt(key: SecretBytes, parameters: [UInt8], value: [UInt8]) throws(StoreError) -> SecretBytes {
        guard key.count == Self.keyLength, parameters.count == 16, !value.isEmpty, value.count % 16 == 0 else {
            throw StoreError(.corrupt, "the Secret Service sent a secret that is not AES-128-CBC (IV \(parameters.count) bytes, \(value.count) bytes of data)")
        }
        guard let context = gk_evp_cipher_ctx_new() else { throw StoreError(.io, "OpenSSL could not allocate a cipher context") }
        defer { gk_evp_cipher_ctx_free(context) }
        var plain = [UInt8](repeating: 0, count: value.count + 16)
        defer { SecretBytes.wipe(&plain) }
        var written: Int32 = 0, last: Int32 = 0
        let ok = key.withUnsafeBytes { keyBytes in
            gk_evp_decrypt_init(context, cipher, keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self), parameters) == 1
                && gk_evp_decrypt_update(context, &plain, &written, value, Int32(value.count)) == 1
                && plain.withUnsafeMutableBufferPointer { gk_evp_decrypt_final(context, $0.baseAddress! + Int(written), &last) } == 1
        }
        guard ok else {
            gk_err_clear_error()
            throw StoreError(.corrupt, "the secret from the Secret Service does not decrypt with the session key (bad padding)")
        }
        return SecretBytes(plain.prefix(Int(written + last)))
    }
}
