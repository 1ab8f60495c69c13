public import Foundation

/// Child processes for the tests, without Foundation.Process: posix_spawn with an empty signal mask and default
/// signal handlers, poll(2) on the pipes, waitpid(2) to reap, and a deadline on everything. (All suites share one
/// test process; once GLib runs in it, Process could miss a child's exit and wait forever.)
public enum Spawn {
    public struct Output {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    public struct Child {
        public let pid: pid_t
        /// The read end of the child's stdout, when `captureStdout` was asked for.
        public let stdout: Int32?
    }

    /// Starts `path`; stdin from `stdinFD` (or /dev/null), stdout to a pipe when `captureStdout`, else `stdoutPath`;
    /// stderr to `stderrPath` (or /dev/null) or a pipe when `stderrFD` is given. `entries`, when given, is the
    /// child's environment as `NAME=value` strings in that order (a name may repeat), instead of `environment`.
    public static func start(
        _ path: String, _ arguments: [String], environment: [String: String]?, entries: [String]? = nil, stdinFD: Int32? = nil,
        captureStdout: Bool, stdoutFD: Int32? = nil, stderrFD: Int32? = nil, stderrPath: String? = nil
    ) throws -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var outPipe: [Int32] = [-1, -1]
        if captureStdout { guard makePipe(&outPipe) else { throw CocoaError(.fileWriteUnknown) } }
        if let stdinFD { posix_spawn_file_actions_adddup2(&actions, stdinFD, 0) } else { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        if captureStdout { posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1) } else if let stdoutFD { posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1) } else { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        if let stderrFD { posix_spawn_file_actions_adddup2(&actions, stderrFD, 2) } else { posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let env = (entries ?? (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }).map { strdup($0) } + [nil]
        defer { (argv + env).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, env)
        if captureStdout { close(outPipe[1]) }
        guard result == 0 else {
            if captureStdout { close(outPipe[0]) }
            throw SandboxStartError(message: "cannot start \(path): \(String(cString: strerror(result)))")
        }
        return Child(pid: pid, stdout: captureStdout ? outPipe[0] : nil)
    }

    /// The first line a child writes to `fd` (its stdout pipe), trimmed; whatever arrived when `timeout` seconds
    /// pass or the pipe closes. How the tests wait for a server's "ready" or "listening" line.
    public static func firstLine(_ fd: Int32, timeout: Double) -> String {
        var line: [UInt8] = []
        var poller = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        let deadline = Date().addingTimeInterval(timeout)
        while !line.contains(0x0A) && Date() < deadline {
            guard poll(&poller, 1, 100) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 512)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            line += chunk[..<n]
        }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// pipe(2) with close-on-exec on both ends (Glibc's pipe2 is not exported to Swift).
    static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Reaps `pid`, waiting at most `timeout` seconds, then SIGKILL. Returns the exit status (128+signal).
    @discardableResult
    public static func wait(_ pid: pid_t, timeout: Double) -> Int32 {
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { return -1 }
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(5_000)
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Runs to completion (at most `timeout` seconds) with `input` on stdin, collecting stdout and stderr. Reading
    /// stops once the child has exited, so a grandchild that keeps the pipes open cannot stall the test.
    public static func run(
        _ path: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil, entries: [String]? = nil,
        timeout: Double = 120
    ) throws -> Output {
        var inPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard makePipe(&inPipe), makePipe(&errPipe) else { throw CocoaError(.fileWriteUnknown) }
        let child: Child
        do {
            child = try start(path, arguments, environment: environment, entries: entries, stdinFD: inPipe[0], captureStdout: true, stderrFD: errPipe[1])
        } catch {
            [inPipe[0], inPipe[1], errPipe[0], errPipe[1]].forEach { close($0) }
            throw error
        }
        close(inPipe[0])
        close(errPipe[1])
        // Inputs are small (a line, a password); write them whole, then close so the child sees EOF.
        input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(inPipe[1], raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        close(inPipe[1])
        var out: [UInt8] = [], err: [UInt8] = []
        var fds = [pollfd(fd: child.stdout!, events: Int16(POLLIN), revents: 0), pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
        var status: Int32 = 0
        var exited = false
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while fds.contains(where: { $0.fd >= 0 }) {
            if !exited, waitpid(child.pid, &status, WNOHANG) == child.pid { exited = true }
            if Date() > deadline { kill(child.pid, SIGKILL); break }
            let ready = poll(&fds, nfds_t(fds.count), exited ? 0 : 50)
            if ready == 0 && exited { break }  // exited and nothing more to read right now
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if index == 0 { out += buffer[..<n] } else { err += buffer[..<n] }
                } else {
                    close(fds[index].fd)
                    fds[index].fd = -1
                }
            }
        }
        for entry in fds where entry.fd >= 0 { close(entry.fd) }
        let code: Int32
        if exited {
            code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        } else {
            code = wait(child.pid, timeout: max(1, deadline.timeIntervalSinceNow))
        }
        return Output(status: code, stdout: out, stderr: err)
    }
}
