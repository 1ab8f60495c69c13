/// Version 4 (protocol.md §1.4, §7 item 9): "reserved" in the original documentation [S2] and refused by MSNLD/irc7,
/// but irc7-sspi's and vortex-sspi's clients answer a version 4 challenge exactly as version 3 (the host is hashed,
/// the GUID sent) and keep 4 in the answer's header, since a server checks that the answer's version is the one it
/// challenged with [S5, S13]. ``GateKeeperVersion`` stays 1-3, so nothing offers or accepts 4 by accident; these
/// helpers let the one place that must answer whatever a server sends (`gkpass gatekeeper respond`) do so.
extension GateKeeperToken {
    /// The header version irc7-sspi and vortex-sspi treat as version 3.
    public static let version3Alias: UInt32 = 4

    /// Decodes `bytes` as strictly as ``init(decoding:)``, except that a header version of 4 is read as version 3.
    /// Returns the token and the version number its header carried, to be echoed in the answer.
    public static func decodingVersion4AsVersion3(
        _ bytes: some Collection<UInt8>
    ) throws(GateKeeperError) -> (token: GateKeeperToken, headerVersion: UInt32) {
        var bytes = Array(bytes)
        guard bytes.count >= headerLength, readLittleEndian(bytes, at: 8) == version3Alias else {
            let token = try GateKeeperToken(decoding: bytes)
            return (token, token.version.rawValue)
        }
        bytes.replaceSubrange(8..<12, with: [UInt8(GateKeeperVersion.v3.rawValue), 0, 0, 0])
        return (try GateKeeperToken(decoding: bytes), version3Alias)
    }

    /// The raw token with `headerVersion` in its header instead of its own version (4 in the answer to a version 4
    /// challenge); everything else as ``encoded()``.
    public func encoded(headerVersion: UInt32) -> [UInt8] {
        var out = encoded()
        var number: [UInt8] = []
        Self.appendLittleEndian(headerVersion, to: &number)
        out.replaceSubrange(8..<12, with: number)
        return out
    }
}
