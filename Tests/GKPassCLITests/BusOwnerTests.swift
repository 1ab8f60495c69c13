import Foundation
import GKPassTestSupport
import Testing

/// "Trust only your own bus" (design.md §6), with real buses that are not the user's: a dbus-daemon run by a second
/// Unix user (its socket, then only its process), one on an abstract socket, one of the user's own in a directory
/// anyone may write to, and a `tcp:` address. Each is exit 5 with the reason, for `login --remember-password`,
/// `ticket` and `doctor`; the password never reaches the sandbox and no message reaches the bus (a dbus-monitor
/// watches it, and a `dbus-send` afterwards proves the monitor sees clients).
@Suite("the session bus must be the user's own (binary, dbus-daemon)", .serialized)
struct BusOwnerTests {
    typealias Context = LoginCommandTests.Context
    static let owner = "gkpass-busowner"

    @Test("another user's bus, another user's daemon behind our socket, an abstract socket, a loose directory, tcp: exit 5, nothing sent",
        .enabled(if: getuid() == 0, "needs root: it creates a second Unix user and runs a dbus-daemon as that user"))
    func foreignBuses() throws {
        let context = try Context()
        let out = context.state + "-bus"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        // A bus that lets any user in: a bus meant to catch someone's secrets would.
        try """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>
            <policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
            """.write(toFile: out + "/bus.conf", atomically: true, encoding: .utf8)
        chmod(out, 0o755)
        chmod(out + "/bus.conf", 0o644)
        let gkpass = Binary.directory.path + "/gkpass"
        let script = """
            set -u
            out='\(out)'; user='\(Self.owner)'; conf="$out/bus.conf"
            created=0
            if ! id -u "$user" >/dev/null 2>&1; then
                useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || { echo no-useradd; exit 93; }
                created=1
            fi
            uid=$(id -u "$user")
            # A command word, not a function: backgrounded, a function would run in a subshell whose pid is not the daemon's.
            as_owner="setpriv --reuid=$uid --regid=$(id -g "$user") --clear-groups"
            pids=""
            cleanup() {
                for p in $pids; do kill "$p" 2>/dev/null; done
                for p in $pids; do wait "$p" 2>/dev/null; done
                [ "$created" = 1 ] && userdel "$user" 2>/dev/null
                rm -rf "$out"/d-*
            }
            trap cleanup EXIT
            # daemon NAME ADDRESS [RUNNER...]: a bus at ADDRESS, waited for until it prints that it listens.
            daemon() {
                name=$1; address=$2; shift 2
                "$@" dbus-daemon --config-file="$conf" --nofork --address="$address" --print-address=1 >"$out/$name.address" 2>"$out/$name.daemon" &
                pids="$pids $!"
                for _ in $(seq 200); do [ -s "$out/$name.address" ] && return 0; sleep 0.05; done
                echo "$name: no bus"; exit 94
            }
            # monitor NAME ADDRESS [RUNNER...]: dbus-monitor on the bus, waited for until it is monitoring.
            monitor() {
                name=$1; address=$2; shift 2
                "$@" dbus-monitor --address "$address" >"$out/$name.monitor" 2>&1 &
                pids="$pids $!"
                for _ in $(seq 200); do grep -q NameLost "$out/$name.monitor" 2>/dev/null && return 0; sleep 0.05; done
                echo "$name: no monitor"; exit 95
            }
            # gkpass against ADDRESS: login with a password to remember, a ticket recorded in the keyring, doctor.
            against() {
                name=$1; address=$2
                printf 'sandbox-demo\\n' | DBUS_SESSION_BUS_ADDRESS="$address" '\(gkpass)' login demo@passport.test --network sandbox --password-stdin --remember-password >/dev/null 2>"$out/$name.login"
                echo "$name.login=$?"
                mkdir -p -m 700 "$XDG_STATE_HOME/gkpass" "$XDG_STATE_HOME/gkpass/accounts"
                printf 'secret-service\\n' >"$XDG_STATE_HOME/gkpass/accounts/demo@passport.test"; chmod 600 "$XDG_STATE_HOME/gkpass/accounts/demo@passport.test"
                DBUS_SESSION_BUS_ADDRESS="$address" '\(gkpass)' ticket demo@passport.test >/dev/null 2>"$out/$name.ticket"
                echo "$name.ticket=$?"
                rm -f "$XDG_STATE_HOME/gkpass/accounts/demo@passport.test"
                DBUS_SESSION_BUS_ADDRESS="$address" '\(gkpass)' doctor --json --timeout 2 >"$out/$name.doctor" 2>/dev/null
                echo "$name.doctor=$?"
            }
            # The monitor sees every message a client sends, registered or not: a dbus-send after gkpass sends two
            # (Hello, GetId), and gkpass none.
            control() {
                name=$1; address=$2
                dbus-send --bus="$address" --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId >/dev/null 2>&1 || echo "$name: control failed"
                sleep 0.3
                echo "$name.calls=$(grep -c '^method call' "$out/$name.monitor")"
            }

            # 1. Another user's bus: their socket, in their directory.
            mkdir -m 700 "$out/d-owner"; chown "$user" "$out/d-owner"
            daemon owner "unix:path=$out/d-owner/bus" $as_owner
            monitor owner "unix:path=$out/d-owner/bus" $as_owner
            against owner "unix:path=$out/d-owner/bus"
            control owner "unix:path=$out/d-owner/bus"

            # 2. Their daemon behind a socket and directory that look like ours: only SO_PEERCRED tells.
            mkdir -m 700 "$out/d-peer"; chown "$user" "$out/d-peer"
            daemon peer "unix:path=$out/d-peer/bus" $as_owner
            monitor peer "unix:path=$out/d-peer/bus" $as_owner
            chown root:root "$out/d-peer" "$out/d-peer/bus"
            against peer "unix:path=$out/d-peer/bus"
            control peer "unix:path=$out/d-peer/bus"

            # 3. Their daemon on an abstract socket.
            daemon abstract "unix:abstract=gkpass-test-$$" $as_owner
            monitor abstract "unix:abstract=gkpass-test-$$" $as_owner
            against abstract "unix:abstract=gkpass-test-$$"
            control abstract "unix:abstract=gkpass-test-$$"

            # 4. Our own daemon, in a directory anyone may write to (and so replace the socket in).
            mkdir "$out/d-loose"; chmod 777 "$out/d-loose"
            daemon loose "unix:path=$out/d-loose/bus"
            monitor loose "unix:path=$out/d-loose/bus"
            against loose "unix:path=$out/d-loose/bus"
            control loose "unix:path=$out/d-loose/bus"

            # 5. tcp: a listener that counts every connection made to it.
            python3 -c '
            import socket, sys, os
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8); s.settimeout(0.1)
            print(s.getsockname()[1], flush=True)
            n = 0
            while not os.path.exists(sys.argv[1]):
                try: s.accept(); n += 1
                except socket.timeout: pass
            print("connections=%d" % n, flush=True)
            ' "$out/tcp.stop" >"$out/tcp.listener" &
            listener=$!; pids="$pids $listener"
            for _ in $(seq 100); do [ -s "$out/tcp.listener" ] && break; sleep 0.05; done
            against tcp "tcp:host=127.0.0.1,port=$(head -1 "$out/tcp.listener")"
            touch "$out/tcp.stop"; wait "$listener"
            echo "tcp.$(tail -1 "$out/tcp.listener")"
            """
        var environment = context.environment(keyring: false)
        environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        let run = try Binary.run("/bin/sh", ["-c", script], environment: environment, absolute: true)
        let output = String(decoding: run.stdout, as: UTF8.self)
        func read(_ name: String) -> String { (try? String(contentsOfFile: out + "/" + name, encoding: .utf8)) ?? "" }
        let reasons = [
            "owner": "belongs to \(Self.owner) (uid", "peer": "is run by \(Self.owner) (uid", "abstract": "is run by \(Self.owner) (uid",
            "loose": "which others may write to (mode 777)", "tcp": "uses the tcp: transport",
        ]
        for (name, reason) in reasons {
            #expect(output.contains("\(name).login=5") && output.contains("\(name).ticket=5"), "\(name): \(output) \(run.stderr)")
            let login = read("\(name).login"), ticket = read("\(name).ticket")
            #expect(login.contains(reason) && login.contains("nothing was sent to it"), "\(name): \(login)")
            #expect(ticket.contains(reason), "\(name): \(ticket)")
            #expect(login.split(separator: "\n").filter { !$0.contains("hint:") }.count == 1, "one line and a hint: \(login)")
            // The failed bus check comes first (libcurl loads), so doctor exits as a keyring command would: 5.
            #expect(output.contains("\(name).doctor=5"), "\(name): \(output)")
            let checks = (try? JSONSerialization.jsonObject(with: Data(read("\(name).doctor").utf8)) as? [[String: Any]]) ?? []
            let bus = checks.first { $0["name"] as? String == "session bus" }
            #expect(bus?["status"] as? String == "failed" && (bus?["detail"] as? String)?.contains(reason) == true, "\(name): \(String(describing: bus))")
            #expect(!checks.contains { $0["name"] as? String == "secret service" }, "doctor does not ask a foreign bus for a provider")
        }
        for name in ["owner", "peer", "abstract", "loose"] {
            #expect(output.contains("\(name).calls=2"), "only the control client spoke on the \(name) bus: \(output) \(read("\(name).monitor"))")
        }
        #expect(output.contains("tcp.connections=0"), "\(output)")
        #expect(!context.sandbox.stop().contains("http web"), "the password was never sent: the store is opened first")
    }
}
