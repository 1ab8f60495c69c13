import Foundation
import Testing
@testable import TicketStore

func temporaryRoot() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-store-\(UUID().uuidString)/gkpass").path
}

func mode(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }

/// A ticket item as the stores see it: clear metadata and an opaque secret. The secret is the document GKPassKit's
/// TicketSet writes (the same bytes as its golden test), but the stores never parse it: the tests compare bytes.
struct SampleItem {
    var account = "alice@passport.test"
    var network = "sandbox"
    var expires = "2027-01-16T08:00:00Z"

    var document: [UInt8] {
        Array(
            (#"{"account":"\#(account)","cookies":{"MSNChatNN":"Alice","MSNREGCookie":"reg"},"expires":"\#(expires)","#
                + #""network":"\#(network)","obtained":"2027-01-15T08:00:00Z","profile":"P+/=profile","ticket":"T+/=ticket","version":1}"#).utf8)
    }
    var metadata: ItemMetadata { ItemMetadata(account: account, network: network, kind: .ticket, expires: expires) }
    func encoded() -> SecretBytes { SecretBytes(document) }
}

let sampleSet = SampleItem()

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
        #expect(secret.copyBytes() == sampleSet.document)
        #expect(mode(root) == 0o700 && mode(root + "/items") == 0o700)
        let file = root + "/items/alice@passport.test.ticket.json"
        #expect(mode(file) == 0o600)

        var newer = sampleSet
        newer.expires = "2030-03-17T17:46:40Z"
        try store.write(newer.metadata, secret: newer.encoded())
        #expect(try #require(try store.read(account: "alice@passport.test", kind: .ticket)).secret.copyBytes() == newer.document)
        try store.write(ItemMetadata(account: "alice@passport.test", network: "sandbox", kind: .password, expires: nil), secret: SecretBytes(Array("pw".utf8)))
        #expect(try store.list().map(\.kind) == [.password, .ticket])
        #expect(try store.delete(account: "alice@passport.test", kind: .ticket))
        #expect(try !store.delete(account: "alice@passport.test", kind: .ticket), "deleting what is gone is not an error")
        #expect(try store.list().count == 1)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/items").allSatisfy { !$0.hasPrefix(".tmp") })
    }

    @Test("file names are spelled as before (existing files still match), and read back to the account")
    func fileNameSpelling() {
        let cases = [
            ("alice@passport.test", "alice@passport.test"), (".hidden", "%2Ehidden"), ("a.b..c", "a.b..c"), ("../x", "%2E.%2Fx"),
            ("a/b c", "a%2Fb%20c"), ("é+_-@x", "%C3%A9+_-@x"), ("x\u{0}y%", "x%00y%25"),
        ]
        for (account, name) in cases {
            #expect(FileStore.fileName(for: account) == name, "\(account)")
            #expect(FileStore.accountName(fromFileName: name) == account, "\(name)")
        }
        for bad in ["%", "%2", "%zz", "%+F", "%C3"] { #expect(FileStore.accountName(fromFileName: bad) == nil, "\(bad)") }
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
        #expect(try #require(try store.read(account: "alice@passport.test", kind: .ticket)).secret.copyBytes() == sampleSet.document)
    }

    @Test("a write removes temporary files of dead writers and keeps those of live ones")
    func staleTemporaries() throws {
        let root = temporaryRoot()
        let store = FileStore(root: root)
        _ = try store.list()
        let dead = root + "/items/.tmp-999999999-abc", live = root + "/items/.tmp-\(getpid())-def"
        for path in [dead, live] { #expect(FileManager.default.createFile(atPath: path, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600])) }
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
        #expect(FileManager.default.createFile(atPath: file, contents: Data("not json".utf8), attributes: [.posixPermissions: 0o600]))
        do {
            _ = try store.read(account: "x", kind: .ticket)
            Issue.record("read a corrupt item")
        } catch { #expect(error.kind == .corrupt) }
    }
}

@Suite("The JSON reader")
struct JSONValueTests {
    @Test("strict: one value, valid escapes and UTF-8, bounded nesting; other writers' spellings read")
    func strict() throws {
        let other = #"""
             { "secret" : "t\/1 \u00e9\ud83d\ude00" , "metadata": {"kind":"ticket"}, "n": null,
               "future": [1, 2.5e3, {"x": true}, false, null] }
            """#
        let value = try JSONValue(parsing: Array(other.utf8))
        #expect(value["secret"]?.string == "t/1 é😀" && value["metadata"]?["kind"]?.string == "ticket" && value["n"] == .null)
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
        #expect(FileManager.default.createFile(atPath: dir + "/bus", contents: Data()))
        #expect(SessionBus.address(environment: ["XDG_RUNTIME_DIR": dir]) == nil, "a regular file is not a bus")
        unlink(dir + "/bus")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in (dir + "/bus").utf8CString.withUnsafeBytes { raw.copyMemory(from: $0) } }
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
        withUnsafeMutableBytes(of: &address.sun_path) { raw in name.withUnsafeBytes { raw.copyMemory(from: $0) } }
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
        // Every entry of a list is checked and kept, in order, joined as the address had them.
        #expect(try SessionBus.trusted("unix:path=\(dir)/link;unix:abstract=\(name),guid=0123") == "unix:path=\(dir)/bus;unix:abstract=\(name),guid=0123")
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
