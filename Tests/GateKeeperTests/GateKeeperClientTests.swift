import GateKeeper
import Testing

/// Server lines are scripted from the protocol documents, and the answers checked against the published vectors, so
/// these tests do not lean on the client's own HMAC to judge it.
struct NotASend: Error {}

@Suite("GateKeeper client exchange")
struct GateKeeperClientTests {
    static let zeroChallenge = [UInt8](repeating: 0, count: 8)
    static let guid = try! GateKeeperGUID(parsing: "D6976AC3-D30A-4249-B168-07102BBA1896")
    static let blob = PassportBlob(first: Array("TICKET".utf8), second: Array("PROFILE".utf8))

    func serverLine(_ package: String, _ data: [UInt8]) -> IRCXMessage {
        try! IRCXMessage(parsing: Array("AUTH \(package) S :".utf8) + AuthEscaping.escape(data))
    }

    func challenge(_ package: String, version: UInt32, bytes: [UInt8] = zeroChallenge) -> IRCXMessage {
        let token = try! GateKeeperToken(version: GateKeeperVersion(rawValue: version)!, message: .challenge(bytes))
        return serverLine(package, token.encoded())
    }

    func line(_ text: String) -> IRCXMessage { try! IRCXMessage(parsing: Array(text.utf8)) }

    func sentToken(_ action: GateKeeperClient.Action) throws -> GateKeeperToken {
        guard case .send(let bytes) = action else {
            Issue.record("expected a line to send, got \(action)")
            throw NotASend()
        }
        let auth = try #require(try AuthMessage(IRCXMessage(parsing: bytes)))
        return try GateKeeperToken(decoding: auth.data)
    }

