import CLoader
import Testing
@testable import Passport

/// A failed TLS handshake is explained from OpenSSL's verification result (CURLINFO_SSL_VERIFYRESULT), not from the
/// words of libcurl's message; the end-to-end faults (expired, wrong host, unknown CA) are in the CLI's fault matrix.
@Suite("TLS failures by verification result")
struct TLSVerdictTests {
    let url = PassportURL("https://login.example.net/ppsecure/post.srf")!

    func explain(_ code: CURLcode, _ verifyResult: Int, _ text: String = "SSL certificate problem") -> PassportError {
        HTTPClient.error(code, detail: text, url: url, tooLarge: false, tls: HTTPClient.TLSFailure(code: code, verifyResult: verifyResult))
    }

    @Test("each X509_V_ERR code names its cause, whatever the message says")
    func verdicts() {
        #expect(explain(CURLE_PEER_FAILED_VERIFICATION, 10, "unable to get local issuer").message.contains("has expired"))
        #expect(explain(CURLE_PEER_FAILED_VERIFICATION, 9).message.contains("is not valid yet"))
        #expect(explain(CURLE_PEER_FAILED_VERIFICATION, 62).message.contains("is for another host name"))
        #expect(explain(CURLE_PEER_FAILED_VERIFICATION, 24, "certificate has expired").message.contains("not marked as a CA"))
        for code in [2, 18, 19, 20, 21, 27] {
            #expect(explain(CURLE_PEER_FAILED_VERIFICATION, code, "certificate has expired").message.contains("signed by a CA this network does not trust"), "\(code)")
        }
        // libcurl's own host-name check refused the peer: OpenSSL's verdict was never recorded (1), or was OK (0).
        #expect(explain(CURLE_PEER_FAILED_VERIFICATION, 1, "certificate has expired").message.contains("is for another host name"))
        #expect(explain(CURLE_PEER_FAILED_VERIFICATION, 0).message.contains("is for another host name"))
        let other = explain(CURLE_SSL_CONNECT_ERROR, 0, "certificate has expired; issuer unknown")
        #expect(other.kind == .tls && other.message.contains("login.example.net:443 refused the handshake") == false && other.message.contains("the handshake with login.example.net:443 failed"), "\(other)")
        // Reached by IP, a refused handshake points at SNI.
        let byIP = HTTPClient.error(CURLE_SSL_CONNECT_ERROR, detail: "tlsv1 unrecognized name", url: PassportURL("https://127.0.0.1:4443/")!, tooLarge: false,
            tls: HTTPClient.TLSFailure(code: CURLE_SSL_CONNECT_ERROR, verifyResult: 1))
        #expect(byIP.message.contains("refused the handshake") && byIP.hint?.contains("host name") == true, "\(byIP)")
    }
}
