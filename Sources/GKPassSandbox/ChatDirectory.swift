/// The directory role of a sandbox that runs several chat servers: which server hosts a room (`FINDS` -> `613`).
///
/// MSN Chat's directory put every room on one of many chat servers and told clients where with `613 <ip> <port>`;
/// a client that wanted two rooms often had to hold two server connections. The sandbox reproduces that spread
/// with a rule anyone can compute: a room lives on server `fnv1a32(lowercased name) mod count`, unless
/// `--room ROOM=INDEX` pins it. The name is the whole room name as bytes, prefix included (`%#TheLobby`), with
/// ASCII letters lower-cased as the servers compare names; FNV-1a is the 32-bit variant (offset basis 2166136261,
/// prime 16777619). Sans-I/O: no sockets, just the arithmetic.
public struct ChatDirectory: Sendable, Equatable {
    /// The most chat servers one sandbox runs (`--chat-servers`): enough to spread rooms, few enough to bind fast.
    public static let maximumServers = 16

    public let serverCount: Int
    /// Lower-cased room name -> server index, from `--room`.
    public let pins: [[UInt8]: Int]

    /// `serverCount` is clamped to 1...``maximumServers``; pins past the last server are ignored (the command line
    /// refuses them before this).
    public init(serverCount: Int = 1, pins: [[UInt8]: Int] = [:]) {
        let count = min(max(serverCount, 1), Self.maximumServers)
        self.serverCount = count
        var kept: [[UInt8]: Int] = [:]
        for (room, index) in pins where (0..<count).contains(index) { kept[ChatNetwork.key(room)] = index }
        self.pins = kept
    }

    /// FNV-1a, 32 bits, over `bytes`.
    public static func fnv1a32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// The index of the server that hosts `room`: its pin, else the hash of its lower-cased name mod the count.
    public func serverIndex(room: [UInt8]) -> Int {
        let key = ChatNetwork.key(room)
        if let pinned = pins[key] { return pinned }
        return Int(Self.fnv1a32(key) % UInt32(serverCount))
    }
}

/// Where one of the sandbox's chat servers listens, and the name it gives itself in numerics.
public struct ChatServerAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The prefix of its numerics (`:<name> 001 …`) and the server in WHOIS's 312.
    public var name: String

    public init(host: String, port: Int, name: String) {
        self.host = host
        self.port = port
        self.name = name
    }

    /// Server 0 keeps the configured server name (the listen address by default), so clients of a one-server
    /// sandbox see what they always saw; server N > 0 is `chatN.sandbox.test`. Only names: every server listens on
    /// the same address, and GateKeeper v3 answers hash that address (``SandboxConfiguration/serverName``) on all
    /// of them, as MSN's servers named themselves `TK2CHATWBA07` while clients hashed the IP the directory gave.
    public static func name(index: Int, serverName: String) -> String {
        index == 0 ? serverName : "chat\(index).sandbox.test"
    }
}
