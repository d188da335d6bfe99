#!/usr/bin/env python3
"""Presence benchmark: N users present on one task (one session each), then a probe user joins
and leaves it ROUNDS times. Prints, as text and as one JSON line at the end:

- join latency: the probe's `presence.enter` sent → each present session's `presence.joined`
  received (p50/p99/max over every delivery, and the per-round time to reach everyone);
- `presence.list` round trip with N members, beside `rpc.ping` on the same socket (the floor);
- memory per presence session: the server's RSS before and after the N sessions enter (connected
  and signed in either way), and in Redis the task hash's MEMORY USAGE.

usage: bench_presence.py --faros BIN [--users 1000] [--rounds 20]
                         [--database-url URL --redis-url URL]   (two instances over Redis)

The receivers run in WORKERS processes (default 4) so that the harness's own receive time stays
small against what is measured; they share this machine's 2 cores with the server(s), so the
figures are an upper bound for the server. Servers run with --no-rate-limits and the lowest
password cost.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

import websockets

from chaos import Server

PASSWORD = "bench presence 1"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def rpc(ws, method, params=None, id_=1):
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == id_:
            if "error" in reply:
                raise SystemExit(f"{method}: {reply['error']}")
            return reply["result"]


async def register_all(url, names):
    """Registers `names` in batches; a registration refused because the hashing queue is full
    (-32029) is retried after the wait it names."""
    tokens = {}
    async with websockets.connect(url, max_size=None) as ws:
        pending = list(names)
        while pending:
            chunk, pending = pending[:50], pending[50:]
            await ws.send(json.dumps([{"jsonrpc": "2.0", "id": i, "method": "auth.register", "params": {
                "username": n, "email": f"{n}@example.com", "password": PASSWORD}} for i, n in enumerate(chunk)]))
            retry = []
            for answer in json.loads(await ws.recv()):
                if "error" in answer:
                    if answer["error"]["code"] != -32029:
                        raise SystemExit(f"register: {answer['error']}")
                    retry.append(chunk[answer["id"]])
                    continue
                tokens[chunk[answer["id"]]] = (answer["result"]["user"]["id"], answer["result"]["token"]["accessToken"])
            if retry:
                await asyncio.sleep(0.05)
                pending = retry + pending
    return tokens


def worker(urls, tokens, task, probe_id, conn):
    """Holds one session per token on the task; records when each presence.joined of the probe
    arrives; answers the driver's commands over `conn`."""
    async def main():
        sockets = []
        for i, token in enumerate(tokens):
            ws = await websockets.connect(urls[i % len(urls)], max_size=None, additional_headers={"Authorization": f"Bearer {token}"},
                                          ping_interval=None)
            sockets.append(ws)
        conn.send("connected")
        assert conn.recv() == "enter"
        for ws in sockets:
            await rpc(ws, "presence.enter", {"taskId": task})
        arrivals = []
        marker = f'"userId":{probe_id},'.encode()

        async def read(ws):
            async for raw in ws:
                data = raw.encode() if isinstance(raw, str) else raw
                if b'"presence.joined"' in data and marker in data:
                    arrivals.append(time.time())
        readers = [asyncio.ensure_future(read(ws)) for ws in sockets]
        conn.send("entered")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "report":
                conn.send(arrivals[:])
            elif command == "count":
                conn.send(len(arrivals))
            elif command == "stop":
                break
        for r in readers:
            r.cancel()
        for ws in sockets:
            await ws.close()
    asyncio.run(main())


def solo_worker(urls, tokens, conn):
    """One session per token, each on a task of its own (no one else sees it): the memory phase."""
    async def main():
        sockets, tasks = [], []
        for i, token in enumerate(tokens):
            ws = await websockets.connect(urls[i % len(urls)], max_size=None, additional_headers={"Authorization": f"Bearer {token}"},
                                          ping_interval=None)
            sockets.append(ws)
            tasks.append((await rpc(ws, "tasks.create", {"title": "solo"}))["id"])
        conn.send("connected")
        assert conn.recv() == "enter"
        for ws, task in zip(sockets, tasks):
            await rpc(ws, "presence.enter", {"taskId": task})
        conn.send("entered")
        assert conn.recv() == "stop"
        for ws in sockets:
            await ws.close()
    asyncio.run(main())


