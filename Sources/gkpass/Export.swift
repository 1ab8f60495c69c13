import ArgumentParser
import GKPassKit
internal import Glibc
import TicketStore

extension GKPass {
    /// `gkpass export`: the stored cookies in the formats other clients read.
    struct ExportCommand: ParsableCommand {
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case env, json, netscape
            case cookieHeader = "cookie-header"
        }

        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Print the stored cookies in a format another client reads.",
            discussion: """
                Formats:
                  env            export GKPASS_ACCOUNT=... lines (shell-quoted) for eval: account, network, obtained, \
                expires, ticket, profile, and GKPASS_<NAME> for each cookie and chat-page value the login collected \
                (GKPASS_COOKIE_<NAME> where gkpass's own variable or another cookie has that name)
                  json           the stored ticket document (as gkpass ticket --format json)
                  netscape       a cookies.txt for curl -b and wget --load-cookies: the chat site's HTTP cookies \
                (MSPAuth, MSPProf, MSNChatNN, ...) for the host of the network's chat room URL
                  cookie-header  one "Cookie: MSPAuth=...; MSPProf=..." request header line

                Nothing the login did not collect is printed. The output holds secrets: keep it out of files others \
                can read (umask 077).

                netscape and cookie-header need HTTP cookies: a login that collected none (a Tweener login on a \
                network without a chat site gives tickets only) makes both exit 3 and say so; env and json always work.

                Exit status: 0 printed; 2 usage, or netscape for a network without a chat site; 3 no ticket, or no \
                HTTP cookies for netscape and cookie-header; 4 the ticket has expired; 5 keyring locked or \
                unavailable; 6 unsafe store file.

                Examples:
                  eval "$(gkpass export --format env)"
                  gkpass export --format netscape >cookies.txt && curl -b cookies.txt https://chat.example.net/...
                """
        )

        @OptionGroup var account: AccountArgument

        @Option(help: "What to print.")
        var format: Format

        func run() throws {
            let environment = Environment.current
            let ladder = StoreLadder(environment: environment)
            let member = try StoredTicket.account(account.name, ladder: ladder)
            let set = try StoredTicket.read(account: member, ladder: ladder, now: Int64(time(nil)))
            var output: [UInt8]
            switch format {
            case .env:
                output = Array(TicketSetFormat.environment(set).utf8)
            case .json:
                output = set.encoded().copyBytes() + [0x0A]
            case .cookieHeader:
                try Self.requireHTTPCookies(set)
                output = Array(TicketSetFormat.cookieHeader(set).utf8)
            case .netscape:
                try Self.requireHTTPCookies(set)
                let network = try Network.named(set.network, environment: environment)
                guard let room = network.chatRoomURL, let host = Self.host(of: room) else {
                    throw GKPassError(.usage, "network \(set.network) has no chat site, so its cookies have no domain to export for")
                }
                guard let text = TicketSetFormat.netscape(set, domain: host) else {
                    throw GKPassError(.failure, "a cookie of \(member) holds a tab or newline, which cookies.txt cannot carry")
                }
                output = Array(text.utf8)
            }
            defer { SecretBytes.wipe(&output) }
            try StandardStreams.writeOutput(output)
        }

        /// The two cookie formats refuse alike when the login collected no HTTP cookie (a Tweener login on a
        /// network without a chat site yields the ticket alone): exit 3, and what to use instead.
        static func requireHTTPCookies(_ set: TicketSet) throws(GKPassError) {
            guard TicketSetFormat.httpCookies(set).isEmpty else { return }
            throw GKPassError(
                .noTicket, "the login of \(set.account) on \(set.network) collected no HTTP cookies to export (the server gave tickets only)",
                hint: "use gkpass ticket (--format blob, ticket or env), or export --format env or json")
        }

        /// The host of an https URL (no port, no brackets).
        static func host(of url: String) -> String? {
            guard let scheme = url.firstRange(of: "://") else { return nil }
            var rest = url[scheme.upperBound...]
            if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]) }
            if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
            return rest.isEmpty ? nil : String(rest)
        }
    }
}
