import Foundation
import GKPassTestSupport

/// Runs the real built binaries. They live beside the test bundle (`.build/<triple>/debug/`), or in
/// `$GKPASS_BIN_DIR` when set (to test an installed or release build).
enum Binary {
    static let directory: URL = {
        if let dir = ProcessInfo.processInfo.environment["GKPASS_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent()
    }()

    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// Runs a program outside the build directory (an oracle such as python3).
    static func runSystem(_ path: String, _ arguments: [String]) throws -> Result {
        try run(path, arguments, absolute: true)
    }

    /// Runs `name` with `arguments`, feeding `input` on stdin, and waits for it (bounded; see Spawn).
    static func run(
        _ name: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil,
        absolute: Bool = false
    ) throws -> Result {
        let path = absolute ? name : directory.appendingPathComponent(name).path
        let output = try Spawn.run(path, arguments, input: input, environment: environment)
        return Result(status: output.status, stdout: output.stdout, stderr: String(decoding: output.stderr, as: UTF8.self))
    }
}
