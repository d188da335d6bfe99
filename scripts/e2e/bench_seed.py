#!/usr/bin/env python3
"""Seeds a Faros server for scripts/bench-calls: one user with N tasks, printed as JSON.

usage: bench_seed.py ws://127.0.0.1:PORT --tasks 10000 --user bench --password '...'

Titles carry one of a few words (so a search matches a known share), tags cycle through tag0..tag9.
Needs FAROS_RATE_LIMITS=off on the server (10,000 creations in seconds).
"""
import argparse
import asyncio
import json

import websockets

WORDS = ["alpha", "bravo", "charlie", "delta"]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--user", default="bench")
    parser.add_argument("--password", default="bench password 1")
    args = parser.parse_args()
    async with websockets.connect(args.base + "/rpc", max_size=None) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "auth.register", "params": {
            "username": args.user, "email": f"{args.user}@example.com", "password": args.password}}))
        reply = json.loads(await ws.recv())
        if "error" in reply:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "auth.login", "params": {
                "username": args.user, "password": args.password}}))
            reply = json.loads(await ws.recv())
        token = reply["result"]["token"]["accessToken"]
        first = None
        for start in range(0, args.tasks, 50):
            batch = [{"jsonrpc": "2.0", "id": i, "method": "tasks.create", "params": {
                "title": f"Task {i} {WORDS[i % len(WORDS)]} of the benchmark",
                "description": "Seeded by bench_seed.py" if i % 3 else None,
                "priority": ["low", "medium", "high"][i % 3],
                "tags": [f"tag{i % 10}", f"group{i % 7}"],
                "dueDate": f"2026-12-{1 + i % 28:02d}" if i % 2 else None,
            }} for i in range(start, min(start + 50, args.tasks))]
            await ws.send(json.dumps(batch))
            answers = json.loads(await ws.recv())
            errors = [a for a in answers if "error" in a]
            if errors:
                raise SystemExit(f"seeding failed: {errors[0]}")
            if first is None:
                # A batch's calls run concurrently, so its first answer need not hold the lowest
                # id; the batches run one after another, so the first batch's lowest id is the
                # lowest of all, and the N tasks have the N ids from it.
                first = min(a["result"]["id"] for a in answers)
        print(json.dumps({"token": token, "taskId": first, "user": args.user, "password": args.password}))


if __name__ == "__main__":
    asyncio.run(main())
