import Foundation

/// One Passport member the sandbox knows (design.md §8). Loaded from `--accounts FILE` (JSON).
public struct SandboxAccount: Codable, Sendable, Equatable {
    /// Which Passport DA the account lives on. `secondary` accounts get a `da-status=redir` 302 from the primary
    /// Tweener DA, as MSN members homed on loginnet.passport.com did (protocol.md §3a step 3).
    public enum DA: String, Codable, Sendable {
        case primary
        case secondary
    }

    /// The member name (`alice@hotmail.com`); matched case-insensitively.
    public var member: String
    public var password: String
    public var nickname: String
    /// The 64-bit Passport unique ID as 16 hex digits; the IRCX server reports it as the user (protocol.md §2.1).
    public var puid: String
    /// Paid-chat subscriber: the chat page carries a SubscriberInfo PARAM.
    public var subscriber: Bool?
    /// Staff role `A` (admin), `S` (sysop) or `G` (guide): the chat page carries a UserRole PARAM.
    public var role: String?
    public var da: DA?
    /// Bytes the account's tickets grow by (at least): a padding field sealed into the PassportV4 ticket, so tests
    /// get tickets as long as real Passport ones ("approx 2 lines"), which slicing servers take in 480-byte pieces.
    public var ticketPadding: Int?

    /// The accounts file spells multi-word keys in snake case (`ticket_padding`), like endpoints.json.
    enum CodingKeys: String, CodingKey {
        case member, password, nickname, puid, subscriber, role, da
        case ticketPadding = "ticket_padding"
    }

    /// The most `ticket_padding` may ask for: far past any IRCX line limit, well short of the HTTP header limits.
    public static let maximumTicketPadding = 16_384

    public init(
        member: String, password: String, nickname: String, puid: String, subscriber: Bool? = nil, role: String? = nil,
        da: DA? = nil, ticketPadding: Int? = nil
    ) {
        self.member = member
        self.password = password
        self.nickname = nickname
        self.puid = puid
        self.subscriber = subscriber
        self.role = role
        self.da = da
        self.ticketPadding = ticketPadding
    }

    /// The demo account the README and tests rely on (design.md §8).
    public static let demo = SandboxAccount(
        member: "demo@passport.test", password: "sandbox-demo", nickname: "Demo", puid: "0001A2B3C4D5E6F7")

    /// `count` generated accounts for load tests: `user1@passport.test` … with password `password-1` …
    public static func generated(count: Int) -> [SandboxAccount] {
        (0..<max(0, count)).map { index in
            let n = index + 1
            let puid = String(UInt64(0x0002_0000_0000_0000) + UInt64(n), radix: 16, uppercase: true)
            return SandboxAccount(
                member: "user\(n)@passport.test", password: "password-\(n)", nickname: "User\(n)",
                puid: String(repeating: "0", count: 16 - puid.count) + puid)
        }
    }

    /// The accounts file: `{"accounts": [ {...}, ... ]}`.
    struct File: Codable { var accounts: [SandboxAccount] }

    /// Loads and checks an accounts file; the error names the file and what is wrong.
    public static func load(path: String) throws -> [SandboxAccount] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SandboxError("cannot read the accounts file \(path): \(error.localizedDescription)")
        }
        let accounts: [SandboxAccount]
        do { accounts = try JSONDecoder().decode(File.self, from: data).accounts } catch {
            throw SandboxError("\(path) is not an accounts file ({\"accounts\": [...]}): \(error)")
        }
        var seen = Set<String>()
        for account in accounts {
            guard account.member.contains("@"), !account.password.isEmpty, !account.nickname.isEmpty else {
                throw SandboxError("\(path): account \(account.member) needs a member name with @, a password and a nickname")
            }
            guard account.puid.count == 16, account.puid.allSatisfy(\.isHexDigit) else {
                throw SandboxError("\(path): account \(account.member) needs a PUID of 16 hex digits")
            }
            if let padding = account.ticketPadding, !(0...maximumTicketPadding).contains(padding) {
                throw SandboxError("\(path): account \(account.member) has ticket_padding \(padding); it takes 0 to \(maximumTicketPadding)")
            }
            if let role = account.role, !["A", "S", "G"].contains(role) {
                throw SandboxError("\(path): account \(account.member) has role \(role); roles are A, S or G")
            }
            guard seen.insert(account.member.lowercased()).inserted else {
                throw SandboxError("\(path): account \(account.member) appears twice")
            }
        }
        return accounts
    }
}

/// A sandbox start-up error: one line for the operator.
public struct SandboxError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Another sandbox runs on the state directory (it holds STATE_DIR/sandbox.lock); the command exits 8.
public struct SandboxBusy: Error, CustomStringConvertible {
    /// The running sandbox's pid, as its lock file records it (nil while it is still writing it).
    public let pid: Int32?
    public let stateDirectory: String
    public var description: String {
        "another gkpass-sandbox\(pid.map { " (pid \($0))" } ?? "") is running on \(stateDirectory); stop it, or give this one --state-dir DIR"
    }
}
