import Foundation
import GKPassTestSupport
import Testing

/// MSN nicknames are UTF-8 carried as bytes: a Passport account whose nickname is not ASCII chats through
/// `gkpass proxy` under that nickname, byte for byte (the real binaries, the real sandbox).
@Suite("gkpass proxy: a UTF-8 nickname (binary, sandbox)", .serialized)
struct ProxyNicknameTests {
    typealias ProxyProcess = ProxyCommandTests.ProxyProcess

    static let nickname = "JoséÜmlaut"

    /// The next line holding `fragment` (as UTF-8 bytes), as bytes; nil when none came.
    static func line(_ socket: LineSocket, containing fragment: String, limit: Int = 60) -> [UInt8]? {
        let wanted = Array(fragment.utf8)
        for _ in 0..<limit {
            guard let line = socket.line() else { return nil }
            if line.firstRange(of: wanted) != nil { return line }
        }
        return nil
    }

    @Test("the account JoséÜmlaut: the client's welcome, JOIN echo and a PRIVMSG prefix carry the nickname as UTF-8; the room sees the same bytes")
    func utf8Nickname() throws {
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-nick-\(UUID().uuidString)-accounts.json").path
        try #"{"accounts": [{"member": "jose@passport.test", "password": "jose-pw", "nickname": "\#(Self.nickname)", "puid": "000000000000105E"}]}"#
            .write(toFile: accounts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accounts) }
        let context = try LoginCommandTests.Context(["--accounts", accounts])
        let login = try context.login(["jose@passport.test", "--network", "sandbox", "--password-stdin", "--store", "file"], password: "jose-pw\n", keyring: false)
        try #require(login.status == 0, "\(login.stderr)")
        let proxy = try ProxyProcess([], environment: context.environment(keyring: false))
        let other = try ProxyCommandTests.guest(port: context.sandbox.ircxPort, nick: ">other", room: "%#TheLobby")
        let nick = Array(Self.nickname.utf8)
        #expect(nick.count == Self.nickname.unicodeScalars.count + 2, "two letters take two bytes each")

        let client = try LineSocket(port: proxy.port)
        client.send("NICK someone")
        client.send("USER u 0 * :u")
        let welcome = Self.line(client, containing: " 001 ")
        #expect(welcome.map { String(decoding: $0, as: UTF8.self) }?.split(separator: " ").dropFirst(2).first.map(String.init) == Self.nickname,
                "\(welcome.map { String(decoding: $0, as: UTF8.self) } ?? "no welcome") \(proxy.stderr)")
        #expect(welcome?.firstRange(of: nick) != nil)
        #expect(client.expect(" 376 ") != nil, "\(proxy.stderr)")

        client.send("JOIN %#TheLobby")
        let echo = Self.line(client, containing: "JOIN")
        #expect(echo?.starts(with: Array(":\(Self.nickname)!".utf8)) == true, "\(echo.map { String(decoding: $0, as: UTF8.self) } ?? "no JOIN echo")")
        #expect(echo.map { String(decoding: $0, as: UTF8.self) }?.hasSuffix("JOIN %#TheLobby") == true || echo.map { String(decoding: $0, as: UTF8.self) }?.hasSuffix("JOIN :%#TheLobby") == true)
        #expect(Self.line(client, containing: " 366 ") != nil)
        #expect(Self.line(other, containing: " JOIN ")?.starts(with: Array(":\(Self.nickname)!".utf8)) == true)

        // To the room: the other member sees our nickname as the prefix, byte for byte.
        client.send("PRIVMSG %#TheLobby :olá from José")
        let heard = Self.line(other, containing: "olá from José")
        #expect(heard == Array(":\(Self.nickname)!000000000000105E@GateKeeperPassport PRIVMSG %#TheLobby :olá from José".utf8),
                "\(heard.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")")
        // To ourselves, by the UTF-8 nickname: the client sees the prefix it was welcomed under.
        client.send("PRIVMSG \(Self.nickname) :note to self")
        let note = Self.line(client, containing: "note to self")
        #expect(note == Array(":\(Self.nickname)!000000000000105E@GateKeeperPassport PRIVMSG \(Self.nickname) :note to self".utf8),
                "\(note.map { String(decoding: $0, as: UTF8.self) } ?? "nothing") \(proxy.stderr)")
        // And a message from the room reaches the client addressed in the same room.
        other.send("PRIVMSG \(Self.nickname) :hola \(Self.nickname)")
        let direct = Self.line(client, containing: "hola")
        #expect(direct?.starts(with: Array(":>other!".utf8)) == true)
        #expect(direct.map { String(decoding: $0, as: UTF8.self) }?.hasSuffix("PRIVMSG \(Self.nickname) :hola \(Self.nickname)") == true,
                "\(direct.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")")
        client.send("QUIT :done")
        #expect(other.expect("QUIT")?.hasPrefix(":\(Self.nickname)!") == true)
    }
}
