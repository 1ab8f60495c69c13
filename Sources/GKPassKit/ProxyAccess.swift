public import TicketStore

/// Who may use `gkpass proxy`, as pure decisions (the sockets are in Proxy.swift and SocketOwner.swift).
public enum ProxyAccess {
    /// Whether a client's PASS equals the proxy password, in time that depends only on the password's length
    /// (every byte of it is compared whatever the client sent), so a remote client cannot find it byte by byte.
    public static func passwordMatches(_ given: [UInt8], _ expected: SecretBytes) -> Bool {
        expected.withUnsafeBytes { secret in
            var difference = UInt(bitPattern: given.count ^ secret.count)
            for index in 0..<secret.count {
                // Past the end of what was given, compare with a byte that can never make up the difference.
                let byte = index < given.count ? given[index] : ~secret[index]
                difference |= UInt(byte ^ secret[index])
            }
            return difference == 0
        }
    }

    /// The account a client chats as. A loopback client's PASS picks an account only when it equals a stored
    /// account name exactly (else it is ignored: it may be a password typed into the wrong field). With
    /// `--allow-remote` the PASS is the proxy password, so it never names an account.
    public static func account(pass: String?, storedAccounts: () -> [String], defaultAccount: String?, remote: Bool) -> String? {
        guard !remote, let pass, !pass.isEmpty, storedAccounts().contains(pass) else { return defaultAccount }
        return pass
    }
}

/// Bytes waiting to be written to one socket, at most `limit` of them: a peer that stops reading is dropped
/// rather than let the proxy's memory grow.
struct OutboundQueue {
    let limit: Int
    private var storage: [UInt8] = []
    private var start = 0

    init(limit: Int) { self.limit = limit }

    var count: Int { storage.count - start }
    var isEmpty: Bool { count == 0 }
    /// More is queued than the limit allows.
    var isOverLimit: Bool { count > limit }

    mutating func append(_ bytes: some Sequence<UInt8>) { storage += bytes }

    /// One line and its CRLF.
    mutating func appendLine(_ line: [UInt8]) {
        storage.append(contentsOf: line)
        storage.append(0x0D)
        storage.append(0x0A)
    }

    /// Writes what `write` takes: it gets the unwritten bytes and returns how many it wrote, 0 when the socket
    /// takes no more now, or -1 when the connection is broken (then false).
    mutating func flush(_ write: (UnsafeRawBufferPointer) -> Int) -> Bool {
        while start < storage.count {
            let n = storage.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            if n < 0 { return false }
            if n == 0 { break }
            start += n
        }
        if start == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 65_536)
            start = 0
        } else if start > 65_536 && start > storage.count / 2 {
            storage.removeFirst(start)
            start = 0
        }
        return true
    }

    /// Everything still queued, emptying the queue.
    mutating func takeAll() -> [UInt8] {
        defer { storage = []; start = 0 }
        return Array(storage[start...])
    }
}
