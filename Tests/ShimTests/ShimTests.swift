import CCrypto
import CCurl
import CSecret
import Testing

/// The three system-library shims link, and the libraries behind them are the ones gkpass needs.
@Suite("C shims")
struct ShimTests {
    @Test("libcurl is the OpenSSL flavour with TLS support (libcurl4-openssl-dev)")
    func curlHasOpenSSL() throws {
        #expect(gk_curl_load() == nil)
        let info = gk_curl_version_info()
        #expect(info.pointee.features & CURL_VERSION_SSL != 0)
        let ssl = try #require(info.pointee.ssl_version)
        #expect(String(cString: ssl).hasPrefix("OpenSSL"))
    }

    @Test("the typed setopt wrappers reach curl_easy_setopt")
    func curlSetopt() throws {
        #expect(gk_curl_load() == nil)
        let handle = try #require(gk_curl_easy_init())
        defer { gk_curl_easy_cleanup(handle) }
        #expect(gk_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1) == CURLE_OK)
        #expect(gk_curl_easy_setopt_string(handle, CURLOPT_URL, "https://127.0.0.1/") == CURLE_OK)
        // An unknown option number is reported, not ignored.
        #expect(gk_curl_easy_setopt_long(handle, CURLoption(rawValue: 99_999), 1) != CURLE_OK)
    }

    @Test("libcrypto HMAC-MD5 through the shim matches RFC 2202 test case 1")
    func hmacMD5() throws {
        #expect(gk_crypto_load() == nil)
        let key = [UInt8](repeating: 0x0B, count: 16)
        let context = try #require(key.withUnsafeBufferPointer { gk_hmac_ctx_new("MD5", $0.baseAddress!, $0.count) })
        defer { gk_evp_mac_ctx_free(context) }
        let message = Array("Hi There".utf8)
        var digest = [UInt8](repeating: 0, count: 16)
        var length = 0
        #expect(gk_evp_mac_update(context, message, message.count) == 1)
        #expect(gk_evp_mac_final(context, &digest, &length, digest.count) == 1)
        let hex: [String] = digest.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(hex.joined() == "9294727a3638bb1c13f48ef8158bfc9d")
    }

    @Test("an unknown digest yields NULL from the HMAC shim rather than a half-built context")
    func hmacUnknownDigest() {
        #expect(gk_crypto_load() == nil)
        let key: [UInt8] = [1, 2, 3]
        #expect(key.withUnsafeBufferPointer { gk_hmac_ctx_new("NO-SUCH-DIGEST", $0.baseAddress!, $0.count) } == nil)
        gk_err_clear_error()
    }

    @Test("the libsecret schema names the design.md §6 attributes in order")
    func secretSchema() {
        let schema = gk_secret_schema().pointee
        #expect(String(cString: schema.name) == "org.gkpass.Ticket")
        let names = withUnsafeBytes(of: schema.attributes) { raw in
            raw.bindMemory(to: SecretSchemaAttribute.self).prefix { $0.name != nil }.map { String(cString: $0.name) }
        }
        #expect(names == ["service", "account", "network", "kind"], "expires lives in the secret, not in an attribute that would change")
    }
}