    @Test("guest v3: init, answer with the published vector-2 digest and the GUID, then success")
    func guestV3() throws {
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeper, host: Array("1.2.3.4".utf8), guid: Self.guid))
        #expect(try client.start() == wire("AUTH GateKeeper I :GKSSP\\0\\0\\0<0x03>\\0\\0\\0<0x01>\\0\\0\\0\r\n"))
        #expect(try client.receive(line(":srv NOTICE AUTH :*** Looking up your hostname")) == .none)
        let answer = try sentToken(client.receive(challenge("GateKeeper", version: 3)))
        #expect(answer.version == .v3)
        guard case .response(let digest, let guid) = answer.message else { Issue.record("not a response"); return }
        #expect(hex(digest) == "9ea5b9a84dbd1d4177284ec15d29282b")
        #expect(guid == Self.guid)
        let done = try client.receive(line("AUTH GateKeeper * D6976AC3D30A4249B16807102BBA1896@GateKeeper 0"))
        #expect(
            done
                == .finished(
                    .authenticated(
                        user: Array("D6976AC3D30A4249B16807102BBA1896".utf8), domain: Array("GateKeeper".utf8),
                        oid: [0x30])))
        #expect(client.isFinished)
    }

    @Test("the answer takes the server's version: a v2 challenge gets the vector-1 digest, v1 gets no GUID")
    func versionFromChallenge() throws {
        var client = try GateKeeperClient(configuration: .init(package: .gateKeeper, host: [], guid: Self.guid))
        _ = try client.start()
        let v2 = try sentToken(client.receive(challenge("GateKeeper", version: 2)))
        #expect(v2.version == .v2)
        guard case .response(let digest, _) = v2.message else { return }
        #expect(hex(digest) == "51323ae222b32b8ba34cc4d0be30c5dd")

        var v1Client = try GateKeeperClient(configuration: .init(package: .gateKeeper, host: [], guid: Self.guid))
        _ = try v1Client.start()
        let v1 = try sentToken(v1Client.receive(challenge("GateKeeper", version: 1)))
        #expect(v1.encoded().count == 32)
        guard case .response(let digest1, let guid1) = v1.message else { return }
        #expect(hex(digest1) == "51323ae222b32b8ba34cc4d0be30c5dd")
        #expect(guid1 == nil)
    }

    @Test("Passport: zero GUID, then the blob after S :OK, then the PUID", arguments: ["GateKeeperPassport", "GateKeeper"])
    func passport(okPackage: String) throws {
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeperPassport, host: Array("1.2.3.4".utf8), guid: Self.guid, passportBlob: Self.blob))
        #expect(try client.start().starts(with: Array("AUTH GateKeeperPassport I :GKSSP".utf8)))
        let answer = try sentToken(client.receive(challenge("GateKeeperPassport", version: 3)))
        guard case .response(let digest, let guid) = answer.message else { return }
        #expect(hex(digest) == "9ea5b9a84dbd1d4177284ec15d29282b")
        #expect(guid == .zero)
        // The msnld wiki writes the OK line with the plain package name; accept both (protocol.md §2.1).
        let blobLine = try client.receive(line("AUTH \(okPackage) S :OK"))
        #expect(blobLine == .send(Array("AUTH GateKeeperPassport S :00000006TICKET00000007PROFILE\r\n".utf8)))
        let done = try client.receive(line("AUTH GateKeeperPassport * 9B792D0F1E1E2714@GateKeeperPassport 0"))
        #expect(done == .finished(.authenticated(user: Array("9B792D0F1E1E2714".utf8), domain: Array("GateKeeperPassport".utf8), oid: [0x30])))
    }

    @Test("Passport blob bytes that need escaping are escaped on the wire")
    func passportBlobEscaped() throws {
        var client = try GateKeeperClient(
            configuration: .init(package: .gateKeeperPassport, host: [], passportBlob: PassportBlob(first: Array("a b,c".utf8), second: [])))
        _ = try client.start()
        _ = try client.receive(challenge("GateKeeperPassport", version: 2))
        #expect(try client.receive(line("AUTH GateKeeperPassport S :OK")) == .send(Array("AUTH GateKeeperPassport S :00000005a\\bb\\cc00000000\r\n".utf8)))
    }

    static let rejections: [(String, GateKeeperClient.Rejection)] = [
        (":TK2CHATWBA07 910 nickname :Authentication Failed", .authenticationFailed),
        (":srv 911 * :Authentication suspended", .authenticationSuspended),
        (":srv 912 * GateKeeperX :Unsupported package", .unknownPackage),
        (":srv 909 * :Already authenticated", .alreadyAuthenticated),
        (":srv 462 * :You may not reregister", .alreadyRegistered),
        ("ERROR :Closing Link: 127.0.0.1 (Authentication failed)", .serverClosed),
    ]

    @Test("numerics 910/911/912/909/462 and ERROR end the exchange as typed rejections", arguments: rejections)
    func rejected(text: String, rejection: GateKeeperClient.Rejection) throws {
        var client = try GateKeeperClient(configuration: .init(package: .gateKeeper, host: [], guid: Self.guid))
        _ = try client.start()
        guard case .finished(.rejected(let got, let message)) = try client.receive(line(text)) else {
            Issue.record("not rejected")
            return
        }
        #expect(got == rejection)
        #expect(!message.isEmpty)
        #expect(client.isFinished)
        #expect(throws: GateKeeperError.self) { try client.receive(line("PING :x")) }
    }

    @Test("protocol violations fail the machine, and every later call throws")
    func violations() throws {
        let cases: [(GateKeeperPackage, [IRCXMessage])] = [
            (.gateKeeper, [line("AUTH GateKeeper * x@y 0")]),  // success before challenge
            (.gateKeeper, [challenge("GateKeeper", version: 3), line("AUTH GateKeeper S :OK")]),  // guest gets OK
            (.gateKeeper, [serverLine("GateKeeper", bytes(hex: "474B5353500000000300000002000000 0102"))]),  // short
            (.gateKeeper, [line("AUTH GateKeeper S :GKSSP\\q")]),  // bad escape
            (.gateKeeper, [line("AUTH Kerberos S :x")]),  // other package
            (.gateKeeper, [line("AUTH GateKeeper I :x")]),  // server sends I
            (.gateKeeperPassport, [challenge("GateKeeperPassport", version: 3), line("AUTH GateKeeperPassport * a@b 0")]),
            (.gateKeeperPassport, [challenge("GateKeeperPassport", version: 3), line("AUTH GateKeeperPassport S :OK"), line("AUTH GateKeeperPassport S :OK")]),
            (.gateKeeper, [serverLine("GateKeeper", try GateKeeperToken(version: .v3, message: .initiate).encoded())]),  // seq 1 from server
        ]
        for (package, lines) in cases {
            var client = try GateKeeperClient(
                configuration: .init(package: package, host: [], guid: Self.guid, passportBlob: Self.blob))
            _ = try client.start()
            var threw = false
            for message in lines {
                do { _ = try client.receive(message) } catch {
                    #expect(error.blame == .remote || error.kind == .unexpectedMessage)
                    threw = true
                    break
                }
            }
            #expect(threw, "no violation reported for \(lines.map { String(decoding: $0.serialized(), as: UTF8.self) })")
            #expect(client.isFinished)
            #expect(throws: GateKeeperError.self) { try client.receive(line("PING :x")) }
        }
    }

    @Test("misuse is local: no blob for Passport, receive before start, start twice")
    func misuse() throws {
        #expect(throws: GateKeeperError.self) {
            try GateKeeperClient(configuration: .init(package: .gateKeeperPassport, host: []))
        }
        var client = try GateKeeperClient(configuration: .init(package: .gateKeeper, host: []))
        #expect { _ = try client.receive(line("PING :x")) } throws: { ($0 as? GateKeeperError)?.blame == .local }
        _ = try client.start()
        #expect { _ = try client.start() } throws: { ($0 as? GateKeeperError)?.kind == .invalidState }
    }

    @Test("a challenge that needs every escape, fed byte by byte through the framer, still gets the right answer")
    func dripFedEveryEscape() throws {
        let challengeBytes = bytes(hex: "00202C5C0A0D0941")
        let stream = challenge("GateKeeper", version: 2, bytes: challengeBytes).serialized()
        var framer = IRCXLineFramer()
        var client = try GateKeeperClient(configuration: .init(package: .gateKeeper, host: [], guid: Self.guid))
        _ = try client.start()
        var answers: [GateKeeperToken] = []
        for byte in stream {
            framer.append([byte])
            while let raw = try framer.nextLine() {
                answers.append(try sentToken(client.receive(IRCXMessage(parsing: raw))))
            }
        }
        #expect(answers.count == 1)
        // HMAC-MD5(SRFMKSJANDRESKKC, 00202C5C0A0D0941), computed independently with Python's hmac module.
        guard case .response(let digest, _) = answers[0].message else { return }
        #expect(hex(digest) == "261578953168468690dbb4112d46186e")
    }
}
