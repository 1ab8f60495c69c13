#!/usr/bin/env python3
"""Load against a running gkpass-sandbox: C concurrent workers, each doing Tweener logins over fresh TLS connections
and full IRCX GateKeeperPassport sessions (auth, register, join, message, quit) with the tickets it got.
Independent of gkpass: Python's ssl, hmac and sockets only. Prints one markdown table; exits 1 on any error.

usage: sandbox-load.py ENDPOINTS_JSON [--concurrency 200] [--logins 2000] [--sessions 1000]
"""
import argparse, asyncio, hmac, json, ssl, sys, time

def esc(b):
    m = {0: b"\\0", 9: b"\\t", 10: b"\\n", 13: b"\\r", 32: b"\\b", 44: b"\\c", 92: b"\\\\"}
    return b"".join(m.get(x, bytes([x])) for x in b)

def unesc(b):
    m = {ord("0"): 0, ord("t"): 9, ord("n"): 10, ord("r"): 13, ord("b"): 32, ord("c"): 44, ord("\\"): 92}
    out, i = bytearray(), 0
    while i < len(b):
        if b[i] == 92 and i + 1 < len(b) and b[i + 1] in m:
            out.append(m[b[i + 1]]); i += 2
        else:
            out.append(b[i]); i += 1
    return bytes(out)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000 if values else float("nan")

async def tweener(host, port, ctx, member, password):
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
    auth = f"Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={member.replace('@', '%40')},pwd={password},lc=1033"
    writer.write(f"GET /login2.srf HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    if not head.startswith("HTTP/1.1 200"):
        raise RuntimeError("login failed: " + head.splitlines()[0])
    info = [l for l in head.split("\r\n") if l.startswith("Authentication-Info:")][0]
    from_pp = info.split("from-PP='", 1)[1].split("'", 1)[0]
    t, p = from_pp[2:].split("&p=", 1)
    return t, p

async def session(host, port, server_name, t, p, n):
    reader, writer = await asyncio.open_connection(host, port)
    async def line():
        return (await reader.readline()).rstrip(b"\r\n")
    writer.write(b"AUTH GateKeeperPassport I :" + esc(b"GKSSP\0\0\0" + (3).to_bytes(4, "little") + (1).to_bytes(4, "little")) + b"\r\n")
    tok = unesc((await line()).split(b" :", 1)[1])
    digest = hmac.new(b"SRFMKSJANDRESKKC", tok[16:24] + server_name.encode()[:15], "md5").digest()
    writer.write(b"AUTH GateKeeperPassport S :" + esc(tok[:12] + (3).to_bytes(4, "little") + digest + b"\0" * 16) + b"\r\n")
    if await line() != b"AUTH GateKeeperPassport S :OK":
        raise RuntimeError("no OK")
    writer.write(b"AUTH GateKeeperPassport S :" + b"%08X%s%08X%s" % (len(t), t.encode(), len(p), p.encode()) + b"\r\n")
    if not (await line()).startswith(b"AUTH GateKeeperPassport * "):
        raise RuntimeError("passport refused")
    writer.write(b"NICK L%d\r\nUSER l 0 * :l\r\nJOIN %%#Load%d\r\nPRIVMSG %%#Load%d :hi\r\nQUIT :done\r\n" % (n, n % 10, n % 10))
    while True:
        l = await line()
        if not l or l.startswith(b"ERROR"):
            break
    writer.close()

async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoints")
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=1000)
    a = ap.parse_args()
    ep = json.load(open(a.endpoints))
    origin = ep["nexus_url"].split("/rdr/")[0]
    host, port = origin[len("https://"):].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ep["ca_file"])
    ircx_host, ircx_port, server_name = ep["ircx"]["host"], ep["ircx"]["port"], ep["server_name"]
    members = [a["member"] for a in ep["accounts"]]
    login_times, session_times, errors = [], [], []
    tickets = []
    counter = iter(range(10**9))

    async def login_worker():
        while (i := next(counter)) < a.logins:
            m = i % len(members)
            member = members[m]
            password = "sandbox-demo" if member == "demo@passport.test" else "password-" + member.split("@")[0][4:]
            t0 = time.perf_counter()
            try:
                tickets.append(await tweener(host, int(port), ctx, member, password))
                login_times.append(time.perf_counter() - t0)
            except Exception as e:
                errors.append(repr(e))

    start = time.perf_counter()
    await asyncio.gather(*[login_worker() for _ in range(a.concurrency)])
    login_wall = time.perf_counter() - start

    counter = iter(range(10**9))
    async def session_worker():
        while (i := next(counter)) < a.sessions:
            t, p = tickets[i % len(tickets)]
            t0 = time.perf_counter()
            try:
                await session(ircx_host, ircx_port, server_name, t, p, i)
                session_times.append(time.perf_counter() - t0)
            except Exception as e:
                errors.append(repr(e))

    start = time.perf_counter()
    await asyncio.gather(*[session_worker() for _ in range(a.concurrency)])
    session_wall = time.perf_counter() - start

    print("| load (%d concurrent connections) | count | rate | p50 | p99 | errors |" % a.concurrency)
    print("|---|---|---|---|---|---|")
    print("| Tweener login over a fresh TLS connection | %d | %.0f /s | %.1f ms | %.1f ms | %d |" % (
        len(login_times), len(login_times) / login_wall, pct(login_times, 50), pct(login_times, 99), 0))
    print("| IRCX session: GateKeeperPassport, register, JOIN, PRIVMSG, QUIT | %d | %.0f /s | %.1f ms | %.1f ms | %d |" % (
        len(session_times), len(session_times) / session_wall, pct(session_times, 50), pct(session_times, 99), 0))
    if errors:
        print("errors: %d, first: %s" % (len(errors), errors[0]), file=sys.stderr)
        sys.exit(1)

asyncio.run(main())
