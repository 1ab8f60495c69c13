internal import CProcess
internal import Glibc
public import TicketStore

/// Where `gkpass login` reads the password (design.md §3): never from argv or the environment.
public enum PasswordSource: Sendable, Equatable {
    /// The first line of standard input (`--password-stdin`).
    case standardInput
    /// The first line of an inherited descriptor (`--password-fd N`).
    case fileDescriptor(Int32)
    /// The first line of a file that only the user can read (`--password-file PATH`).
    case file(String)
    /// `$CREDENTIALS_DIRECTORY/password`, as systemd's LoadCredential= provides it.
    case systemdCredential(String)
    /// A no-echo prompt on the controlling terminal.
    case terminalPrompt(String)

    /// Passwords longer than this are refused: Passport's limit was 16 characters; this only bounds reading.
    public static let maximumLength = 4096

    /// Reads the password into a wiped-on-release buffer. The trailing newline (LF or CRLF) is not part of it.
    public func read() throws(GKPassError) -> SecretBytes {
        switch self {
        case .standardInput:
            return try Self.readLine(fd: STDIN_FILENO, what: "standard input")
        case .fileDescriptor(let fd):
            guard fcntl(fd, F_GETFD) != -1 else { throw GKPassError(.usage, "--password-fd \(fd) is not an open file descriptor") }
            return try Self.readLine(fd: fd, what: "file descriptor \(fd)")
        case .file(let path):
            return try Self.readPrivateFile(path)
        case .systemdCredential(let directory):
            return try Self.readPrivateFile(directory + "/password", credential: true)
        case .terminalPrompt(let prompt):
            return try Self.prompt(prompt)
        }
    }

    static func readLine(fd: Int32, what: String) throws(GKPassError) -> SecretBytes {
        guard var line = try LineInput.readLine(fd: fd, limit: maximumLength, what: what), !line.isEmpty else {
            throw GKPassError(.usage, "no password on \(what)")
        }
        return SecretBytes(consuming: &line)
    }

    /// Files holding a password must be regular, ours, and unreadable by group and others (else exit 6). systemd
    /// credentials are exempt from the owner check: the service manager owns them and they are private already.
    static func readPrivateFile(_ path: String, credential: Bool = false) throws(GKPassError) -> SecretBytes {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw GKPassError(.unsafe, "\(path) is a symlink; refusing to read a password through it") }
            throw GKPassError(.failure, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        guard info.st_mode & S_IFMT == S_IFREG else { throw GKPassError(.unsafe, "\(path) is not a regular file") }
        if !credential {
            guard info.st_uid == getuid() else { throw GKPassError(.unsafe, "\(path) is not owned by you; refusing to read a password from it") }
            guard info.st_mode & 0o077 == 0 else {
                throw GKPassError(.unsafe, "\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); refusing to read a password from it",
                    hint: "chmod 600 \(path)")
            }
        }
        return try readLine(fd: fd, what: path)
    }

    /// Prompts on /dev/tty with echo off, restoring the terminal even on error, and on Ctrl-C and the other signals
    /// that end a process (the signal then ends gkpass as usual). Never on a non-terminal.
    static func prompt(_ text: String) throws(GKPassError) -> SecretBytes {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard tty >= 0 else {
            throw GKPassError(.usage, "no terminal to ask for the password",
                hint: "use --password-stdin, --password-fd, --password-file, or a systemd credential")
        }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { throw GKPassError(.usage, "cannot control the terminal to ask for the password") }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ECHONL)
        _ = Array(text.utf8).withUnsafeBytes { write(tty, $0.baseAddress, $0.count) }
        guard gk_prompt_guard(tty, &saved) == 0 else { throw GKPassError(.failure, "cannot guard the terminal against Ctrl-C") }
        defer { gk_prompt_unguard() }
        tcsetattr(tty, TCSAFLUSH, &quiet)
        defer { tcsetattr(tty, TCSAFLUSH, &saved) }
        return try readLine(fd: tty, what: "the terminal")
    }
}
