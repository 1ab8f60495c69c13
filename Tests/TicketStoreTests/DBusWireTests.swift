import Foundation
import Testing
@testable import TicketStore

/// The D-Bus reader and writer of the direct keyring read, byte by byte. The same code against a real bus and
/// gnome-keyring is SecretServiceStoreTests.directRead; arbitrary input is FuzzDBusMessage.
@Suite("D-Bus wire format")
struct DBusWireTests {
    static func frame(_ bytes: [UInt8]) throws -> DBusMessage? {
        var framer = DBusFramer()
        framer.append(bytes)
        return try framer.next()
    }

    @Test("a method call frames back to its fields and body, also when the bytes arrive one at a time")
    func roundTrip() throws {
        var body = DBusWriter()
        body.array(elementAlignment: 8) { entries in
            for (name, value) in [("account", "a@b.test"), ("service", "gkpass")] {
                entries.structure { $0.string(name); $0.string(value) }
            }
        }
        let bytes = DBusMessage.methodCall(
            serial: 7, destination: "org.freedesktop.secrets", path: "/org/freedesktop/secrets", interface: "org.freedesktop.Secret.Service",
            member: "SearchItems", signature: "a{ss}", body: body.bytes, flags: DBusMessage.noReplyExpected)
        #expect(bytes.prefix(4) == [UInt8(ascii: "l"), 1, 1, 1][...])
        let message = try #require(try Self.frame(bytes))
        #expect(message.kind == .methodCall && message.serial == 7 && message.flags == 1)
        #expect(message.signature == "a{ss}" && message.body == body.bytes)
        var reader = message.bodyReader()
        let pairs = try reader.array(elementAlignment: 8) { (r: inout DBusReader) throws(DBusWire.Malformed) in
            try r.structure()
            return [try r.string(), try r.string()]
        }
        #expect(pairs == [["account", "a@b.test"], ["service", "gkpass"]])
        #expect(reader.isAtEnd)

        var framer = DBusFramer()
        var seen: [DBusMessage] = []
        for byte in bytes + bytes {
            framer.append([byte])
            if let next = try framer.next() { seen.append(next) }
        }
        #expect(seen == [message, message])
        #expect(framer.pending == 0)
    }

    @Test("gnome-keyring's real replies (a captured read): Hello, NameAcquired, SearchItems, OpenSession, GetSecret")
    func capturedReplies() throws {
        let stream = try #require(FuzzSeeds.bytes("gnome-keyring-read"))
        var framer = DBusFramer()
        framer.append(stream)
        var messages: [DBusMessage] = []
        while let message = try framer.next() { messages.append(message) }
        #expect(messages.map(\.kind) == [.methodReturn, .signal, .methodReturn, .methodReturn, .methodReturn])
        #expect(messages.map(\.signature) == ["s", "s", "aoao", "vo", "(oayays)"])
        #expect(messages[2].replySerial == 2 && messages[3].replySerial == 3 && messages[4].replySerial == 4)
        var search = messages[2].bodyReader()
        let unlocked = try search.array(elementAlignment: 4) { (r: inout DBusReader) throws(DBusWire.Malformed) in try r.string() }
        #expect(unlocked.count == 1 && unlocked[0].hasPrefix("/org/freedesktop/secrets/collection/"))
        var opened = messages[3].bodyReader()
        #expect(try opened.signature() == "ay")
        #expect(try opened.byteArray().count == 128)
        #expect(try opened.string().hasPrefix("/org/freedesktop/secrets/session/"))
        var secret = messages[4].bodyReader()
        try secret.structure()
        _ = try secret.string()
        #expect(try secret.byteArray().count == 16, "the IV")
        #expect(try secret.byteArray().count % 16 == 0, "AES-CBC blocks")
        #expect(try secret.string().contains("/"), "a content type")
        #expect(secret.isAtEnd)
    }

    @Test("a big-endian message reads the same")
    func bigEndian() throws {
        // Hand-made: method return, serial 2, reply serial 9, signature "u", body 0x01020304.
        var fields: [UInt8] = [5, 1, UInt8(ascii: "u"), 0, 0, 0, 0, 9, 8, 1, UInt8(ascii: "g"), 0, 1, UInt8(ascii: "u"), 0]
        let fieldsLength = fields.count
        while fields.count % 8 != 0 { fields.append(0) }
        let bytes: [UInt8] = [UInt8(ascii: "B"), 2, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, UInt8(fieldsLength)] + fields + [1, 2, 3, 4]
        let message = try #require(try Self.frame(bytes))
        #expect(message.bigEndian && message.replySerial == 9 && message.signature == "u")
        var reader = message.bodyReader()
        #expect(try reader.uint32() == 0x0102_0304)
    }

