/// A GateKeeper (GKSSP) protocol version (protocol.md §1.3, §1.4).
///
/// Version 1 answers with the HMAC alone; version 2 adds the client GUID; version 3 also hashes the server host.
/// Version 4 is "reserved" [S2] and MSNLD/irc7 rejects it, so it is not representable.
public enum GateKeeperVersion: UInt32, Sendable, CaseIterable, Comparable {
    case v1 = 1
    case v2 = 2
    case v3 = 3

    /// Whether the client's answer carries a GUID (v2 and later).
    public var sendsGUID: Bool { self != .v1 }
    /// Whether the HMAC covers the server host name as well as the challenge (v3).
    public var hashesHost: Bool { self == .v3 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The two IRCX security packages that speak GKSSP (protocol.md §1, §2).
public enum GateKeeperPackage: String, Sendable, CaseIterable {
    /// Guest login: HMAC answer plus a stable client GUID.
    case gateKeeper = "GateKeeper"
    /// Passport login: HMAC answer with the zero GUID, then the Passport blob.
    case gateKeeperPassport = "GateKeeperPassport"

    /// The package named by `bytes`, compared case-insensitively as IRCX servers do.
    public init?(name bytes: some Collection<UInt8>) {
        let lowered = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for package in Self.allCases where Array(package.rawValue.lowercased().utf8) == lowered {
            self = package
            return
        }
        return nil
    }

    /// The wire name as bytes.
    public var nameBytes: [UInt8] { Array(rawValue.utf8) }
}
