import Foundation
import GKPassTestSupport
import Testing

/// `gkpass ticket` from the real gnome-keyring, many times over: every run ends by exiting, never by a signal (the
/// direct D-Bus read this replaced died with SIGSEGV at exit in about 2 runs of 100).
@Suite("gkpass ticket from the keyring (binary, gnome-keyring)", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["GNOME_KEYRING_CONTROL"] != nil, "needs the keyring session of scripts/with-keyring"))
struct KeyringReadTests {
    typealias Context = LoginCommandTests.Context

    /// Reads in the loop: half of a present item, half of an absent one. 1,000 take about 22 s in a debug build on
    /// the 2-core CI machine, about 50 s while the rest of the suite runs beside them; GKPASS_KEYRING_READS asks for
    /// another count.
    static let reads = ProcessInfo.processInfo.environment["GKPASS_KEYRING_READS"].flatMap { Int($0) } ?? 1000

    @Test("present and absent items, read over and over: 0 exits by a signal, every present read prints the blob, every absent one exits 3")
    func noSignals() throws {
        // Accounts of its own: the other suites share the keyring and log the demo account in and out meanwhile.
        let tag = UUID().uuidString.prefix(8)
        let member = "reads-\(tag)@passport.test", absent = "absent-\(tag)@passport.test"
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-reads-\(tag)-accounts.json").path
        try #"{"accounts": [{"member": "\#(member)", "password": "reads-pw", "nickname": "Reads", "puid": "00A0D17000000002"}]}"#
            .write(toFile: accounts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accounts) }
        let context = try Context(["--accounts", accounts])
        let environment = context.environment()
        let login = try context.login([member, "--network", "sandbox", "--password-stdin", "--store", "secret-service"], password: "reads-pw\n")
        try #require(login.status == 0, "\(login.stderr)")
        defer { _ = try? Binary.run("gkpass", ["logout", member], environment: environment) }
        let expected = try Binary.run("gkpass", ["ticket", member], environment: environment)
        try #require(expected.status == 0 && !expected.stdout.isEmpty, "\(expected.stderr)")
        // An account recorded in the keyring with no item there: the read asks the keyring and finds nothing.
        let record = context.state + "/gkpass/accounts/" + absent
        try "secret-service\n".write(toFile: record, atomically: false, encoding: .utf8)
        chmod(record, 0o600)
        let blob = context.state + "-blob"
        try Data(expected.stdout).write(to: URL(fileURLWithPath: blob))
        defer { try? FileManager.default.removeItem(atPath: blob) }
        let gkpass = Binary.directory.path + "/gkpass"
        let script = """
            present=0; absent=0; signalled=0; other=0; wrong=0; i=0
            start=$(date +%s%N)
            while [ $i -lt \(Self.reads / 2) ]; do
                '\(gkpass)' ticket \(member) >out 2>err; rc=$?
                if [ $rc -gt 128 ]; then signalled=$((signalled + 1)); echo "signal $((rc - 128)) (present)" >&2
                elif [ $rc -eq 0 ]; then present=$((present + 1)); cmp -s out '\(blob)' || wrong=$((wrong + 1))
                else other=$((other + 1)); cat err >&2; fi
                '\(gkpass)' ticket \(absent) >/dev/null 2>err; rc=$?
                if [ $rc -gt 128 ]; then signalled=$((signalled + 1)); echo "signal $((rc - 128)) (absent)" >&2
                elif [ $rc -eq 3 ]; then absent=$((absent + 1))
                else other=$((other + 1)); cat err >&2; fi
                i=$((i + 1))
            done
            echo "present=$present absent=$absent signalled=$signalled other=$other wrong=$wrong"
            echo "elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))"
            rm -f out err
            """
        let work = context.state + "-reads"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let run = try Binary.run("/bin/sh", ["-c", "cd '\(work)' || exit 99\n" + script], environment: environment, absolute: true)
        let output = String(decoding: run.stdout, as: UTF8.self)
        let half = Self.reads / 2
        #expect(output.contains("present=\(half) absent=\(half) signalled=0 other=0 wrong=0"), "\(output) \(run.stderr)")
    }
}
