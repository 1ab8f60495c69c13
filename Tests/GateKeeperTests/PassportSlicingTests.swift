import GateKeeper
import Testing

/// The Passport blob after `S :OK`, both ways servers take it (protocol.md §2.2): the OCX's 480-byte slices, each
/// full one answered with another `S :OK` (irc7-sspi's server), or the whole blob on one line (MSNLD/irc7).
/// The server is fed literal lines; the client is checked line by line; then the two are pumped together.
@Suite("Passport blob slicing")
struct PassportSlicingTests {
    /// A blob of exactly `length` bytes: ticket `T…` then profile `p…` of `profile` bytes (an empty profile is legal).
    static func blob(length: Int, profile: Int = 7) -> PassportBlob {
        precondition(length >= 16 + profile)
        return PassportBlob(first: Array(repeating: UInt8(ascii: "T"), count: length - 16 - profile), second: Array(repeating: UInt8(ascii: "p"), count: profile))
    }

    /// A 600-byte ticket and a 7-byte profile: a 623-byte blob, two slices (480 + 143).
    static let ticket600 = PassportBlob(first: Array(repeating: UInt8(ascii: "T"), count: 600), second: Array("PROFILE".utf8))
    /// A 600-byte ticket and no profile: 616 bytes, the second slice ending in `00000000`.
    static let noProfile = PassportBlob(first: Array(repeating: UInt8(ascii: "T"), count: 600), second: [])

    /// (name, blob, slice lengths the OCX sends).
    static let vectors: [(String, PassportBlob, [Int])] = [
        ("600-byte ticket", ticket600, [480, 143]),
        ("exactly 480", blob(length: 480), [480, 0]),
        ("479", blob(length: 479), [479]),
        ("960", blob(length: 960), [480, 480, 0]),
        ("empty profile", noProfile, [480, 136]),
        ("short", PassportBlob(first: Array("TICKET".utf8), second: Array("PROFILE".utf8)), [29]),
    ]

    static func authLine(_ data: some Collection<UInt8>, package: String = "GateKeeperPassport") -> IRCXMessage {
        try! IRCXMessage(parsing: Array("AUTH \(package) S :".utf8) + AuthEscaping.escape(Array(data)))
    }

    static let ok = Array("AUTH GateKeeperPassport S :OK\r\n".utf8)