def redis_used_memory(url):
    out = subprocess.run(["redis-cli", "-u", url, "INFO", "memory"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


async def memory_phase(args, servers, urls, mode):
    """N sessions each on a task of their own: the server's RSS and Redis's used memory before
    and after they enter, per session. Nothing is notified to anyone else, so no send buffer
    grows meanwhile."""
    prefix = "m" + os.urandom(3).hex()
    names = [f"{prefix}{i}" for i in range(args.memory_sessions)]
    tokens = await register_all(urls[0], names)
    workers, pipes = [], []
    all_tokens = [tokens[n][1] for n in names]
    for w in range(args.workers):
        parent, child = multiprocessing.Pipe()
        p = multiprocessing.Process(target=solo_worker, args=(urls, all_tokens[w::args.workers], child), daemon=True)
        p.start()
        workers.append(p)
        pipes.append(parent)
    for pipe in pipes:
        assert pipe.recv() == "connected"
    await asyncio.sleep(2)
    before = sum(rss_kib(s.process.pid) for s in servers)
    redis_before = redis_used_memory(args.redis_url) if args.redis_url else 0
    for pipe in pipes:
        pipe.send("enter")
    for pipe in pipes:
        assert pipe.recv() == "entered"
    await asyncio.sleep(2)
    after = sum(rss_kib(s.process.pid) for s in servers)
    redis_after = redis_used_memory(args.redis_url) if args.redis_url else 0
    for pipe in pipes:
        pipe.send("stop")
    for p in workers:
        p.join(10)
    n = len(names)
    # With two instances each holds every entry (its own and a copy of the other's).
    return {"sessions": n, "rss_kib_before": before, "rss_kib_after": after,
            "server_bytes_per_session": round((after - before) * 1024 / n, 1),
            "redis_bytes_per_session": round((redis_after - redis_before) / n, 1) if args.redis_url else None}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def bench(args):
    common = ["--password-cost", "1"]
    servers = []
    if args.redis_url:
        shared = ["--database-url", args.database_url, "--redis-url", args.redis_url, "--jwt-secret", os.urandom(32).hex()]
        servers = [Server(args.faros, *common, *shared).start(), Server(args.faros, *common, *shared).start()]
        mode = "redis"
    else:
        servers = [Server(args.faros, *common).start()]
        mode = "in-process"
    try:
        urls = [s.ws for s in servers]
        prefix = "p" + os.urandom(3).hex()
        names = [f"{prefix}{i}" for i in range(args.users + 1)]
        t = time.monotonic()
        tokens = await register_all(urls[0], names)
        print(f"{mode}: registered {len(names)} users in {time.monotonic() - t:.1f} s", file=sys.stderr)
        owner, probe = names[0], names[-1]
        owner_id, owner_token = tokens[owner]
        probe_id, probe_token = tokens[probe]
        async with websockets.connect(urls[0], max_size=None, additional_headers={"Authorization": f"Bearer {owner_token}"}) as ws:
            task = (await rpc(ws, "tasks.create", {"title": "presence bench"}))["id"]
        insert = (f"INSERT INTO task_shares (task_id, user_id, permission, shared_at, shared_by) "
                  f"SELECT {task}, id, 'view', {int(time.time() * 1000)}, {owner_id} FROM users "
                  f"WHERE username LIKE '{prefix}%' AND id <> {owner_id}")
        if args.redis_url:
            subprocess.run([args.psql, args.database_url, "-qc", insert], check=True)
        else:
            with sqlite3.connect(os.path.join(servers[0].directory, "faros.sqlite"), timeout=30) as db:
                db.execute(insert)

        # N present users (the owner and N-1 others), spread over the workers (and instances).
        present = [tokens[n][1] for n in names[:-1]]
        workers, pipes = [], []
        for w in range(args.workers):
            parent, child = multiprocessing.Pipe()
            p = multiprocessing.Process(target=worker, args=(urls, present[w::args.workers], task, probe_id, child), daemon=True)
            p.start()
            workers.append(p)
            pipes.append(parent)
        for pipe in pipes:
            assert pipe.recv() == "connected"
        time.sleep(1)
        before = {s.process.pid: rss_kib(s.process.pid) for s in servers}
        t = time.monotonic()
        for pipe in pipes:
            pipe.send("enter")
        for pipe in pipes:
            assert pipe.recv() == "entered"
        print(f"{mode}: {len(present)} sessions entered in {time.monotonic() - t:.1f} s", file=sys.stderr)

        probe_ws = await websockets.connect(urls[0], max_size=None, additional_headers={"Authorization": f"Bearer {probe_token}"})
        # Let the joins' notifications drain, then measure memory.
        await asyncio.sleep(3)
        after = {s.process.pid: rss_kib(s.process.pid) for s in servers}
        redis_bytes = None
        if args.redis_url:
            out = subprocess.run(["redis-cli", "-u", args.redis_url, "MEMORY", "USAGE", f"faros:presence:task:{task}"],
                                 capture_output=True, text=True).stdout.strip()
            redis_bytes = int(out) if out.isdigit() else None

        sent = []
        for r in range(args.rounds):
            sent.append(time.time())
            await rpc(probe_ws, "presence.enter", {"taskId": task}, id_=10 + r)
            deadline = time.monotonic() + 30
            while True:
                counts = 0
                for pipe in pipes:
                    pipe.send("count")
                    counts += pipe.recv()
                if counts >= len(present) * (r + 1):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"round {r}: only {counts - len(present) * r} of {len(present)} joins arrived")
                await asyncio.sleep(0.05)
            await rpc(probe_ws, "presence.leave", {"taskId": task}, id_=1000 + r)
            await asyncio.sleep(0.3)
        arrivals = []
        for pipe in pipes:
            pipe.send("report")
            arrivals.append(pipe.recv())
        latencies, per_round = [], []
        for r in range(args.rounds):
            # Each worker recorded one arrival per session per round, in round order.
            this = []
            for a in arrivals:
                k = len(a) // args.rounds
                this += [(t - sent[r]) * 1000 for t in a[r * k:(r + 1) * k]]
            latencies += this
            per_round.append(max(this))

        async def timed(method, params, n):
            times = []
            for i in range(n):
                t = time.perf_counter()
                await rpc(probe_ws, method, params, id_=5000 + i)
                times.append((time.perf_counter() - t) * 1000)
            return times
        lists = await timed("presence.list", {"taskId": task}, args.list_calls)
        pings = await timed("rpc.ping", None, args.list_calls)
        listed = await rpc(probe_ws, "presence.list", {"taskId": task}, id_=9999)
        await probe_ws.close()
        for pipe in pipes:
            pipe.send("stop")
        for p in workers:
            p.join(10)

        memory = await memory_phase(args, servers, urls, mode) if args.memory_sessions else None
        result = {
            "memory": memory,
            "mode": mode, "users": len(present), "rounds": args.rounds, "members_listed": len(listed["members"]),
            "join_ms": {"p50": round(pct(latencies, 50), 2), "p99": round(pct(latencies, 99), 2), "max": round(max(latencies), 2)},
            "join_reach_everyone_ms": {"p50": round(pct(per_round, 50), 2), "max": round(max(per_round), 2)},
            "list_ms": {"p50": round(pct(lists, 50), 2), "p99": round(pct(lists, 99), 2)},
            "ping_ms": {"p50": round(pct(pings, 50), 2), "p99": round(pct(pings, 99), 2)},
            "rss_kib_one_task": {"before": before, "after": after},
            "redis_hash_bytes_per_member": round(redis_bytes / len(present), 1) if redis_bytes else None,
        }
        print(f"{mode}: {len(present)} present; join → everyone p50 {result['join_ms']['p50']} ms, "
              f"p99 {result['join_ms']['p99']} ms, max {result['join_ms']['max']} ms; "
              f"presence.list ({len(listed['members'])} members) p50 {result['list_ms']['p50']} ms p99 {result['list_ms']['p99']} ms "
              f"(rpc.ping p50 {result['ping_ms']['p50']} ms)"
              + (f"; Redis hash {result['redis_hash_bytes_per_member']} B per member" if redis_bytes else ""))
        if memory:
            print(f"{mode}: memory, {memory['sessions']} sessions each on a task of its own: server "
                  f"{memory['server_bytes_per_session']} B per presence session (RSS, all instances)"
                  + (f", Redis {memory['redis_bytes_per_session']} B per session" if args.redis_url else ""))
        print(json.dumps(result))
    finally:
        for s in servers:
            s.stop(signal.SIGKILL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--faros", required=True)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--list-calls", type=int, default=200)
    parser.add_argument("--memory-sessions", type=int, default=5000, help="sessions of the memory phase (0: skip)")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--psql", default="psql")
    args = parser.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
