import Foundation

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

    /// Runs `name` with `arguments`, feeding `input` on stdin, and waits for it.
    static func run(
        _ name: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil,
        absolute: Bool = false
    ) throws -> Result {
        let process = Process()
        process.executableURL = absolute ? URL(fileURLWithPath: name) : directory.appendingPathComponent(name)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(input))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }
}
