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

    /// One line to stderr, its control characters escaped (text from servers passes through here); failures to
    /// report an error are ignored (there is nowhere left to report them).
    static func writeError(_ line: String) {
        try? write(Array((TerminalText.escape(line) + "\n").utf8), to: STDERR_FILENO)
    }

    /// Text of gkpass's own making to stderr as it is (argument-parser's usage screens, JSON whose strings are
    /// escaped already), with a final newline.
    static func writeErrorVerbatim(_ text: String) {
        try? write(Array((text + "\n").utf8), to: STDERR_FILENO)
    }

    /// Reads one line from stdin without reading past it (see ``LineInput``); nil at immediate EOF.
    static func readLine(limit: Int) throws(GKPassError) -> [UInt8]? {
        try LineInput.readLine(fd: STDIN_FILENO, limit: limit, what: "standard input")
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
