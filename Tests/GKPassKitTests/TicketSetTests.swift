import Foundation
import GKPassKit
import Testing
import TicketStore

/// The ticket document is the Kit's (the stores keep it as opaque bytes): its encoding, its reader, and that the
/// items and files earlier versions wrote still read.
@Suite("Ticket documents")
struct TicketSetTests {
    static let sample = TicketSet(
        account: "alice@passport.test", network: "sandbox", obtained: Date(timeIntervalSince1970: 1_800_000_000),
        expires: Date(timeIntervalSince1970: 1_800_086_400), ticket: "T+/=ticket", profile: "P+/=profile",
        cookies: ["MSNChatNN": "Alice", "MSNREGCookie": "reg"])

    /// The sample's document, byte for byte as gkpass has written it since version 1 (sorted keys, `/` unescaped,
    /// no `blob_layout` when there is none). TicketStoreTests stores these same bytes.
    static let golden = #"{"account":"alice@passport.test","cookies":{"MSNChatNN":"Alice","MSNREGCookie":"reg"},"expires":"2027-01-16T08:00:00Z","#
        + #""network":"sandbox","obtained":"2027-01-15T08:00:00Z","profile":"P+/=profile","ticket":"T+/=ticket","version":1}"#

    @Test("the encoding is byte-identical to what earlier versions wrote, and round trips every cookie and both times")
    func golden() throws {
        #expect(Self.sample.encoded().copyBytes() == Array(Self.golden.utf8))
        #expect(try TicketSet(decoding: SecretBytes(Array(Self.golden.utf8))) == Self.sample)
        var layout = Self.sample
        layout.blobLayout = "profile-nickname"
        let text = String(decoding: layout.encoded().copyBytes(), as: UTF8.self)
        #expect(text == Self.golden.replacingOccurrences(of: #","cookies""#, with: #","blob_layout":"profile-nickname","cookies""#))
        #expect(try TicketSet(decoding: layout.encoded()) == layout)
    }

    @Test("the metadata the stores index on: account, network, kind and the expiry as text")
    func metadata() {
        #expect(Self.sample.metadata == ItemMetadata(account: "alice@passport.test", network: "sandbox", kind: .ticket, expires: "2027-01-16T08:00:00Z"))
    }

    @Test("a file-store item written by an earlier gkpass reads through the store and decodes")
    func oldFileStoreItem() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-kit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let root = parent + "/gkpass"
        let store = FileStore(root: root)
        _ = try store.list()  // creates root and items/ with the store's modes
        // As FileStore.encodeItem wrote it: sorted keys, the document as a JSON string, a final newline.
        let escaped = Self.golden.replacingOccurrences(of: "\"", with: "\\\"")
        let file = #"{"metadata":{"account":"alice@passport.test","expires":"2027-01-16T08:00:00Z","kind":"ticket","network":"sandbox"},"secret":""#
            + escaped + "\"}\n"
        let path = root + "/items/alice@passport.test.ticket.json"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(file.utf8), attributes: [.posixPermissions: 0o600]))
        let (metadata, secret) = try #require(try store.read(account: "alice@passport.test", kind: .ticket))
        #expect(metadata == Self.sample.metadata)
        #expect(try TicketSet(decoding: secret) == Self.sample)
        // And a write today produces that same file.
        try store.write(Self.sample.metadata, secret: Self.sample.encoded())
        #expect(try String(contentsOfFile: path, encoding: .utf8) == file)
    }

    @Test("refuses newer document versions and junk")
    func refuses() throws {
        for junk in ["{}", "[]", "", "{\"version\":2,\"account\":\"a\",\"network\":\"n\",\"obtained\":\"2026-01-01T00:00:00Z\",\"expires\":\"2026-01-01T00:00:00Z\",\"ticket\":\"t\",\"profile\":\"p\",\"cookies\":{}}"] {
            #expect(throws: StoreError.self) { try TicketSet(decoding: SecretBytes(Array(junk.utf8))) }
        }
    }

    @Test("the reader agrees with JSONDecoder: any string survives, other spellings of the same document decode, unknown members are ignored")
    func readerAgrees() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "é", "€", "😀", "\u{2028}", " ", "%"]
        for _ in 0..<200 {
            func random() -> String { String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
            var set = Self.sample
            set.ticket = random()
            set.profile = random()
            set.cookies = [random(): random(), "MSNChatNN": random()]
            set.blobLayout = Bool.random(using: &generator) ? nil : random()
            #expect(try TicketSet(decoding: set.encoded()) == set)
        }
        // Another writer's spelling: other key order, spaces, escaped slashes and letters, null layout, extra members.
        let other = #"""
             { "cookies" : { "MSPAuth" : "t\/1" , "A" : "\u00e9\ud83d\ude00" } , "profile":"p", "ticket":"t\/1",
               "expires":"2027-01-16T08:00:00Z","obtained":"2027-01-15T08:00:00Z","network":"sandbox","account":"a@b.c",
               "version":1, "blob_layout": null, "future": [1, 2.5e3, {"x": true}, false, null] }
            """#
        let decoded = try TicketSet(decoding: SecretBytes(Array(other.utf8)))
        #expect(decoded.ticket == "t/1" && decoded.cookies == ["MSPAuth": "t/1", "A": "é😀"] && decoded.blobLayout == nil && decoded.account == "a@b.c")
        for text in [other + "x", #"{"version":1"#, other.replacingOccurrences(of: #""blob_layout": null"#, with: #""blob_layout": 1"#)] {
            #expect(throws: StoreError.self, "\(text)") { try TicketSet(decoding: SecretBytes(Array(text.utf8))) }
        }
    }

    @Test("format and parse agree with Foundation's ISO 8601 for dates from 1970 to 2200, and reject junk")
    func iso8601() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Double(Int64.random(in: 0...7_258_118_400, using: &generator))
            let date = Date(timeIntervalSince1970: seconds)
            let text = TicketSet.format(date)
            #expect(text == date.formatted(.iso8601), "\(seconds)")
            #expect(TicketSet.parse(text) == date)
        }
        #expect(TicketSet.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(TicketSet.parse("2026-11-26T13:00:00+01:00") == Date(timeIntervalSince1970: 1_795_694_400), "offsets still parse")
        for junk in ["", "2026-13-01T00:00:00Z", "2026-11-26 13:00:00Z", "2026-11-26T25:00:00Z", "yesterday"] {
            #expect(TicketSet.parse(junk) == nil, "\(junk)")
        }
    }
}
