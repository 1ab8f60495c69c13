internal import Glibc
import GKPassKit

/// Byte-exact access to the standard streams. Data goes to stdout, diagnostics to stderr; nothing is decoded as
/// UTF-8 on the way in.
enum StandardStreams {
    /// Writes every byte to `fd`, retrying short writes and EINTR.
    static func write(_ bytes: [UInt8], to fd: Int32) throws(GKPassError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw GKPassError(.failure, "cannot write to \(fd == 1 ? "standard output" : "file \(fd)"): \(errorText())")
            }
            offset += written
        }
    }

    static func writeOutput(_ bytes: [UInt8]) throws(GKPassError) { try write(bytes, to: STDOUT_FILENO) }

    /// One line to stderr; failures to report an error are ignored (there is nowhere left to report them).
    static func writeError(_ line: String) {
        try? write(Array((line + "\n").utf8), to: STDERR_FILENO)
    }

    /// Reads one line from stdin (up to and including LF, or to EOF) without reading past it, so a caller that
    /// shares the descriptor keeps the rest. Returns nil at immediate EOF. Lines longer than `limit` are refused.
    static func readLine(limit: Int) throws(GKPassError) -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(STDIN_FILENO, &byte, 1)
            if count < 0 {
                if errno == EINTR { continue }
                throw GKPassError(.failure, "cannot read standard input: \(errorText())")
            }
            if count == 0 { return line.isEmpty ? nil : line }
            line.append(byte)
            if byte == 0x0A { return line }
            if line.count > limit {
                throw GKPassError(.failure, "the input line is longer than \(limit) bytes")
            }
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
