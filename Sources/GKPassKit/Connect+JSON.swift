/// `gkpass connect --json`: what the server assigned, for scripts.
extension Connect.Outcome {
    /// One JSON object and a newline: the network's name (which the outcome does not carry), where it connected
    /// (and through which directory, or null), the exchange, and what the server assigned. `room` is null when
    /// none was joined.
    public func json(network: String) throws(GKPassError) -> String {
        try JSONOutput.line(Document(network: network, outcome: self))
    }

    private struct Document: Encodable {
        var network: String
        var outcome: Connect.Outcome

        enum CodingKeys: String, CodingKey {
            case network, server, directory, package, version, user, domain, nickname, room, refusedProps = "refused_props"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(network, forKey: .network)
            try container.encode(outcome.server.description, forKey: .server)
            try container.encode(outcome.directory?.description, forKey: .directory)
            try container.encode(outcome.package.rawValue, forKey: .package)
            try container.encode(outcome.version.rawValue, forKey: .version)
            try container.encode(outcome.user, forKey: .user)
            try container.encode(outcome.domain, forKey: .domain)
            try container.encode(outcome.nickname, forKey: .nickname)
            try container.encode(outcome.room, forKey: .room)
            try container.encode(outcome.refusedProps, forKey: .refusedProps)
        }
    }
}
