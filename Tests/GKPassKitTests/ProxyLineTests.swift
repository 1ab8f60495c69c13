@testable import GKPassKit
import Testing

/// The proxy's own lines to its client (NOTICE and ERROR on refusal, 451, PONG) stay one line whatever the text
/// they quote (an error message can quote a config, server or chat-page value).
@Suite("proxy: its own lines")
struct ProxyLineTests {
    @Test("CR, LF and NUL in the text become spaces; the line ends in one CRLF", arguments: [
        "ERROR :Closing link (gkpass: bad\r\nQUIT)", "NOTICE * :gkpass: a\nJOIN #x", "NOTICE * :gkpass: a\rb", "NOTICE * :gkpass: a\u{0}b",
    ])
    func oneLine(text: String) {
        let line = ProxySession.oneLine(text)
        #expect(line.last == 0x0A && line.dropLast().last == 0x0D)
        #expect(!line.dropLast(2).contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 })
        #expect(line.count == Array(text.utf8).count + 2)
    }

    @Test("UTF-8 text passes unchanged")
    func utf8() {
        #expect(ProxySession.oneLine("NOTICE JoséÜmlaut :gkpass: olá") == Array("NOTICE JoséÜmlaut :gkpass: olá\r\n".utf8))
    }

    @Test("a failed connect's reason drops the address the router's message names already; other reasons stay whole")
    func reasonWithoutEndpoint() {
        let endpoint = Network.Endpoint(host: "127.0.0.1", port: 37955)
        #expect(ProxySession.withoutEndpoint("cannot connect to 127.0.0.1:37955 (Connection refused)", endpoint) == "Connection refused")
        #expect(ProxySession.withoutEndpoint("cannot connect to 127.0.0.2:37955 (Connection refused)", endpoint)
            == "cannot connect to 127.0.0.2:37955 (Connection refused)")
        #expect(ProxySession.withoutEndpoint("the server closed the connection", endpoint) == "the server closed the connection")
    }
}
