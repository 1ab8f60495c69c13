public import Foundation

/// The real `gkpass-sandbox` binary, started on loopback with port 0 and a private state directory, stopped with
/// SIGTERM when the test is done.
public final class SandboxProcess: @unchecked Sendable {
    public static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["GKPASS_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }()

    public let pid: pid_t
    public let stateDirectory: String
    public let endpoints: [String: Any]
    public let readyLine: String
    /// The sandbox's stderr goes to a file: a pipe nobody reads would block a chatty sandbox.
    let logFile: String
    private var exitStatus: Int32?

    public var httpsOrigin: String {
        let nexus = endpoints["nexus_url"] as! String
        return String(nexus[..<nexus.range(of: "/rdr/")!.lowerBound])
    }
    public var caFile: String { endpoints["ca_file"] as! String }
    public var ircxPort: Int { (endpoints["ircx"] as! [String: Any])["port"] as! Int }

    /// A `[networks.NAME]` table of config.toml for this sandbox: the web flow, its CA and its IRCX server, then
    /// `extra` lines (`gatekeeper_version = 2`, `passport_slices = "one-line"`, …).
    public func webNetworkTable(_ name: String, extra: [String] = []) -> String {
        ([
            "[networks.\(name)]", "flow = \"web\"", "login_url = \"\(endpoints["web_login_url"] as! String)\"",
            "chat_room_url = \"\(endpoints["chat_site_url"] as! String)\"", "ca_file = \"\(caFile)\"",
            "server = \"127.0.0.1:\(ircxPort)\"",
        ] + extra).joined(separator: "\n") + "\n\n"
    }

    /// The write end of the sandbox's stdin, for ``command(_:)`` (nil: stdin is /dev/null).
    private var commands: Int32?

    /// `commands`: give the sandbox a stdin pipe and --stdin-commands, for ``restartChat(_:seconds:)``.
    /// `stateDirectory`: reuse one (a second sandbox after a first was killed); default a new private one.
    public init(_ arguments: [String] = [], commands: Bool = false, stateDirectory: String? = nil) throws {
        self.stateDirectory = stateDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-sandbox-test-\(UUID().uuidString)").path
        logFile = self.stateDirectory + ".log"
        var input: [Int32] = [-1, -1]
        if commands { guard Spawn.makePipe(&input) else { throw SandboxStartError(message: "no pipe") } }
        let child: Spawn.Child
        do {
            child = try Spawn.start(
                Self.binDirectory.appendingPathComponent("gkpass-sandbox").path,
                ["--state-dir", self.stateDirectory] + (commands ? ["--stdin-commands"] : []) + arguments,
                environment: nil, stdinFD: commands ? input[0] : nil, captureStdout: true, stderrPath: logFile)
        } catch {
            if commands { close(input[0]); close(input[1]) }
            throw error
        }
        if commands {
            close(input[0])
            self.commands = input[1]
        }
        pid = child.pid
        let out = child.stdout!
        defer { close(out) }
        // The ready line is the contract: wait for it (bounded), then read endpoints.json.
        readyLine = Spawn.firstLine(out, timeout: 30)
        guard readyLine.hasPrefix("ready ") else {
            kill(pid, SIGKILL)
            Spawn.wait(pid, timeout: 5)
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw SandboxStartError(message: "no ready line: \(readyLine) \(log)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: self.stateDirectory + "/endpoints.json"))
        endpoints = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// `restart-chat INDEX SECONDS` on the sandbox's stdin; returns once the log says the server closed (bounded).
    public func restartChat(_ index: Int, seconds: Double) {
        guard let commands else { return }
        let before = log.components(separatedBy: "ircx chat-server index=\(index) restart").count
        let line = Array("restart-chat \(index) \(seconds)\n".utf8)
        _ = line.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
        for _ in 0..<200 where log.components(separatedBy: "ircx chat-server index=\(index) restart").count == before { usleep(50_000) }
    }

    /// Waits (bounded) until chat server `index` listens again after `count` restarts in all.
    public func waitListening(_ index: Int, restarts count: Int = 1) -> Bool {
        for _ in 0..<400 {
            if log.components(separatedBy: "ircx chat-server index=\(index) listening again").count > count { return true }
            usleep(50_000)
        }
        return false
    }

    public var isRunning: Bool { exitStatus == nil && kill(pid, 0) == 0 && !isZombie }

    var isZombie: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// Sends SIGTERM and waits (at most 10 s, then SIGKILL); returns the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        if let exitStatus { return exitStatus }
        kill(pid, SIGTERM)
        let status = Spawn.wait(pid, timeout: 10)
        exitStatus = status
        return status
    }

    /// What the sandbox has logged on stderr so far (one event per line).
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Stops the sandbox and returns what it logged on stderr.
    @discardableResult
    public func stop() -> String {
        terminate()
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: stateDirectory)
        try? FileManager.default.removeItem(atPath: logFile)
        return log
    }

    deinit {
        if let commands { close(commands) }
        if exitStatus == nil { kill(pid, SIGKILL); Spawn.wait(pid, timeout: 5) }
    }
}

public struct SandboxStartError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Runs a program and collects its output (curl and python3 are the independent clients).
public struct Run {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    @discardableResult
    public static func program(_ path: String, _ arguments: [String], input: String? = nil) throws -> Run {
        let output = try Spawn.run(path, arguments, input: Array((input ?? "").utf8))
        return Run(status: output.status, stdout: String(decoding: output.stdout, as: UTF8.self), stderr: String(decoding: output.stderr, as: UTF8.self))
    }

    public static func curl(_ arguments: [String]) throws -> Run { try program("/usr/bin/curl", ["-sS", "--max-time", "20"] + arguments) }
}

/// A blocking TCP client that speaks in lines: the raw-socket side of the IRCX tests.
public final class LineSocket {
    public let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SandboxStartError(message: "connect failed: \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    public func send(_ line: String) { send(Array((line + "\r\n").utf8)) }

    /// The next line without CRLF; nil at EOF or after 10 s of silence (`patience` times 10 s).
    public func line(patience: Int = 1) -> [UInt8]? {
        var silences = 0
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<lf])
                buffer.removeSubrange(...lf)
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                silences += 1
                if silences < patience { continue }
            }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
    }

    public func text(patience: Int = 1) -> String? { line(patience: patience).map { String(decoding: $0, as: UTF8.self) } }

    /// Reads lines until one contains `fragment`; returns it (nil at EOF/timeout).
    public func expect(_ fragment: String, within limit: Int = 50) -> String? {
        for _ in 0..<limit {
            guard let text = text() else { return nil }
            if text.contains(fragment) { return text }
        }
        return nil
    }

    /// True when the server has closed the connection (EOF after any pending lines) within `timeout` seconds.
    public func isClosedByPeer(timeout: Int = 10) -> Bool {
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        while true {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return false }
        }
    }
}
