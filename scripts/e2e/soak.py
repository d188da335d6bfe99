#!/usr/bin/env python3
"""Soak: two Faros instances over PostgreSQL and Redis under a steady mixed load, sampled every
10 s: each instance's RSS and open descriptors, the database's and Redis's connections, call
latency (p50/p99) and errors, events delivered. Writes soak.csv and soak.png to --out and prints
a summary; exits non-zero on any error, lost or doubled event, or (with --check-growth) RSS or
descriptors growing more than 5 % over the last two thirds of the run.

usage: soak.py --faros BIN --database-url URL --redis-url URL [--minutes 60] [--out DIR]
               [--sessions 1000] [--calls 200] [--upload-every 3] [--check-growth] [--psql PATH]

Load: --sessions signed-in sessions (20 per user), split between the instances, each subscribed
to `tasks`; --calls calls per second in all (a quarter of them writes, so 200 calls/s make 50
events per second, each fanned out to the writer's 20 sessions; the rest reads and pings; each session
refreshes its token on its own timer, between a third and two thirds of --token-ttl (60 minutes by
default), as the JavaScript client does); an upload of 64 KiB every --upload-every seconds through
the REST bridge.
"""
import argparse
import asyncio
import base64
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos import PASSWORD, Failure, Server, Subscriber, check, connect, register, upload  # noqa: E402
from websockets.sync.client import connect as sync_connect  # noqa: E402

SESSIONS_PER_USER = 20


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else 0.0


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


PSQL = "psql"


