internal import FoundationEssentials
internal import Glibc
public import GateKeeper

/// A chat network gkpass logs in to (design.md §7). Today only the built-in `sandbox` network exists; the
/// config file (`config.toml`) arrives with the rest of issue 4.
public struct Network: Sendable {
    public enum Flow: String, Sendable { case tweener, web }

    public var name: String
    public var flow: Flow
    /// The nexus (`/rdr/pprdr.asp`), for the Tweener flow.
    public var nexusURL: String?
    /// The web sign-in form target (`post.srf`), for the web flow.
    public var webLoginURL: String?
    public var siteID: String
    /// The chat room page the web flow returns to and the chat-site step starts from.
    public var chatRoomURL: String?
    /// A PEM bundle to trust instead of the system's.
    public var caFile: String?
    public var ircxHost: String
    public var ircxPort: Int
    public var truncateHost: Bool
    public var blobLayout: PassportBlob.Layout
    /// Seconds a ticket lives when the server gives no expiry.
    public var ticketLifetime: Int64

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
        struct Endpoint: Decodable { var host: String; var port: Int }
        struct Endpoints: Decodable {
            var ca_file: String
            var nexus_url: String
            var web_login_url: String
            var chat_site_url: String
            var ircx: Endpoint
            var site_id: String?
            var blob_layout: String?
            var truncate_host: Bool?
            var ticket_lifetime: Int64?
        }
        let data: Data
        do { data = try Data(contentsOf: URL(filePath: path)) } catch {
            throw GKPassError(.network, "the sandbox is not running (no \(path))", hint: "start it: gkpass-sandbox (or set GKPASS_SANDBOX_STATE)")
        }
        let endpoints: Endpoints
        do { endpoints = try JSONDecoder().decode(Endpoints.self, from: data) } catch {
            throw GKPassError(.failure, "\(path) is not a gkpass-sandbox endpoints file")
        }
        return Network(
            name: "sandbox", flow: .web, nexusURL: endpoints.nexus_url, webLoginURL: endpoints.web_login_url,
            siteID: endpoints.site_id ?? "2260", chatRoomURL: endpoints.chat_site_url + "?rm=TheLobby", caFile: endpoints.ca_file,
            ircxHost: endpoints.ircx.host, ircxPort: endpoints.ircx.port, truncateHost: endpoints.truncate_host ?? true,
            blobLayout: endpoints.blob_layout.flatMap(PassportBlob.Layout.init(rawValue:)) ?? .ticketProfile,
            ticketLifetime: endpoints.ticket_lifetime ?? 86_400)
    }

    /// The network called `name`.
    public static func named(_ name: String, environment: [String: String]) throws(GKPassError) -> Network {
        switch name {
        case "sandbox": return try sandbox(environment: environment)
        default:
            throw GKPassError(.usage, "unknown network \(name)", hint: "the built-in network is sandbox; config.toml networks are not supported yet")
        }
    }
}
