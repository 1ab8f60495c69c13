import Testing
@testable import TicketStore

/// The Secret Service transport encryption (`dh-ietf1024-sha256-aes128-cbc-pkcs7`) against published vectors, and
/// both ends of the key exchange against each other. The end-to-end check against gnome-keyring is in
/// SecretServiceStoreTests.
@Suite("Secret Service transport encryption")
struct SecretTransportTests {
    static func hex(_ text: String) -> [UInt8] { Hex.bytes(text) }

    @Test("the group is RFC 2409's Second Oakley Group: 1024 bits, 64 bits of ones at both ends")
    func group() {
        #expect(SecretTransport.prime.count == 128)
        #expect(SecretTransport.prime.prefix(8).allSatisfy { $0 == 0xFF } && SecretTransport.prime.suffix(8).allSatisfy { $0 == 0xFF })
        #expect(SecretTransport.prime[8...11] == [0xC9, 0x0F, 0xDA, 0xA2][...], "the digits of pi follow")
    }

    @Test("HKDF-SHA256 with no salt and no info: RFC 5869 test case 3")
    func hkdf() throws {
        let okm = try SecretTransport.hkdfSHA256([UInt8](repeating: 0x0B, count: 22), length: 32)
        #expect(okm.copyBytes() == Self.hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"))
        #expect(try SecretTransport.hkdfSHA256([UInt8](repeating: 0x0B, count: 22), length: 16).copyBytes() == Array(okm.copyBytes().prefix(16)))
    }

    @Test("two ends derive the same 16-byte key, whatever the shared secret's leading bytes (300 exchanges)")
    func agreement() throws {
        for _ in 0..<300 {
            let a = try SecretTransport(), b = try SecretTransport()
            #expect(a.publicKey.count == 128 && b.publicKey.count == 128)
            let ab = try a.sessionKey(servicePublicKey: b.publicKey), ba = try b.sessionKey(servicePublicKey: a.publicKey)
            #expect(ab.count == 16)
            #expect(ab.copyBytes() == ba.copyBytes())
        }
        // A public key without its leading zero bytes (as some services send it) is the same number.
        let a = try SecretTransport(), b = try SecretTransport()
        let stripped = Array(b.publicKey.drop { $0 == 0 })
        #expect(try a.sessionKey(servicePublicKey: stripped).copyBytes() == a.sessionKey(servicePublicKey: b.publicKey).copyBytes())
    }

    @Test("a service key outside 2 ... p-2 is refused: it would make the session key guessable")
    func degenerateKeys() throws {
        let transport = try SecretTransport()
        var minusOne = SecretTransport.prime
        minusOne[minusOne.count - 1] -= 1
        for bad in [[0x00], [0x01], minusOne, SecretTransport.prime, [], [UInt8](repeating: 0xFF, count: 129)] {
            #expect(throws: StoreError(.corrupt, "")) { try transport.sessionKey(servicePublicKey: bad) }
        }
        #expect(throws: Never.self) { try transport.sessionKey(servicePublicKey: [0x02]) }
    }

    @Test("AES-128-CBC with PKCS#7 padding: decrypts what `openssl enc -aes-128-cbc` made, refuses bad padding and shapes")
    func decrypt() throws {
        let transport = try SecretTransport()
        let key = SecretBytes(Self.hex("2b7e151628aed2a6abf7158809cf4f3c"))
        let iv = Self.hex("000102030405060708090a0b0c0d0e0f")
        let ciphertext = Self.hex("72be5f62b04c8da2945abce3ccd97cdb6c83d569dc1a7316eab7f1fc7ace4ba7")
        #expect(try transport.decrypt(key: key, parameters: iv, value: ciphertext).copyBytes() == Array("gkpass ticket document".utf8))

        var tampered = ciphertext
        tampered[tampered.count - 1] ^= 0x01  // the padding no longer checks out
        #expect(throws: StoreError(.corrupt, "")) { try transport.decrypt(key: key, parameters: iv, value: tampered) }
        #expect(throws: StoreError(.corrupt, "")) { try transport.decrypt(key: key, parameters: Array(iv.prefix(8)), value: ciphertext) }
        #expect(throws: StoreError(.corrupt, "")) { try transport.decrypt(key: key, parameters: iv, value: Array(ciphertext.prefix(20))) }
        #expect(throws: StoreError(.corrupt, "")) { try transport.decrypt(key: key, parameters: iv, value: []) }
    }

    @Test("Concurrent hands back the work's value, from its thread or from the waiter")
    func concurrent() {
        let values = (0..<50).map { n in Concurrent { n * n } }
        #expect(values.map { $0.wait() } == (0..<50).map { $0 * $0 })
        let once = Concurrent { [1, 2, 3] }
        #expect(once.wait() == [1, 2, 3] && once.wait() == [1, 2, 3], "waiting twice gives the same value")
    }
}
