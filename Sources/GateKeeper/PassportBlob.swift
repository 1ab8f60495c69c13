internal import GKText

/// The GateKeeperPassport credential blob: two strings, each preceded by its byte length as 8 uppercase hex digits
/// (protocol.md §2.2, design.md §5): `%08X(len a) a %08X(len b) b`. No header, no separator.
///
/// Which two strings depends on the network's ``Layout``. The contents are secrets: they never appear in
/// descriptions or errors.
public struct PassportBlob: Sendable, Equatable {
    /// Which cookies a network's server expects in the blob, in order (design.md §5).
    public enum Layout: String, Sendable, CaseIterable {
        /// Ticket (`t=` / MSPAuth) then profile (`p=` / MSPProf): what MSNLD/irc7, irc7.com and every historical
        /// client that logged in use. The default.
        case ticketProfile = "ticket-profile"
        /// Profile (MSPProf) then nickname (MSNChatNN): the 2002 report of another client.
        case profileNickname = "profile-nickname"
    }

    /// Digits in each length prefix.
    public static let lengthDigits = 8

    public let first: [UInt8]
    public let second: [UInt8]

    public init(first: some Collection<UInt8>, second: some Collection<UInt8>) {
        self.first = Array(first)
        self.second = Array(second)
    }

    /// The framed bytes: `%08X` + first + `%08X` + second, uppercase hex as zmic and mIRC sent it.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 * Self.lengthDigits + first.count + second.count)
        Self.appendLength(first.count, to: &out)
        out += first
        Self.appendLength(second.count, to: &out)
        out += second
        return out
    }

    /// Decodes a blob as the irc7 servers do: 8 hex digits (either case) give N, take N bytes, then 8 more digits
    /// give M, take M bytes. Bytes after the second string are ignored, as those servers ignore them; see
    /// ``trailingByteCount(of:)`` to be strict.
    public init(decoding bytes: some Collection<UInt8>) throws(GateKeeperError) {
        let bytes = Array(bytes)
        var offset = 0
        let first = try Self.readField(bytes, at: &offset, name: "first")
        let second = try Self.readField(bytes, at: &offset, name: "second")
        self.first = first
        self.second = second
    }

    /// How many bytes follow the second string in `bytes`, or nil if `bytes` is not a blob.
    public static func trailingByteCount(of bytes: some Collection<UInt8>) -> Int? {
        let bytes = Array(bytes)
        var offset = 0
        do {
            _ = try readField(bytes, at: &offset, name: "first")
            _ = try readField(bytes, at: &offset, name: "second")
        } catch {
            return nil
        }
        return bytes.count - offset
    }

    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        precondition(length <= Int(UInt32.max), "a Passport blob field cannot exceed 4 GiB")
        for shift in stride(from: 28, through: 0, by: -4) {
            out.append(Hex.upperDigits[(length >> shift) & 0xF])
        }
    }

    static func readField(_ bytes: [UInt8], at offset: inout Int, name: String) throws(GateKeeperError) -> [UInt8] {
        guard bytes.count - offset >= lengthDigits else {
            throw GateKeeperError(
                .malformedBlob, "the Passport blob ends before the \(name) string's 8-digit length (byte \(offset))")
        }
        var length = 0
        for index in offset..<(offset + lengthDigits) {
            guard let digit = Hex.value(of: bytes[index]) else {
                throw GateKeeperError(
                    .malformedBlob, "the \(name) string's length prefix is not 8 hex digits (byte \(index))")
            }
            length = length << 4 | Int(digit)
        }
        offset += lengthDigits
        guard bytes.count - offset >= length else {
            throw GateKeeperError(
                .malformedBlob,
                "the \(name) string declares \(length) bytes but only \(bytes.count - offset) follow")
        }
        defer { offset += length }
        return Array(bytes[offset..<(offset + length)])
    }
}

extension PassportBlob: CustomStringConvertible {
    /// Lengths only: the strings are Passport credentials.
    public var description: String { "PassportBlob(\(first.count) + \(second.count) bytes)" }
}

/// How a client hands the Passport blob to the IRCX server after `AUTH GateKeeperPassport S :OK` (protocol.md §2.2).
public enum PassportSlicing: String, Sendable, CaseIterable {
    /// The original control's way, which irc7-sspi's server expects: slices of at most ``PassportBlob/sliceSize``
    /// bytes, one `AUTH … S :` line each, the server answering `S :OK` after every full slice. A blob whose length
    /// is a multiple of the slice size ends with an empty slice, so the server knows it is complete.
    case ocx
    /// The whole blob on one line, as MSNLD/irc7 reads it (up to its 1,024-byte input limit).
    case oneLine = "one-line"
}

extension PassportBlob {
    /// The OCX's slice size (irc7-sspi `src/passport.rs`, protocol.md §2.2).
    public static let sliceSize = 480

    /// `blob` cut the way `slicing` sends it, in order. `.oneLine` is the blob itself; `.ocx` is slices of
    /// ``sliceSize`` bytes, plus an empty slice when the last one is full (a blob of exactly 480 bytes is two
    /// slices: 480 bytes, then nothing). A slice is never escaped here; each goes through `AuthMessage`.
    public static func slices(_ blob: [UInt8], _ slicing: PassportSlicing) -> [ArraySlice<UInt8>] {
        switch slicing {
        case .oneLine:
            return [blob[...]]
        case .ocx:
            var out: [ArraySlice<UInt8>] = []
            var start = 0
            while blob.count - start >= sliceSize {
                out.append(blob[start..<(start + sliceSize)])
                start += sliceSize
            }
            out.append(blob[start...])
            return out
        }
    }
}
