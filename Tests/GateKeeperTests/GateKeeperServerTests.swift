import GateKeeper
import Testing

/// Joins a client and a server machine through bytes (h11's ConnectionPair): every line the client sends is
/// serialised, re-framed byte by byte, parsed and handed to the server, and back.
struct ExchangePair {
    var client: GateKeeperClient
    var server: GateKeeperServer
    var rng = SplitMix64(seed: 42)
    /// What the driver does with a Passport blob.
    var verify: (PassportBlob) -> (user: String, domain: String)? = { _ in ("9B792D0F1E1E2714", "GateKeeperPassport") }
    var wire: [String] = []

    mutating func deliverToServer(_ bytes: [UInt8]) throws -> GateKeeperServer.Action {
        var framer = IRCXLineFramer()
        var action: GateKeeperServer.Action?
        for byte in bytes {
            framer.append([byte])
            while let line = try framer.nextLine() {
                wire.append("C: " + String(decoding: line, as: UTF8.self))
                action = server.receive(try IRCXMessage(parsing: line), challenge: rng.bytes(8), randomGUID: rng.bytes(16))
            }
        }
        return try #require(action)
    }

    /// Runs the whole exchange; returns the client's outcome and the server's last action.
    mutating func run() throws -> (GateKeeperClient.Outcome?, GateKeeperServer.Action?) {
        var toServer = try client.start()
        for _ in 0..<10 {
            var serverAction = try deliverToServer(toServer)
            if case .verifyPassport(let blob) = serverAction {
                if let identity = verify(blob) {
                    serverAction = server.passportVerified(user: Array(identity.user.utf8), domain: Array(identity.domain.utf8))
                } else {
                    serverAction = server.passportRejected()
                }
            }
            let toClient: [UInt8]
            switch serverAction {
            case .send(let line): toClient = line
            case .authenticated(_, _, _, let line): toClient = line
            case .reject(_, let line, _): toClient = line
            case .verifyPassport: Issue.record("verify not handled"); return (nil, serverAction)
            }
            wire.append("S: " + String(decoding: toClient.dropLast(2), as: UTF8.self))
            switch try client.receive(IRCXMessage(parsing: toClient)) {
            case .send(let line): toServer = line
            case .finished(let outcome): return (outcome, serverAction)
            case .none: Issue.record("client ignored a server AUTH line"); return (nil, serverAction)
            }
        }
        Issue.record("exchange did not finish")
        return (nil, nil)
    }
}

@Suite("GateKeeper server, pumped against the client")
struct GateKeeperServerTests {
    static let guid = try! GateKeeperGUID(parsing: "D6976AC3-D30A-4249-B168-07102BBA1896")
    static let blob = PassportBlob(first: Array("TICKET".utf8), second: Array("PROFILE".utf8))

    func pair(
        package: GateKeeperPackage, version: GateKeeperVersion = .v3, clientHost: String = "irc.sandbox.test",
        serverName: String = "irc.sandbox.test", clientTruncates: Bool = true, serverTruncates: Bool = true,
        guid: GateKeeperGUID = guid, minimum: GateKeeperVersion = .v1
    ) throws -> ExchangePair {
        ExchangePair(
            client: try GateKeeperClient(
                configuration: .init(
                    package: package, version: version, host: Array(clientHost.utf8), truncateHost: clientTruncates,
                    guid: guid, passportBlob: Self.blob)),
            server: GateKeeperServer(
                configuration: .init(serverName: Array(serverName.utf8), truncateHost: serverTruncates, minimumVersion: minimum)))
    }

    @Test("guest logins succeed for every version, with the GUID as the user", arguments: GateKeeperVersion.allCases)
    func guest(version: GateKeeperVersion) throws {
        var p = try pair(package: .gateKeeper, version: version)
        let (outcome, action) = try p.run()
        guard case .authenticated(let user, let domain, _) = outcome else { Issue.record("\(p.wire)"); return }
        #expect(String(decoding: domain, as: UTF8.self) == "GateKeeper")
        if version == .v1 {
            #expect(user.count == 32 && user != Array(Self.guid.displayString.utf8), "v1: the server invents the GUID")
        } else {
            #expect(user == Array(Self.guid.displayString.utf8))
        }
        #expect(p.server.isAuthenticated)
        guard case .authenticated(.gateKeeper, _, _, let line) = action else { Issue.record("server action"); return }
        #expect(line.starts(with: Array("AUTH GateKeeper * ".utf8)))
    }

    @Test("Passport logins succeed for every version: answer, OK, blob, PUID", arguments: GateKeeperVersion.allCases)
    func passport(version: GateKeeperVersion) throws {
        var p = try pair(package: .gateKeeperPassport, version: version)
        var seen: PassportBlob?
        p.verify = { blob in seen = blob; return ("9B792D0F1E1E2714", "GateKeeperPassport") }
        let (outcome, _) = try p.run()
        #expect(outcome == .authenticated(user: Array("9B792D0F1E1E2714".utf8), domain: Array("GateKeeperPassport".utf8), oid: [0x30]))
        #expect(seen == Self.blob)
        #expect(p.wire.contains("S: AUTH GateKeeperPassport S :OK"))
    }

