internal import Glibc
import Passport
import TicketStore
internal import GKText

/// `gkpass doctor`: every piece gkpass depends on, checked, with the fix for each that fails.
public struct Doctor {
    public struct Check: Sendable, Equatable, Encodable {
        public enum Status: String, Sendable { case ok, warning, failed }
        public var name: String
        public var status: Status
        public var detail: String
        public var fix: String?
        /// For a failed check, the exit code of design.md §4 that the same problem gives the commands that meet it
        /// (a missing libcurl 7, someone else's bus or a missing libsecret 5, a loose store 6, ...); `gkpass doctor`
        /// exits with the first failed check's (`exitCode(_:)`). Not part of the JSON output.
        public var code: GKPassError.ExitCode

        enum CodingKeys: String, CodingKey { case name, status, detail, fix }

        /// `{name, status, detail, fix}`, `fix` null when there is none.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(status.rawValue, forKey: .status)
            try container.encode(detail, forKey: .detail)
            try container.encode(fix, forKey: .fix)
        }

        public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil, code: GKPassError.ExitCode = .failure) {
            self.name = name
            self.status = status
            self.detail = detail
            self.fix = fix
            self.code = code
        }
    }

    /// `gkpass doctor`'s exit status: 0 when no check failed (warnings allowed), else the code of the first failed
    /// check in the order printed, so a script learns the class of the first problem as the failing command would
    /// have told it.
    public static func exitCode(_ checks: [Check]) -> GKPassError.ExitCode {
        checks.first { $0.status == .failed }?.code ?? .success
    }

    /// `gkpass doctor --json`: one JSON array of the checks and a newline.
    public static func json(_ checks: [Check]) throws(GKPassError) -> String { try JSONOutput.line(checks) }

    public var environment: [String: String]
    /// Seconds of clock difference with a server before it is worth a warning.
    public static let skewTolerance: Int64 = 300

    public init(environment: [String: String]) { self.environment = environment }

    public func run(now: Int64, probeTimeout: Int = 10) -> [Check] {
        var checks: [Check] = []
        let ladder = StoreLadder(environment: environment)

        // libcurl, which login, refresh and the network checks below load on first use: reported on its own, so that
        // a missing one is named even when there is no network to probe.
        do {
            try HTTPClient.loadLibrary()
            checks.append(Check("libcurl", .ok, "libcurl.so.4 loads"))
        } catch {
            checks.append(Check("libcurl", .failed, error.message, fix: error.hint, code: .network))
        }

        // The session bus (whose it is, before anything is sent to it) and the Secret Service.
        if let address = SessionBus.address(environment: environment) {
            let source = (environment["DBUS_SESSION_BUS_ADDRESS"]?.isEmpty ?? true) ? "found in $XDG_RUNTIME_DIR" : "from DBUS_SESSION_BUS_ADDRESS"
            do {
                _ = try SessionBus.trusted(address)
                checks.append(Check("session bus", .ok, "\(address) (\(source)), run by you"))
                checks += secretService()
            } catch {
                // Someone else's bus is a failure: gkpass refuses it (exit 5). A bus that is not there is a warning,
                // as with no bus at all: tickets go to the file store.
                checks.append(Check("session bus", error.kind == .untrusted ? .failed : .warning, "\(address) (\(source)): \(error.message)", fix: error.hint,
                    code: .keyringUnavailable))
            }
        } else {
            checks.append(Check("session bus", .warning, "none (no DBUS_SESSION_BUS_ADDRESS, and no socket of yours at \(environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 + "/bus" } ?? "/run/user/\(getuid())/bus (XDG_RUNTIME_DIR is unset)")); tickets go to the file store",
                fix: "on a desktop, log in to the graphical session; on a server the file store is the right place"))
        }

        // The file store.
        let root = ladder.fileStore.root
        var info = stat()
        if lstat(root, &info) != 0 {
            checks.append(Check("file store", .ok, "\(root) (not created yet; made 0700 on first use)"))
        } else if info.st_mode & S_IFMT != S_IFDIR || info.st_uid != getuid() || info.st_mode & 0o077 != 0 {
            checks.append(Check("file store", .failed, "\(root) is mode \(String(info.st_mode & 0o777, radix: 8)), uid \(info.st_uid); gkpass refuses it",
                fix: "chmod 700 \(root) (and chown it to yourself)", code: .unsafe))
        } else {
            do {
                let items = try ladder.fileStore.list()
                checks.append(Check("file store", .ok, "\(root) (0700, \(items.count) item\(items.count == 1 ? "" : "s"))"))
            } catch {
                checks.append(Check("file store", .failed, error.message, fix: error.hint, code: GKPassError(store: error).exitCode))
            }
        }

        // The config and each network.
        var networks: [Network] = []
        do {
            let config = try NetworkConfig.load(environment: environment)
            var exists = stat()
            let present = stat(config.path, &exists) == 0
            checks.append(Check("config", .ok, present ? "\(config.path) (\(config.networks.count) network\(config.networks.count == 1 ? "" : "s"))" : "\(config.path) (none; only the built-in sandbox network)"))
            networks = config.networks
        } catch {
            checks.append(Check("config", .failed, error.message, fix: error.hint ?? "fix the file and line named above", code: error.exitCode))
        }
        if let sandbox = try? Network.sandbox(environment: environment) { networks.insert(sandbox, at: 0) }
        for network in networks { checks.append(probe(network, now: now, timeout: probeTimeout)) }

        // Each account.
        do {
            let accounts = try AccountSummary.all(ladder: ladder, now: now)
            if accounts.isEmpty { checks.append(Check("accounts", .ok, "none logged in")) }
            for account in accounts {
                let remaining = account.remaining ?? 0
                if remaining <= 0 {
                    checks.append(Check("account \(account.account)", .warning, "ticket expired (\(account.network), \(account.store.rawValue) store)",
                        fix: account.remembersPassword ? "gkpass refresh \(account.account)" : "gkpass login \(account.account)"))
                } else {
                    checks.append(Check("account \(account.account)", .ok,
                        "valid for \(AccountSummary.describe(remaining: remaining)) (\(account.network), \(account.store.rawValue) store\(account.remembersPassword ? ", password remembered" : ""))"))
                }
            }
        } catch {
            checks.append(Check("accounts", .failed, error.message, fix: error.hint, code: error.exitCode))
        }
        return checks
    }

    /// A provider on the (checked) bus, and whether its default collection is unlocked.
    func secretService() -> [Check] {
        // libsecret first: without it a keyring command exits 5 on a machine whose keyring is there.
        do throws(StoreError) {
            try SecretServiceStore.loadLibrary()
        } catch {
            return [Check("libsecret", .failed, error.message, fix: error.hint, code: .keyringUnavailable)]
        }
        do {
            let store = try SecretServiceStore(environment: environment, deadline: 5)
            try store.connect()
            var checks = [Check("libsecret", .ok, "libsecret-1.so.0 loads"), Check("secret service", .ok, "a provider answers on the bus")]
            do {
                try store.ensureUnlocked()
                checks.append(Check("default keyring", .ok, "unlocked"))
            } catch {
                checks.append(Check("default keyring", error.kind == .locked ? .warning : .failed, error.message, fix: error.hint))
            }
            return checks
        } catch {
            return [Check("libsecret", .ok, "libsecret-1.so.0 loads"), Check("secret service", .warning, error.message + "; tickets go to the file store", fix: error.hint)]
        }
    }

    /// One HTTPS request to the network's Passport entry point: reachable, TLS trusted, and the server's clock.
    func probe(_ network: Network, now: Int64, timeout: Int) -> Check {
        let name = "network \(network.name)"
        guard let target = (network.flow == .tweener ? network.nexusURL : network.webLoginURL) ?? network.chatRoomURL,
            let url = PassportURL(target)
        else { return Check(name, .failed, "no Passport URL to reach", fix: "set nexus_url or login_url in its config", code: .usage) }
        do {
            let client = try HTTPClient(options: .init(caFile: network.caFile, connectTimeout: min(timeout, 10), totalTimeout: timeout, userAgent: "gkpass/\(GKPassVersion.string) doctor"))
            let response = try client.send(HTTPRequest(url: url))
            var detail = "\(url.host):\(url.port) reachable, TLS trusted (HTTP \(response.status))"
            if let date = response.header("Date").flatMap(HTTPDate.parse) {
                let skew = date - now
                if abs(skew) > Self.skewTolerance {
                    return Check(name, .warning, detail + "; the server's clock is \(abs(skew)) s \(skew > 0 ? "ahead of" : "behind") this machine's",
                        fix: "fix the clock (timedatectl set-ntp true): tickets look expired or not yet valid otherwise")
                }
                detail += ", clocks agree within \(abs(skew)) s"
            }
            return Check(name, .ok, detail)
        } catch {
            return Check(name, .failed, error.message, fix: error.hint ?? (error.kind == .tls ? "check the network's ca_file" : "check the URL and your connection"),
                code: GKPassError(passport: error, while: "probing").exitCode)
        }
    }
}
