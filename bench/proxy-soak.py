#!/usr/bin/env python3
"""Soak of `gkpass proxy`: C clients at once through ONE proxy, each logged in upstream as its own stored account
(IRC PASS names it), all in one room. Each client sends N numbered lines; every other client must receive every one,
exactly once and in each sender's order. Prints a markdown table; exits 1 when a line was lost, duplicated or
reordered, or a client was refused or closed.

usage: proxy-soak.py PROXY_PORT ACCOUNT... [--lines 20] [--room %#Soak] [--timeout 180]
Bounded: every wait has a deadline (--timeout in all), and the clients QUIT at the end. Loopback only.
"""
import argparse, asyncio, sys, time


async def expect(reader, fragment, deadline):
    while True:
        line = await asyncio.wait_for(reader.readline(), max(0.1, deadline - time.monotonic()))
        if not line:
            raise EOFError("closed while waiting for %r" % fragment)
        if fragment in line:
            return line


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("accounts", nargs="+")
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--room", default="%#Soak")
    ap.add_argument("--timeout", type=float, default=180)
    a = ap.parse_args()
    room = a.room.encode()
    deadline = time.monotonic() + a.timeout
    clients = []

    async def connect(index, account):
        reader, writer = await asyncio.open_connection("127.0.0.1", a.port, limit=1 << 20)
        writer.write(b"PASS %s\r\nNICK c%d\r\nUSER c 0 * :c\r\n" % (account.encode(), index))
        welcome = await expect(reader, b" 001 ", deadline)
        nick = welcome.split(b" ")[2]
        await expect(reader, b" 376 ", deadline)
        writer.write(b"JOIN %s\r\n" % room)
        await expect(reader, b" 366 ", deadline)
        return reader, writer, nick

    start = time.monotonic()
    # In batches, so the proxy's and the sandbox's accept queues are never the limit being measured.
    for first in range(0, len(a.accounts), 25):
        batch = a.accounts[first:first + 25]
        clients += await asyncio.gather(*[connect(first + i, account) for i, account in enumerate(batch)])
    setup = time.monotonic() - start
    nicks = [nick for _, _, nick in clients]
    if len(set(nicks)) != len(nicks):
        print("two clients got the same nickname: %s" % nicks, file=sys.stderr)
        sys.exit(1)

    # received[r][sender] = the numbers r got from sender, in arrival order
    received = [dict() for _ in clients]
    expected_each = (len(clients) - 1) * a.lines
    counts = [0] * len(clients)
    done = asyncio.Event()
    finished = [0]
    marker = b" PRIVMSG " + room + b" :soak "

    async def read(index):
        reader = clients[index][0]
        while counts[index] < expected_each:
            line = await asyncio.wait_for(reader.readline(), max(0.1, deadline - time.monotonic()))
            if not line:
                raise EOFError("client %d closed after %d of %d lines" % (index, counts[index], expected_each))
            at = line.find(marker)
            if at < 0:
                continue
            sender, number = line[at + len(marker):].split()[:2]
            received[index].setdefault(sender, []).append(int(number))
            counts[index] += 1
        finished[0] += 1
        if finished[0] == len(clients):
            done.set()

    readers = [asyncio.ensure_future(read(i)) for i in range(len(clients))]
    start = time.monotonic()
    for n in range(a.lines):
        for index, (_, writer, nick) in enumerate(clients):
            writer.write(b"PRIVMSG %s :soak %s %d\r\n" % (room, nick, n))
        await asyncio.gather(*[w.drain() for _, w, _ in clients])
    errors = []
    try:
        await asyncio.wait_for(asyncio.gather(*readers), max(0.1, deadline - time.monotonic()))
    except Exception as e:  # noqa: BLE001 - reported below
        errors.append(repr(e))
    elapsed = time.monotonic() - start

    lost = duplicated = reordered = 0
    for r, by_sender in enumerate(received):
        for s, nick in enumerate(nicks):
            if s == r:
                continue
            got = by_sender.get(nick, [])
            lost += len(set(range(a.lines)) - set(got))
            duplicated += len(got) - len(set(got))
            reordered += got != sorted(got)
    for _, writer, _ in clients:
        writer.write(b"QUIT :soak done\r\n")
    await asyncio.gather(*[w.drain() for _, w, _ in clients], return_exceptions=True)
    for _, writer, _ in clients:
        writer.close()

    total = sum(counts)
    print("| clients through one proxy | lines sent | deliveries expected | received | lost | duplicated | out of order | time | deliveries/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("| %d | %d (%d each) | %d | %d | %d | %d | %d | %.1f s | %s |" % (
        len(clients), len(clients) * a.lines, a.lines, expected_each * len(clients), total, lost, duplicated, reordered,
        elapsed, format(int(total / elapsed), ",") if elapsed > 0 else "-"))
    print()
    print("Set-up (%d logins upstream, each client's own account, and JOIN %s): %.1f s." % (len(clients), a.room, setup))
    if errors or lost or duplicated or reordered:
        print("soak failed: %s" % ("; ".join(errors) or "lines lost, duplicated or out of order"), file=sys.stderr)
        sys.exit(1)


asyncio.run(main())
