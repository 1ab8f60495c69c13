#!/usr/bin/env python3
"""Relay cost of `gkpass proxy`: one-way latency and throughput of PRIVMSGs into a room, sent through the proxy
(logged in with the stored Passport ticket) and sent directly to the sandbox (as a guest), received by a guest on
the sandbox. Prints a markdown table.   proxy-bench.py PROXY_PORT IRCX_PORT GKPASS [PROXY_PID SANDBOX_PID]
With the two process ids it also prints the CPU time each process spent per 1,000 lines of each throughput phase
(summed over its threads, from /proc/PID/task/*/schedstat; the client's proxy thread lives through its phase), and
the sandbox's busiest thread: when that one thread's time is the phase's elapsed time, the sandbox is the limit."""
import glob, socket, subprocess, sys, time

proxy_port, ircx_port, gkpass = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pids = {"proxy": sys.argv[4], "sandbox": sys.argv[5]} if len(sys.argv) > 5 else {}
cpu_per_phase = {}


def cpu_ns(pid):
    """Nanoseconds on a CPU, per thread."""
    threads = {}
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            threads[path.split("/")[4]] = int(open(path).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return threads


class Client:
    def __init__(self, port):
        # A bound on every wait: a line that never comes ends the benchmark with an error instead of hanging it.
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def until(self, fragment):
        while True:
            line = self.line()
            if fragment in line:
                return line


def guest(nick):
    c = Client(ircx_port)
    c.send(b"IRCVERS IRC8 MSN-OCX!9.02.0310.2401\r\n" + subprocess.run([gkpass, "gatekeeper", "init", "--version", "3"], capture_output=True).stdout)
    challenge = c.until(b"AUTH GateKeeper S :")
    c.send(subprocess.run([gkpass, "gatekeeper", "respond", "--host", "127.0.0.1"], input=challenge + b"\r\n", capture_output=True).stdout)
    c.until(b"AUTH GateKeeper *")
    c.send(b"NICK " + nick + b"\r\nUSER g 0 * :g\r\n")
    c.until(b" 376 ")
    return c


def through_proxy():
    c = Client(proxy_port)
    c.send(b"NICK x\r\nUSER x 0 * :x\r\n")
    c.until(b" 376 ")
    return c


def measure(sender, receiver, tag):
    sender.send(b"JOIN #bench\r\n")
    sender.until(b" 366 ")
    receiver.until(b"JOIN")
    latencies = []
    for i in range(500):
        marker = b"%s-%d" % (tag, i)
        start = time.perf_counter()
        sender.send(b"PRIVMSG #bench :" + marker + b"\r\n")
        receiver.until(marker)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    count, body = 20000, b"x" * 200
    before = {name: cpu_ns(pid) for name, pid in pids.items()}
    start = time.perf_counter()
    batch = b"".join(b"PRIVMSG #bench :%s-bulk-%d %s\r\n" % (tag, i, body) for i in range(count))
    sender.send(batch)
    receiver.until(b"%s-bulk-%d " % (tag, count - 1))
    elapsed = time.perf_counter() - start
    usage = {}
    for name, pid in pids.items():
        after = cpu_ns(pid)
        spent = [(after[thread] - before[name].get(thread, 0)) / 1e6 for thread in after]
        usage[name] = (sum(spent) / (count / 1000), max(spent, default=0))
    cpu_per_phase[tag] = (usage, elapsed * 1000)
    sender.send(b"PART #bench\r\n")
    receiver.until(b"PART")
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)], count / elapsed, len(batch) / elapsed / 1e6


receiver = guest(b">receiver")
receiver.send(b"JOIN #bench\r\n")
receiver.until(b" 366 ")
direct = measure(guest(b">direct"), receiver, b"direct")
proxied = measure(through_proxy(), receiver, b"proxy")
print("| path | one-way latency p50 | p99 | throughput | |")
print("|---|---|---|---|---|")
for name, (p50, p99, rate, mbps) in (("direct to the sandbox (guest)", direct), ("through `gkpass proxy` (Passport)", proxied)):
    print(f"| {name} | {p50:.3f} ms | {p99:.3f} ms | {rate:,.0f} msg/s | {mbps:.1f} MB/s |")
print()
print(f"Added by the proxy: {proxied[0] - direct[0]:+.3f} ms at p50; throughput {proxied[2] / direct[2]:.2f}x of direct.")
if pids:
    print()
    print("CPU time per 1,000 lines of the throughput phase: " + "; ".join(
        f"{tag.decode()}: " + ", ".join(f"{name} {ms:.1f} ms" for name, (ms, _) in usage.items())
        for tag, (usage, _) in cpu_per_phase.items()) + ". The sandbox's busiest thread against the phase's time: " + "; ".join(
        f"{tag.decode()}: {usage['sandbox'][1]:.0f} of {elapsed:.0f} ms" for tag, (usage, elapsed) in cpu_per_phase.items()) + ".")