def pg_connections(database_url):
    database = database_url.rsplit("/", 1)[1]
    server_url = database_url.rsplit("/", 1)[0] + "/postgres"
    out = subprocess.run([PSQL, server_url, "-tAc", f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'"],
                         capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def redis_clients(redis_url):
    host, port = redis_url.split("//", 1)[1].split(":")
    out = subprocess.run(["redis-cli", "-h", host, "-p", port, "info", "clients"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("connected_clients:"):
            return int(line.split(":")[1])
    return 0


class Load:
    def __init__(self):
        self.latencies = []
        self.errors = []
        self.calls = 0
        self.writes = {}   # user -> set of task ids created (acknowledged)
        self.uploads = 0
        self.upload_errors = []


async def caller(load, client, user, tasks, interval, stop, offset):
    """One call every `interval` seconds on average: writes a quarter of the time."""
    await asyncio.sleep(offset)
    next_at = time.monotonic()
    while not stop.is_set():
        next_at += random.expovariate(1 / interval)
        await asyncio.sleep(max(0, next_at - time.monotonic()))
        roll = random.random()
        if roll < 0.25:
            method, params = "tasks.create", {"title": f"soak {random.getrandbits(48):x}", "tags": ["soak"]}
        elif roll < 0.55:
            method, params = "tasks.get", {"id": random.choice(tasks)}
        elif roll < 0.75:
            method, params = "tasks.list", {"limit": 20}
        else:
            method, params = "rpc.ping", {}
        reply = await timed_call(load, client, method, params)
        if reply is not None and "result" in reply and method == "tasks.create":
            load.writes.setdefault(user, set()).add(reply["result"]["id"])


async def timed_call(load, client, method, params):
    """The reply, with its latency and any error recorded; None when the call itself failed."""
    started = time.monotonic()
    try:
        reply = await client.call(method, params)
    except Exception as error:  # noqa: BLE001 - any failure of a call is an error of the soak
        load.errors.append(f"{method}: {error!r}")
        return None
    load.latencies.append((time.monotonic(), (time.monotonic() - started) * 1000))
    load.calls += 1
    if "error" in reply:
        load.errors.append(f"{method}: {reply['error']}")
    return reply


def token_expiry(token):
    """The access token's expiry (its JWT `exp`), in seconds since the epoch."""
    payload = token.split(".")[1]
    exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
    return exp / 1000 if exp > 1e11 else exp


def refresh_delay(expires_at, lifetime):
    """Like the JavaScript client: refresh once a third of the lifetime has passed, at a random
    moment in the third after, so that a thousand sessions do not refresh together."""
    return max(0.0, expires_at - time.time() - lifetime * random.uniform(1 / 3, 2 / 3))


async def refresher(load, client, token, lifetime, stop):
    """Keeps one session's token fresh on its own timer, whatever the call pace (a session
    whose next call came late must not expire first: that was a harness error, not Faros's)."""
    expires_at = token_expiry(token)
    while True:
        try:
            await asyncio.wait_for(stop.wait(), refresh_delay(expires_at, lifetime))
            return
        except asyncio.TimeoutError:
            pass
        reply = await timed_call(load, client, "auth.refresh", {})
        if reply is None or "result" not in reply:
            return
        expires_at = token_expiry(reply["result"]["accessToken"])


def fresh_token(ws_url, name):
    """A new access token by signing in again (the uploader's bearer token outlives no hour)."""
    with sync_connect(ws_url) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.login",
                            "params": {"username": name, "password": PASSWORD}}))
        return json.loads(ws.recv(timeout=30))["result"]["token"]["accessToken"]


def uploader(load, base, ws_url, name, token, task_id, every, stop, refresh_every):
    renew_at = time.monotonic() + refresh_every
    while not stop.is_set():
        if time.monotonic() >= renew_at:
            token, renew_at = fresh_token(ws_url, name), renew_at + refresh_every
        status, body = upload(base, token, task_id, 64 << 10)
        load.uploads += 1
        if status != 201:
            load.upload_errors.append((status, body))
        stop.wait(every)


async def soak(args):
    secret = os.urandom(32).hex()
    shared = ["--database-url", args.database_url, "--redis-url", args.redis_url, "--jwt-secret", secret,
              "--max-upload-bytes", "1MiB", "--token-ttl", f"{args.token_ttl}m"]
    a, b = Server(args.faros, *shared).start(), Server(args.faros, *shared).start()
    servers = [a, b]
    stop = asyncio.Event()
    thread_stop = threading.Event()
    load = Load()
    try:
        users = []
        for i in range(max(1, args.sessions // SESSIONS_PER_USER)):
            client, name, token = await register(servers[i % 2].ws, "soak")
            seed = [(await client.ok("tasks.create", {"title": f"seed {j}"}))["id"] for j in range(5)]
            head = (await client.ok("events.subscribe", {"topics": ["tasks"]}))["seq"]
            await client.close()
            users.append((name, token, seed, head))
        subscribers, callers = [], []
        for index, (name, token, seed, head) in enumerate(users):
            for k in range(SESSIONS_PER_USER):
                s = Subscriber([servers[(index + k) % 2].ws], token, head)
                await s.open(attempts=5)
                subscribers.append((name, s))
        print(f"  {len(subscribers)} sessions of {len(users)} users subscribed on two instances")
        per_call = len(subscribers) / args.calls
        lifetime = args.token_ttl * 60
        refresh_every = lifetime / 3  # the uploader signs in again this often
        # Readers and token refreshers stop after the callers, so no call loses its socket at
        # the end and no session expires while the last events are on their way to it.
        readers_stop = asyncio.Event()
        refreshers = []
        for name, s in subscribers:
            seed = next(u[2] for u in users if u[0] == name)
            callers.append(asyncio.ensure_future(
                caller(load, s.client, name, seed, per_call, stop, random.random() * per_call)))
            refreshers.append(asyncio.ensure_future(refresher(load, s.client, s.token, lifetime, readers_stop)))
        readers = [asyncio.ensure_future(s.run(readers_stop)) for _, s in subscribers]
        first = users[0]
        up = threading.Thread(target=uploader, args=(load, a.http, a.ws, first[0], first[1], first[2][0], args.upload_every, thread_stop, refresh_every), daemon=True)
        up.start()

        os.makedirs(args.out, exist_ok=True)
        rows = []
        started = time.monotonic()
        last_calls, last_events = 0, 0
        while time.monotonic() - started < args.minutes * 60:
            await asyncio.sleep(10)
            now = time.monotonic()
            window = [ms for t, ms in load.latencies if t > now - 10]
            events = sum(len(s.seqs) for _, s in subscribers)
            row = {
                "t": round(now - started),
                "rss_a_mib": round(a.rss_mib(), 1), "rss_b_mib": round(b.rss_mib(), 1),
                "fds_a": descriptors(a.process.pid), "fds_b": descriptors(b.process.pid),
                "pg_connections": await asyncio.to_thread(pg_connections, args.database_url),
                "redis_clients": await asyncio.to_thread(redis_clients, args.redis_url),
                "calls_per_s": round((load.calls - last_calls) / 10, 1),
                "deliveries_per_s": round((events - last_events) / 10, 1),
                "p50_ms": round(statistics.median(window), 2) if window else 0,
                "p99_ms": round(percentile(window, 99), 2),
                "errors": len(load.errors) + len(load.upload_errors),
            }
            last_calls, last_events = load.calls, events
            load.latencies = [(t, ms) for t, ms in load.latencies if t > now - 10]
            rows.append(row)
            print("  " + " ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        stop.set()
        thread_stop.set()
        await asyncio.gather(*callers)
        up.join()
        # Every acknowledged write reaches each of its user's sessions once.
        expected = {name: ids for name, ids in load.writes.items()}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(expected.get(n, set()) <= s.created for n, s in subscribers):
            await asyncio.sleep(0.2)
        readers_stop.set()
        await asyncio.gather(*readers, *refreshers)
        missing = sum(len(expected.get(n, set()) - s.created) for n, s in subscribers)
        for name, s in subscribers:
            if s.client is not None and s.client.signed_out:
                load.errors.append(f"session of {name} signed out: {s.client.signed_out}")
        doubled = sum(s.duplicates + s.backwards for _, s in subscribers)
        delivered = sum(len(s.created & expected.get(n, set())) for n, s in subscribers)
        # Seed tasks may be numbered after the head their user read (numbering follows the commit),
        # so they can arrive too; anything else is a task nobody was told was created.
        seeds = {name: set(seed) for name, _, seed, _ in users}
        unacknowledged = sum(len(s.created - expected.get(n, set()) - seeds[n]) for n, s in subscribers)
        check(unacknowledged == 0, f"{unacknowledged} deliveries of tasks whose creation was never acknowledged")

        with open(os.path.join(args.out, "soak.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        plot(rows, os.path.join(args.out, "soak.png"))
        summary(args, rows, load, missing, doubled, delivered, sum(len(v) for v in expected.values()) * SESSIONS_PER_USER)
    finally:
        stop.set()
        thread_stop.set()
        a.stop()
        b.stop()


def growth(rows, key):
    """Relative growth over the last two thirds of the run (after warm-up): last third's mean vs the middle third's."""
    n = len(rows)
    middle = [r[key] for r in rows[n // 3: 2 * n // 3]] or [rows[0][key]]
    last = [r[key] for r in rows[2 * n // 3:]] or [rows[-1][key]]
    base = statistics.mean(middle)
    return (statistics.mean(last) - base) / base if base else 0.0


def summary(args, rows, load, missing, doubled, delivered, expected_events):
    growths = {key: growth(rows, key) for key in ("rss_a_mib", "rss_b_mib", "fds_a", "fds_b")}
    p99s = [r["p99_ms"] for r in rows]
    print(f"  calls: {sum(r['calls_per_s'] for r in rows) * 10:.0f} in {args.minutes:g} min; p50 median "
          f"{statistics.median(r['p50_ms'] for r in rows):.1f} ms; p99 first/last third "
          f"{statistics.mean(p99s[: max(1, len(p99s) // 3)]):.1f}/{statistics.mean(p99s[-max(1, len(p99s) // 3):]):.1f} ms")
    print(f"  RSS A {rows[0]['rss_a_mib']}→{rows[-1]['rss_a_mib']} MiB, B {rows[0]['rss_b_mib']}→{rows[-1]['rss_b_mib']} MiB; "
          f"descriptors A {rows[0]['fds_a']}→{rows[-1]['fds_a']}, B {rows[0]['fds_b']}→{rows[-1]['fds_b']}; "
          f"PostgreSQL connections {rows[-1]['pg_connections']}, Redis clients {rows[-1]['redis_clients']}")
    print("  growth over the last two thirds: " + ", ".join(f"{k} {v * 100:+.1f} %" for k, v in growths.items()))
    print(f"  events: {expected_events} expected, {delivered} delivered, {missing} missing, {doubled} doubled or out of order; "
          f"uploads {load.uploads}, errors {len(load.errors)} calls + {len(load.upload_errors)} uploads")
    if load.errors or load.upload_errors:
        print(f"  first errors: {(load.errors + load.upload_errors)[:3]}")
    check(not load.errors and not load.upload_errors, "errors during the soak")
    check(missing == 0 and doubled == 0, "events lost or doubled")
    if args.check_growth:
        check(all(v < 0.05 for v in growths.values()), f"growth over 5 %: {growths}")


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (matplotlib not installed: no plot)")
        return
    t = [r["t"] / 60 for r in rows]
    fig, axes = plt.subplots(4, 1, figsize=(10, 12), sharex=True)
    for ax, keys, label in [
        (axes[0], ["rss_a_mib", "rss_b_mib"], "RSS (MiB)"),
        (axes[1], ["fds_a", "fds_b", "pg_connections", "redis_clients"], "descriptors / connections"),
        (axes[2], ["p50_ms", "p99_ms"], "call latency (ms)"),
        (axes[3], ["calls_per_s", "deliveries_per_s"], "per second"),
    ]:
        for key in keys:
            ax.plot(t, [r[key] for r in rows], label=key)
        ax.set_ylabel(label)
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("minutes")
    fig.suptitle("Faros soak: two instances over PostgreSQL and Redis")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faros", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--calls", type=float, default=200)
    parser.add_argument("--upload-every", type=float, default=3)
    parser.add_argument("--out", default="soak-output")
    parser.add_argument("--check-growth", action="store_true")
    parser.add_argument("--psql", default="psql")
    parser.add_argument("--token-ttl", type=int, default=60, help="access token lifetime, minutes (each session refreshes between a third and two thirds of it)")
    args = parser.parse_args()
    global PSQL
    PSQL = args.psql
    print(f"soak: {args.minutes:g} min, {args.sessions} sessions, {args.calls:g} calls/s")
    try:
        asyncio.run(soak(args))
    except Failure as failure:
        print(f"soak: FAILED: {failure}")
        return 1
    print("soak: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
