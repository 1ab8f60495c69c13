public import Foundation

/// The independent Passport 1.4 peer (Tests/Peers/passport14_peer.py: written from MS-PASS and protocol.md, not
/// from our client), started on loopback with OS-chosen ports and a private state directory, stopped with SIGTERM.
public final class PeerProcess: @unchecked Sendable {
    public static let script: String = {
        // Tests/Support/PeerProcess.swift -> Tests/Peers/passport14_peer.py
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Peers/passport14_peer.py").path
    }()

    public let pid: pid_t
    public let stateDirectory: String
    public let ready: [String: Any]

    public var caFile: String { ready["ca_file"] as! String }
    public var nexusURL: String { ready["nexus_url"] as! String }
    public func url(_ name: String) -> String { ready[name] as! String }

    public init(dialect: String, _ arguments: [String] = []) throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-peer-\(UUID().uuidString)").path
        let child = try Spawn.start(
            "/usr/bin/python3", [Self.script, "--state-dir", stateDirectory, "--dialect", dialect, "--max-seconds", "300"] + arguments,
            environment: nil, captureStdout: true, stderrPath: stateDirectory + ".log")
        pid = child.pid
        let out = child.stdout!
        defer { close(out) }
        let line = Spawn.firstLine(out, timeout: 30)
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["ready"] as? Bool == true else {
            kill(pid, SIGKILL)
            Spawn.wait(pid, timeout: 5)
            throw SandboxStartError(message: "the Passport peer did not start: \(line) \((try? String(contentsOfFile: stateDirectory + ".log", encoding: .utf8)) ?? "")")
        }
        ready = object
    }

    /// One line of the peer's request log.
    public struct Request: Sendable {
        public var listener: String
        public var host: String
        public var hasPassword: Bool
        public var status: Int
    }

    /// Every request the peer has logged so far.
    public var requests: [Request] {
        guard let text = try? String(contentsOfFile: ready["log"] as! String, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Request(listener: o["listener"] as? String ?? "", host: o["host"] as? String ?? "", hasPassword: o["has_password"] as? Bool ?? false, status: o["status"] as? Int ?? 0)
        }
    }

    /// How many requests that carried a password each listener received.
    public var passwordSends: [String: Int] {
        requests.filter(\.hasPassword).reduce(into: [:]) { $0[$1.listener, default: 0] += 1 }
    }

    public func stop() {
        kill(pid, SIGTERM)
        Spawn.wait(pid, timeout: 10)
        try? FileManager.default.removeItem(atPath: stateDirectory)
        try? FileManager.default.removeItem(atPath: stateDirectory + ".log")
    }

    deinit { kill(pid, SIGKILL) }
}
