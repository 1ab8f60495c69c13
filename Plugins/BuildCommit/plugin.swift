import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` (`let buildCommit = "<12 hex digits>[-dirty]"`, or "unknown" outside a git checkout)
/// before each build of the target that uses it, so `gkpass --version` names the commit it was built from. The
/// file is rewritten only when the commit changes, so it costs no rebuild otherwise.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("Generated")
        let script = """
            mkdir -p "$1"
            commit=$(git -C "$2" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && ! git -C "$2" diff --quiet HEAD -- Sources Package.swift 2>/dev/null; then commit="$commit-dirty"; fi
            line="let buildCommit = \\"$commit\\""
            [ "$(cat "$1/BuildCommit.swift" 2>/dev/null)" = "$line" ] || printf '%s\\n' "$line" >"$1/BuildCommit.swift"
            """
        return [
            .prebuildCommand(
                displayName: "Recording the git commit of this build",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", output.path, context.package.directoryURL.path],
                outputFilesDirectory: output)
        ]
    }
}
