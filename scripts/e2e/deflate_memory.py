#!/usr/bin/env python3
"""Measures the server's memory per connection with permessage-deflate negotiated.

usage: deflate_memory.py ws://127.0.0.1:PORT --pid SERVER_PID [-n 1000] [--idle SECONDS]

Opens N WebSocket connections to /rpc offering permessage-deflate (the websockets client's default
offer, client_max_window_bits included), and reads the server's RSS: after the handshakes, after
each connection made one call with a compressible ~2 KiB answer (zlib streams allocated), and once
the server's keepalive has released idle zlib memory (start the server with --idle-timeout so that
half of it is shorter than --idle). Prints KiB per connection for each step. Freed memory stays in the allocator's
arenas (RSS does not drop), so a second wave of connections then shows whether it was reused.
A benchmark, not a test.
"""
import argparse
import asyncio
import json
import resource

import websockets


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    # Warm up one-time allocations so they are not charged per connection.
    warm = [await websockets.connect(args.base + "/rpc") for _ in range(32)]
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1)

    before = rss_kib(args.pid)
    sockets = []
    for start in range(0, args.n, 100):
        sockets += await asyncio.gather(*[websockets.connect(args.base + "/rpc", max_size=None)
                                          for _ in range(min(100, args.n - start))])
    negotiated = sum(1 for ws in sockets if ws.protocol.extensions)
    await asyncio.sleep(1)
    handshaken = rss_kib(args.pid)

    request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})
    for start in range(0, len(sockets), 100):
        batch = sockets[start:start + 100]
        await asyncio.gather(*[ws.send(request) for ws in batch])
        await asyncio.gather(*[ws.recv() for ws in batch])
    await asyncio.sleep(1)
    active = rss_kib(args.pid)

    # Wait for the keepalive to release zlib streams; answer its pings by reading.
    async def drain(ws):
        try:
            await asyncio.wait_for(ws.recv(), args.idle)
        except asyncio.TimeoutError:
            pass
    await asyncio.gather(*[drain(ws) for ws in sockets])
    idle = rss_kib(args.pid)

    # A second wave does the same: if the first wave's idle zlib memory was really freed, the
    # allocator reuses it and RSS barely grows (freed memory stays in RSS, so RSS alone cannot show it).
    second = []
    for start in range(0, args.n, 100):
        second += await asyncio.gather(*[websockets.connect(args.base + "/rpc", max_size=None)
                                         for _ in range(min(100, args.n - start))])
    for start in range(0, len(second), 100):
        batch = second[start:start + 100]
        await asyncio.gather(*[ws.send(request) for ws in batch])
        await asyncio.gather(*[ws.recv() for ws in batch])
    await asyncio.sleep(1)
    wave = rss_kib(args.pid)

    n = len(sockets)
    print(f"connections: {n}, permessage-deflate negotiated on {negotiated}")
    print(f"rss KiB: before {before}, after handshakes {handshaken}, after one call each {active}, after idle {idle}")
    print(f"KiB per connection: handshake only {(handshaken - before) / n:.1f}, "
          f"after a compressed call {(active - before) / n:.1f}, idle again {(idle - before) / n:.1f}")
    print(f"second wave of {len(second)} after the first went idle: {(wave - idle) / len(second):.1f} KiB per connection")
    await asyncio.gather(*[ws.close() for ws in sockets + second])


if __name__ == "__main__":
    asyncio.run(main())
