import GateKeeper

/// Rooms, messages and the directory role, with MSNLD/irc7's and irc7-com's replies (`Raws.cs`): the lines a bridge
/// must pass through to an IRC client unchanged or translate.
extension IRCXSession {
    /// `%#Name` (MSN rooms), `#Name`, or `&Name`/`%&Name`: 1 to 200 bytes after the prefix, no space, comma or BEL.
    public static func isValidRoom(_ name: [UInt8]) -> Bool {
        let body: ArraySlice<UInt8>
        if name.starts(with: Array("%#".utf8)) || name.starts(with: Array("%&".utf8)) {
            body = name.dropFirst(2)
        } else if name.first == UInt8(ascii: "#") || name.first == UInt8(ascii: "&") {
            body = name.dropFirst()
        } else {
            return false
        }
        return (1...200).contains(body.count) && !body.contains { $0 <= 0x20 || $0 == UInt8(ascii: ",") || $0 == 0x07 }
    }

    /// Whether a target names a room rather than a nickname.
    static func isRoomName(_ target: [UInt8]) -> Bool {
        target.first == UInt8(ascii: "#") || target.first == UInt8(ascii: "&") || target.first == UInt8(ascii: "%")
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: - Directory

    /// `FINDS <room>` -> `613 <host> <port>`: the chat server the directory puts the room on (``ChatDirectory``),
    /// or `--room-server`'s. Every chat server of the sandbox answers it the same way.
    func finds(_ message: IRCXMessage) {
        guard identity != nil || registered else {
            numeric("451", "FINDS", "You have not registered")
            return
        }
        guard let room = message.parameters.first, Self.isValidRoom(room) else {
            numeric("702", "Channel not found")
            return
        }
        if let server = configuration.roomServer {
            numeric("613", "\(server.host) \(server.port)")
            return
        }
        let index = configuration.directory.serverIndex(room: room)
        if configuration.chatServers.indices.contains(index) {
            let address = configuration.chatServers[index]
            numeric("613", "\(address.host) \(address.port)")
        } else {
            numeric("613", "\(configuration.publicHost) \(configuration.ircxPort)")
        }
    }

    // MARK: - JOIN, PART, NAMES

    /// `JOIN <rooms> [key]`. A room this server does not have is created here, its first member its owner, as
    /// irc7's JOIN does (`GetChannelByName(…) ?? CreateChannel(…)`), even when the directory would put it on
    /// another server: no source says what MSN's own servers did with a JOIN for a room they did not host, and
    /// irc7 (one server) has no such notion, so the room is local and is another room than the directory's.
    /// A key equal to OWNERKEY or HOSTKEY makes the joiner owner or host. Keys are a comma list like the rooms:
    /// `JOIN %#A,%#B keyA,keyB` gives the n-th key to the n-th room (RFC 2812 §3.2.1; ozjd's IRC8.mrc [S3] rewrites
    /// every outgoing JOIN that way, with each room's saved OWNERKEY or HOSTKEY in its place, an empty one for a
    /// room without), and a single key with no comma goes to every room, as irc7's Join.cs hands its one `key` to
    /// each (MSNLD/irc7 `Irc/Commands/Join.cs` [S5]). Parameters after the key are ignored, as irc7 reads only the
    /// first two. Replies: the JOIN to every member, then
    /// (for an owner or host) the server's `MODE +q`/`+o`, 332 and 333 when there is a topic, 353/366 with
    /// prefixes, and the ONJOIN text as `:<room> PRIVMSG <room> :<text>` to the joiner alone.
    func join(_ message: IRCXMessage) {
        guard let list = message.parameters.first, let nick else {
            numeric("461", "JOIN", "Not enough parameters")
            return
        }
        let keys = Self.joinKeys(message.parameters.count > 1 ? message.parameters[1] : nil)
        for (index, room) in list.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map(Array.init).enumerated() {
            if room.isEmpty { continue }  // `JOIN %#A,,%#B`: irc7 drops empty names (RemoveEmptyEntries)
            let key = keys.count == 1 ? keys[0] : (keys.indices.contains(index) ? keys[index] : nil)
            guard Self.isValidRoom(room) else {
                numeric("403", [room, Self.bytes("No such channel")])
                continue
            }
            guard rooms.count < 10 else {
                numeric("405", [room, Self.bytes("You have joined too many channels")])
                continue
            }
            switch network.join(nick: nick, room: room, key: key) {
            case .alreadyThere(let name):
                numeric("927", [name, Self.bytes("Already in the channel.")])
            case .joined(let joined):
                rooms.append(joined.name)
                let joinLine = outbound(from: prefix, "JOIN", [joined.name])
                send(joinLine)
                for peer in joined.others { peer.send(joinLine) }
                if joined.level >= .host {
                    let mode = outbound(from: server, "MODE", [joined.name, Self.bytes(joined.level == .owner ? "+q" : "+o"), nick], trailing: false)
                    send(mode)
                    for peer in joined.others { peer.send(mode) }
                }
                if let topic = joined.topic {
                    numeric("332", [joined.name, topic.text])
                    numeric("333", [joined.name, topic.setter, Self.bytes(String(topic.time))], trailing: false)
                }
                namesReply(room: joined.name, names: joined.names)
                numeric("366", [joined.name, Self.bytes("End of /NAMES list.")])
                if let onJoin = joined.onJoin {
                    send(outbound(from: joined.name, "PRIVMSG", [joined.name, onJoin]))
                }
            }
        }
    }

    /// The keys of a JOIN, by position; an empty entry (`,key2`) is no key for that room.
    static func joinKeys(_ parameter: [UInt8]?) -> [[UInt8]?] {
        guard let parameter, !parameter.isEmpty else { return [] }
        return parameter.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { $0.isEmpty ? nil : Array($0) }
    }

    /// `PART <rooms> [:reason]`: `:<user> PART <room>`, or `… PART <room> :<reason>` when one is given, to every
    /// member including the one who leaves.
    func part(_ message: IRCXMessage) {
        guard let list = message.parameters.first, let nick else {
            numeric("461", "PART", "Not enough parameters")
            return
        }
        let reason = message.parameters.count > 1 && !message.parameters[1].isEmpty ? message.parameters[1] : nil
        for room in list.split(separator: UInt8(ascii: ",")).map(Array.init) {
            guard let left = network.part(nick: nick, room: room) else {
                numeric("442", [room, Self.bytes("You're not on that channel")])
                continue
            }
            rooms.removeAll { ChatNetwork.key($0) == ChatNetwork.key(room) }
            let partLine = reason.map { outbound(from: prefix, "PART", [left.name, $0]) } ?? outbound(from: prefix, "PART", [left.name], trailing: false)
            send(partLine)
            for peer in left.others { peer.send(partLine) }
        }
    }

    /// The longest 353 line sent, CRLF included: RFC 1459's 512, which every IRC client reads.
    static let maximumNamesLine = 512

    /// `:srv 353 <nick> = <room> :<names>` in as many lines as it takes to keep each within
    /// ``maximumNamesLine``, as irc7-com/irc7's later `Irc/Commands/Names.cs` batches its 353s to the server's
    /// message length. One line for a room of 200 would be 2 KB, longer than the 1,024 bytes IRCX servers read and
    /// than what a bridge relaying it to an IRC client may pass on.
    func namesReply(room: [UInt8], names: [[UInt8]]) {
        let fixed = 1 + server.count + 5 + nickOrStar.count + 3 + room.count + 2 + 2  // ":srv 353 nick = room :" + CRLF
        let room = room
        var batch: [[UInt8]] = [], length = 0
        for name in names {
            let added = (batch.isEmpty ? 0 : 1) + name.count
            if !batch.isEmpty && fixed + length + added > Self.maximumNamesLine {
                numeric("353", [Self.bytes("="), room, Array(batch.joined(separator: [0x20]))])
                batch = []
                length = 0
            }
            length += (batch.isEmpty ? 0 : 1) + name.count
            batch.append(name)
        }
        if !batch.isEmpty { numeric("353", [Self.bytes("="), room, Array(batch.joined(separator: [0x20]))]) }
    }

    /// `NAMES <rooms>`: 353 with every member's prefix (`.` owner, `@` host, `+` voice) and 366; 403 for a room
    /// this server does not have (irc7's Names.cs).
    func names(_ message: IRCXMessage) {
        guard let list = message.parameters.first else {
            numeric("366", [Self.bytes("*"), Self.bytes("End of /NAMES list.")])
            return
        }
        for room in list.split(separator: UInt8(ascii: ",")).map(Array.init) {
            guard let view = network.view(room: room, as: nick ?? []) else {
                numeric("403", [room, Self.bytes("No such channel")])
                continue
            }
            namesReply(room: view.name, names: view.names)
            numeric("366", [view.name, Self.bytes("End of /NAMES list.")])
        }
    }

    // MARK: - Messages

    func deliver(_ message: IRCXMessage) {
        guard message.parameters.count >= 2, let nick else {
            numeric("411", "No recipient given")
            return
        }
        let target = message.parameters[0]
        let outgoing = outbound(from: prefix, message.commandName, [target, message.parameters[1]])
        if Self.isRoomName(target) {
            guard let audience = network.audience(room: target, except: nick) else {
                numeric("404", [target, Self.bytes("Cannot send to channel")])
                return
            }
            for peer in audience.others { peer.send(outgoing) }
        } else if let peer = network.connection(nick: target) {
            peer.send(outgoing)
        } else {
            numeric("401", [target, Self.bytes("No such nick/channel")])
        }
    }

    /// `WHISPER <room> <nick> :<text>` (IRCX, irc7's Whisper.cs): to that member alone, as
    /// `:<user> WHISPER <room> <nick> :<text>`, or as a private PRIVMSG when the member never said IRCVERS/IRCX.
    /// 411 without a target, 412 without text, 403 no such room, 442 not in it, 401 no such member.
    func whisper(_ message: IRCXMessage) {
        guard let nick else { return }
        guard message.parameters.count >= 2 else { numeric("411", "No recipient given (WHISPER)"); return }
        guard message.parameters.count >= 3 else { numeric("412", "No text to send (WHISPER)"); return }
        let room = message.parameters[0], target = message.parameters[1], text = message.parameters[2]
        do {
            let found = try network.whisperTarget(target, in: room, from: nick)
            found.connection.send(
                found.speaksIRCX ? outbound(from: prefix, "WHISPER", [found.name, target, text]) : outbound(from: prefix, "PRIVMSG", [target, text]))
        } catch {
            refuse(error, room: room, member: target)
        }
    }

    /// Sends the numeric for a refused room change (irc7's `ProcessChannelError` wording).
    func refuse(_ refusal: ChatNetwork.Refusal, room: [UInt8], member: [UInt8] = []) {
        switch refusal {
        case .noSuchRoom: numeric("403", [room, Self.bytes("No such channel")])
        case .notOnRoom: numeric("442", [room, Self.bytes("You're not on that channel")])
        case .needsHost: numeric("482", [room, Self.bytes("You're not channel operator")])
        case .needsOwner: numeric("485", [room, Self.bytes("You're not channel owner")])
        case .noSuchMember: numeric("401", [member, Self.bytes("No such nick/channel")])
        }
    }

    // MARK: - WHOIS

    /// `WHOIS <nick>`: 311 (`<nick> <user> <host> * :<real name>`, where user@host is `GUID@GateKeeper` for guests
    /// and `PUID@GateKeeperPassport` for Passport members), 319 with its rooms on this server and its prefix in
    /// each, 312 (this server), 318. An unknown nick gets 401 then 318.
    func whois(_ message: IRCXMessage) {
        guard let wanted = message.parameters.last, !wanted.isEmpty else {
            numeric("431", "No nickname given")
            return
        }
        for target in wanted.split(separator: UInt8(ascii: ",")).map(Array.init) {
            guard let found = network.whois(nick: target) else {
                numeric("401", [target, Self.bytes("No such nick/channel")])
                numeric("318", [target, Self.bytes("End of /WHOIS list")])
                continue
            }
            let name = ChatNetwork.nick(fromPrefix: found.prefix)
            let address = found.prefix.drop { $0 != UInt8(ascii: "!") }.dropFirst()
            let user = Array(address.prefix { $0 != UInt8(ascii: "@") })
            let host = Array(address.drop { $0 != UInt8(ascii: "@") }.dropFirst())
            numeric("311", [name, user, host, Self.bytes("*"), found.realName])
            if !found.rooms.isEmpty { numeric("319", [name, Array(found.rooms.joined(separator: [0x20]))]) }
            numeric("312", [name, server, Self.bytes("gkpass sandbox chat server \(network.index)")])
            numeric("318", [name, Self.bytes("End of /WHOIS list")])
        }
    }

    // MARK: - TOPIC

    /// `TOPIC <room>` asks (332 and 333, or 331); `TOPIC <room> :<text>` sets it, hosts and owners only (482),
    /// and every member sees `:<user> TOPIC <room> :<text>`. The same value as `PROP <room> TOPIC`.
    func topic(_ message: IRCXMessage, now: Int64) {
        guard let room = message.parameters.first, let nick else {
            numeric("461", "TOPIC", "Not enough parameters")
            return
        }
        guard message.parameters.count >= 2 else {
            guard let view = network.view(room: room, as: nick) else {
                numeric("403", [room, Self.bytes("No such channel")])
                return
            }
            if let topic = view.topic {
                numeric("332", [view.name, topic.text])
                numeric("333", [view.name, topic.setter, Self.bytes(String(topic.time))], trailing: false)
            } else {
                numeric("331", [view.name, Self.bytes("No topic is set")])
            }
            return
        }
        let text = message.parameters[1]
        guard text.count <= ChatNetwork.RoomProperty.topic.maximumLength else {
            numeric("906", [Self.bytes("TOPIC"), Self.bytes("Bad value specified")])
            return
        }
        do {
            let changed = try network.set(.topic, of: room, to: text, by: nick, now: now)
            let topicLine = outbound(from: prefix, "TOPIC", [changed.name, text])
            for peer in changed.audience { peer.send(topicLine) }
        } catch {
            refuse(error, room: room)
        }
    }

    // MARK: - PROP on rooms

    /// `PROP <room> <name|*>` reads, `PROP <room> <name> :<value>` sets (an empty value clears). Properties:
    /// TOPIC and ONJOIN (members read, hosts set), HOSTKEY (hosts read, owners set), OWNERKEY (owners read and
    /// set). A read answers 818 per non-empty value and 819; a set goes to the members who may read it as
    /// `:<user> PROP <room> <name> :<value>`. 908 for a property this member may not read or set (irc7-com
    /// answers a refused set with 913; the IRCX draft's IRCERR_SECURITY is 908, and the bridge needs only one),
    /// 905 for an unknown property, 906 for a value too long, 924 for a room this server does not have, 442 for
    /// a set by a non-member.
    func roomProp(_ message: IRCXMessage, now: Int64) {
        guard message.parameters.count >= 2, let nick else {
            numeric("461", "PROP", "Not enough parameters")
            return
        }
        let room = message.parameters[0], name = message.parameters[1]
        let nameText = String(decoding: name, as: UTF8.self).uppercased()
        guard let view = network.view(room: room, as: nick) else {
            numeric("924", [room, Self.bytes("No such object found")])
            return
        }
        if message.parameters.count >= 3 {
            guard let property = ChatNetwork.RoomProperty(rawValue: nameText) else {
                numeric("905", [view.name, Self.bytes("Bad property specified")])
                return
            }
            let value = message.parameters[2]
            guard value.count <= property.maximumLength, property == .topic || property == .onJoin || !value.contains(0x20) else {
                numeric("906", [Self.bytes(property.rawValue), Self.bytes("Bad value specified")])
                return
            }
            do {
                let changed = try network.set(property, of: room, to: value, by: nick, now: now)
                let propLine = outbound(from: prefix, "PROP", [changed.name, Self.bytes(property.rawValue), value])
                for peer in changed.audience { peer.send(propLine) }
            } catch .notOnRoom {
                refuse(.notOnRoom, room: view.name)
            } catch {
                numeric("908", "No permissions to perform command")
            }
            return
        }
        let wanted: [ChatNetwork.RoomProperty]
        if nameText == "*" {
            wanted = ChatNetwork.RoomProperty.allCases
        } else if let property = ChatNetwork.RoomProperty(rawValue: nameText) {
            wanted = [property]
        } else {
            numeric("905", [view.name, Self.bytes("Bad property specified")])
            return
        }
        let level = view.level
        // Members read what their level allows; others see no values at all, only the 819 (irc7-com's getter).
        let readable = level.map { level in wanted.filter { level >= $0.readLevel } } ?? []
        if wanted.count == 1 && readable.isEmpty && level != nil {
            numeric("908", "No permissions to perform command")
            return
        }
        for property in readable {
            let value = property == .topic ? view.topic?.text : view.properties[property]
            if let value, !value.isEmpty { numeric("818", [view.name, Self.bytes(property.rawValue), value]) }
        }
        numeric("819", [view.name, Self.bytes("End of properties")])
    }

    // MARK: - MODE

    /// `MODE <room>` answers 324; `MODE <room> b` 368 (no bans); `MODE <room> ±q|±o|±v <nick>…` changes member
    /// levels with irc7's checks (482 host needed, 485 owner needed, 401 no such member, 442 not a member) and
    /// tells every member `:<user> MODE <room> +o <nick>`. Other mode letters get 472. A nickname gets 221.
    func mode(_ message: IRCXMessage) {
        guard let target = message.parameters.first, let nick else { numeric("461", "MODE", "Not enough parameters"); return }
        guard Self.isRoomName(target) else {
            numeric("221", "+")
            return
        }
        guard let view = network.view(room: target, as: nick) else {
            numeric("403", [target, Self.bytes("No such channel")])
            return
        }
        guard message.parameters.count >= 2 else {
            numeric("324", [view.name, Self.bytes("+nt")], trailing: false)
            return
        }
        var adding = true
        var arguments = message.parameters.dropFirst(2)
        for letter in message.parameters[1] {
            switch letter {
            case UInt8(ascii: "+"): adding = true
            case UInt8(ascii: "-"): adding = false
            case UInt8(ascii: "b") where message.parameters.count == 2:
                numeric("368", [view.name, Self.bytes("End of Channel Ban List")])
            case UInt8(ascii: "q"), UInt8(ascii: "o"), UInt8(ascii: "v"):
                let level: ChatNetwork.Level = letter == UInt8(ascii: "q") ? .owner : letter == UInt8(ascii: "o") ? .host : .voice
                guard let member = arguments.popFirst() else {
                    numeric("461", "MODE", "Not enough parameters")
                    return
                }
                do {
                    let changed = try network.change(level, adding: adding, of: member, in: target, by: nick)
                    let modeLine = outbound(
                        from: prefix, "MODE", [changed.name, [adding ? UInt8(ascii: "+") : UInt8(ascii: "-"), letter], changed.target],
                        trailing: false)
                    for peer in changed.everyone { peer.send(modeLine) }
                } catch {
                    refuse(error, room: view.name, member: member)
                    return
                }
            default:
                numeric("472", [[letter], Self.bytes("is unknown mode char to me")])
            }
        }
    }
}
