internal import Glibc
import GateKeeper
internal import TicketStore

/// `${XDG_CONFIG_HOME:-~/.config}/gkpass/config.toml` (or `$GKPASS_CONFIG`): the networks a user has besides the
/// built-in `sandbox` (design.md §7). Every unknown key and bad value is reported as `PATH:LINE: what is wrong`,
/// exit 2; nothing in it is guessed.
///
/// ```toml
/// default_network = "revival"
///
/// [networks.revival]
/// flow = "web"                                  # or "tweener"
/// login_url = "https://login.example.net/ppsecure/post.srf"
/// chat_room_url = "https://chat.example.net/chatroom.msnw?rm=TheLobby"
/// server = "irc.example.net:6667"
/// ```
public struct NetworkConfig: Sendable, Equatable {
    /// Where the config was (or would be) read from.
    public var path: String
    public var defaultNetwork: String?
    /// In file order.
    public var networks: [Network]

    public init(path: String, defaultNetwork: String? = nil, networks: [Network] = []) {
        self.path = path
        self.defaultNetwork = defaultNetwork
        self.networks = networks
    }

    /// Config files larger than this are refused: a config is a few hundred bytes per network.
    static let maximumSize = 1 << 20

    static let networkKeys: [String] = [
        "flow", "nexus_url", "login_url", "site_id", "chat_room_url", "ca_file", "server", "directory",
        "gatekeeper_version", "truncate_host", "blob_layout", "ticket_lifetime",
        "da_hosts", "passport_slices", "servers",
    ]

