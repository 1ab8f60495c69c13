import GKText
import Testing

@Suite("Hex")
struct HexTests {
    @Test("encode and decode: golden vectors, both cases, round trips of every byte")
    func roundTrip() {
        #expect(Hex.encode([0x00, 0x1F, 0xA5, 0xFF]) == "001FA5FF")
        #expect(Hex.encode([0x00, 0x1F, 0xA5, 0xFF], uppercase: false) == "001fa5ff")
        #expect(Hex.decode(Array("D6976AC3d30a".utf8)) == [0xD6, 0x97, 0x6A, 0xC3, 0xD3, 0x0A])
        let all = (0...255).map(UInt8.init)
        #expect(Hex.decode(Array(Hex.encode(all).utf8)) == all)
        #expect(Hex.decode(Array(Hex.encode(all, uppercase: false).utf8)) == all)
        #expect(Hex.decode([]) == [])
        for byte in all {
            let expected: UInt8? = switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x37
            case 0x61...0x66: byte - 0x57
            default: nil
            }
            #expect(Hex.value(of: byte) == expected, "\(byte)")
        }
    }

    @Test("invalid input is nil: odd lengths, non-digits", arguments: ["0", "ABC", "0G", "g0", " 00", "00 ", "+1", "-1", "0x00"])
    func invalid(text: String) { #expect(Hex.decode(Array(text.utf8)) == nil) }

    @Test("printable: visible ASCII as itself, anything else as <0xNN>")
    func printable() {
        #expect(Hex.printable(UInt8(ascii: "A")) == "A")
        #expect(Hex.printable(0x20) == "<0x20>" && Hex.printable(0x7F) == "<0x7F>" && Hex.printable(0x00) == "<0x00>" && Hex.printable(0xE9) == "<0xE9>")
    }
}

@Suite("Percent-encoding")
struct PercentEncodingTests {
    @Test("RFC 3986 unreserved stay, everything else is %XX (uppercase): the Tweener fields' golden vector")
    func encode() {
        #expect(PercentEncoding.encode("p,w=d%&é") == "p%2Cw%3Dd%25%26%C3%A9")
        #expect(PercentEncoding.encode("http://messenger.msn.com") == "http%3A%2F%2Fmessenger.msn.com")
        #expect(PercentEncoding.encode("aZ09-._~") == "aZ09-._~")
        #expect(PercentEncoding.encode("a b+c", keeping: { $0 != 0x20 }, lowercase: true) == "a%20b+c")
        #expect(PercentEncoding.encode("\u{7F}/", keeping: { _ in false }, lowercase: true) == "%7f%2f")
    }

    @Test("decode undoes encode for any text; + is a space only in forms")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "%", "+", " ", "&", "=", "/", "é", "😀", "\u{0}", "~", "Z"]
        for _ in 0..<500 {
            let text = String((0..<Int.random(in: 0...16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(PercentEncoding.decode(PercentEncoding.encode(text)) == text)
            #expect(PercentEncoding.decode(PercentEncoding.encode(text), plusIsSpace: true) == text)
        }
        #expect(PercentEncoding.decode("a+b%2bc") == "a+b+c")
        #expect(PercentEncoding.decode("a+b%2Bc", plusIsSpace: true) == "a b+c")
        #expect(PercentEncoding.decode("%c3%A9") == "é")
    }

    @Test("a broken escape or invalid UTF-8 is nil", arguments: ["%", "%2", "%zz", "%+F", "%-1", "a%G0", "%C3", "%FF", "%C3%28"])
    func invalid(text: String) { #expect(PercentEncoding.decode(text) == nil) }

    @Test("query items: form-decoded pairs; malformed pairs are skipped")
    func query() {
        let items = PercentEncoding.queryItems("t=a%2Fb&p=&flag&x=1+2&bad=%zz&=v")
        #expect(items.map(\.name) == ["t", "p", "flag", "x", ""] && items.map(\.value) == ["a/b", "", "", "1 2", "v"])
    }
}

@Suite("Dates")
struct DateTests {
    @Test("HTTP dates in the three forms", arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", Int64(784_111_777)), ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),
        ("Sun, 06-Nov-1994 08:49:37 GMT", 784_111_777), ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ("Fri, 27 Nov 2026 13:51:02 GMT", 1_795_787_462), ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),
        ("Thu, 01-Jan-69 00:00:00 GMT", 3_124_224_000),
    ])
    func httpDates(text: String, unix: Int64) { #expect(HTTPDate.parse(text) == unix) }

    @Test("HTTP dates that are not dates, or whose year would overflow", arguments: [
        "", "yesterday", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT", "06 Nov 1994",
        "Sun, 06 Nov 99999999999999999 08:49:37 GMT", "Sun, 06 Nov 10000 08:49:37 GMT",
    ])
    func notHTTPDates(text: String) { #expect(HTTPDate.parse(text) == nil) }

    @Test("UTC times: golden vectors, round trips from 1970 to 2200 and before 1970, junk is nil")
    func utcTimes() {
        #expect(UTCTimestamp.format(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.format(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(UTCTimestamp.format(1_800_086_400) == "2027-01-16T08:00:00Z")
        #expect(UTCTimestamp.format(-1) == "1969-12-31T23:59:59Z")
        #expect(UTCTimestamp.format(-62_135_596_800) == "0001-01-01T00:00:00Z")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -62_135_596_800...7_258_118_400, using: &generator)
            #expect(UTCTimestamp.parse(UTCTimestamp.format(seconds)) == seconds, "\(seconds)")
        }
        for junk in ["", "2026-13-01T00:00:00Z", "2026-11-26 13:00:00Z", "2026-11-26T25:00:00Z", "2026-11-26T13:00:00+01:00", "2026-1a-26T13:00:00Z", "yesterday"] {
            #expect(UTCTimestamp.parse(junk) == nil, "\(junk)")
        }
        #expect(UTCTimestamp.hasFormatShape("2026-1a-26T13:00:00Z") && !UTCTimestamp.hasFormatShape("2026-11-26T13:00:00.5Z"))
    }
}
