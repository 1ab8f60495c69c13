import Foundation
import GKPassTestSupport
import Testing

/// The checked-in completion scripts, loaded by the real shells and asked to complete (bash through its
/// programmable-completion variables, fish with `complete --do-complete`, zsh interactively in tmux).
@Suite("completions in bash, zsh and fish", .serialized)
struct CompletionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static var path: String { Binary.directory.path + ":/usr/bin:/bin" }

    static func bash(_ words: [String]) throws -> [String] {
        let line = words.joined(separator: " ")
        let script = """
            source '\(root)/completions/gkpass.bash'
            COMP_WORDS=(\(words.map { "'\($0)'" }.joined(separator: " "))); COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
            _gkpass gkpass '\(words.last!)' '\(words[words.count - 2])'
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try Binary.run("/bin/bash", ["-c", script], environment: ["PATH": path, "HOME": "/tmp"], absolute: true)
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func fish(_ line: String) throws -> [String] {
        let result = try Binary.run("/usr/bin/fish", ["-c", "source '\(root)/completions/gkpass.fish'; complete --do-complete '\(line)'"],
            environment: ["PATH": path, "HOME": "/tmp"], absolute: true)
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }
    }

    @Test("bash: subcommands, options, and option values")
    func bashCompletes() throws {
        #expect(try Self.bash(["gkpass", "lo"]) == ["login", "logout"])
        #expect(Set(try Self.bash(["gkpass", "ticket", "--format", ""])) == ["blob", "auth", "ticket", "profile", "json", "env"])
        #expect(try Self.bash(["gkpass", "refresh", "--if-"]) == ["--if-expiring-within"])
        #expect(Set(try Self.bash(["gkpass", "gatekeeper", ""])).isSuperset(of: ["init", "respond"]))
    }

    @Test("fish: subcommands with descriptions, and option values")
    func fishCompletes() throws {
        #expect(try Self.fish("gkpass pro") == ["proxy"])
        #expect(Set(try Self.fish("gkpass export --format ")) == ["env", "json", "netscape", "cookie-header"])
        #expect(try Self.fish("gkpass login --store ").sorted() == ["auto", "file", "secret-service"])
    }

    @Test("zsh: an interactive zsh with the completions on fpath completes a Tab")
    func zshCompletes() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-zsh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try "fpath=(\(Self.root)/completions $fpath)\nautoload -U compinit && compinit -u -d \(home)/zcompdump\nPS1='%% '\n"
            .write(toFile: home + "/.zshrc", atomically: true, encoding: .utf8)
        let session = "gkpass-zsh-\(getpid())"
        let tmux = "/usr/bin/tmux"
        _ = try Binary.run(tmux, ["-L", session, "new-session", "-d", "-x", "200", "-y", "40",
            "env -i HOME=\(home) ZDOTDIR=\(home) TERM=xterm PATH=\(Self.path) zsh -i"], absolute: true)
        defer { _ = try? Binary.run(tmux, ["-L", session, "kill-server"], absolute: true) }
        func screen(after keys: [String]) throws -> String {
            _ = try Binary.run(tmux, ["-L", session, "send-keys", "-t", "0"] + keys, absolute: true)
            var text = ""
            for _ in 0..<40 {
                Thread.sleep(forTimeInterval: 0.1)
                text = String(decoding: try Binary.run(tmux, ["-L", session, "capture-pane", "-p"], absolute: true).stdout, as: UTF8.self)
                if text.contains("cookie-header") { break }
            }
            return text
        }
        Thread.sleep(forTimeInterval: 0.5)
        let text = try screen(after: ["gkpass export --format ", "Tab"])
        #expect(text.contains("env") && text.contains("json") && text.contains("netscape") && text.contains("cookie-header"), "\(text)")
    }
}
