import Passport
import Testing

/// `PassportURL.resolving(_:)`, libcurl's URL API underneath, against RFC 3986 §5.4's own examples. PassportURL
/// keeps no fragment, so each expected URL goes through `PassportURL` too (which drops it) before comparing.
@Suite("Location resolution (RFC 3986 §5.4, curl_url)")
struct PassportURLTests {
    static let base = PassportURL("http://a/b/c/d;p?q")!

    @Test("§5.4.1 normal examples", arguments: [
        ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"), ("/g", "http://a/g"),
        ("//g", "http://g"), ("?y", "http://a/b/c/d;p?y"), ("g?y", "http://a/b/c/g?y"), ("#s", "http://a/b/c/d;p?q#s"),
        ("g#s", "http://a/b/c/g#s"), ("g?y#s", "http://a/b/c/g?y#s"), (";x", "http://a/b/c/;x"), ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y#s"), (".", "http://a/b/c/"), ("./", "http://a/b/c/"),
        ("..", "http://a/b/"), ("../", "http://a/b/"), ("../g", "http://a/b/g"), ("../..", "http://a/"), ("../../", "http://a/"),
        ("../../g", "http://a/g"),
    ])
    func normal(reference: String, expected: String) {
        #expect(Self.base.resolving(reference) == PassportURL(expected), "\(reference)")
    }

    @Test("§5.4.2 abnormal examples", arguments: [
        ("../../../g", "http://a/g"), ("../../../../g", "http://a/g"), ("/./g", "http://a/g"), ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."), (".g", "http://a/b/c/.g"), ("g..", "http://a/b/c/g.."), ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"), ("./g/.", "http://a/b/c/g/"), ("g/./h", "http://a/b/c/g/h"), ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"), ("g;x=1/../y", "http://a/b/c/y"), ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"), ("g#s/./x", "http://a/b/c/g#s/./x"), ("g#s/../x", "http://a/b/c/g#s/../x"),
    ])
    func abnormal(reference: String, expected: String) {
        #expect(Self.base.resolving(reference) == PassportURL(expected), "\(reference)")
    }

    @Test("an empty Location and a fragment alone name the same document (§5.2.2; libcurl 7.88 gets `#s` wrong)")
    func sameDocument() {
        #expect(Self.base.resolving("") == Self.base)
        #expect(Self.base.resolving("#s") == Self.base)
    }

    @Test("a query alone keeps the whole path (the case the hand-written resolver got wrong)")
    func queryOnly() {
        #expect(PassportURL("https://login.test/a/b")!.resolving("?q")?.description == "https://login.test/a/b?q")
        #expect(PassportURL("https://login.test:4443/ppsecure/post.srf?x=1")!.resolving("?y=2")?.description
            == "https://login.test:4443/ppsecure/post.srf?y=2")
    }

    @Test("absolute and scheme-relative Locations, ports and IPv6 literals")
    func absolute() {
        let url = PassportURL("https://127.0.0.1:4443/login.srf")!
        #expect(url.resolving("https://login.passport.com/x")?.description == "https://login.passport.com/x")
        #expect(url.resolving("//other.test:8443/y?z")?.description == "https://other.test:8443/y?z")
        #expect(url.resolving("/msnchat/x.asp?ru=1")?.description == "https://127.0.0.1:4443/msnchat/x.asp?ru=1")
        #expect(PassportURL("https://[::1]:4443/a/b")!.resolving("c")?.description == "https://[::1]:4443/a/c")
    }

    @Test("what PassportURL refuses stays refused: other schemes, credentials in the URL")
    func refused() {
        #expect(Self.base.resolving("g:h") == nil)
        #expect(Self.base.resolving("ftp://a/b") == nil)
        #expect(Self.base.resolving("https://user:pass@evil.test/") == nil)
    }
}
