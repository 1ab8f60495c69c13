import GateKeeper

/// The routing of `gkpass proxy`, sans-I/O: one client connection, many upstream servers (issue #16).
///
/// Lines from the client and from each upstream (tagged by its ``UpstreamID``) go in, with the time; lines for the
/// client and for each upstream come out, and requests for the driver: open an upstream for a server, ask the
/// directory where a room is, close an upstream. No sockets, clocks or threads: the driver (``Proxy``) holds those,
/// and calls ``tick(now:)`` now and then for the timers (reconnect backoff, keep-alive).
///
/// What it does:
/// - Every JOIN target (comma lists split, each key kept with its room) is placed with the directory (`FINDS` ->
///   `613`, asked once per room for the connection) and joined on its server. One upstream per server, shared by
///   every room there; the home server (upstream 0: the network's `server`, else its directory) takes everything that
///   names no room it knows.
/// - Lines that name a room go to that room's upstream; a message to a nick goes to an upstream that shares a room
///   with it (membership from 353, JOIN, PART, KICK, QUIT, NICK), else home.
/// - The client sees one registration: the home server's welcome, our 005 after its 004 (``ISupport``) and its MOTD.
///   Later upstreams' welcome, MOTD and LUSERS are swallowed, and so are their user modes, AWAY replies and echoes of
///   our NICK: the client's view is the home server's. A user-mode change, NICK or AWAY from the client goes to
///   every upstream.
/// - PINGs from upstreams and from the client are answered here; each upstream is PINGed after `keepAlive` seconds
///   of silence and given up after twice that.
/// - A lost upstream is reconnected with backoff (1, 2, 4 ... seconds, at most `maximumBackoff`, plus up to a second
///   of jitter from the injected source) and its rooms rejoined: one NOTICE per room when it is lost and one when it
///   is back, and the server's echo of our own JOIN for a room being rejoined is swallowed, so the client never sees
///   a second JOIN (NAMES passes: it refreshes the client's list). While an upstream is away, lines for it are
///   refused with a NOTICE rather than queued: a message delivered a minute late, after the room has moved on,
///   misleads more than one that visibly failed. The client stays connected, also while the home server is away.
/// - Every line built here from server or client data goes through `IRCXMessage`, which refuses CR, LF and NUL.
public struct BridgeRouter {
    public typealias UpstreamID = Int
    /// The home server's upstream.
    public static let home: UpstreamID = 0
    /// The token of the proxy's own keep-alive PINGs; the PONGs that carry it are not relayed.
    public static let keepAliveToken = "gkpass-keepalive"

    public enum Output: Equatable, Sendable {
        /// One line for the client (without CRLF).
        case client([UInt8])
        /// One line for an upstream (without CRLF).
        case upstream(UpstreamID, [UInt8])
        /// Open (connect, log in, register) an upstream to this server; answer with ``opened(_:lines:now:)`` or
        /// ``openFailed(_:reason:now:)``.
        case open(UpstreamID, Network.Endpoint)
        /// Ask the directory where this room is; answer with ``found(room:at:)`` or ``notFound(room:reason:permanent:)``.
        case find(String)
        /// Close this upstream's connection (the router no longer uses it, or it stopped answering).
        case close(UpstreamID)
        /// The client's QUIT went to every upstream: end the session once they close (or after a short wait).
        case quit
        /// A line for the proxy's verbose log.
        case log(String)
    }

    public struct Configuration: Sendable {
        /// The network's name, for ISUPPORT's NETWORK.
        public var network: String
        /// The home server: the first upstream.
        public var home: Network.Endpoint
        /// Whether JOINs are placed with the directory (the network has one).
        public var usesDirectory: Bool
        /// Seconds of upstream silence before a keep-alive PING; twice this and the upstream is lost.
        public var keepAlive: Double = 90
        /// Bytes of client lines that may wait for a room's placement or a new upstream's registration.
        public var maximumWaiting = 64 << 10
        /// The longest wait between two reconnection attempts.
        public var maximumBackoff: Double = 60
        /// How long the client's QUIT waits for JOINs still being placed before it goes anyway.
        public var quitWait: Double = 10

        public init(network: String, home: Network.Endpoint, usesDirectory: Bool) {
            self.network = network
            self.home = home
            self.usesDirectory = usesDirectory
        }
    }

    enum Link: Equatable {
        /// Opened for the first time: lines for it wait (bounded).
        case opening
        case open
        /// Lost: the next attempt is due at `at` (nil: an attempt is under way).
        case reconnecting(at: Double?)
    }

    struct Upstream {
        let endpoint: Network.Endpoint
        var link: Link
        /// Failed attempts since it was last open.
        var failures = 0
        /// What this server calls us (its 001).
        var nick: [UInt8]?
        var lastHeard: Double
        var pinged = false
        var queued: [[UInt8]] = []
        var queuedBytes = 0
        /// Its welcome and MOTD go to the client: the home server's first registration only.
        var showsWelcome = false
        /// The client was told why reconnecting fails (``BridgeRouter/openFailed(_:reason:now:tell:)``).
        var told = false
    }

