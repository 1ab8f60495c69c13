import GateKeeper
import Testing

@testable import GKPassKit

/// The router's fast path (a PRIVMSG or NOTICE routed from its command and first word, without a full parse) against
/// its reference, the full parse: the same outputs and the same state for every line of a corpus, in every state a
/// router can be in for it.
@Suite("BridgeRouter fast path")
struct BridgeRouterFastPathTests {
    typealias Tests = BridgeRouterTests

    /// Routers in the states a relayed line can meet: rooms on two servers; the far one reconnecting; a room being
    /// placed; a new upstream still opening with lines queued for it; a QUIT waiting; a QUIT sent.
    static func states() -> [(String, BridgeRouter)] {
        let two = Tests.inTwoRooms()
        var lost = two
        _ = lost.lost(1, reason: "gone", now: 3)
        var placing = two
        _ = placing.clientLine(Array("JOIN %#Slow".utf8), now: 3)
        var opening = Tests.registered()
        _ = opening.clientLine(Array("JOIN %#Far".utf8), now: 1)
        _ = opening.found(room: "%#Far", at: Tests.far)
        _ = opening.clientLine(Array("PRIVMSG %#Far :queued while it opens".utf8), now: 1)
        var quitWaiting = placing
        _ = quitWaiting.clientLine(Array("QUIT :bye".utf8), now: 3)
        var quit = two
        _ = quit.clientLine(Array("QUIT :bye".utf8), now: 3)
        return [("two rooms", two), ("far lost", lost), ("placing", placing), ("opening", opening),
                ("quit waiting", quitWaiting), ("quit sent", quit), ("registered", Tests.registered())]
    }

    static let longText = String(repeating: "x", count: 1024 - "PRIVMSG %#Far :".utf8.count)

    /// Client lines: the fast path's own and every near miss that must take the parse.
    static let clientCorpus: [String] = [
        "PRIVMSG %#Far :hello", "PRIVMSG %#far :folded", "PRIVMSG %#Lobby :hello there", "NOTICE %#Lobby :hi",
        "privmsg %#Far :lower case", "PrivMsg %#Lobby :mixed", "notice >Guest :to a nick in %#Far", "PRIVMSG >Guest :hi",
        "PRIVMSG Nobody :a nick in no room", "PRIVMSG %#Nowhere :unknown room", "PRIVMSG %#Slow :waits for placing",
        "PRIVMSG %#Far,%#Lobby :two servers", "PRIVMSG %#Lobby,Nobody :one server", "PRIVMSG ,%#Far :empty first",
        "PRIVMSG %#Far", "PRIVMSG %#Far :", "PRIVMSG :%#Far trailing target", "PRIVMSG", "PRIVMSG ", "NOTICE",
        "  PRIVMSG   %#Far   :spaces", ":Demo PRIVMSG %#Far :with a prefix", ": PRIVMSG %#Far :empty prefix",
        ":Demo", "PRIVMSGX %#Far :not it", "PRIVMS %#Far :not it", "PRIV\u{00E9}MSG %#Far :not it",
        "PRIVMSG %#Far :a\rb", "PRIVMSG %#Far :a\u{0}b", "PRIVMSG %#Far :cr at the end\r",
        "PRIVMSG %#Far :" + longText, "PRIVMSG %#Far :" + longText + "y", "PRIVMSG %#Far :caf\u{00E9} \u{1F600}",
        "JOIN %#Far", "PART %#Far", "NAMES %#Lobby", "PING :x", "QUIT :bye", "", " ", "MODE Demo +i",
    ]

    /// Upstream lines.
    static let upstreamCorpus: [String] = [
        ":>Guest!g@GateKeeper PRIVMSG %#Far :hello", ":>Guest!g@GateKeeper NOTICE Demo :hi", "PRIVMSG %#Far :no prefix",
        ":x privmsg %#Far :lower", ": PRIVMSG %#Far :empty prefix", ":>Guest!g@GateKeeper PRIVMSG", ":chat1.far.test NOTICE AUTH :*",
        ":>Guest!g@GateKeeper PRIVMSG %#Far :a\u{0}b", ":>Guest!g@GateKeeper PRIVMSG %#Far :cr\r", ":chat1.far.test 001 Demo :Welcome",
        ":chat1.far.test 353 Demo = %#Far :.>Guest Demo", ":>Guest!g@GateKeeper JOIN :%#Far", ":>Guest!g@GateKeeper PART %#Far",
        "PING :x", ":s PONG s :gkpass-keepalive", ":x ERROR :bye", ":>Guest!g@GateKeeper PRIVMSG %#Far :" + longText, "",
    ]

