import GateKeeper
import Testing

@Suite("IRCX lines")
struct IRCXMessageTests {
    @Test("parses prefix, command, middle and trailing parameters")
    func parsesFull() throws {
        let message = try IRCXMessage(parsing: Array(":TK2CHATWBA07 910 nickname :Authentication Failed\r\n".utf8))
        #expect(message.prefix == Array("TK2CHATWBA07".utf8))
        #expect(message.numeric == 910)
        #expect(message.parameters == [Array("nickname".utf8), Array("Authentication Failed".utf8)])
    }

    @Test("AUTH without a prefix, with raw high bytes and colons inside the trailing parameter")
    func parsesAuth() throws {
        let line = wire("AUTH GateKeeper S :GKSSP\\0\\0\\0<0x03>\\0\\0\\0<0x02>\\0\\0\\0<0xFF>:<0x80>abc")
        let message = try IRCXMessage(parsing: line)
        #expect(message.prefix == nil)
        #expect(message.commandName == "AUTH")
        #expect(message.parameters.count == 3)
        #expect(Array(message.parameters[2].suffix(6)) == [0xFF, 0x3A, 0x80, 0x61, 0x62, 0x63])
    }

    @Test("runs of spaces separate parameters; lower-case commands are recognised")
    func spaces() throws {
        let message = try IRCXMessage(parsing: Array("auth   GateKeeper   S   :x y".utf8))
        #expect(message.commandName == "AUTH")
        #expect(message.parameters == [Array("GateKeeper".utf8), Array("S".utf8), Array("x y".utf8)])
    }

    @Test("refuses NUL inside a line, empty lines, and bare prefixes", arguments: ["A\u{0}B", "", "   ", ":pfx", ": AUTH"])
    func refuses(text: String) throws {
        #expect(throws: GateKeeperError.self) { try IRCXMessage(parsing: Array(text.utf8)) }
    }

    @Test("accepts a line of exactly the maximum length and refuses one byte more")
    func lengthBoundary() throws {
        let head = Array("PRIVMSG #a :".utf8)
        let fits = head + [UInt8](repeating: 0x61, count: IRCXMessage.maximumLineLength - head.count)
        #expect(try IRCXMessage(parsing: fits + [0x0D, 0x0A]).parameters.last?.count == fits.count - head.count)
        do {
            _ = try IRCXMessage(parsing: fits + [0x61])
            Issue.record("accepted an over-long line")
        } catch {
            #expect(error.kind == .lineTooLong)
        }
    }

    @Test("serialises with CRLF and a trailing ':' only where needed")
    func serialises() throws {
        #expect(
            try IRCXMessage(command: Array("JOIN".utf8), parameters: [Array("%#Lobby".utf8)]).serialized()
                == Array("JOIN %#Lobby\r\n".utf8))
        #expect(
            try IRCXMessage(
                prefix: Array("srv".utf8), command: Array("PRIVMSG".utf8),
                parameters: [Array("#a".utf8), Array("hi there".utf8)]
            ).serialized() == Array(":srv PRIVMSG #a :hi there\r\n".utf8))
    }

    @Test("refuses to build a line that would smuggle a second command")
    func injection() throws {
        #expect(throws: GateKeeperError.self) {
            try IRCXMessage(command: Array("PRIVMSG".utf8), parameters: [Array("#a".utf8), Array("x\r\nQUIT".utf8)])
        }
        #expect(throws: GateKeeperError.self) {
            try IRCXMessage(command: Array("PRIVMSG".utf8), parameters: [Array("#a b".utf8), Array("x".utf8)])
        }
        #expect(throws: GateKeeperError.self) { try IRCXMessage(command: Array("PRIV MSG".utf8)) }
    }

    @Test("parse then serialise is stable for well-formed lines")
    func roundTrip() throws {
        for text in [
            ":a!b@c PRIVMSG #room :hello :) world\r\n", "PING :12345\r\n", "AUTH GateKeeperPassport * 9B792D0F1E1E2714@GateKeeperPassport 0\r\n",
            ":srv 613 nick :127.0.0.1 6667\r\n",
        ] {
            #expect(try IRCXMessage(parsing: Array(text.utf8)).serialized() == Array(text.utf8))
        }
    }
}

@Suite("IRCX line framing")
struct IRCXLineFramerTests {
    static let stream = Array("NOTICE AUTH :*** hi\r\nAUTH GateKeeper S :x\n\r\nPING :1\r\n".utf8)
    static let lines = ["NOTICE AUTH :*** hi", "AUTH GateKeeper S :x", "", "PING :1"]

    func drain(_ framer: inout IRCXLineFramer) throws -> [String] {
        var out: [String] = []
        while let line = try framer.nextLine() { out.append(String(decoding: line, as: UTF8.self)) }
        return out
    }

    @Test("whole, byte by byte, and in odd chunks give the same lines (CR/LF splits included)")
    func dripFeed() throws {
        for chunk in [Self.stream.count, 1, 2, 3, 7] {
            var framer = IRCXLineFramer()
            var got: [String] = []
            var index = 0
            while index < Self.stream.count {
                framer.append(Self.stream[index..<min(index + chunk, Self.stream.count)])
                got += try drain(&framer)
                index += chunk
            }
            #expect(got == Self.lines, "chunk \(chunk)")
            #expect(framer.pendingByteCount == 0)
        }
    }

    @Test("a partial line waits; trailing bytes stay pending")
    func partial() throws {
        var framer = IRCXLineFramer()
        framer.append(Array("PING :1\r\nPI".utf8))
        #expect(try drain(&framer) == ["PING :1"])
        #expect(framer.pendingByteCount == 2)
    }

    @Test("a line of the limit passes; limit+1 poisons the framer")
    func bound() throws {
        var framer = IRCXLineFramer(maximumLineLength: 10)
        framer.append([UInt8](repeating: 0x61, count: 10) + [0x0D, 0x0A])
        #expect(try framer.nextLine()?.count == 10)
        framer.append([UInt8](repeating: 0x61, count: 11) + [0x0A])
        #expect(throws: GateKeeperError.self) { try framer.nextLine() }
        framer.append(Array("PING\r\n".utf8))
        #expect(throws: GateKeeperError.self) { try framer.nextLine() }
    }

    @Test("an unterminated flood is refused without waiting for LF")
    func flood() throws {
        var framer = IRCXLineFramer(maximumLineLength: 100)
        framer.append([UInt8](repeating: 0x61, count: 102))
        #expect(throws: GateKeeperError.self) { try framer.nextLine() }
    }

    @Test("many lines through one framer keep memory bounded (the buffer compacts)")
    func compaction() throws {
        var framer = IRCXLineFramer()
        let line = Array("PRIVMSG #a :0123456789\r\n".utf8)
        for _ in 0..<10_000 {
            framer.append(line)
            #expect(try framer.nextLine()?.count == line.count - 2)
        }
        #expect(framer.pendingByteCount == 0)
    }
}