    struct Room {
        /// As the client wrote it.
        var name: [UInt8]
        /// The JOIN key the client gave, kept for rejoining.
        var key: [UInt8]?
        /// nil while the directory is asked.
        var upstream: UpstreamID?
        /// The server echoed our JOIN.
        var joined = false
        /// Joined before its upstream was lost: the echo of the rejoin is not shown.
        var rejoining = false
        /// Client lines (the JOIN first) waiting for the room's placement.
        var waiting: [[UInt8]] = []
        /// Members: folded nickname (``BridgeRouter/fold(_:)``) to the nickname as the server writes it.
        var members: [[UInt8]: [UInt8]] = [:]
        /// While the room is rejoined after its upstream was lost: the members the client was last shown. The new
        /// NAMES reply is compared with them at its 366, and the client told the difference as PARTs and JOINs
        /// instead of a second list (clients keep the first and would show people who left while we were away).
        var shown: [[UInt8]: [UInt8]]?
        /// Room modes (`.`, `@`, `+`) of members who joined while we were away, from the new NAMES reply.
        var shownPrefixes: [[UInt8]: UInt8] = [:]
    }

    public let configuration: Configuration
    /// A number in 0..<1 for each backoff (injected: tests pass a fixed one).
    var jitter: () -> Double
    var upstreams: [UpstreamID: Upstream]
    var nextID = 1
    var rooms: [[UInt8]: Room] = [:]
    /// Folded room name -> its server, as the directory said (for this client connection).
    var placements: [[UInt8]: Network.Endpoint] = [:]
    var waitingBytes = 0
    var isupport: ISupport
    /// The client's nickname: what the home server calls us.
    public private(set) var nick: [UInt8]
    /// The home server's name (the prefix of its welcome), for the PONGs and numerics built here.
    public private(set) var serverName: [UInt8] = Array("gkpass".utf8)
    var pendingQuit: (line: [UInt8], since: Double)?
    public private(set) var quitSent = false

    /// A router whose home upstream is being opened; feed its registration with ``opened(_:lines:now:)``.
    public init(configuration: Configuration, clientNick: String, now: Double, jitter: @escaping () -> Double = { Double.random(in: 0..<1) }) {
        self.configuration = configuration
        self.jitter = jitter
        nick = Array(clientNick.utf8)
        isupport = ISupport(network: configuration.network)
        var home = Upstream(endpoint: configuration.home, link: .opening, lastHeard: now)
        home.showsWelcome = true
        upstreams = [Self.home: home]
    }

    // MARK: - Helpers

