import Synchronization

/// Where a session's bytes go. The NIO handler implements it; tests can implement it with an array.
public protocol ChatConnection: AnyObject, Sendable {
    func send(_ bytes: [UInt8])
    func close()
}

/// The shared state of the sandbox's IRCX network: who is connected under which nickname, and who is in which room.
/// Sessions run on their own event loops; everything shared goes through this one lock.
public final class ChatNetwork: Sendable {
    struct Member {
        let connection: any ChatConnection
        var prefix: [UInt8]
    }

    struct State {
        /// Lower-cased nickname -> member.
        var members: [String: Member] = [:]
        /// Lower-cased room name -> (display name, lower-cased nicknames in join order).
        var rooms: [String: (name: [UInt8], nicks: [String])] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    static func key(_ nick: [UInt8]) -> String {
        String(decoding: nick.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Claims `nick` for `connection`; false when another connection holds it.
    func claim(nick: [UInt8], prefix: [UInt8], connection: any ChatConnection, replacing old: [UInt8]?) -> Bool {
        state.withLock { state in
            let key = Self.key(nick)
            if let holder = state.members[key], holder.connection !== connection { return false }
            if let old, Self.key(old) != key {
                state.members[Self.key(old)] = nil
                for (roomKey, room) in state.rooms {
                    state.rooms[roomKey]!.nicks = room.nicks.map { $0 == Self.key(old) ? key : $0 }
                }
            }
            state.members[key] = Member(connection: connection, prefix: prefix)
            return true
        }
    }

    func updatePrefix(nick: [UInt8], prefix: [UInt8]) {
        state.withLock { $0.members[Self.key(nick)]?.prefix = prefix }
    }

    /// Joins `nick` to `room`; returns the room's display name and members' nicknames (nil if already there).
    func join(nick: [UInt8], room: [UInt8]) -> (name: [UInt8], members: [[UInt8]], others: [any ChatConnection])? {
        state.withLock { state in
            let roomKey = Self.key(room), nickKey = Self.key(nick)
            var entry = state.rooms[roomKey] ?? (name: room, nicks: [])
            guard !entry.nicks.contains(nickKey) else { return nil }
            entry.nicks.append(nickKey)
            state.rooms[roomKey] = entry
            let members = entry.nicks.compactMap { state.members[$0]?.prefix }.map { Self.nick(fromPrefix: $0) }
            let others = entry.nicks.filter { $0 != nickKey }.compactMap { state.members[$0]?.connection }
            return (entry.name, members, others)
        }
    }

    /// Removes `nick` from `room`; returns the other members' connections, or nil if `nick` was not there.
    func part(nick: [UInt8], room: [UInt8]) -> (name: [UInt8], others: [any ChatConnection])? {
        state.withLock { state in
            let roomKey = Self.key(room), nickKey = Self.key(nick)
            guard var entry = state.rooms[roomKey], entry.nicks.contains(nickKey) else { return nil }
            entry.nicks.removeAll { $0 == nickKey }
            state.rooms[roomKey] = entry.nicks.isEmpty ? nil : entry
            let others = entry.nicks.compactMap { state.members[$0]?.connection }
            return (entry.name, others)
        }
    }

    /// The connections of `room`'s members other than `nick`; nil when `nick` is not in the room.
    func audience(room: [UInt8], except nick: [UInt8]) -> (name: [UInt8], others: [any ChatConnection])? {
        state.withLock { state in
            let nickKey = Self.key(nick)
            guard let entry = state.rooms[Self.key(room)], entry.nicks.contains(nickKey) else { return nil }
            return (entry.name, entry.nicks.filter { $0 != nickKey }.compactMap { state.members[$0]?.connection })
        }
    }

    func connection(nick: [UInt8]) -> (any ChatConnection)? {
        state.withLock { $0.members[Self.key(nick)]?.connection }
    }

    /// Drops `nick` everywhere; returns each distinct connection that shared a room with it.
    func leave(nick: [UInt8]) -> [any ChatConnection] {
        state.withLock { state in
            let nickKey = Self.key(nick)
            var peers: [ObjectIdentifier: any ChatConnection] = [:]
            for (roomKey, var entry) in state.rooms where entry.nicks.contains(nickKey) {
                entry.nicks.removeAll { $0 == nickKey }
                for other in entry.nicks { if let c = state.members[other]?.connection { peers[ObjectIdentifier(c)] = c } }
                state.rooms[roomKey] = entry.nicks.isEmpty ? nil : entry
            }
            state.members[nickKey] = nil
            return Array(peers.values)
        }
    }

    /// Counts for the log and tests.
    public var census: (members: Int, rooms: Int) { state.withLock { ($0.members.count, $0.rooms.count) } }

    static func nick(fromPrefix prefix: [UInt8]) -> [UInt8] {
        Array(prefix.prefix { $0 != UInt8(ascii: "!") })
    }
}