    @Test("a rejected Passport blob is 910")
    func passportRejected() throws {
        var p = try pair(package: .gateKeeperPassport)
        p.verify = { _ in nil }
        let (outcome, action) = try p.run()
        guard case .rejected(.authenticationFailed, _) = outcome else { Issue.record("\(p.wire)"); return }
        guard case .reject(910, _, true) = action else { Issue.record("server did not disconnect"); return }
    }

    @Test("v3 hashes the host: a client that names the server differently is refused")
    func wrongHost() throws {
        var p = try pair(package: .gateKeeper, clientHost: "127.0.0.1", serverName: "irc.sandbox.test")
        let (outcome, _) = try p.run()
        guard case .rejected(.authenticationFailed, _) = outcome else { Issue.record("\(p.wire)"); return }
        // ...but v2 does not hash it.
        var v2 = try pair(package: .gateKeeper, version: .v2, clientHost: "127.0.0.1", serverName: "irc.sandbox.test")
        guard case .authenticated = try v2.run().0 else { Issue.record("\(v2.wire)"); return }
    }

    @Test("15-byte truncation must agree on both sides for long host names")
    func truncationAgreement() throws {
        let long = "chat.revival-network.example"
        var both = try pair(package: .gateKeeper, clientHost: long, serverName: long)
        guard case .authenticated = try both.run().0 else { Issue.record("\(both.wire)"); return }
        var neither = try pair(package: .gateKeeper, clientHost: long, serverName: long, clientTruncates: false, serverTruncates: false)
        guard case .authenticated = try neither.run().0 else { Issue.record("\(neither.wire)"); return }
        var mismatch = try pair(package: .gateKeeper, clientHost: long, serverName: long, clientTruncates: true, serverTruncates: false)
        guard case .rejected(.authenticationFailed, _) = try mismatch.run().0 else { Issue.record("\(mismatch.wire)"); return }
    }

    @Test("a guest with the zero GUID is refused (MSNLD/irc7)")
    func zeroGUIDGuest() throws {
        var p = try pair(package: .gateKeeper, guid: .zero)
        guard case .rejected(.authenticationFailed, _) = try p.run().0 else { Issue.record("\(p.wire)"); return }
    }

    @Test("versions below the server's minimum are refused")
    func minimumVersion() throws {
        var p = try pair(package: .gateKeeper, version: .v2, minimum: .v3)
        guard case .rejected(.authenticationFailed, _) = try p.run().0 else { Issue.record("\(p.wire)"); return }
    }

    func line(_ text: String) -> IRCXMessage { try! IRCXMessage(parsing: Array(text.utf8)) }

    @Test("unknown package is 912 and leaves the connection open")
    func unknownPackage() {
        var server = GateKeeperServer(configuration: .init(serverName: Array("srv".utf8)))
        let action = server.receive(line("AUTH NTLM I :TlRMTVNTUAAB"), challenge: [UInt8](repeating: 1, count: 8), randomGUID: [])
        guard case .reject(912, let text, false) = action else { Issue.record("\(action)"); return }
        #expect(String(decoding: text, as: UTF8.self) == ":srv 912 * NTLM :Unsupported package\r\n")
    }

    @Test("AUTH after success is 909; a client abort, a bad token or a skipped step is 910 with disconnect")
    func stateErrors() throws {
        var p = try pair(package: .gateKeeper)
        _ = try p.run()
        guard case .reject(909, _, false) = p.server.receive(line("AUTH GateKeeper I :x"), challenge: [], randomGUID: []) else {
            Issue.record("no 909"); return
        }
        let challenge = [UInt8](repeating: 3, count: 8)
        let initLine = try IRCXMessage(parsing: GateKeeperClient.initiateLine(package: .gateKeeper, version: .v3))
        for bad in ["AUTH GateKeeper *", "AUTH GateKeeper S :GKSSP\\0\\0\\0", "AUTH GateKeeper I :x"] {
            var server = GateKeeperServer(configuration: .init(serverName: Array("srv".utf8)))
            _ = server.receive(initLine, challenge: challenge, randomGUID: [])
            guard case .reject(910, let text, true) = server.receive(line(bad), challenge: challenge, randomGUID: []) else {
                Issue.record("\(bad) not refused"); continue
            }
            #expect(String(decoding: text, as: UTF8.self) == ":srv 910 * GateKeeper :Authentication failed\r\n")
        }
        var fresh = GateKeeperServer(configuration: .init(serverName: Array("srv".utf8)))
        guard case .reject(910, _, true) = fresh.receive(line("AUTH GateKeeper S :x"), challenge: challenge, randomGUID: []) else {
            Issue.record("S before I accepted"); return
        }
    }

    @Test("the challenge echoes the client's version and carries the caller's bytes")
    func challengeShape() throws {
        var server = GateKeeperServer(configuration: .init(serverName: Array("srv".utf8)))
        let challenge: [UInt8] = [0x00, 0x20, 0x2C, 0x5C, 0x0A, 0x0D, 0x09, 0x41]
        let action = server.receive(
            try IRCXMessage(parsing: GateKeeperClient.initiateLine(package: .gateKeeperPassport, version: .v2)),
            challenge: challenge, randomGUID: [])
        #expect(action == .send(wire("AUTH GateKeeperPassport S :GKSSP\\0\\0\\0<0x02>\\0\\0\\0<0x02>\\0\\0\\0\\0\\b\\c\\\\\\n\\r\\tA\r\n")))
    }
}