    @Test("malformed input is refused with a reason, never guessed at")
    func malformed() throws {
        let good = DBusMessage.methodCall(serial: 1, destination: nil, path: "/", interface: nil, member: "M", signature: "s", body: { var w = DBusWriter(); w.string("x"); return w.bytes }())
        func refused(_ bytes: [UInt8]) -> Bool {
            do { _ = try Self.frame(bytes); return false } catch { return true }
        }
        var bad = good
        bad[0] = UInt8(ascii: "x")
        #expect(refused(bad), "endianness")
        bad = good
        bad[3] = 2
        #expect(refused(bad), "protocol version")
        bad = good
        bad[1] = 9
        #expect(refused(bad), "message type")
        bad = good
        bad[8...11] = [0, 0, 0, 0]
        #expect(refused(bad), "serial 0")
        bad = good
        bad[4...7] = [0xFF, 0xFF, 0xFF, 0x7F]
        #expect(refused(bad), "a body over the limit")
        // A reply must say what it replies to; an error must have a name.
        var reply = good
        reply[1] = DBusMessage.Kind.methodReturn.rawValue
        #expect(refused(reply))
        // Incomplete input is not an error: the framer waits.
        #expect(try Self.frame(Array(good.dropLast())) == nil)

        var reader = DBusReader([3, 0, 0, 0, UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "c"), 1], bigEndian: false)
        #expect(throws: DBusWire.Malformed.self) { try reader.string() }  // no NUL
        reader = DBusReader([9, 0, 0, 0, 1, 2], bigEndian: false)
        #expect(throws: DBusWire.Malformed.self) { try reader.byteArray() }  // past the end
        reader = DBusReader([8, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0], bigEndian: false)
        #expect(throws: DBusWire.Malformed.self) {
            // An element (a 6-byte string) that overruns its 8-byte array.
            try reader.array(elementAlignment: 4) { (r: inout DBusReader) throws(DBusWire.Malformed) in try r.string() }
        }
    }

    @Test("EXTERNAL authentication: the UID as hex-encoded decimal, BEGIN in the same write; the bus's OK line")
    func authentication() throws {
        #expect(DBusAuthentication.request(uid: 1000) == [0] + Array("AUTH EXTERNAL 31303030\r\nBEGIN\r\n".utf8))
        #expect(DBusAuthentication.request(uid: 0) == [0] + Array("AUTH EXTERNAL 30\r\nBEGIN\r\n".utf8))
        let ok = Array("OK 1234deadbeef\r\nl".utf8)
        let answer = try #require(try DBusAuthentication.reply(ok))
        #expect(answer.0 == .ok && answer.consumed == ok.count - 1)
        #expect(try DBusAuthentication.reply(Array("REJECTED EXTERNAL\r\n".utf8))?.0 == .rejected("REJECTED EXTERNAL"))
        #expect(try DBusAuthentication.reply(Array("OK 12".utf8)) == nil, "incomplete")
        #expect(throws: DBusWire.Malformed.self) { try DBusAuthentication.reply(Array("OK 12\n".utf8)) }
        #expect(throws: DBusWire.Malformed.self) { try DBusAuthentication.reply([UInt8](repeating: 0x41, count: 600)) }
    }

    @Test("bus addresses: unix path and abstract sockets, escapes, several entries; others are left to GDBus")
    func addresses() {
        #expect(DBusAddress.unixSocket("unix:path=/run/user/1000/bus") == .init(path: Array("/run/user/1000/bus".utf8), abstract: false))
        #expect(DBusAddress.unixSocket("unix:abstract=/tmp/dbus-AbC,guid=0123") == .init(path: Array("/tmp/dbus-AbC".utf8), abstract: true))
        #expect(DBusAddress.unixSocket("unix:guid=0123,path=/tmp/a%2cb") == .init(path: Array("/tmp/a,b".utf8), abstract: false))
        #expect(DBusAddress.unixSocket("tcp:host=localhost,port=1;unix:path=/x") == .init(path: Array("/x".utf8), abstract: false))
        #expect(DBusAddress.unixSocket("tcp:host=localhost,port=1") == nil)
        #expect(DBusAddress.unixSocket("unix:path=/bad%zz") == nil)
        #expect(DBusAddress.unixSocket("unix:path=" + String(repeating: "a", count: 200)) == nil, "longer than sun_path")
        #expect(DBusAddress.unixSocket("") == nil)
    }
}

/// Seeds of Fuzz/Corpus/FuzzDBusMessage, for tests that want real captured bytes.
enum FuzzSeeds {
    static func bytes(_ name: String) -> [UInt8]? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return FileManager.default.contents(atPath: root.appendingPathComponent("Fuzz/Corpus/FuzzDBusMessage/\(name)").path).map { Array($0) }
    }
}

