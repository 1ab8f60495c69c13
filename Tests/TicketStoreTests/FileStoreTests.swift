import Foundation
import Testing
@testable import TicketStore

func temporaryRoot() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-store-\(UUID().uuidString)/gkpass").path
}

func mode(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }

let sampleSet = TicketSet(
    account: "alice@passport.test", network: "sandbox", obtained: Date(timeIntervalSince1970: 1_800_000_000),
    expires: Date(timeIntervalSince1970: 1_800_086_400), ticket: "T+/=ticket", profile: "P+/=profile",
    cookies: ["MSNChatNN": "Alice", "MSNREGCookie": "reg"])

@Suite("File store")
struct FileStoreTests {
    @Test("the directory above the store must be yours or root's and not writable by others (sticky is fine)")
    func parent() throws {
        let root = temporaryRoot()
        let parent = String(root[..<root.lastIndex(of: "/")!])
        let store = FileStore(root: root)
        try store.write(sampleSet.metadata, secret: sampleSet.encoded())
        defer { try? FileManager.default.removeItem(atPath: parent) }
        chmod(parent, 0o777)
        #expect { _ = try store.read(account: "alice@passport.test", kind: .ticket) } throws: {
            ($0 as? StoreError)?.kind == .unsafe && "\($0)".contains("writable by others")
        }
        chmod(parent, 0o1777)
        #expect(try store.read(account: "alice@passport.test", kind: .ticket) != nil)
        chmod(parent, 0o755)
        if getuid() == 0 {
            chown(parent, 65534, 65534)
            #expect { _ = try store.read(account: "alice@passport.test", kind: .ticket) } throws: { "\($0)".contains("belongs to uid 65534") }
            chown(parent, 0, 0)
        }
    }

    @Test("a lock whose file a logout removed while it was awaited locks the new file, not the unlinked one")
    func lockFileRemoved() throws {
        let root = temporaryRoot()
        let store = FileStore(root: root)
        defer { try? FileManager.default.removeItem(atPath: String(root[..<root.lastIndex(of: "/")!])) }
        let path = root + "/locks/alice@passport.test.lock"
        do {
            let held = try AccountLock(store: store, account: "alice@passport.test", timeout: 1)
            #expect(FileManager.default.fileExists(atPath: path))
            held.removeFile()
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        let again = try AccountLock(store: store, account: "alice@passport.test", timeout: 1)
        #expect(FileManager.default.fileExists(atPath: path), "a new lock file")
        withExtendedLifetime(again) {}
    }

    @Test("write, read back, replace, list, delete; directory 0700 and files 0600")
    func roundTrip() throws {
        let root = temporaryRoot()
        let store = FileStore(root: root)
        #expect(try store.read(account: "alice@passport.test", kind: .ticket) == nil)
        try store.write(sampleSet.metadata, secret: sampleSet.encoded())
        let (metadata, secret) = try #require(try store.read(account: "alice@passport.test", kind: .ticket))
        #expect(metadata == sampleSet.metadata)
        #expect(try TicketSet(decoding: secret) == sampleSet)
        #expect(mode(root) == 0o700 && mode(root + "/items") == 0o700)
        let file = root + "/items/alice@passport.test.ticket.json"
        #expect(mode(file) == 0o600)

        var newer = sampleSet
        newer.expires = Date(timeIntervalSince1970: 1_900_000_000)
        try store.write(newer.metadata, secret: newer.encoded())
        #expect(try TicketSet(decoding: try #require(try store.read(account: "alice@passport.test", kind: .ticket)).secret) == newer)
        try store.write(ItemMetadata(account: "alice@passport.test", network: "sandbox", kind: .password, expires: nil), secret: SecretBytes(Array("pw".utf8)))
        #expect(try store.list().map(\.kind) == [.password, .ticket])
        #expect(try store.delete(account: "alice@passport.test", kind: .ticket))
        #expect(try !store.delete(account: "alice@passport.test", kind: .ticket), "deleting what is gone is not an error")
        #expect(try store.list().count == 1)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/items").allSatisfy { !$0.hasPrefix(".tmp") })
    }

    @Test("account names cannot climb out of the directory or hide a file", arguments: ["../../etc/passwd", ".hidden", "a/b", "x\u{0}y", "é@x"])
    func fileNames(account: String) throws {
        let name = FileStore.fileName(for: account)
        #expect(!name.contains("/") && !name.hasPrefix(".") && !name.contains("\u{0}"))
        let root = temporaryRoot()
        let store = FileStore(root: root)
        try store.write(ItemMetadata(account: account, network: "n", kind: .password, expires: nil), secret: SecretBytes([1]))
        #expect(try store.read(account: account, kind: .password)?.metadata.account == account)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/items").count == 1)
    }

    func expectUnsafe(_ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected the store to refuse")
        } catch let error as StoreError {
            #expect(error.kind == .unsafe, "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("refuses a group-readable item, a loose directory, a symlinked item, and (as root) a file owned by someone else")
    func refusesUnsafe() throws {
        let root = temporaryRoot()
        let store = FileStore(root: root)
        try store.write(sampleSet.metadata, secret: sampleSet.encoded())
        let file = root + "/items/alice@passport.test.ticket.json"

        chmod(file, 0o640)
        expectUnsafe { _ = try store.read(account: "alice@passport.test", kind: .ticket) }
        chmod(file, 0o600)

        chmod(root, 0o755)
        expectUnsafe { _ = try store.list() }
        chmod(root, 0o700)

        let target = root + "/../elsewhere.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: target))
        chmod(target, 0o600)
        symlink(target, root + "/items/bob@passport.test.ticket.json")
        expectUnsafe { _ = try store.read(account: "bob@passport.test", kind: .ticket) }
        unlink(root + "/items/bob@passport.test.ticket.json")

        if getuid() == 0 {
            chown(file, 65534, 65534)
            expectUnsafe { _ = try store.read(account: "alice@passport.test", kind: .ticket) }
            chown(file, 0, 0)
        }
        // Refusal never "fixes" or removes the good item.
        #expect(try TicketSet(decoding: try #require(try store.read(account: "alice@passport.test", kind: .ticket)).secret) == sampleSet)
    }

    @Test("a write removes temporary files of dead writers and keeps those of live ones")
    func staleTemporaries() throws {
        let root = temporaryRoot()
        let store = FileStore(root: root)
        _ = try store.list()
        let dead = root + "/items/.tmp-999999999-abc", live = root + "/items/.tmp-\(getpid())-def"
        for path in [dead, live] { FileManager.default.createFile(atPath: path, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600]) }
        try store.write(sampleSet.metadata, secret: sampleSet.encoded())
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
    }

    @Test("a corrupt item is reported as corrupt, not crashed on")
    func corrupt() throws {
        let root = temporaryRoot()
        let store = FileStore(root: root)
        _ = try store.list()
        let file = root + "/items/x.ticket.json"
        FileManager.default.createFile(atPath: file, contents: Data("not json".utf8), attributes: [.posixPermissions: 0o600])
        do {
            _ = try store.read(account: "x", kind: .ticket)
            Issue.record("read a corrupt item")
        } catch { #expect(error.kind == .corrupt) }
    }
}

@Suite("Ticket documents")
struct TicketSetTests {
    @Test("round trip keeps every cookie and both times to the second")
    func roundTrip() throws {
        #expect(try TicketSet(decoding: sampleSet.encoded()) == sampleSet)
        let text = sampleSet.encoded().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        #expect(text.contains("\"version\":1"))
        #expect(text.contains("\"expires\":\"2027-01-16T08:00:00Z\""))
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
            var set = sampleSet
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
        let junk = [other + "x", #"{"version":1"#, #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, #"{"a":01}"#, "{\"a\":\"\u{1}\"}",
                    String(repeating: "[", count: 100) + String(repeating: "]", count: 100), #"{"a" 1}"#, "{,}", "[1,]"]
        for text in junk {
            #expect(throws: JSONValue.Malformed.self, "\(text)") { try JSONValue(parsing: Array(text.utf8)) }
        }
        #expect(try JSONValue(parsing: Array(#"[1,[],{},""]"#.utf8)) == .array([.number("1"), .array([]), .object([:]), .string("")]))
    }

    @Test("secrets never show in descriptions")
    func noLeaks() {
        #expect(!String(describing: sampleSet.encoded()).contains("ticket"))
    }
}

@Suite("Account locks")
struct AccountLockTests {
    @Test("a second holder times out with lockTimeout; after release it gets the lock")
    func exclusive() throws {
        let store = FileStore(root: temporaryRoot())
        var first: AccountLock? = try AccountLock(store: store, account: "a@b.c", timeout: 1)
        do {
            _ = try AccountLock(store: store, account: "a@b.c", timeout: 0.2)
            Issue.record("two holders")
        } catch { #expect(error.kind == .lockTimeout) }
        _ = try AccountLock(store: store, account: "other@b.c", timeout: 0.2)  // other accounts are independent
        _ = first
        first = nil
        _ = try AccountLock(store: store, account: "a@b.c", timeout: 0.2)
    }
}

@Suite("Session bus discovery")
struct SessionBusTests {
    @Test("no bus: the message names the socket that was looked for, also when XDG_RUNTIME_DIR is unset (cron)")
    func noBusMessage() {
        #expect { _ = try SecretServiceStore(environment: ["XDG_RUNTIME_DIR": "/nonexistent-gkpass-rt"]) } throws: {
            "\($0)".contains("$XDG_RUNTIME_DIR/bus (/nonexistent-gkpass-rt/bus) is not your socket")
        }
        if SessionBus.address(environment: [:]) == nil {
            #expect { _ = try SecretServiceStore(environment: [:]) } throws: {
                "\($0)".contains("/run/user/\(getuid())/bus (XDG_RUNTIME_DIR is unset)")
            }
        }
    }

    @Test("an explicit address wins; otherwise the user's $XDG_RUNTIME_DIR/bus socket; otherwise none")
    func discovery() throws {
        #expect(SessionBus.address(environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"]) == "unix:path=/x")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(SessionBus.address(environment: ["XDG_RUNTIME_DIR": dir]) == nil)
        FileManager.default.createFile(atPath: dir + "/bus", contents: Data())
        #expect(SessionBus.address(environment: ["XDG_RUNTIME_DIR": dir]) == nil, "a regular file is not a bus")
        unlink(dir + "/bus")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        _ = withUnsafeMutableBytes(of: &address.sun_path) { raw in (dir + "/bus").utf8CString.withUnsafeBytes { raw.copyMemory(from: $0) } }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(SessionBus.address(environment: ["XDG_RUNTIME_DIR": dir]) == "unix:path=\(dir)/bus")
        #expect(SessionBus.address(environment: ["XDG_RUNTIME_DIR": dir], uid: 12345) == nil, "someone else's bus is not ours")
    }

    @Test("addresses parse into entries with unescaped values; malformed ones do not parse")
    func addresses() {
        #expect(SessionBus.entries("unix:path=/run/user/1000/bus") == [.init(transport: "unix", keys: ["path": "/run/user/1000/bus"])])
        #expect(SessionBus.entries("unix:path=/tmp/a%20b,guid=0123;tcp:host=localhost,port=1")?.map(\.transport) == ["unix", "tcp"])
        #expect(SessionBus.entries("unix:path=/tmp/a%20b")?.first?.keys["path"] == "/tmp/a b")
        for bad in ["", "path=/x", ":path=/x", "unix:path", "unix:path=/x%2", "unix:path=/x%zz"] { #expect(SessionBus.entries(bad) == nil, "\(bad)") }
        #expect(SessionBus.escape("/tmp/a b,c;d") == "/tmp/a%20b%2cc%3bd")
    }

    /// A listening Unix socket at `path` (or, with `abstract`, under that abstract name), open until the result is closed.
    static func listen(path: String? = nil, abstract: String? = nil) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name: [UInt8] = path.map { Array($0.utf8) } ?? ([0] + Array(abstract!.utf8))
        _ = withUnsafeMutableBytes(of: &address.sun_path) { raw in name.withUnsafeBytes { raw.copyMemory(from: $0) } }
        let length = socklen_t(path == nil ? MemoryLayout<sa_family_t>.size + name.count : MemoryLayout<sockaddr_un>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        try #require(bound == 0 && Glibc.listen(fd, 4) == 0)
        return fd
    }

    @Test("who runs the bus: our own socket passes; another owner, a directory others may write, another transport, none at all do not")
    func trust() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bus-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o700)
        let fd = try Self.listen(path: dir + "/bus")
        defer { close(fd) }
        #expect(try SessionBus.trusted("unix:path=\(dir)/bus,guid=0123") == "unix:path=\(dir)/bus,guid=0123")
        // A symlink to it resolves to the socket that was checked.
        symlink(dir + "/bus", dir + "/link")
        #expect(try SessionBus.trusted("unix:path=\(dir)/link") == "unix:path=\(dir)/bus")

        func refusal(_ address: String, uid: UInt32? = nil) -> StoreError? {
            do { _ = try SessionBus.trusted(address, uid: uid) } catch { return error }
            return nil
        }
        // The socket and the listener are ours, not uid 12345's.
        let other = refusal("unix:path=\(dir)/bus", uid: 12345)
        #expect(other?.kind == .untrusted && other?.message.contains("belongs to") == true && other?.message.contains("nothing was sent to it") == true, "\(String(describing: other))")
        chmod(dir, 0o777)
        let loose = refusal("unix:path=\(dir)/bus")
        #expect(loose?.kind == .untrusted && loose?.message.contains("which others may write to (mode 777)") == true, "\(String(describing: loose))")
        chmod(dir, 0o1777)
        #expect(refusal("unix:path=\(dir)/bus") == nil, "a sticky directory (like /tmp) keeps others from replacing the socket")
        chmod(dir, 0o700)
        for address in ["tcp:host=127.0.0.1,port=4444", "nonce-tcp:host=127.0.0.1,port=1", "unixexec:path=/bin/sh", "autolaunch:", "unix:tmpdir=/tmp",
                        "unix:path=\(dir)/bus;tcp:host=127.0.0.1,port=1"] {
            let refused = refusal(address)
            #expect(refused?.kind == .untrusted, "\(address): \(String(describing: refused))")
        }
        #expect(refusal("tcp:host=127.0.0.1,port=4444")?.message.contains("uses the tcp: transport") == true)
        #expect(refusal("unix:path=\(dir)/none")?.kind == .unavailable, "no socket: no bus, which --store auto may step around")
        // An abstract socket has no owner to check but the listener's credentials.
        let name = "gkpass-test-\(UUID().uuidString)"
        let abstract = try Self.listen(abstract: name)
        defer { close(abstract) }
        #expect(try SessionBus.trusted("unix:abstract=\(name)") == "unix:abstract=\(name)")
        let foreign = refusal("unix:abstract=\(name)", uid: 12345)
        #expect(foreign?.kind == .untrusted && foreign?.message.contains("is run by") == true, "\(String(describing: foreign))")
    }

    @Test("with no bus at all the Secret Service store is unavailable, and nothing is launched")
    func noBus() {
        do {
            _ = try SecretServiceStore(environment: ["XDG_RUNTIME_DIR": "/nonexistent"], deadline: 2)
            Issue.record("connected without a bus")
        } catch { #expect(error.kind == .unavailable) }
    }
}

@Suite("TicketSet times")
struct TicketSetTimeTests {
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
