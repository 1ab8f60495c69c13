internal import FoundationEssentials
internal import Glibc
public import GateKeeper

/// A chat network gkpass logs in to (design.md §7): the built-in `sandbox`, or a `[networks.NAME]` table of
/// config.toml (see `NetworkConfig`).
public struct Network: Sendable, Equatable {
    public enum Flow: String, Sendable, CaseIterable { case tweener, web }

    /// `host:port` of an IRCX server.
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        /// `host:port`, `[v6]:port`; the port is required (1–65535).
        public init?(_ text: String) {
            let host: Substring
            let port: Substring
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                host = text[text.index(after: text.startIndex)..<close]
                let rest = text[text.index(after: close)...]
                guard rest.hasPrefix(":") else { return nil }
                port = rest.dropFirst()
            } else {
                guard let colon = text.lastIndex(of: ":") else { return nil }
                host = text[..<colon]
                port = text[text.index(after: colon)...]
                if host.contains(":") { return nil }
            }
            guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }),
                port.allSatisfy(\.isASCII), let number = Int(port), (1...65535).contains(number)
            else { return nil }
            self.init(host: String(host), port: number)
        }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var name: String
    public var flow: Flow
    /// The nexus (`/rdr/pprdr.asp`), for the Tweener flow.
    public var nexusURL: String?
    /// The web sign-in form target (`post.srf`), for the web flow.
    public var webLoginURL: String?
    public var siteID: String
    /// The chat room page the web flow returns to and the chat-site step starts from. Without one there is no
    /// chat-site step (Tweener only).
    public var chatRoomURL: String?
    /// A PEM bundle to trust instead of the system's.
    public var caFile: String?
    /// The IRCX chat server.
    public var server: Endpoint?
    /// The IRCX directory server (`FINDS` -> `613`), when the network has one.
    public var directory: Endpoint?
    public var gatekeeperVersion: GateKeeperVersion
    public var truncateHost: Bool
    public var blobLayout: PassportBlob.Layout
    /// Seconds a ticket lives when the server gives no expiry (Messenger-style servers: seconds to minutes).
    public var ticketLifetime: Int64
    /// Hosts besides the DA's own that a `da-status=redir` may send the password to (a second DA such as
    /// `loginnet.passport.com`). Lower case; compared exactly.
    public var daHosts: [String]
    /// How the Passport blob goes to the IRCX server: the OCX's slices of 480 bytes, or one line.
    public var passportSlices: PassportSlicing
    /// Hosts a directory's 613 may send us to with the ticket. Empty: the hosts of `server` and `directory` and
    /// the domains they are in (`irc.example.net` allows `*.example.net`).
    public var servers: [String] = []

    public init(
        name: String, flow: Flow, nexusURL: String? = nil, webLoginURL: String? = nil, siteID: String = Network.chatSiteID,
        chatRoomURL: String? = nil, caFile: String? = nil, server: Endpoint? = nil, directory: Endpoint? = nil,
        gatekeeperVersion: GateKeeperVersion = .v3, truncateHost: Bool = true, blobLayout: PassportBlob.Layout = .ticketProfile,
        ticketLifetime: Int64 = 86_400, daHosts: [String] = [], passportSlices: PassportSlicing = .ocx
    ) {
        self.name = name
        self.flow = flow
        self.nexusURL = nexusURL
        self.webLoginURL = webLoginURL
        self.siteID = siteID
        self.chatRoomURL = chatRoomURL
        self.caFile = caFile
        self.server = server
        self.directory = directory
        self.gatekeeperVersion = gatekeeperVersion
        self.truncateHost = truncateHost
        self.blobLayout = blobLayout
        self.ticketLifetime = ticketLifetime
        self.daHosts = daHosts
        self.passportSlices = passportSlices
    }

    /// MSN Chat's Passport site ID (protocol.md §3b).
    public static let chatSiteID = "2260"

    /// The built-in `sandbox` network: whatever `gkpass-sandbox` wrote to its `endpoints.json`, found through
    /// `$GKPASS_SANDBOX_STATE` or the sandbox's default state directory.
    public static func sandbox(environment: [String: String]) throws(GKPassError) -> Network {
        let directory: String
        if let explicit = environment["GKPASS_SANDBOX_STATE"], !explicit.isEmpty {
            directory = explicit
        } else {
            let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            directory = runtime + "/gkpass-sandbox-\(getuid())"
        }
        let path = directory + "/endpoints.json"
        // endpoints.json decides where the password goes and which CA is trusted: only the user's own will do.
        if access(path, F_OK) == 0 {
            try requireOwned(directory, what: "the sandbox state directory", directory: true)
            try requireOwned(path, what: "the sandbox's endpoints.json")
        }
        struct Endpoint: Decodable { var host: String; var port: Int }
        struct Endpoints: Decodable {
            var ca_file: String
            var nexus_url: String
            var web_login_url: String
            var chat_site_url: String
            var ircx: Endpoint
            var directory: Endpoint?
            var site_id: String?
            var blob_layout: String?
            var passport_slices: String?
            var truncate_host: Bool?
            var ticket_lifetime: Int64?
        }
        let data: Data
        do { data = try Data(contentsOf: URL(filePath: path)) } catch {
            throw GKPassError(.network, "the sandbox is not running (no \(path))", hint: "start gkpass-sandbox, or set GKPASS_SANDBOX_STATE to its state directory")
        }
        let endpoints: Endpoints
        do { endpoints = try JSONDecoder().decode(Endpoints.self, from: data) } catch {
            throw GKPassError(.failure, "\(path) is not a gkpass-sandbox endpoints file")
        }
        try requireTrustable(endpoints.ca_file, what: "the sandbox's CA file")
        return Network(
            name: "sandbox", flow: .web, nexusURL: endpoints.nexus_url, webLoginURL: endpoints.web_login_url,
            siteID: endpoints.site_id ?? chatSiteID, chatRoomURL: endpoints.chat_site_url + "?rm=TheLobby", caFile: endpoints.ca_file,
            server: .init(host: endpoints.ircx.host, port: endpoints.ircx.port),
            directory: endpoints.directory.map { .init(host: $0.host, port: $0.port) },
            truncateHost: endpoints.truncate_host ?? true,
            blobLayout: endpoints.blob_layout.flatMap(PassportBlob.Layout.init(rawValue:)) ?? .ticketProfile,
            ticketLifetime: endpoints.ticket_lifetime ?? 86_400,
            passportSlices: endpoints.passport_slices.flatMap(PassportSlicing.init(rawValue:)) ?? .ocx)
    }

    /// The network to use: the flag, else `$GKPASS_NETWORK`, else config.toml's `default_network` (design.md §7
    /// precedence), looked up among the built-in and configured networks.
    public static func resolve(flag: String?, environment: [String: String]) throws(GKPassError) -> Network {
        let config = try NetworkConfig.load(environment: environment)
        let environmentName = environment["GKPASS_NETWORK"].flatMap { $0.isEmpty ? nil : $0 }
        guard let name = flag ?? environmentName ?? config.defaultNetwork else {
            throw GKPassError(
                .usage, "choose a network with --network NAME",
                hint: config.networks.isEmpty
                    ? "the built-in network is sandbox; add your own to \(config.path)"
                    : "known: \((["sandbox"] + config.networks.map(\.name)).joined(separator: ", ")), or set default_network in \(config.path)")
        }
        return try named(name, config: config, environment: environment)
    }

    /// The network called `name`, built in or from `config`.
    public static func named(_ name: String, config: NetworkConfig, environment: [String: String]) throws(GKPassError) -> Network {
        if name == "sandbox" { return try sandbox(environment: environment) }
        if let network = config.networks.first(where: { $0.name == name }) { return network }
        let known = (["sandbox"] + config.networks.map(\.name)).joined(separator: ", ")
        throw GKPassError(.usage, "unknown network \(name)", hint: "known networks: \(known) (config: \(config.path))")
    }

    /// The network called `name`, reading config.toml from the usual place.
    public static func named(_ name: String, environment: [String: String]) throws(GKPassError) -> Network {
        try named(name, config: try NetworkConfig.load(environment: environment), environment: environment)
    }
}