    /// A server that has checked a v3 Passport answer and said `S :OK`.
    static func serverAwaitingBlob(_ slicing: PassportSlicing) throws -> GateKeeperServer {
        var server = GateKeeperServer(configuration: .init(serverName: Array("irc.test".utf8), passportSlicing: slicing))
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeperPassport, host: Array("irc.test".utf8), passportBlob: ticket600))
        let challenge = [UInt8](repeating: 7, count: 8)
        guard case .send(let line) = server.receive(try IRCXMessage(parsing: try client.start()), challenge: challenge, randomGUID: []),
            case .send(let answer) = try client.receive(try IRCXMessage(parsing: line)),
            case .send(let ok) = server.receive(try IRCXMessage(parsing: answer), challenge: challenge, randomGUID: [])
        else { throw NotASend() }
        #expect(ok == Self.ok)
        return server
    }

    static func progress(_ client: GateKeeperClient) -> [Int] { [client.passportProgress.sent, client.passportProgress.of] }

    // MARK: - PassportBlob.slices

    @Test("the OCX's slices: 480 bytes each, an empty one after a full last slice; one-line is the blob", arguments: vectors.indices)
    func slices(index: Int) {
        let (name, blob, lengths) = Self.vectors[index]
        let encoded = blob.encoded()
        let slices = PassportBlob.slices(encoded, .ocx)
        #expect(slices.map(\.count) == lengths, "\(name)")
        #expect(Array(slices.joined()) == encoded, "\(name)")
        #expect(PassportBlob.slices(encoded, .oneLine).map(Array.init) == [encoded], "\(name)")
    }

    @Test("an empty blob is one empty slice either way")
    func emptyBlob() {
        #expect(PassportBlob.slices([], .ocx).map(\.count) == [0])
        #expect(PassportBlob.slices([], .oneLine).map(\.count) == [0])
    }

    // MARK: - Server, fed literal lines

    @Test("ocx server: each 480-byte slice gets S :OK, a shorter one (even empty) completes the blob", arguments: vectors.indices)
    func ocxServer(index: Int) throws {
        let (name, blob, lengths) = Self.vectors[index]
        var server = try Self.serverAwaitingBlob(.ocx)
        let encoded = blob.encoded()
        var offset = 0
        for (number, length) in lengths.enumerated() {
            let action = server.receive(Self.authLine(encoded[offset..<(offset + length)]), challenge: [], randomGUID: [])
            offset += length
            if number < lengths.count - 1 {
                #expect(action == .send(Self.ok), "\(name): slice \(number + 1)")
            } else {
                #expect(action == .verifyPassport(blob), "\(name): last slice")
            }
        }
        #expect(server.isInProgress)
        guard case .authenticated = server.passportVerified(user: Array("0011223344556677".utf8), domain: Array("d".utf8)) else {
            Issue.record("\(name): not authenticated"); return
        }
    }

    @Test("ocx server: a single line over 480 bytes is 910 and disconnect")
    func ocxServerRefusesLongLine() throws {
        var server = try Self.serverAwaitingBlob(.ocx)
        let action = server.receive(Self.authLine(Self.ticket600.encoded()), challenge: [], randomGUID: [])
        guard case .reject(910, let line, true) = action else { Issue.record("\(action)"); return }
        #expect(line == Array(":irc.test 910 * GateKeeperPassport :Authentication failed\r\n".utf8))
        // A 481-byte slice after a full one is refused too.
        var second = try Self.serverAwaitingBlob(.ocx)
        #expect(second.receive(Self.authLine([UInt8](repeating: 0x41, count: 480)), challenge: [], randomGUID: []) == .send(Self.ok))
        guard case .reject(910, _, true) = second.receive(Self.authLine([UInt8](repeating: 0x41, count: 481)), challenge: [], randomGUID: []) else {
            Issue.record("481 after 480 accepted"); return
        }
    }

    @Test("ocx server: slices past 4,096 bytes in all are 910; up to it they are taken")
    func ocxServerBound() throws {
        // A well-formed blob of 4,096 bytes (8 x 480 + 256) is verified; one of 4,097 is refused for its size alone.
        for (length, accepted) in [(4096, true), (4097, false)] {
            var real = try Self.serverAwaitingBlob(.ocx)
            var action: GateKeeperServer.Action?
            for slice in PassportBlob.slices(Self.blob(length: length).encoded(), .ocx) {
                action = real.receive(Self.authLine(slice), challenge: [], randomGUID: [])
            }
            if accepted {
                #expect(action == .verifyPassport(Self.blob(length: length)))
            } else {
                guard case .reject(910, _, true)? = action else { Issue.record("\(length) bytes: \(String(describing: action))"); continue }
            }
        }
    }

    @Test("one-line server: the whole blob from one line, never S :OK again", arguments: vectors.indices)
    func oneLineServer(index: Int) throws {
        let (name, blob, _) = Self.vectors[index]
        var server = try Self.serverAwaitingBlob(.oneLine)
        #expect(server.receive(Self.authLine(blob.encoded()), challenge: [], randomGUID: []) == .verifyPassport(blob), "\(name)")
    }

    @Test("one-line server: the first 480-byte slice of a longer blob is not a blob: 910")
    func oneLineServerRefusesSlice() throws {
        var server = try Self.serverAwaitingBlob(.oneLine)
        let action = server.receive(Self.authLine(Self.ticket600.encoded().prefix(480)), challenge: [], randomGUID: [])
        guard case .reject(910, _, true) = action else { Issue.record("\(action)"); return }
    }

    @Test("the longest one-line blob fits the 1,024-byte line: 1,024 - 27 for AUTH GateKeeperPassport S : = 997 bytes")
    func oneLineLimit() throws {
        let longest = Self.blob(length: IRCXMessage.maximumLineLength - "AUTH GateKeeperPassport S :".utf8.count)
        let line = AuthMessage(packageName: Array("GateKeeperPassport".utf8), step: .sequence, data: longest.encoded()).serialized()
        #expect(line.count == 1026)
        var server = try Self.serverAwaitingBlob(.oneLine)
        #expect(server.receive(try IRCXMessage(parsing: line), challenge: [], randomGUID: []) == .verifyPassport(longest))
        // One byte more and the line itself is refused before any AUTH logic.
        let over = AuthMessage(packageName: Array("GateKeeperPassport".utf8), step: .sequence, data: Self.blob(length: 998).encoded()).serialized()
        #expect(throws: GateKeeperError.self) { try IRCXMessage(parsing: over) }
        var framer = IRCXLineFramer()
        framer.append(over)
        #expect(throws: GateKeeperError.self) { try framer.nextLine() }
    }

    // MARK: - Client, line by line

    @Test("ocx client: slice 1 after S :OK, each next slice after the next S :OK, then success", arguments: vectors.indices)
    func ocxClient(index: Int) throws {
        let (name, blob, lengths) = Self.vectors[index]
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeperPassport, host: Array("irc.test".utf8), passportBlob: blob, passportSlicing: .ocx))
        _ = try client.start()
        let challenge = try GateKeeperToken(version: .v3, message: .challenge([UInt8](repeating: 0, count: 8)))
        _ = try client.receive(Self.authLine(challenge.encoded()))
        #expect(Self.progress(client) == [0, 0])
        let encoded = blob.encoded()
        var offset = 0
        for (number, length) in lengths.enumerated() {
            // The second and later OKs in the spelling the msnld wiki writes (protocol.md §2.1): accepted too.
            let ok = number == 0 ? Self.authLine(Array("OK".utf8)) : Self.authLine(Array("OK".utf8), package: "GateKeeper")
            let action = try client.receive(ok)
            #expect(action == .send(Self.authLine(encoded[offset..<(offset + length)]).serialized()), "\(name): slice \(number + 1)")
            offset += length
            #expect(Self.progress(client) == [number + 1, lengths.count])
        }
        // All sent: another OK is a protocol violation, not a request for nothing.
        var extra = client
        #expect(throws: GateKeeperError.self) { try extra.receive(Self.authLine(Array("OK".utf8))) }
        let done = try client.receive(try IRCXMessage(parsing: Array("AUTH GateKeeperPassport * 0011223344556677@passport.test 0".utf8)))
        guard case .finished(.authenticated) = done else { Issue.record("\(name): \(done)"); return }
    }

    @Test("the empty last slice goes on the wire as AUTH GateKeeperPassport S : and CRLF")
    func emptySliceWire() throws {
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeperPassport, host: [], passportBlob: Self.blob(length: 480)))
        _ = try client.start()
        _ = try client.receive(Self.authLine(try GateKeeperToken(version: .v2, message: .challenge([UInt8](repeating: 0, count: 8))).encoded()))
        _ = try client.receive(Self.authLine(Array("OK".utf8)))
        #expect(try client.receive(Self.authLine(Array("OK".utf8))) == .send(Array("AUTH GateKeeperPassport S :\r\n".utf8)))
    }

    @Test("one-line client: the whole blob after S :OK; a second S :OK is a violation that names passport_slices")
    func oneLineClient() throws {
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeperPassport, host: [], passportBlob: Self.ticket600, passportSlicing: .oneLine))
        _ = try client.start()
        _ = try client.receive(Self.authLine(try GateKeeperToken(version: .v2, message: .challenge([UInt8](repeating: 0, count: 8))).encoded()))
        #expect(try client.receive(Self.authLine(Array("OK".utf8), package: "GateKeeper")) == .send(Self.authLine(Self.ticket600.encoded()).serialized()))
        #expect(Self.progress(client) == [1, 1])
        do {
            _ = try client.receive(Self.authLine(Array("OK".utf8)))
            Issue.record("a second OK was accepted")
        } catch {
            #expect(error.kind == .unexpectedMessage && "\(error)".contains("passport_slices"), "\(error)")
        }
    }

    // MARK: - Pumped together

    @Test("client and server agree in both slicings for every vector; mixed slicings fail past 480 bytes", arguments: vectors.indices)
    func pumped(index: Int) throws {
        let (name, blob, lengths) = Self.vectors[index]
        for clientSlicing in PassportSlicing.allCases {
            for serverSlicing in PassportSlicing.allCases {
                var pair = ExchangePair(
                    client: try GateKeeperClient(
                        configuration: .init(package: .gateKeeperPassport, host: Array("irc.test".utf8), passportBlob: blob, passportSlicing: clientSlicing)),
                    server: GateKeeperServer(configuration: .init(serverName: Array("irc.test".utf8), passportSlicing: serverSlicing)))
                var seen: PassportBlob?
                pair.verify = { seen = $0; return ("0011223344556677", "passport.test") }
                // A one-line client whose 480-byte blob a slicing server answers with S :OK stops there (it throws).
                let outcome = try? pair.run().0
                let oks = pair.wire.filter { $0 == "S: AUTH GateKeeperPassport S :OK" }.count
                let label = "\(name), client \(clientSlicing), server \(serverSlicing)"
                let length = blob.encoded().count
                // Mixed slicings still agree when the first line is the whole blob and the server asks for no more.
                if clientSlicing == serverSlicing || length < PassportBlob.sliceSize || (clientSlicing == .ocx && length == PassportBlob.sliceSize) {
                    guard case .authenticated = outcome else { Issue.record("\(label): \(pair.wire)"); continue }
                    #expect(seen == blob, "\(label)")
                    #expect(oks == (serverSlicing == .ocx && clientSlicing == .ocx ? lengths.count : 1), "\(label)")
                } else {
                    switch outcome {
                    case .rejected(.authenticationFailed, _)?, nil: break
                    default: Issue.record("\(label): \(String(describing: outcome))")
                    }
                    #expect(seen == nil, "\(label)")
                }
            }
        }
    }
}
