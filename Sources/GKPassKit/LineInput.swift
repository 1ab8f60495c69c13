internal import Glibc

/// Reading one line from a descriptor, shared by `gatekeeper respond` (the server's challenge) and the password
/// sources.
public enum LineInput {
    /// Reads up to LF (not included; a CR before it is dropped), one byte at a time so that a descriptor shared
    /// with another reader keeps everything after the line. Nil at immediate end of input.
    ///
    /// The buffer is reserved for `limit` bytes up front and never grows, so no partial copy of a secret is left
    /// in freed memory by a reallocation; the caller owns (and should wipe) the result.
    public static func readLine(fd: Int32, limit: Int, what: String) throws(GKPassError) -> [UInt8]? {
        var line = [UInt8]()
        line.reserveCapacity(limit + 1)
        var byte: UInt8 = 0
        defer { byte = 0 }
        while true {
            let count = Glibc.read(fd, &byte, 1)
            if count < 0 {
                if errno == EINTR { continue }
                line.withUnsafeMutableBytes { raw in for i in raw.indices { raw[i] = 0 } }
                throw GKPassError(.failure, "cannot read \(what): \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                if line.isEmpty { return nil }
                break
            }
            if byte == 0x0A { break }
            guard line.count < limit else {
                line.withUnsafeMutableBytes { raw in for i in raw.indices { raw[i] = 0 } }
                throw GKPassError(.failure, "the line on \(what) is longer than \(limit) bytes")
            }
            line.append(byte)
        }
        if line.last == 0x0D { line.removeLast() }
        return line
    }
}
