#!/usr/bin/env python3
"""Seeds a Faros server for scripts/bench-fanout: users PREFIX0..PREFIXn (PREFIX0 owns one task
shared with view access to every other one), printed as JSON {"taskId": …}.

usage: fanout_seed.py ws://127.0.0.1:PORT --subscribers 10000 (--sqlite FILE | --database-url URL)

Users and the task are created through the API. The shares are written straight into the
database: through the API, share k of a task is an event for its k earlier collaborators, so
10,000 shares would log 50 million audience rows — a fan-out benchmark of its own, not setup.

Needs FAROS_RATE_LIMITS=off on the server, and a low --password-cost (10,000 registrations).
Registrations run on a few connections at once, as batches of 50 (the default batch limit).
"""
import argparse
import asyncio
import json
import sqlite3
import subprocess
import time

import websockets


async def batches(ws, requests):
    """Sends `requests` 50 at a time; a request refused because the server is busy (-32029: the
    password hasher's queue is full) is sent again after a pause; a conflict (-32009) means it
    is there from an earlier run."""
    pending = list(requests)
    while pending:
        chunk, pending = pending[:50], pending[50:]
        await ws.send(json.dumps(chunk))
        answers = json.loads(await ws.recv())
        by_id = {r["id"]: r for r in chunk}
        busy = [by_id[a["id"]] for a in answers if "error" in a and a["error"]["code"] == -32029]
        failed = [a for a in answers if "error" in a and a["error"]["code"] not in (-32009, -32029)]
        if failed:
            raise SystemExit(f"seeding failed: {failed[0]}")
        if busy:
            await asyncio.sleep(0.05)
            pending = busy + pending


async def register(base, names, password):
    async with websockets.connect(base + "/rpc", max_size=None) as ws:
        await batches(ws, [{"jsonrpc": "2.0", "id": i, "method": "auth.register", "params": {
            "username": name, "email": f"{name}@example.com", "password": password}} for i, name in enumerate(names)])


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument("--prefix", default="fan")
    parser.add_argument("--password", default="fan password 1")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sqlite", help="the server's faros.sqlite")
    parser.add_argument("--database-url", help="the server's PostgreSQL URL")
    args = parser.parse_args()
    names = [f"{args.prefix}{i}" for i in range(args.subscribers + 1)]
    share = (len(names) + args.connections - 1) // args.connections
    await asyncio.gather(*(register(args.base, names[i:i + share], args.password) for i in range(0, len(names), share)))
    async with websockets.connect(args.base + "/rpc", max_size=None) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "auth.login",
                                  "params": {"username": names[0], "password": args.password}}))
        reply = json.loads(await ws.recv())
        if "error" in reply:
            raise SystemExit(f"login failed: {reply}")
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tasks.create", "params": {"title": "Fan-out benchmark"}}))
        task = json.loads(await ws.recv())["result"]["id"]
    insert = (f"INSERT INTO task_shares (task_id, user_id, permission, shared_at, shared_by) "
              f"SELECT {task}, u.id, 'view', {int(time.time() * 1000)}, o.id FROM users u, users o "
              f"WHERE o.username = '{names[0]}' AND u.username LIKE '{args.prefix}%' AND u.id <> o.id")
    if args.sqlite:
        with sqlite3.connect(args.sqlite, timeout=30) as db:
            db.execute(insert)
    elif args.database_url:
        subprocess.run(["psql", args.database_url, "-qc", insert], check=True)
    else:
        raise SystemExit("give --sqlite or --database-url")
    print(json.dumps({"taskId": task, "prefix": args.prefix, "password": args.password}))


if __name__ == "__main__":
    asyncio.run(main())