    /// ASCII letters folded, every other byte as it is (MSN nicknames and room names are bytes).
    static func fold(_ name: [UInt8]) -> [UInt8] { name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } }

    /// `%#Name`, `%&Name`, `#name`, `&name` (CHANTYPES=%#&).
    static func isRoom(_ name: [UInt8]) -> Bool {
        guard let first = name.first else { return false }
        return first == UInt8(ascii: "#") || first == UInt8(ascii: "&") || first == UInt8(ascii: "%")
    }

    static func nick(fromPrefix prefix: [UInt8]?) -> [UInt8] { Array((prefix ?? []).prefix { $0 != UInt8(ascii: "!") }) }

    /// Text for a line: control bytes (CR, LF, NUL among them) become spaces. The built line still goes through
    /// IRCXMessage; this only keeps a reason with a stray control byte from costing the client the whole line.
    static func printable(_ text: String) -> [UInt8] { Array(text.utf8).map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 } }

    /// A line built through IRCXMessage (nil when a part holds CR, LF or NUL, or cannot be a parameter), no CRLF.
    static func build(prefix: [UInt8]?, _ command: String, _ parameters: [[UInt8]], trailing: Bool = false) -> [UInt8]? {
        guard let message = try? IRCXMessage(prefix: prefix, command: Array(command.utf8), parameters: parameters, forcesTrailing: trailing)
        else { return nil }
        return Array(message.serialized().dropLast(2))
    }

    /// A NOTICE from the proxy to `target` (a room: the client shows it in that room; else our nick).
    func notice(_ target: [UInt8]?, _ text: String) -> [Output] {
        guard let line = Self.build(prefix: Array("gkpass".utf8), "NOTICE", [target ?? nick, Self.printable(text)], trailing: true)
        else { return [] }
        return [.client(line)]
    }

    /// The keys of `table` in byte order: outputs that go over several rooms or members come in a fixed order.
    static func inOrder<Value>(_ table: [[UInt8]: Value]) -> [[UInt8]] { table.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    func roomKeys(on id: UpstreamID) -> [[UInt8]] {
        Self.inOrder(rooms.filter { $0.value.upstream == id })
    }

    func isUs(_ name: [UInt8], on id: UpstreamID) -> Bool {
        let folded = Self.fold(name)
        return folded == Self.fold(upstreams[id]?.nick ?? nick) || folded == Self.fold(nick)
    }

    /// The reconnection delay after `failures` failed attempts: 1, 2, 4 ... seconds, at most `maximumBackoff`,
    /// plus the jitter (0 to 1 s: clients of one proxy that lost the same server do not all come back at once).
    public static func backoff(failures: Int, jitter: Double, maximum: Double) -> Double {
        let base = failures >= 30 ? maximum : min(maximum, Double(1 << failures))
        return min(maximum, base + jitter)
    }

    func endpointText(_ id: UpstreamID) -> String { upstreams[id].map { "\($0.endpoint)" } ?? "the server" }

    // MARK: - From the client

    /// One line from the client (without CRLF).
    public mutating func clientLine(_ line: [UInt8], now: Double) -> [Output] {
        var out: [Output] = []
        clientLine(line, now: now, into: &out)
        return out
    }

    /// One line from the client (without CRLF); what it causes is appended to `out`, which the driver reuses from
    /// line to line (an array per relayed line was a measurable part of the proxy's CPU, docs/benchmarks.md).
    ///
    /// Fast path: a PRIVMSG or NOTICE to one target (by far the most common line) is routed from its command and
    /// first word alone, without building an IRCXMessage, when ``Head`` says the full parse would find the same
    /// command and target. Everything else, and every line the fast path is unsure of, takes
    /// ``parsedClientLine(_:now:)``; the tests check that both give the same outputs for a corpus of lines.
    public mutating func clientLine(_ line: [UInt8], now: Double, into out: inout [Output]) {
        if !quitSent, pendingQuit == nil, let head = Head(line), let first = head.first,
           head.isCommand(Head.privmsg, in: line) || head.isCommand(Head.notice, in: line),
           !line[first].contains(UInt8(ascii: ",")) {
            // As routeList with one target: the line goes unchanged to that target's upstream.
            let target = Array(line[first])
            let destination = destination(target)
            if case .upstream(let id) = destination, upstreams[id]?.link == .open {
                out.append(.upstream(id, line))
            } else {
                out += send(line, to: destination, context: Self.isRoom(target) ? target : nil)
            }
            return
        }
        out += parsedClientLine(line, now: now)
    }

    /// One line from the client, parsed in full: the reference behaviour of ``clientLine(_:now:into:)``.
    mutating func parsedClientLine(_ line: [UInt8], now: Double) -> [Output] {
        guard !quitSent, pendingQuit == nil, let message = try? IRCXMessage(parsing: line) else { return [] }
        let parameters = message.parameters
        switch message.commandName {
        case "CAP", "PASS", "USER":
            return []  // answered at registration; a server would only say 462
        case "PING":
            // Answered here, prefixed, as clients expect (HexChat drops a link whose PONGs carry no prefix, and MSN
            // servers answer without one); each upstream has its own keep-alive.
            guard let pong = Self.build(prefix: serverName, "PONG", [serverName, parameters.last ?? []], trailing: true) else { return [] }
            return [.client(pong)]
        case "PONG":
            return []  // to our PINGs, which the proxy does not send the client
        case "QUIT":
            let placing = rooms.values.contains { $0.upstream == nil }
                || upstreams.values.contains { $0.link == .opening && !$0.queued.isEmpty }
            if placing {
                // JOINs and lines for rooms still being placed go first.
                pendingQuit = (line, now)
                return []
            }
            return sendQuit(line)
        case "JOIN":
            return join(message, line: line)
        case "PRIVMSG", "NOTICE", "PART", "NAMES":
            return routeList(message, line: line)
        case "MODE" where parameters.first.map({ !Self.isRoom($0) && isUs($0, on: Self.home) }) == true,
            "NICK", "AWAY":
            // Every server must agree on who we are; only the home server's answer is shown.
            return everywhere(line)
        case "MODE", "TOPIC", "KICK", "PROP", "WHISPER", "ACCESS", "KNOCK", "WHO":
            return route(line, target: parameters.first)
        case "INVITE":
            return route(line, target: parameters.count > 1 ? parameters[1] : nil)
        default:
            return deliver(Self.home, line, context: nil)
        }
    }

    enum Destination: Hashable {
        case upstream(UpstreamID)
        /// The room is being placed: the line waits with it.
        case waiting([UInt8])
    }

    func destination(_ target: [UInt8]) -> Destination {
        if Self.isRoom(target) {
            let key = Self.fold(target)
            if let room = rooms[key] { return room.upstream.map { .upstream($0) } ?? .waiting(key) }
            if let endpoint = placements[key], let id = upstreams.first(where: { $0.value.endpoint == endpoint })?.key {
                return .upstream(id)
            }
            return .upstream(Self.home)
        }
        // A nick: an upstream that shares a room with it, an open one first.
        let folded = Self.fold(target)
        let shared = Self.inOrder(rooms.filter { $0.value.members[folded] != nil })
            .compactMap { rooms[$0]?.upstream }
        if let open = shared.first(where: { upstreams[$0]?.link == .open }) ?? shared.first { return .upstream(open) }
        return .upstream(Self.home)
    }

    mutating func send(_ line: [UInt8], to destination: Destination, context: [UInt8]?) -> [Output] {
        switch destination {
        case .upstream(let id):
            return deliver(id, line, context: context)
        case .waiting(let key):
            guard waitingBytes + line.count <= configuration.maximumWaiting else {
                return notice(context, "too much waits for \(String(decoding: rooms[key]?.name ?? [], as: UTF8.self)) to be placed; not sent")
            }
            waitingBytes += line.count
            rooms[key]?.waiting.append(line)
            return []
        }
    }

    /// A line to one upstream: now when it is open, queued (bounded) while it opens for the first time, refused
    /// with a NOTICE while it reconnects.
    mutating func deliver(_ id: UpstreamID, _ line: [UInt8], context: [UInt8]?) -> [Output] {
        guard var upstream = upstreams[id] else { return deliver(Self.home, line, context: context) }
        switch upstream.link {
        case .open:
            return [.upstream(id, line)]
        case .opening:
            guard upstream.queuedBytes + line.count <= configuration.maximumWaiting else {
                return notice(context, "too much waits for \(upstream.endpoint); not sent")
            }
            upstream.queued.append(line)
            upstream.queuedBytes += line.count
            upstreams[id] = upstream
            return []
        case .reconnecting:
            return notice(context, "\(upstream.endpoint) is reconnecting; not sent")
        }
    }

    mutating func route(_ line: [UInt8], target: [UInt8]?) -> [Output] {
        guard let target else { return deliver(Self.home, line, context: nil) }
        return send(line, to: destination(target), context: Self.isRoom(target) ? target : nil)
    }

    /// PRIVMSG, NOTICE, PART, NAMES: the comma list of targets split by destination; a line whose targets all go
    /// one way is relayed byte for byte.
    mutating func routeList(_ message: IRCXMessage, line: [UInt8]) -> [Output] {
        guard let list = message.parameters.first else { return deliver(Self.home, line, context: nil) }
        let targets = list.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).map { Array($0) }
        var groups: [(Destination, [[UInt8]])] = []
        for target in targets {
            let destination = destination(target)
            if let index = groups.firstIndex(where: { $0.0 == destination }) { groups[index].1.append(target) } else { groups.append((destination, [target])) }
        }
        if groups.count <= 1 {
            return send(line, to: groups.first?.0 ?? .upstream(Self.home), context: targets.first.flatMap { Self.isRoom($0) ? $0 : nil })
        }
        var out: [Output] = []
        for (destination, names) in groups {
            let joined = Array(names.joined(separator: [UInt8(ascii: ",")]))
            guard let rebuilt = Self.build(prefix: nil, message.commandName, [joined] + message.parameters.dropFirst(), trailing: message.forcesTrailing)
            else { continue }
            out += send(rebuilt, to: destination, context: names.first.flatMap { Self.isRoom($0) ? $0 : nil })
        }
        return out
    }

    mutating func everywhere(_ line: [UInt8]) -> [Output] {
        upstreams.keys.sorted().filter { upstreams[$0]?.link == .open }.map { .upstream($0, line) }
    }

    mutating func sendQuit(_ line: [UInt8]) -> [Output] {
        pendingQuit = nil
        quitSent = true
        return everywhere(line) + [.quit]
    }

    mutating func join(_ message: IRCXMessage, line: [UInt8]) -> [Output] {
        guard let list = message.parameters.first else { return deliver(Self.home, line, context: nil) }
        if list == Array("0".utf8) {
            // JOIN 0 (leave every room): a PART to each room's server, which MSN servers understand; rooms still
            // being placed are forgotten.
            var out: [Output] = []
            for key in Self.inOrder(rooms) {
                guard let room = rooms[key] else { continue }
                if let id = room.upstream, let part = Self.build(prefix: nil, "PART", [room.name]) {
                    out += deliver(id, part, context: room.name)
                } else {
                    waitingBytes -= room.waiting.reduce(0) { $0 + $1.count }
                    rooms[key] = nil
                }
            }
            return out
        }
        let targets = list.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).map { Array($0) }
        let keys = message.parameters.count > 1
            ? message.parameters[1].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { Array($0) } : []
        var out: [Output] = []
        for (index, written) in targets.enumerated() {
            let key = index < keys.count && !keys[index].isEmpty ? keys[index] : nil
            let name = Self.msnRoom(written)
            guard let single = Self.build(prefix: nil, "JOIN", [name] + (key.map { [$0] } ?? [])) else { continue }
            out += joinOne(name, key: key, line: targets.count == 1 && name == written ? line : single)
        }
        return out
    }

    /// `#%#Name` and `#%&Name` as the MSN rooms `%#Name` and `%&Name`. A client that has not yet read our 005 knows
    /// only the RFC channel types `#&` and puts `#` before a name that starts with neither; irssi does exactly that
    /// when it rejoins its rooms on reconnect, from the 001 it has just read, before the 005 that follows. No MSN
    /// room starts with `#%`, so the `#` can only be the client's.
    static func msnRoom(_ name: [UInt8]) -> [UInt8] {
        guard name.count > 3, name[0] == UInt8(ascii: "#"), name[1] == UInt8(ascii: "%"),
              name[2] == UInt8(ascii: "#") || name[2] == UInt8(ascii: "&")
        else { return name }
        return Array(name.dropFirst())
    }

    mutating func joinOne(_ name: [UInt8], key: [UInt8]?, line: [UInt8]) -> [Output] {
        let folded = Self.fold(name)
        guard Self.isRoom(name) else { return deliver(Self.home, line, context: nil) }
        if var room = rooms[folded] {
            room.key = key ?? room.key
            rooms[folded] = room
            if let id = room.upstream {
                if case .reconnecting? = upstreams[id]?.link { return [] }  // joined again when it is back
                return deliver(id, line, context: name)
            }
            return send(line, to: .waiting(folded), context: name)
        }
        rooms[folded] = Room(name: name, key: key)
        if !configuration.usesDirectory { return place(folded, on: Self.home, waiting: [line]) }
        if let endpoint = placements[folded] {
            let (id, opening) = upstream(for: endpoint)
            return opening + place(folded, on: id, waiting: [line])
        }
        waitingBytes += line.count
        rooms[folded]?.waiting = [line]
        return [.find(String(decoding: name, as: UTF8.self))]
    }

    /// The upstream for `endpoint`, opened when there is none.
    mutating func upstream(for endpoint: Network.Endpoint) -> (UpstreamID, [Output]) {
        if let id = upstreams.keys.sorted().first(where: { upstreams[$0]?.endpoint == endpoint }) { return (id, []) }
        let id = nextID
        nextID += 1
        upstreams[id] = Upstream(endpoint: endpoint, link: .opening, lastHeard: 0)
        return (id, [.open(id, endpoint), .log("opening \(endpoint)")])
    }

    /// Puts a room on an upstream and sends what waited for it. While that upstream reconnects, the room is joined
    /// when it is back.
    mutating func place(_ key: [UInt8], on id: UpstreamID, waiting: [[UInt8]]) -> [Output] {
        guard var room = rooms[key] else { return [] }
        room.upstream = id
        room.waiting = []
        rooms[key] = room
        if case .reconnecting? = upstreams[id]?.link {
            return notice(room.name, "\(endpointText(id)) is reconnecting; \(String(decoding: room.name, as: UTF8.self)) is joined when it is back")
        }
        var out: [Output] = []
        for line in waiting { out += deliver(id, line, context: room.name) }
        return out
    }

    // MARK: - From the driver

    /// The directory's answer for `room`.
    public mutating func found(room name: String, at endpoint: Network.Endpoint) -> [Output] {
        let key = Self.fold(Array(name.utf8))
        placements[key] = endpoint
        guard let room = rooms[key], room.upstream == nil else { return checkQuit() }
        waitingBytes -= room.waiting.reduce(0) { $0 + $1.count }
        let (id, opening) = upstream(for: endpoint)
        return [.log("\(name) is on \(endpoint)")] + opening + place(key, on: id, waiting: room.waiting) + checkQuit()
    }

    /// The directory could not place `room`: its JOIN fails alone. `permanent`: the directory does not know the room
    /// (403 ERR_NOSUCHCHANNEL); else the directory or the room's server could not be reached now (437
    /// ERR_UNAVAILRESOURCE, RFC 2812's "channel temporarily unavailable"). Both carry the room as their parameter,
    /// so irssi, WeeChat and HexChat show them in that room's context, and the client stays connected.
    public mutating func notFound(room name: String, reason: String, permanent: Bool) -> [Output] {
        let key = Self.fold(Array(name.utf8))
        guard let room = rooms[key], room.upstream == nil else { return checkQuit() }
        waitingBytes -= room.waiting.reduce(0) { $0 + $1.count }
        rooms[key] = nil
        return failedJoin(room.name, numeric: permanent ? "403" : "437", reason: reason) + checkQuit()
    }

    func failedJoin(_ room: [UInt8], numeric: String, reason: String) -> [Output] {
        let name = String(decoding: room, as: UTF8.self)
        var out: [Output] = [.log("cannot join \(name): \(reason)")]
        if let line = Self.build(prefix: serverName, numeric, [nick, room, Self.printable("Cannot join \(name): \(reason)")], trailing: true) {
            out.append(.client(line))
        }
        return out
    }

    /// An upstream registered: `lines` are what it sent from its 001 on.
    public mutating func opened(_ id: UpstreamID, lines: [[UInt8]], now: Double) -> [Output] {
        guard var upstream = upstreams[id] else { return [.close(id)] }
        let reconnected = upstream.link != .opening
        upstream.link = .open
        upstream.failures = 0
        upstream.told = false
        upstream.lastHeard = now
        upstream.pinged = false
        let queued = upstream.queued
        upstream.queued = []
        upstream.queuedBytes = 0
        upstreams[id] = upstream
        var out: [Output] = [.log("\(reconnected ? "reconnected to" : "registered on") \(upstream.endpoint)")]
        for line in lines { out += upstreamLine(id, line, now: now) }
        if reconnected {
            let keys = roomKeys(on: id)
            if keys.isEmpty && id == Self.home { out += notice(nil, "\(upstream.endpoint) is back") }
            for key in keys {
                guard let room = rooms[key], let join = Self.build(prefix: nil, "JOIN", [room.name] + (room.key.map { [$0] } ?? [])) else { continue }
                out.append(.upstream(id, join))
            }
        }
        for line in queued { out.append(.upstream(id, line)) }
        // Nothing left for an upstream opened for rooms that are gone meanwhile (the client parted them).
        if id != Self.home && roomKeys(on: id).isEmpty && queued.isEmpty {
            upstreams[id] = nil
            out.append(.close(id))
        }
        return out + checkQuit()
    }

    /// An upstream could not be opened. The first time: its rooms' JOINs fail alone (437). Reconnecting: the next
    /// attempt after the backoff.
    /// `tell`: a reason the client must hear while reconnecting (the server refused the ticket: it says what to run),
    /// told once per loss.
    public mutating func openFailed(_ id: UpstreamID, reason: String, now: Double, tell: String? = nil) -> [Output] {
        guard var upstream = upstreams[id] else { return [] }
        if upstream.link == .opening && id != Self.home {
            var out: [Output] = [.log("cannot open \(upstream.endpoint): \(reason)")]
            for key in roomKeys(on: id) {
                guard let room = rooms[key] else { continue }
                rooms[key] = nil
                placements[key] = nil
                out += failedJoin(room.name, numeric: "437", reason: "\(upstream.endpoint) cannot be reached (\(reason))")
            }
            upstreams[id] = nil
            return out + checkQuit()
        }
        upstream.failures += 1
        let delay = Self.backoff(failures: upstream.failures, jitter: jitter(), maximum: configuration.maximumBackoff)
        upstream.link = .reconnecting(at: now + delay)
        var out: [Output] = [.log("cannot reconnect to \(upstream.endpoint): \(reason); next try in \(Int(delay.rounded())) s")]
        if let tell, !upstream.told {
            upstream.told = true
            out += notice(nil, "cannot reconnect to \(upstream.endpoint): \(tell)")
        }
        upstreams[id] = upstream
        return out + checkQuit()
    }

    /// An upstream's connection broke or closed. Its rooms are rejoined once it is back; the client is told, per room.
    public mutating func lost(_ id: UpstreamID, reason: String, now: Double) -> [Output] {
        guard var upstream = upstreams[id] else { return [] }
        if case .reconnecting = upstream.link { return [] }
        if quitSent { return [] }
        let keys = roomKeys(on: id)
        var out: [Output] = [.log("lost \(upstream.endpoint): \(reason)")]
        if id != Self.home && keys.isEmpty {
            upstreams[id] = nil
            return out
        }
        if id == Self.home && keys.isEmpty { out += notice(nil, "lost the connection to \(upstream.endpoint) (\(reason)); reconnecting") }
        for key in keys {
            guard var room = rooms[key] else { continue }
            if room.joined {
                room.rejoining = true
                // A second loss before the rejoin completed keeps what the client was shown the first time.
                room.shown = room.members
            }
            room.joined = false
            room.members = [:]
            room.shownPrefixes = [:]
            rooms[key] = room
            out += notice(room.name, "lost the connection to \(upstream.endpoint) (\(reason)); rejoining \(String(decoding: room.name, as: UTF8.self)) when it is back")
        }
        let delay = Self.backoff(failures: 0, jitter: jitter(), maximum: configuration.maximumBackoff)
        upstream.link = .reconnecting(at: now + delay)
        upstream.failures = 0
        upstream.queued = []
        upstream.queuedBytes = 0
        upstream.pinged = false
        upstreams[id] = upstream
        return out
    }

    /// Timers: reconnections that are due, keep-alive PINGs, an upstream that stopped answering, a QUIT that waited
    /// long enough.
    public mutating func tick(now: Double) -> [Output] {
        var out: [Output] = []
        for id in upstreams.keys.sorted() {
            guard var upstream = upstreams[id] else { continue }
            switch upstream.link {
            case .reconnecting(let at?) where now >= at && !quitSent:
                upstream.link = .reconnecting(at: nil)
                upstreams[id] = upstream
                out += [.log("reconnecting to \(upstream.endpoint)"), .open(id, upstream.endpoint)]
            case .open where !quitSent:
                let silence = now - upstream.lastHeard
                if upstream.pinged && silence > 2 * configuration.keepAlive {
                    out.append(.close(id))
                    out += lost(id, reason: "it stopped answering", now: now)
                } else if !upstream.pinged && silence > configuration.keepAlive {
                    upstreams[id]?.pinged = true
                    out.append(.log("keep-alive PING to \(upstream.endpoint) after \(Int(silence)) s of silence"))
                    out.append(.upstream(id, Array("PING :\(Self.keepAliveToken)".utf8)))
                }
            default:
                break
            }
        }
        if let pendingQuit, now - pendingQuit.since > configuration.quitWait { out += sendQuit(pendingQuit.line) }
        return out
    }

    /// When ``tick(now:)`` has something to do next (a reconnection or keep-alive), for the driver's poll timeout.
    public var nextDeadline: Double? {
        var deadlines: [Double] = []
        for upstream in upstreams.values {
            switch upstream.link {
            case .reconnecting(let at?): deadlines.append(at)
            case .open: deadlines.append(upstream.lastHeard + (upstream.pinged ? 2 : 1) * configuration.keepAlive)
            default: break
            }
        }
        if let pendingQuit { deadlines.append(pendingQuit.since + configuration.quitWait) }
        return deadlines.min()
    }

    mutating func checkQuit() -> [Output] {
        guard let pendingQuit else { return [] }
        let placing = rooms.values.contains { $0.upstream == nil } || upstreams.values.contains { $0.link == .opening && !$0.queued.isEmpty }
        return placing ? [] : sendQuit(pendingQuit.line)
    }

    // MARK: - From the upstreams

    /// Welcome, LUSERS and MOTD numerics: shown from the home server's first registration only.
    static let welcomeNumerics: Set<Int> = [1, 2, 3, 4, 5, 42, 250, 251, 252, 253, 254, 255, 265, 266, 372, 375, 376, 377, 378, 422]
    /// Replies about our own user (modes, AWAY): shown from the home server only.
    static let selfNumerics: Set<Int> = [221, 305, 306, 501]
    /// Room-mode prefixes in a NAMES reply: IRCX owner, host, voice (PREFIX=(qov).@+).
    static let memberPrefixes: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: "@"), UInt8(ascii: "+")]
    /// The mode letter of each prefix, for the MODE line that gives a member who joined while we were away theirs.
    static let prefixModes: [UInt8: String] = [UInt8(ascii: "."): "+q", UInt8(ascii: "@"): "+o", UInt8(ascii: "+"): "+v"]

    /// The end of a rejoined room's NAMES: instead of the list (which clients would show in the status window and
    /// not apply to the room's member list), the client gets a PART for everyone who left while we were away, a
    /// JOIN (and the MODE of their prefix) for everyone who came, and nothing for those still there. The 366
    /// itself is swallowed too: the client never asked for these NAMES.
    mutating func resynchronized(_ room: Room, shown: [[UInt8]: [UInt8]], on id: UpstreamID) -> [Output] {
        let key = Self.fold(room.name)
        rooms[key]?.shown = nil
        rooms[key]?.shownPrefixes = [:]
        var out: [Output] = []
        for folded in Self.inOrder(shown) where room.members[folded] == nil {
            guard let name = shown[folded], !isUs(name, on: id),
                  let part = Self.build(prefix: name, "PART", [room.name, Array("not in the room when gkpass rejoined it".utf8)], trailing: true)
            else { continue }
            out.append(.client(part))
        }
        for folded in Self.inOrder(room.members) where shown[folded] == nil {
            guard let name = room.members[folded], !isUs(name, on: id),
                  let join = Self.build(prefix: name, "JOIN", [room.name], trailing: true)
            else { continue }
            out.append(.client(join))
            if let prefix = room.shownPrefixes[folded], let mode = Self.prefixModes[prefix],
               let line = Self.build(prefix: serverName, "MODE", [room.name, Array(mode.utf8), name])
            {
                out.append(.client(line))
            }
        }
        return out
    }

    /// A JOIN refused: the room is forgotten.
    static let joinRefusals: Set<Int> = [403, 405, 437, 471, 473, 474, 475, 477, 913]

    /// One line from upstream `id` (without CRLF).
    public mutating func upstreamLine(_ id: UpstreamID, _ line: [UInt8], now: Double) -> [Output] {
        var out: [Output] = []
        upstreamLine(id, line, now: now, into: &out)
        return out
    }

    /// One line from upstream `id` (without CRLF), its outputs appended to `out`. Fast path: a PRIVMSG or NOTICE
    /// (what a room's talk is) goes to the client unchanged, as ``parsedUpstreamLine(_:_:now:)`` would send it,
    /// without building an IRCXMessage.
    public mutating func upstreamLine(_ id: UpstreamID, _ line: [UInt8], now: Double, into out: inout [Output]) {
        if upstreams[id] != nil, let head = Head(line), head.isCommand(Head.privmsg, in: line) || head.isCommand(Head.notice, in: line) {
            upstreams[id]?.lastHeard = now
            upstreams[id]?.pinged = false
            out.append(.client(line))
            return
        }
        out += parsedUpstreamLine(id, line, now: now)
    }

    /// One line from upstream `id`, parsed in full: the reference behaviour of ``upstreamLine(_:_:now:into:)``.
    mutating func parsedUpstreamLine(_ id: UpstreamID, _ line: [UInt8], now: Double) -> [Output] {
        guard var upstream = upstreams[id] else { return [] }
        upstream.lastHeard = now
        upstream.pinged = false
        upstreams[id] = upstream
        guard let message = try? IRCXMessage(parsing: line) else { return [] }
        let parameters = message.parameters
        let isHome = id == Self.home
        if let numeric = message.numeric {
            if numeric == 1, let name = parameters.first {
                upstreams[id]?.nick = name
                if upstream.showsWelcome {
                    nick = name
                    if let prefix = message.prefix { serverName = prefix }
                }
            }
            if Self.welcomeNumerics.contains(numeric) {
                guard upstream.showsWelcome else { return [] }
                if numeric == 376 || numeric == 422 { upstreams[id]?.showsWelcome = false }
                return isupport.pass(line).map { .client($0) }
            }
            if Self.selfNumerics.contains(numeric) && !isHome { return [] }
            if numeric == 353, parameters.count >= 4 {
                let key = Self.fold(parameters[2])
                if rooms[key]?.upstream == id {
                    for entry in parameters[3].split(separator: 0x20) {
                        let name = Array(entry.drop { Self.memberPrefixes.contains($0) })
                        rooms[key]?.members[Self.fold(name)] = name
                        if rooms[key]?.shown != nil, let prefix = entry.first, Self.memberPrefixes.contains(prefix) {
                            rooms[key]?.shownPrefixes[Self.fold(name)] = prefix
                        }
                    }
                    if rooms[key]?.shown != nil { return [] }
                }
            }
            if numeric == 366, parameters.count >= 2, let room = rooms[Self.fold(parameters[1])], room.upstream == id,
               let shown = room.shown
            {
                return resynchronized(room, shown: shown, on: id)
            }
            if Self.joinRefusals.contains(numeric), parameters.count >= 2 {
                let key = Self.fold(parameters[1])
                if let room = rooms[key], room.upstream == id, !room.joined {
                    rooms[key] = nil
                    var out: [Output] = [.client(line)]
                    if room.rejoining { out += notice(room.name, "could not rejoin \(String(decoding: room.name, as: UTF8.self))") }
                    return out + closeIfIdle(id)
                }
            }
            return [.client(line)]
        }
        let who = Self.nick(fromPrefix: message.prefix)
        let fromUs = message.prefix != nil && isUs(who, on: id)
        switch message.commandName {
        case "PING":
            guard let pong = Self.build(prefix: nil, "PONG", [parameters.last ?? []], trailing: true) else { return [] }
            return [.upstream(id, pong)]
        case "PONG":
            if parameters.last == Array(Self.keepAliveToken.utf8) { return [] }
            return isHome ? [.client(line)] : []
        case "ERROR":
            // The home server's answer to the client's QUIT is the client's too; any other ERROR means an upstream
            // is closing, and what the client hears of that is the NOTICE per room when the close comes.
            if quitSent && isHome { return [.client(line)] }
            return [.log("\(upstream.endpoint) said: \(String(decoding: parameters.last ?? [], as: UTF8.self))")]
        case "JOIN":
            guard let name = parameters.first else { return [.client(line)] }
            let key = Self.fold(name)
            if fromUs, var room = rooms[key], room.upstream == id {
                room.joined = true
                room.members[Self.fold(who)] = who
                let rejoined = room.rejoining
                room.rejoining = false
                rooms[key] = room
                if rejoined { return notice(room.name, "back on \(upstream.endpoint): rejoined \(String(decoding: room.name, as: UTF8.self))") }
                return [.client(line)]
            }
            rooms[key]?.members[Self.fold(who)] = who
            return [.client(line)]
        case "PART":
            guard let list = parameters.first else { return [.client(line)] }
            var out: [Output] = [.client(line)]
            for name in list.split(separator: UInt8(ascii: ",")) {
                let key = Self.fold(Array(name))
                guard rooms[key]?.upstream == id else { continue }
                if fromUs {
                    rooms[key] = nil
                } else {
                    rooms[key]?.members[Self.fold(who)] = nil
                }
            }
            if fromUs { out += closeIfIdle(id) }
            return out
        case "KICK":
            guard parameters.count >= 2 else { return [.client(line)] }
            let key = Self.fold(parameters[0])
            guard rooms[key]?.upstream == id else { return [.client(line)] }
            if isUs(parameters[1], on: id) {
                rooms[key] = nil
                return [.client(line)] + closeIfIdle(id)
            }
            rooms[key]?.members[Self.fold(parameters[1])] = nil
            return [.client(line)]
        case "QUIT":
            for key in roomKeys(on: id) { rooms[key]?.members[Self.fold(who)] = nil }
            return [.client(line)]
        case "NICK":
            guard let new = parameters.first else { return [.client(line)] }
            for key in roomKeys(on: id) where rooms[key]?.members.removeValue(forKey: Self.fold(who)) != nil {
                rooms[key]?.members[Self.fold(new)] = new
            }
            if fromUs {
                upstreams[id]?.nick = new
                guard isHome else { return [] }
                nick = new
            }
            return [.client(line)]
        case "MODE":
            // A user mode of ours: the client's view is the home server's.
            if let target = parameters.first, !Self.isRoom(target), isUs(target, on: id), !isHome { return [] }
            return [.client(line)]
        default:
            return [.client(line)]
        }
    }

    /// An upstream other than home with no rooms left is closed.
    mutating func closeIfIdle(_ id: UpstreamID) -> [Output] {
        guard id != Self.home, upstreams[id]?.link == .open, roomKeys(on: id).isEmpty else { return [] }
        upstreams[id] = nil
        return [.log("closing \(endpointText(id)): no rooms left"), .upstream(id, Array("QUIT :gkpass: no rooms left here".utf8)), .close(id)]
    }

    // MARK: - The fast path

    /// Where a line's command and first parameter are, found by one scan without building an IRCXMessage (which
    /// copies the line, each word and the trailing parameter). Made only for a line that `IRCXMessage(parsing:)`
    /// reads exactly as this scan does: at most ``IRCXMessage/maximumLineLength`` bytes, no NUL, CR or LF (so
    /// there is no terminator for the parse to strip), a prefix (if any) that is not empty, a command. The command's
    /// bytes are not checked here: ``isCommand(_:in:)`` compares them with a known command, which is letters.
    struct Head {
        static let privmsg = Array("PRIVMSG".utf8)
        static let notice = Array("NOTICE".utf8)

        /// The command's bytes in the line.
        let command: Range<Int>
        /// The first parameter, when it is a middle word (nil: none, or it is `:` trailing, which may hold spaces).
        let first: Range<Int>?

        init?(_ line: [UInt8]) {
            guard line.count <= IRCXMessage.maximumLineLength,
                  !line.contains(where: { $0 == 0x00 || $0 == 0x0A || $0 == 0x0D })
            else { return nil }
            let end = line.count
            var index = 0
            func skipSpaces() { while index < end && line[index] == 0x20 { index += 1 } }
            func word() -> Range<Int> {
                let start = index
                while index < end && line[index] != 0x20 { index += 1 }
                return start..<index
            }
            skipSpaces()
            if index < end && line[index] == UInt8(ascii: ":") {
                index += 1
                guard !word().isEmpty else { return nil }
                skipSpaces()
            }
            command = word()
            guard !command.isEmpty else { return nil }
            skipSpaces()
            first = index < end && line[index] != UInt8(ascii: ":") ? word() : nil
        }

        /// Whether the command is `name` (upper case letters), in any case, as IRCXMessage's `commandName` compares.
        func isCommand(_ name: [UInt8], in line: [UInt8]) -> Bool {
            guard command.count == name.count else { return false }
            for (offset, letter) in name.enumerated() {
                let byte = line[command.lowerBound + offset]
                if (byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte) != letter { return false }
            }
            return true
        }
    }

    // MARK: - ISUPPORT

    /// What an IRC client must know to use MSN rooms, which the original servers never said (they send no 005):
    /// `%#Name` and `%&Name` are channels, `.` is the IRCX owner. One 005 goes right after the server's 004, with
    /// the server's own prefix; a server that does send 005 keeps its lines, and ours follows them, refining its
    /// tokens rather than losing them. Pure: welcome lines in, welcome lines out.
    struct ISupport {
        let tokens: [String]
        var sent = false

        init(network: String) {
            tokens = ["CHANTYPES=%#&", "PREFIX=(qov).@+", "NETWORK=\(network.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })",
                      "CASEMAPPING=ascii", "CHANNELLEN=200", "NICKLEN=64", "IRCX"]
        }

        /// `line`, followed by our 005 when it is the server's 004 (once).
        mutating func pass(_ line: [UInt8]) -> [[UInt8]] {
            guard !sent, let message = try? IRCXMessage(parsing: line), message.numeric == 4 else { return [line] }
            sent = true
            guard let isupport = try? IRCXMessage(
                prefix: message.prefix ?? Array("gkpass".utf8), command: Array("005".utf8),
                parameters: [message.parameters.first ?? Array("*".utf8)] + tokens.map { Array($0.utf8) }
                    + [Array("are supported by this server (gkpass proxy)".utf8)],
                forcesTrailing: true)
            else { return [line] }
            return [line, Array(isupport.serialized().dropLast(2))]
        }
    }
}
