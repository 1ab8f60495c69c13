internal import Crypto
internal import Glibc
public import GateKeeper

/// The stable per-user GUID a GateKeeper guest login sends when none is given (protocol.md §1.5).
///
/// The MSN Chat control read a GUID created once per Windows installation from the registry. The Linux equivalent of
/// "once per installation" is `/etc/machine-id`, which must not be disclosed itself, so gkpass derives an
/// application-specific ID from it the way systemd's `sd_id128_get_machine_app_specific()` does: HMAC-SHA256 keyed
/// with the machine ID over a fixed gkpass label and the user's numeric UID, truncated to 16 bytes and marked as an
/// RFC 4122 version 4 GUID. The same user on the same machine always gets the same GUID; different users and
/// machines get unrelated ones; the machine ID cannot be recovered from it. Nothing is written to disk.
public enum GuestGUID {
    /// Files that hold the machine ID, in the order systemd documents them.
    public static let machineIDPaths = ["/etc/machine-id", "/var/lib/dbus/machine-id"]

    /// Fixed label that makes the derived ID gkpass-specific.
    static let label = Array("gkpass GateKeeper guest GUID v1".utf8)

    /// The derivation, pure: the machine ID text (32 hex digits) and the UID in, the GUID out.
    public static func derive(machineID: [UInt8], uid: UInt32) throws(GKPassError) -> GateKeeperGUID {
        let trimmed = machineID.prefix { $0 != 0x0A && $0 != 0x20 }
        guard trimmed.count == 32, trimmed.allSatisfy({ Self.isHexDigit($0) }) else {
            throw GKPassError(.failure, "the machine ID is not 32 hex digits")
        }
        let message = label + [0x00] + Array(String(uid).utf8)
        let digest = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(trimmed)))
        var display = digest.withUnsafeBytes { Array($0.prefix(16)) }
        display[6] = (display[6] & 0x0F) | 0x40  // version 4
        display[8] = (display[8] & 0x3F) | 0x80  // RFC 4122 variant
        return GateKeeperGUID(displayBytes: display)!
    }

    /// Reads the machine ID and derives this user's GUID.
    public static func forCurrentUser() throws(GKPassError) -> GateKeeperGUID {
        for path in machineIDPaths {
            if let contents = readSmallFile(path) {
                return try derive(machineID: contents, uid: getuid())
            }
        }
        throw GKPassError(
            .failure, "no machine ID to derive the guest GUID from (\(machineIDPaths.joined(separator: ", ")))",
            hint: "pass --guid with a GUID of your own, or run systemd-machine-id-setup")
    }

    static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Array(buffer.prefix(count))
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }
}
