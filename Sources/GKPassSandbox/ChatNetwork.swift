import Synchronization

/// Where a session's bytes go. The NIO handler implements it; tests can implement it with an array.
public protocol SessionConnection: AnyObject, Sendable {
    func send(_ bytes: [UInt8])
    func close()
}

/// The shared state of one of the sandbox's IRCX chat servers: who is connected under which nickname, and who is
/// in which room with which rights. A sandbox with `--chat-servers N` has N of these: nicknames and rooms belong to
/// one server, so the same Passport user can be connected to two servers under one nickname (as a client that
/// follows the directory's 613s must be), and `%#A` on server 1 is another room than `%#A` on server 0.
/// Sessions run on their own event loops; everything shared goes through this one lock.
public final class ChatNetwork: Sendable {
    /// A member's rights in a room (IRCX: owner `.` (+q), host `@` (+o), voice `+` (+v); `PREFIX=(qov).@+`).
    public enum Level: Int, Comparable, Sendable {
        case member, voice, host, owner

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        /// The NAMES/WHOIS prefix: `.`, `@`, `+` or nothing.
        public var flag: [UInt8] {
            switch self {
            case .owner: return [UInt8(ascii: ".")]
            case .host: return [UInt8(ascii: "@")]
            case .voice: return [UInt8(ascii: "+")]
            case .member: return []
            }
        }
    }

    /// The room properties the sandbox keeps (IRCX PROP): read and set through ``IRCXSession``.
    public enum RoomProperty: String, CaseIterable, Sendable {
        case topic = "TOPIC"
        case onJoin = "ONJOIN"
        case ownerKey = "OWNERKEY"
        case hostKey = "HOSTKEY"

        /// Who may read it: keys only those they would make (irc7 hides them from the rest: 908).
        var readLevel: Level {
            switch self {
            case .topic, .onJoin: return .member
            case .hostKey: return .host
            case .ownerKey: return .owner
            }
        }

        /// Who may set it: hosts the texts, owners the keys.
        var writeLevel: Level {
            switch self {
            case .topic, .onJoin: return .host
            case .ownerKey, .hostKey: return .owner
            }
        }

        /// The longest value (irc7-com's ChannelProp regexes: TOPIC 160, ONJOIN 255, keys 31).
        var maximumLength: Int {
            switch self {
            case .topic: return 160
            case .onJoin: return 255
            case .ownerKey, .hostKey: return 31
            }
        }
    }

    struct Member {
        let connection: any SessionConnection
        var prefix: [UInt8]
        /// USER's real name (empty for a registration-cookie user, as irc7 leaves it).
        var realName: [UInt8] = []
        /// Sent IRCVERS or IRCX: gets IRCX forms (WHISPER) rather than their IRC fallbacks.
        var speaksIRCX = false
    }

    struct Topic {
        var text: [UInt8]
        var setter: [UInt8]
        var time: Int64
    }

    struct Room {
        var name: [UInt8]
        /// Lower-cased nicknames in join order.
        var nicks: [[UInt8]] = []
        var levels: [[UInt8]: Level] = [:]
        var topic: Topic?
        var properties: [RoomProperty: [UInt8]] = [:]
    }

    struct State {
        /// Lower-cased nickname -> member.
        var members: [[UInt8]: Member] = [:]
        /// Lower-cased room name -> room.
        var rooms: [[UInt8]: Room] = [:]
    }

    /// This server's name in numerics; nil: the configuration's server name (a one-server sandbox, and tests).
    public let name: String?
    /// This server's index in `endpoints.json`'s `chat_servers`.
    public let index: Int
    private let state = Mutex(State())

    public init(name: String? = nil, index: Int = 0) {
        self.name = name
        self.index = index
    }