/// Fake buses on a private socket: one that answers every authentication with REJECTED (as a bus that wants another
/// mechanism than EXTERNAL does), one that declines the first SearchItems with UnknownMethod (as gnome-keyring now
/// and then does for a client it has not registered yet).
@Suite("Direct read against unusual buses")
struct RejectingBusTests {
    /// A listening socket at a fresh path, and a thread that serves one connection with `serve`.
    static func fakeBus(_ serve: @escaping (Int32) -> Bool) -> (path: String, served: Concurrent<Bool>, listener: Int32) {
        let path = "/tmp/gkpass-fakebus-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(listener >= 0 && bound == 0 && listen(listener, 1) == 0, "the fake bus listens at \(path)")
        let served = Concurrent { () -> Bool in
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return false }
            defer { close(client) }
            return serve(client)
        }
        return (path, served, listener)
    }

    /// A method return or an error, as a bus delivers it.
    static func reply(serial: UInt32, to call: UInt32, error: String? = nil, signature: String, body: [UInt8]) -> [UInt8] {
        var header = DBusWriter()
        header.byte(UInt8(ascii: "l"))
        header.byte(error == nil ? 2 : 3)
        header.byte(0)
        header.byte(1)
        header.uint32(UInt32(body.count))
        header.uint32(serial)
        header.array(elementAlignment: 8) { fields in
            fields.structure { $0.byte(5); $0.signature("u"); $0.uint32(call) }
            if let error { fields.structure { $0.byte(4); $0.signature("s"); $0.string(error) } }
            if !signature.isEmpty { fields.structure { $0.byte(8); $0.signature("g"); $0.signature(signature) } }
        }
        header.pad(to: 8)
        return header.bytes + body
    }

    @Test("an UnknownMethod for the first SearchItems is asked again on the same connection")
    func unknownMethodOnce() throws {
        let bus = Self.fakeBus { client in
            var received = DBusFramer()
            var authenticated = false
            var answered = 0
            var buffer = [UInt8](repeating: 0, count: 4096)
            while answered < 3 {
                let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress!, $0.count, 0) }
                guard count > 0 else { return false }
                var bytes = Array(buffer.prefix(count))
                if !authenticated {
                    // NUL, the AUTH and BEGIN lines (one write); the messages follow BEGIN's CRLF.
                    let begin = Array("BEGIN\r\n".utf8)
                    guard bytes.first == 0, bytes.count >= begin.count,
                        let at = (0...(bytes.count - begin.count)).first(where: { Array(bytes[$0..<$0 + begin.count]) == begin })
                    else { return false }
                    bytes = Array(bytes[(at + begin.count)...])
                    authenticated = true
                    _ = Array("OK 0123456789abcdef\r\n".utf8).withUnsafeBytes { send(client, $0.baseAddress!, $0.count, 0) }
                }
                received.append(bytes)
                while let call = try? received.next() {
                    answered += 1
                    var body = DBusWriter()
                    let answer: [UInt8]
                    switch answered {
                    case 1:
                        body.string(":1.99")
                        answer = Self.reply(serial: 1, to: call.serial, signature: "s", body: body.bytes)
                    case 2:
                        body.string("Method SearchItems is not implemented on interface org.freedesktop.Secret.Service")
                        answer = Self.reply(serial: 2, to: call.serial, error: "org.freedesktop.DBus.Error.UnknownMethod", signature: "s", body: body.bytes)
                    default:
                        body.array(elementAlignment: 4) { _ in }
                        body.array(elementAlignment: 4) { _ in }
                        answer = Self.reply(serial: 3, to: call.serial, signature: "aoao", body: body.bytes)
                    }
                    _ = answer.withUnsafeBytes { send(client, $0.baseAddress!, $0.count, 0) }
                }
            }
            return true
        }
        defer {
            close(bus.listener)
            unlink(bus.path)
        }
        let store = try SecretServiceStore(environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=" + bus.path], deadline: 5)
        guard case .absent = try store.readSecretDirectly(account: "a@b.test", kind: .ticket) else {
            Issue.record("the second SearchItems's answer (no items) must be the result")
            return
        }
        #expect(bus.served.wait(), "the fake bus answered Hello and both searches")
    }

    @Test("the direct read steps aside to libsecret (GDBus knows other mechanisms) instead of failing")
    func stepsAside() throws {
        let bus = Self.fakeBus { client in
            var buffer = [UInt8](repeating: 0, count: 256)
            _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress!, $0.count, 0) }
            let answer = Array("REJECTED DBUS_COOKIE_SHA1\r\n".utf8)
            return answer.withUnsafeBytes { send(client, $0.baseAddress!, $0.count, 0) } == answer.count
        }
        defer {
            close(bus.listener)
            unlink(bus.path)
        }
        let store = try SecretServiceStore(environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=" + bus.path], deadline: 5)
        guard case .askLibsecret = try store.readSecretDirectly(account: "a@b.test", kind: .ticket) else {
            Issue.record("a refused EXTERNAL must hand over to libsecret")
            return
        }
        #expect(bus.served.wait())
    }
}