    /// The state the fast path touches, as text: per upstream its link, queue and keep-alive; per room what waits.
    static func state(_ router: BridgeRouter) -> [String] {
        router.upstreams.keys.sorted().map { id in
            let upstream = router.upstreams[id]!
            return "\(id) \(upstream.link) queued \(upstream.queued) \(upstream.queuedBytes) heard \(upstream.lastHeard) pinged \(upstream.pinged)"
        } + router.rooms.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { "room \($0) waiting \(router.rooms[$0]!.waiting)" }
            + ["waiting \(router.waitingBytes) quitSent \(router.quitSent) pendingQuit \(router.pendingQuit.map { "\($0.line)" } ?? "none")"]
    }

    @Test("a client line: the fast path gives the full parse's outputs and state, in every state, for every line of the corpus")
    func clientLines() {
        for (name, router) in Self.states() {
            for text in Self.clientCorpus {
                let line = Array(text.utf8)
                var fast = router
                var reference = router
                var out: [BridgeRouter.Output] = [.log("kept")]
                fast.clientLine(line, now: 5, into: &out)
                let expected = reference.parsedClientLine(line, now: 5)
                #expect(out == [.log("kept")] + expected, "\(name): \(text.debugDescription)")
                #expect(Self.state(fast) == Self.state(reference), "\(name): \(text.debugDescription)")
            }
        }
    }

    @Test("an upstream line: the fast path gives the full parse's outputs and state, for every line of the corpus")
    func upstreamLines() {
        for (name, router) in Self.states() {
            for id in [0, 1, 7] {
                for text in Self.upstreamCorpus {
                    let line = Array(text.utf8)
                    var fast = router
                    var reference = router
                    var out: [BridgeRouter.Output] = []
                    fast.upstreamLine(id, line, now: 5, into: &out)
                    let expected = reference.parsedUpstreamLine(id, line, now: 5)
                    #expect(out == expected, "\(name), upstream \(id): \(text.debugDescription)")
                    #expect(Self.state(fast) == Self.state(reference), "\(name), upstream \(id): \(text.debugDescription)")
                }
            }
        }
    }

    @Test("the scan finds a line's command and first word as IRCXMessage does, and gives up on what the parse would treat specially")
    func head() throws {
        for text in Self.clientCorpus + Self.upstreamCorpus {
            let line = Array(text.utf8)
            let parsed = try? IRCXMessage(parsing: line)
            guard let head = BridgeRouter.Head(line),
                  head.isCommand(BridgeRouter.Head.privmsg, in: line) || head.isCommand(BridgeRouter.Head.notice, in: line)
            else {
                // The parse may still read it as PRIVMSG (a CR at the end, stripped): the full path takes it then.
                continue
            }
            // Whenever the scan finds PRIVMSG or NOTICE, the parse succeeds and agrees with it.
            let message = try #require(parsed, "\(text.debugDescription)")
            #expect(["PRIVMSG", "NOTICE"].contains(message.commandName), "\(text.debugDescription)")
            #expect(Array(line[head.command]) == message.command, "\(text.debugDescription)")
            if let first = head.first {
                #expect(Array(line[first]) == message.parameters.first, "\(text.debugDescription)")
            }
            #expect(head.isCommand(BridgeRouter.Head.privmsg, in: line) == (message.commandName == "PRIVMSG"), "\(text.debugDescription)")
        }
        let common = BridgeRouter.Head(Array("PRIVMSG %#Far :hello".utf8))
        #expect(common?.first == 8..<13, "the common line takes the fast path")
        for refused in ["PRIVMSG %#Far :a\rb", "PRIVMSG %#Far :a\u{0}b", "PRIVMSG %#Far :b\r", ": PRIVMSG %#Far :x", "", "   ",
                        "PRIVMSG %#Far :" + Self.longText + "y"] {
            #expect(BridgeRouter.Head(Array(refused.utf8)) == nil, "\(refused.debugDescription)")
        }
        #expect(BridgeRouter.Head(Array("PRIVMSG :%#Far x".utf8))?.first == nil, "a trailing first parameter is not a word")
    }
}