    /// Nicknames and room names compare with ASCII letters folded and every other byte as it is: MSN nicknames are
    /// UTF-8 bytes that the servers held as Latin-1 characters, so `JoséÜmlaut` and `josÉümlaut` are two names.
    public static func key(_ name: [UInt8]) -> [UInt8] {
        name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    static func nick(fromPrefix prefix: [UInt8]) -> [UInt8] {
        Array(prefix.prefix { $0 != UInt8(ascii: "!") })
    }

    // MARK: - Members

    /// Claims `nick` for `connection`; false when another connection holds it.
    func claim(nick: [UInt8], prefix: [UInt8], connection: any SessionConnection, replacing old: [UInt8]?) -> Bool {
        state.withLock { state in
            let key = Self.key(nick)
            if let holder = state.members[key], holder.connection !== connection { return false }
            var member = Member(connection: connection, prefix: prefix)
            if let old, case let oldKey = Self.key(old), oldKey != key {
                if let previous = state.members.removeValue(forKey: oldKey) {
                    member.realName = previous.realName
                    member.speaksIRCX = previous.speaksIRCX
                }
                for (roomKey, var room) in state.rooms where room.nicks.contains(oldKey) {
                    room.nicks = room.nicks.map { $0 == oldKey ? key : $0 }
                    room.levels[key] = room.levels.removeValue(forKey: oldKey)
                    state.rooms[roomKey] = room
                }
            } else if let existing = state.members[key] {
                member.realName = existing.realName
                member.speaksIRCX = existing.speaksIRCX
            }
            state.members[key] = member
            return true
        }
    }

    func updatePrefix(nick: [UInt8], prefix: [UInt8], realName: [UInt8], speaksIRCX: Bool) {
        state.withLock { state in
            let key = Self.key(nick)
            state.members[key]?.prefix = prefix
            state.members[key]?.realName = realName
            state.members[key]?.speaksIRCX = speaksIRCX
        }
    }

    func connection(nick: [UInt8]) -> (any SessionConnection)? {
        state.withLock { $0.members[Self.key(nick)]?.connection }
    }

    /// What WHOIS shows of `nick`: its prefix, real name, and its rooms with its prefix flag in each.
    func whois(nick: [UInt8]) -> (prefix: [UInt8], realName: [UInt8], rooms: [[UInt8]])? {
        state.withLock { state in
            let key = Self.key(nick)
            guard let member = state.members[key] else { return nil }
            let rooms = state.rooms.values.filter { $0.nicks.contains(key) }.sorted { $0.name.lexicographicallyPrecedes($1.name) }
                .map { ($0.levels[key] ?? .member).flag + $0.name }
            return (member.prefix, member.realName, rooms)
        }
    }

    /// Drops `nick` everywhere; returns each distinct connection that shared a room with it.
    func leave(nick: [UInt8]) -> [any SessionConnection] {
        state.withLock { state in
            let nickKey = Self.key(nick)
            var peers: [ObjectIdentifier: any SessionConnection] = [:]
            for (roomKey, var room) in state.rooms where room.nicks.contains(nickKey) {
                room.nicks.removeAll { $0 == nickKey }
                room.levels[nickKey] = nil
                for other in room.nicks { if let c = state.members[other]?.connection { peers[ObjectIdentifier(c)] = c } }
                state.rooms[roomKey] = room.nicks.isEmpty ? nil : room
            }
            state.members[nickKey] = nil
            return Array(peers.values)
        }
    }

    /// Counts for the log and tests.
    public var census: (members: Int, rooms: Int) { state.withLock { ($0.members.count, $0.rooms.count) } }

    // MARK: - Rooms

    enum JoinResult {
        /// Already a member: 927.
        case alreadyThere(name: [UInt8])
        case joined(Joined)
    }

    struct Joined {
        var name: [UInt8]
        var level: Level
        /// Every member's nickname with its flag, join order, the joiner last.
        var names: [[UInt8]]
        var others: [any SessionConnection]
        var topic: Topic?
        var onJoin: [UInt8]?
    }

    /// Joins `nick` to `room`, creating the room when it is not there (as irc7's JOIN does: the creator is its
    /// owner). A `key` equal to the room's OWNERKEY or HOSTKEY makes the joiner owner or host.
    func join(nick: [UInt8], room: [UInt8], key: [UInt8]?) -> JoinResult {
        state.withLock { state in
            let roomKey = Self.key(room), nickKey = Self.key(nick)
            var entry = state.rooms[roomKey] ?? Room(name: room)
            if entry.nicks.contains(nickKey) { return .alreadyThere(name: entry.name) }
            var level = Level.member
            if entry.nicks.isEmpty {
                level = .owner
            } else if let key, !key.isEmpty {
                if key == entry.properties[.ownerKey] { level = .owner } else if key == entry.properties[.hostKey] { level = .host }
            }
            entry.nicks.append(nickKey)
            entry.levels[nickKey] = level
            state.rooms[roomKey] = entry
            let names = entry.nicks.compactMap { key in
                state.members[key].map { (entry.levels[key] ?? .member).flag + Self.nick(fromPrefix: $0.prefix) }
            }
            let others = entry.nicks.filter { $0 != nickKey }.compactMap { state.members[$0]?.connection }
            return .joined(Joined(name: entry.name, level: level, names: names, others: others, topic: entry.topic, onJoin: entry.properties[.onJoin]))
        }
    }

    /// Removes `nick` from `room`; returns the other members' connections, or nil if `nick` was not there.
    func part(nick: [UInt8], room: [UInt8]) -> (name: [UInt8], others: [any SessionConnection])? {
        state.withLock { state in
            let roomKey = Self.key(room), nickKey = Self.key(nick)
            guard var entry = state.rooms[roomKey], entry.nicks.contains(nickKey) else { return nil }
            entry.nicks.removeAll { $0 == nickKey }
            entry.levels[nickKey] = nil
            state.rooms[roomKey] = entry.nicks.isEmpty ? nil : entry
            let others = entry.nicks.compactMap { state.members[$0]?.connection }
            return (entry.name, others)
        }
    }

    /// The connections of `room`'s members other than `nick`; nil when `nick` is not in the room.
    func audience(room: [UInt8], except nick: [UInt8]) -> (name: [UInt8], others: [any SessionConnection])? {
        state.withLock { state in
            let nickKey = Self.key(nick)
            guard let entry = state.rooms[Self.key(room)], entry.nicks.contains(nickKey) else { return nil }
            return (entry.name, entry.nicks.filter { $0 != nickKey }.compactMap { state.members[$0]?.connection })
        }
    }

    /// A room as one member sees it: nil when there is no such room; `level` nil when `nick` is not in it.
    struct View {
        var name: [UInt8]
        var level: Level?
        var names: [[UInt8]]
        var topic: Topic?
        var properties: [RoomProperty: [UInt8]]
    }

    func view(room: [UInt8], as nick: [UInt8]) -> View? {
        state.withLock { state in
            guard let entry = state.rooms[Self.key(room)] else { return nil }
            let nickKey = Self.key(nick)
            let names = entry.nicks.compactMap { key in
                state.members[key].map { (entry.levels[key] ?? .member).flag + Self.nick(fromPrefix: $0.prefix) }
            }
            return View(
                name: entry.name, level: entry.nicks.contains(nickKey) ? entry.levels[nickKey] ?? .member : nil, names: names,
                topic: entry.topic, properties: entry.properties)
        }
    }

    /// Why a change to a room was refused, in the order irc7 checks: no such room (403/924), not a member (442),
    /// not enough rights (482 host, 485 owner, 908 for PROP), no such member (401).
    enum Refusal: Error, Equatable {
        case noSuchRoom, notOnRoom, needsHost, needsOwner, noSuchMember
    }

    /// Sets `property` of `room` (TOPIC through the TOPIC command too); returns the room's name and the connections
    /// that should hear of it: every member for the texts, members at the key's own level for keys.
    func set(_ property: RoomProperty, of room: [UInt8], to value: [UInt8], by nick: [UInt8], now: Int64) throws(Refusal)
        -> (name: [UInt8], audience: [any SessionConnection])
    {
        try state.withLock { state throws(Refusal) in
            let roomKey = Self.key(room), nickKey = Self.key(nick)
            guard var entry = state.rooms[roomKey] else { throw .noSuchRoom }
            guard entry.nicks.contains(nickKey) else { throw .notOnRoom }
            let level = entry.levels[nickKey] ?? .member
            guard level >= property.writeLevel else { throw property.writeLevel == .owner ? .needsOwner : .needsHost }
            if property == .topic {
                entry.topic = value.isEmpty ? nil : Topic(text: value, setter: nick, time: now)
            }
            entry.properties[property] = value.isEmpty ? nil : value
            state.rooms[roomKey] = entry
            let audience = entry.nicks.filter { (entry.levels[$0] ?? .member) >= property.readLevel }
                .compactMap { state.members[$0]?.connection }
            return (entry.name, audience)
        }
    }

    /// Gives or takes `level` (owner, host or voice) of `target` in `room`, by `nick`, with irc7's rule: the changer
    /// needs the level the mode grants (voice and host: host; owner: owner) and at least the target's level.
    /// Returns the room's name, the target's nickname as it registered, and every member's connection.
    func change(_ level: Level, adding: Bool, of target: [UInt8], in room: [UInt8], by nick: [UInt8]) throws(Refusal)
        -> (name: [UInt8], target: [UInt8], everyone: [any SessionConnection])
    {
        try state.withLock { state throws(Refusal) in
            let roomKey = Self.key(room), nickKey = Self.key(nick), targetKey = Self.key(target)
            guard var entry = state.rooms[roomKey] else { throw .noSuchRoom }
            guard entry.nicks.contains(nickKey) else { throw .notOnRoom }
            guard entry.nicks.contains(targetKey), let member = state.members[targetKey] else { throw .noSuchMember }
            let mine = entry.levels[nickKey] ?? .member, theirs = entry.levels[targetKey] ?? .member
            let required: Level = level == .owner ? .owner : .host
            guard mine >= required, mine >= theirs else {
                throw mine != .owner && (required == .owner || theirs == .owner) ? .needsOwner : .needsHost
            }
            if adding {
                entry.levels[targetKey] = max(theirs, level)
            } else if theirs == level {
                entry.levels[targetKey] = .member
            }
            state.rooms[roomKey] = entry
            return (entry.name, Self.nick(fromPrefix: member.prefix), entry.nicks.compactMap { state.members[$0]?.connection })
        }
    }

    /// `target`'s connection if it is in `room` with `nick`, and whether it speaks IRCX (for WHISPER).
    func whisperTarget(_ target: [UInt8], in room: [UInt8], from nick: [UInt8]) throws(Refusal)
        -> (name: [UInt8], connection: any SessionConnection, speaksIRCX: Bool)
    {
        try state.withLock { state throws(Refusal) in
            guard let entry = state.rooms[Self.key(room)] else { throw .noSuchRoom }
            guard entry.nicks.contains(Self.key(nick)) else { throw .notOnRoom }
            let targetKey = Self.key(target)
            guard entry.nicks.contains(targetKey), let member = state.members[targetKey] else { throw .noSuchMember }
            return (entry.name, member.connection, member.speaksIRCX)
        }
    }
}
