#!/usr/bin/env python3
"""Web Push benchmark: one Faros instance pushing to a loopback push service
(scripts/e2e/push_service.py). Prints, as text and as one JSON line at the end:

- throughput: USERS people with DEVICES subscriptions each share a task; one comment by its owner
  queues USERS x DEVICES pushes in one transaction; the time from the comment to the push service
  having accepted them all, pushes per second, and the server's CPU per push (its whole process:
  claim, encryption, VAPID, HTTP, recording), beside the push service's own CPU;
- latency: ROUNDS shares, one at a time, to a person with one device; the time from sending
  `shares.create` to the push service receiving the (verified, decrypted) push: p50/p99/max.

The cost of the cryptography alone (µs per encryption, per VAPID signature) is measured by
Benchmarks' WebPush benchmark, beside this.

usage: bench_push.py --faros BIN [--users 1000] [--devices 10] [--rounds 200]
                     [--database-url URL] [--service-processes 2] [--verify-every 100]

The push service verifies the VAPID header and decrypts every Nth message of the throughput phase
(--verify-every; all of the latency phase), so that on this 2-core machine it is not the limit;
it runs --service-processes processes on one port. Faros runs with --no-rate-limits and the
lowest password cost. CPU figures come from /proc.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request

import websockets

from chaos import Server
from bench_presence import register_all

HERE = os.path.dirname(os.path.abspath(__file__))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return 0.0


def tree_cpu(pid):
    """CPU seconds of `pid` and its children (the push service's processes)."""
    total = cpu_seconds(pid)
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    for child in out.split():
        total += tree_cpu(int(child))
    return total


class PushService:
    def __init__(self, *args):
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "push_service.py"), "--port", "0",
                                         "--exit-with-parent", *args], stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.process.stdout.readline().split()[1])}"

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None

    def subscription(self):
        sub = self.control("POST", "/_control/subscriptions", {})
        return sub["id"], {"endpoint": sub["endpoint"], "keys": sub["keys"]}

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


async def rpc(ws, method, params=None, id_=1):
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == id_:
            if "error" in reply:
                raise SystemExit(f"{method}: {reply['error']}")
            return reply["result"]


async def batch(ws, calls):
    """Sends calls as batches of 50 and returns their results in order."""
    results = []
    for start in range(0, len(calls), 50):
        chunk = calls[start:start + 50]
        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(chunk)]))
        answers = {}
        while len(answers) < len(chunk):
            reply = json.loads(await ws.recv())
            for answer in reply if isinstance(reply, list) else [reply]:
                if "id" in answer:
                    answers[answer["id"]] = answer
        for i in range(len(chunk)):
            if "error" in answers[i]:
                raise SystemExit(f"{chunk[i][0]}: {answers[i]['error']}")
            results.append(answers[i]["result"])
    return results


async def register(url, names):
    """Tokens by name (bench_presence's registration: batches, -32029 retried)."""
    return {name: token for name, (_, token) in (await register_all(url, names)).items()}