    /// `$GKPASS_CONFIG`, else `$XDG_CONFIG_HOME/gkpass/config.toml`, else `~/.config/gkpass/config.toml`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let explicit = environment["GKPASS_CONFIG"], !explicit.isEmpty { return explicit }
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return config + "/gkpass/config.toml" }
        return home(environment) + "/.config/gkpass/config.toml"
    }

    static func home(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// Reads and checks the config; no file is an empty config. A config others can write is refused (exit 6): it
    /// decides which servers receive the password and which CA is trusted.
    public static func load(environment: [String: String]) throws(GKPassError) -> NetworkConfig {
        let path = defaultPath(environment: environment)
        // O_NONBLOCK: a FIFO at the config path must be refused below, not waited on forever here.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { return NetworkConfig(path: path) }
            throw GKPassError(.failure, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        guard info.st_mode & S_IFMT == S_IFREG else { throw GKPassError(.usage, "\(path) is not a regular file") }
        try requireSafeParents(of: path)
        guard info.st_uid == getuid() || info.st_uid == 0 else {
            throw GKPassError(.unsafe, "\(path) belongs to uid \(info.st_uid), not you; refusing to read networks from it")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw GKPassError(
                .unsafe, "\(path) is writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); it decides where your password goes",
                hint: "chmod go-w \(path)")
        }
        guard Int(info.st_size) <= maximumSize else { throw GKPassError(.usage, "\(path) is larger than any gkpass config") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return try parse(String(decoding: bytes[..<offset], as: UTF8.self), path: path, baseDirectory: directory, home: home(environment))
    }

    /// The config's directory and the one above it (`…/gkpass` and `$XDG_CONFIG_HOME`) must be controlled by the
    /// user or root alone: whoever can swap the file through them decides where the password goes. A symlink is
    /// followed only when it, too, is the user's or root's. Exit 6 otherwise.
    static func requireSafeParents(of path: String) throws(GKPassError) {
        var directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        if directory.isEmpty { directory = "/" }
        for _ in 0..<2 {
            do { try FileStore.checkControlled(directory, above: path) } catch { throw GKPassError(store: error) }
            guard directory != "/", let slash = directory.lastIndex(of: "/") else { return }
            directory = slash == directory.startIndex ? "/" : String(directory[..<slash])
        }
    }

    /// Parses config text. Pure: `baseDirectory` and `home` resolve relative and `~/` CA paths.
    public static func parse(_ text: String, path: String, baseDirectory: String = ".", home: String = "/") throws(GKPassError) -> NetworkConfig {
        let table: TOMLTable
        do { table = try TOMLReader.parse(Array(text.utf8)) } catch {
            throw GKPassError(.usage, "\(path):\(error.line): \(error.message)")
        }
        func fail(_ line: Int, _ message: String) -> GKPassError { GKPassError(.usage, "\(path):\(line): \(message)") }
        var config = NetworkConfig(path: path)
        for key in table.keys {
            let entry = table[key]!
            switch (key, entry.value) {
            case ("default_network", .string(let name)):
                config.defaultNetwork = name
            case ("default_network", _):
                throw fail(entry.line, "default_network must be a string (a network name)")
            case ("networks", .table(let networks)):
                for name in networks.keys {
                    let network = networks[name]!
                    guard case .table(let body) = network.value else { throw fail(network.line, "networks.\(name) must be a table: [networks.\(name)]") }
                    config.networks.append(try self.network(name, body, fail: fail, baseDirectory: baseDirectory, home: home))
                }
            case ("networks", _):
                throw fail(entry.line, "networks must be a table: [networks.NAME]")
            default:
                throw fail(entry.line, "unknown key \(key) (known: default_network, [networks.NAME])")
            }
        }
        if let name = config.defaultNetwork, name != "sandbox", !config.networks.contains(where: { $0.name == name }) {
            throw fail(table["default_network"]!.line, "default_network \(name) is not a network here (known: \((["sandbox"] + config.networks.map(\.name)).joined(separator: ", ")))")
        }
        return config
    }

    static func network(
        _ name: String, _ body: TOMLTable, fail: (Int, String) -> GKPassError, baseDirectory: String, home: String
    ) throws(GKPassError) -> Network {
        let label = "networks.\(name)"
        let header = body.line
        func line(_ key: String) -> Int { body[key]?.line ?? header }
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 < 0x80 && ($0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)) }) else {
            throw fail(header, "network name \(name) may only use letters, digits, - and _")
        }
        if name == "sandbox" { throw fail(header, "sandbox is built in (it follows gkpass-sandbox's endpoints.json); pick another name") }
        for key in body.keys where !networkKeys.contains(key) {
            throw fail(line(key), "unknown key \(key) in [\(label)] (known: \(networkKeys.joined(separator: ", ")))")
        }
        func string(_ key: String) throws(GKPassError) -> String? {
            guard let value = body[key]?.value else { return nil }
            guard case .string(let text) = value, !text.isEmpty else { throw fail(line(key), "\(label).\(key) must be a non-empty string") }
            return text
        }
        func url(_ key: String) throws(GKPassError) -> String? {
            guard let text = try string(key) else { return nil }
            guard text.lowercased().hasPrefix("https://"), text.count > 8, !text.contains(where: { $0 == " " || $0.isNewline }) else {
                throw fail(line(key), "\(label).\(key) must be an https:// URL (gkpass never sends Passport credentials or tickets in clear)")
            }
            return text
        }
        func endpoint(_ key: String) throws(GKPassError) -> Network.Endpoint? {
            guard let text = try string(key) else { return nil }
            guard let endpoint = Network.Endpoint(text) else { throw fail(line(key), "\(label).\(key) must be HOST:PORT, not \(text)") }
            return endpoint
        }

        guard let flowText = try string("flow") else { throw fail(header, "[\(label)] needs flow = \"tweener\" or \"web\"") }
        guard let flow = Network.Flow(rawValue: flowText) else { throw fail(line("flow"), "\(label).flow must be \"tweener\" or \"web\", not \"\(flowText)\"") }
        var network = Network(name: name, flow: flow)
        network.nexusURL = try url("nexus_url")
        network.webLoginURL = try url("login_url")
        network.chatRoomURL = try url("chat_room_url")
        switch flow {
        case .tweener where network.nexusURL == nil:
            throw fail(header, "[\(label)] uses the tweener flow and needs nexus_url (the https URL of /rdr/pprdr.asp)")
        case .web where network.webLoginURL == nil || network.chatRoomURL == nil:
            throw fail(header, "[\(label)] uses the web flow and needs login_url (post.srf) and chat_room_url (where the sign-in returns)")
        default: break
        }
        if let value = body["site_id"]?.value {
            if case .integer(let number) = value, number >= 0 { network.siteID = String(number) }
            else if case .string(let text) = value, !text.isEmpty, text.allSatisfy(\.isNumber) { network.siteID = text }
            else { throw fail(line("site_id"), "\(label).site_id must be a number such as 2260") }
        }
        if let file = try string("ca_file") {
            let resolved = file.hasPrefix("/") ? file : file.hasPrefix("~/") ? home + file.dropFirst() : baseDirectory + "/" + file
            guard access(resolved, R_OK) == 0 else {
                throw fail(line("ca_file"), "\(label).ca_file \(resolved) cannot be read: \(String(cString: strerror(errno)))")
            }
            try Network.requireTrustable(resolved, what: "\(label).ca_file")
            network.caFile = resolved
        }
        network.server = try endpoint("server")
        network.directory = try endpoint("directory")
        if let value = body["gatekeeper_version"]?.value {
            guard case .integer(let number) = value, let version = GateKeeperVersion(rawValue: UInt32(clamping: max(0, number))) else {
                throw fail(line("gatekeeper_version"), "\(label).gatekeeper_version must be 1, 2 or 3")
            }
            network.gatekeeperVersion = version
        }
        if let value = body["truncate_host"]?.value {
            guard case .boolean(let flag) = value else { throw fail(line("truncate_host"), "\(label).truncate_host must be true or false") }
            network.truncateHost = flag
        }
        if let text = try string("blob_layout") {
            guard let layout = PassportBlob.Layout(rawValue: text) else {
                throw fail(line("blob_layout"), "\(label).blob_layout must be \"ticket-profile\" or \"profile-nickname\"")
            }
            network.blobLayout = layout
        }
        if let value = body["ticket_lifetime"]?.value {
            let seconds: Int64?
            switch value {
            case .integer(let number): seconds = number
            case .string(let text): seconds = DurationText(text)?.seconds
            default: seconds = nil
            }
            guard let seconds, seconds > 0, seconds <= 10 * 365 * 86_400 else {
                throw fail(line("ticket_lifetime"), "\(label).ticket_lifetime must be seconds or a duration such as \"24h\"")
            }
            network.ticketLifetime = seconds
        }
        if let value = body["da_hosts"]?.value {
            guard case .array(let items) = value else {
                throw fail(line("da_hosts"), "\(label).da_hosts must be a list of host names, such as [\"loginnet.passport.com\"]")
            }
            for item in items {
                guard case .string(let host) = item, let normalized = Network.hostName(host) else {
                    throw fail(line("da_hosts"), "\(label).da_hosts holds something that is not a host name (no scheme, port or path)")
                }
                network.daHosts.append(normalized)
            }
        }
        if let value = body["servers"]?.value {
            guard case .array(let items) = value, !items.isEmpty else {
                throw fail(line("servers"), "\(label).servers must be a non-empty list of host names, such as [\"irc1.example.net\", \"irc2.example.net\"]")
            }
            for item in items {
                guard case .string(let host) = item, let normalized = Network.hostName(host) else {
                    throw fail(line("servers"), "\(label).servers holds something that is not a host name (no port, scheme or path)")
                }
                network.servers.append(normalized)
            }
        }
        if let text = try string("passport_slices") {
            guard let slicing = PassportSlicing(rawValue: text) else {
                throw fail(line("passport_slices"), "\(label).passport_slices must be \"ocx\" or \"one-line\"")
            }
            network.passportSlices = slicing
        }
        return network
    }
}