extension Network {
    /// Whether a directory's `613` may send the ticket to `host`: one of `servers` when the network lists them,
    /// else the host of `server` or `directory`, or a host in the domain of a named one (its name less the first
    /// label, when two labels remain). IP literals match only themselves.
    public func allowsChatServer(_ host: String) -> Bool {
        let host = host.lowercased()
        if !servers.isEmpty { return servers.contains(host) }
        for known in [server?.host, directory?.host].compactMap({ $0?.lowercased() }) {
            if host == known { return true }
            guard !Self.isIPLiteral(known), !Self.isIPLiteral(host) else { continue }
            let labels = known.split(separator: ".")
            let domain = labels.count > 2 ? labels.dropFirst().joined(separator: ".") : known
            if host == domain || host.hasSuffix("." + domain) { return true }
        }
        return false
    }

    static func isIPLiteral(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." })
    }

    /// Refuses (exit 6) a file or directory that is not the user's own or that others can write.
    static func requireOwned(_ path: String, what: String, directory: Bool = false) throws(GKPassError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw GKPassError(.failure, "cannot read \(what) \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == (directory ? S_IFDIR : S_IFREG) else {
            throw GKPassError(.unsafe, "\(what) \(path) is not a \(directory ? "directory" : "regular file"); refusing to trust it")
        }
        guard info.st_uid == getuid() else {
            throw GKPassError(.unsafe, "\(what) \(path) belongs to uid \(info.st_uid), not you; refusing to trust it (it decides where your password goes)")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw GKPassError(.unsafe, "\(what) \(path) is writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); refusing to trust it",
                hint: "chmod go-w \(path)")
        }
    }

    /// A CA bundle gkpass will trust for a network (`ca_file`, `--cacert`): readable, a regular file (through
    /// symlinks, so the system's bundles work), owned by the user or root, and not writable by others (exit 6), like
    /// config.toml: whoever can write it can read every password sent to that network.
    public static func requireTrustable(_ path: String, what: String) throws(GKPassError) {
        var info = stat()
        guard stat(path, &info) == 0, access(path, R_OK) == 0 else {
            throw GKPassError(.usage, "\(what) \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw GKPassError(.usage, "\(what) \(path) is not a regular file") }
        guard info.st_uid == getuid() || info.st_uid == 0 else {
            throw GKPassError(.unsafe, "\(what) \(path) belongs to uid \(info.st_uid), not you or root; refusing to trust the CAs in it")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw GKPassError(.unsafe, "\(what) \(path) is writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); refusing to trust the CAs in it",
                hint: "chmod go-w \(path)")
        }
        // A mistake here (a key, a DER file, the wrong file) is the user's to fix, not a network failure.
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
            throw GKPassError(.usage, "\(what) \(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                hint: "convert a DER file with: openssl x509 -inform der -in FILE -out FILE.pem")
        }
    }

    /// `text` as a bare host name in lower case (`[v6]` without brackets), or nil when it carries a scheme, port,
    /// path, user or space: a list of hosts must not be read as anything else.
    public static func hostName(_ text: String) -> String? {
        var host = Substring(text)
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
        if bracketed { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, host.utf8.count <= 253,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") }),
            bracketed == host.contains(":")
        else { return nil }
        return host.lowercased()
    }
}