async def subscribe(url, token, subscriptions):
    async with websockets.connect(url, max_size=None, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await batch(ws, [("push.subscribe", {**sub, "label": f"device {i}"}) for i, sub in enumerate(subscriptions)])


async def wait_accepted(service, count, timeout):
    deadline = time.monotonic() + timeout
    while True:
        stats = service.control("GET", "/_control/stats")
        if stats["accepted"] >= count:
            return stats
        if time.monotonic() > deadline:
            raise SystemExit(f"only {stats['accepted']} of {count} pushes accepted after {timeout}s: {stats}")
        await asyncio.sleep(0.02)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--faros", required=True)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--service-processes", type=int, default=2)
    parser.add_argument("--verify-every", type=int, default=100)
    args = parser.parse_args()

    bulk = PushService("--processes", str(args.service_processes), "--verify-every", str(args.verify_every),
                       "--max-messages", "0")
    exact = PushService()
    extra = ["--push-allow-http", "loopback", "--password-cost", "1"]
    if args.database_url:
        extra += ["--database-url", args.database_url]
    server = Server(args.faros, *extra).start()
    backend = "postgresql" if args.database_url else "sqlite"
    report = {"backend": backend, "users": args.users, "devices": args.devices, "cores": os.cpu_count()}
    try:
        url = server.ws
        names = [f"p{i:05d}" for i in range(args.users)]
        tokens = await register(url, ["owner", "latency"] + names)
        async with websockets.connect(url, max_size=None, additional_headers={"Authorization": f"Bearer {tokens['owner']}"}) as owner:
            task = (await rpc(owner, "tasks.create", {"title": "Quarterly plan"}))["id"]
            await batch(owner, [("shares.create", {"taskId": task, "username": n, "permission": "view"}) for n in names])
            print(f"{args.users} users share task {task}; subscribing {args.users * args.devices} devices", flush=True)
            for n in names:
                await subscribe(url, tokens[n], [bulk.subscription()[1] for _ in range(args.devices)])

            # Throughput: one comment, USERS x DEVICES pushes.
            total = args.users * args.devices
            print(f"server pid {server.process.pid}: one comment, {total} pushes", flush=True)
            bulk.control("DELETE", "/_control/stats")
            cpu0, service0 = server.cpu_seconds(), tree_cpu(bulk.process.pid)
            started = time.monotonic()
            await rpc(owner, "comments.create", {"taskId": task, "content": "Numbers are in: see the sheet."})
            commented = time.monotonic()
            stats = await wait_accepted(bulk, total, 600)
            elapsed = time.monotonic() - started
            cpu = server.cpu_seconds() - cpu0
            service_cpu = tree_cpu(bulk.process.pid) - service0
            report.update({
                "pushes": total, "seconds": round(elapsed, 3), "pushesPerSecond": round(total / elapsed),
                "commentCallMs": round((commented - started) * 1000, 1),
                "serverCpuSeconds": round(cpu, 2), "serverCpuMicrosPerPush": round(cpu / total * 1e6, 1),
                "serviceCpuSeconds": round(service_cpu, 2), "serviceCpuMicrosPerPush": round(service_cpu / total * 1e6, 1),
                "verified": stats.get("verified"), "decrypted": stats.get("decrypted"),
                "connections": stats.get("connections"),
            })
            print(f"throughput: {total} pushes in {elapsed:.2f} s = {total / elapsed:.0f}/s "
                  f"(the comment call itself {report['commentCallMs']} ms); server CPU {cpu:.2f} s = "
                  f"{cpu / total * 1e6:.0f} µs/push; push service CPU {service_cpu:.2f} s = {service_cpu / total * 1e6:.0f} µs/push "
                  f"({args.service_processes} processes, verifying 1 in {args.verify_every}); "
                  f"{stats.get('connections')} TCP connections", flush=True)

            # Latency: share → the push arrives (verified and decrypted), one at a time.
            sub_id, sub = exact.subscription()
            await subscribe(url, tokens["latency"], [sub])
            latencies = []
            for i in range(args.rounds):
                t = (await rpc(owner, "tasks.create", {"title": f"latency {i}"}))["id"]
                sent = time.time()
                await rpc(owner, "shares.create", {"taskId": t, "username": "latency", "permission": "edit"})
                deadline = time.monotonic() + 10
                while True:
                    got = exact.control("GET", f"/_control/messages?subscription={sub_id}")
                    if len(got) > i:
                        latencies.append((got[i]["at"] - sent) * 1000)
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit(f"share {i}: no push within 10 s")
                    await asyncio.sleep(0.002)
            report.update({"latencyRounds": args.rounds, "latencyP50Ms": round(pct(latencies, 50), 1),
                           "latencyP99Ms": round(pct(latencies, 99), 1), "latencyMaxMs": round(max(latencies), 1)})
            print(f"latency share → push received ({args.rounds} rounds): p50 {pct(latencies, 50):.1f} ms, "
                  f"p99 {pct(latencies, 99):.1f} ms, max {max(latencies):.1f} ms", flush=True)
    finally:
        server.stop()
        bulk.stop()
        exact.stop()
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
