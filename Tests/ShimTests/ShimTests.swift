import CLoader
import Testing

/// The C loader (Sources/CLoader) loads the libraries gkpass needs, and they are the flavours it needs. Its tables are
/// shared by every caller: this module loads through the same gk_curl_load()/gk_secret_load() as Passport and TicketStore.
@Suite("C loader")
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
