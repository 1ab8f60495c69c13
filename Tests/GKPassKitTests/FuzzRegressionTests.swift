import Foundation
import GKPassKit
import GKText
import GateKeeper
import Passport
import Testing

/// Every fuzz seed (Fuzz/Corpus) and every input a fuzzer ever crashed on (Fuzz/Regressions), replayed through the
/// same calls and properties as the fuzz targets in Fuzz/Sources, without the sanitizer build.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ target: String) -> [(String, [UInt8])] {
        var result: [(String, [UInt8])] = []
        for folder in ["Corpus", "Regressions"] {
            let directory = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) {
                    result.append(("\(folder)/\(target)/\(name)", Array(data)))
                }
            }
        }
        return result
    }

    @Test("every fuzz target has seeds")
    func seeds() {
        for target in ["FuzzAuthEscaping", "FuzzGateKeeperToken", "FuzzPassportBlob", "FuzzIRCXLine", "FuzzPassportHeaders", "FuzzSetCookie", "FuzzChatPage", "FuzzConfig"] {
            #expect(!Self.inputs(target).isEmpty, "\(target) has no seed in Fuzz/Corpus")
        }
    }

    @Test("GateKeeper parsers: escaping, tokens, blobs, IRCX lines")
    func gateKeeper() throws {
        for (name, bytes) in Self.inputs("FuzzAuthEscaping") {
            let unescaped = AuthEscaping.unescape(bytes)
            if let strict = try? AuthEscaping.strictUnescape(bytes) { #expect(strict == unescaped, "\(name)") }
            #expect(AuthEscaping.unescape(AuthEscaping.escape(bytes)) == bytes, "\(name)")
        }
        for (name, bytes) in Self.inputs("FuzzGateKeeperToken") {
            if let token = try? GateKeeperToken(decoding: bytes) { #expect(token.encoded() == bytes, "\(name)") }
        }
        for (name, bytes) in Self.inputs("FuzzPassportBlob") {
            if let blob = try? PassportBlob(decoding: bytes) { #expect(try PassportBlob(decoding: blob.encoded()) == blob, "\(name)") }
        }
        for (name, bytes) in Self.inputs("FuzzIRCXLine") {
            var framer = IRCXLineFramer()
            framer.append(bytes)
            while let line = try? framer.nextLine() {
                if let message = try? IRCXMessage(parsing: line) {
                    #expect(try IRCXMessage(parsing: message.serialized()) == message, "\(name)")
                    _ = try? AuthMessage(message)
                }
            }
        }
    }

    @Test("Passport parsers and the config reader never crash on their inputs")
    func passportAndConfig() {
        for (_, bytes) in Self.inputs("FuzzPassportHeaders") {
            let text = String(decoding: bytes, as: UTF8.self)
            _ = PassportHeaders.fields(text)
            _ = PassportHeaders.status(text)
            _ = PassportHeaders.daLoginURL(text)
        }
        for (_, bytes) in Self.inputs("FuzzSetCookie") {
            let text = String(decoding: bytes, as: UTF8.self)
            _ = SetCookie(header: text)
            _ = HTTPDate.parse(text)
            if let url = PassportURL(text) { _ = url.resolving(text) }
        }
        for (_, bytes) in Self.inputs("FuzzChatPage") { _ = ChatPage.params(bytes) }
        for (_, bytes) in Self.inputs("FuzzConfig") {
            _ = try? TOMLReader.parse(bytes)
            _ = try? NetworkConfig.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.toml", baseDirectory: "/nonexistent", home: "/nonexistent")
        }
    }
}
