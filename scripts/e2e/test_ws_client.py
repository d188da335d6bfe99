#!/usr/bin/env python3
"""End-to-end tests of a running Faros server with a WebSocket client we did not write.

usage: test_ws_client.py ws://127.0.0.1:PORT --pid SERVER_PID

The server must run with --enable-echo. The last test sends SIGTERM to SERVER_PID and checks the
graceful shutdown (close 1001, exit). Prints one line per test; exits 1 if any failed.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import time

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

RESULTS = []


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def rpc(ws, payload):
    await ws.send(payload if isinstance(payload, str) else json.dumps(payload))
    return await asyncio.wait_for(ws.recv(), 5)


async def test_discover(base):
    async with websockets.connect(base + "/rpc", subprotocols=["faros.v1"]) as ws:
        check(ws.subprotocol == "faros.v1", f"subprotocol {ws.subprotocol!r}")
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}))
        check(reply["id"] == 1 and reply["result"]["openrpc"].startswith("1."), reply)
        names = [m["name"] for m in reply["result"]["methods"]]
        check("rpc.discover" in names, names)


async def test_no_subprotocol_accepted(base):
    async with websockets.connect(base + "/rpc") as ws:
        check(ws.subprotocol is None, ws.subprotocol)
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": "a", "method": "rpc.discover"}))
        check(reply["id"] == "a", reply)


async def test_ids_echoed_exactly(base):
    async with websockets.connect(base + "/rpc") as ws:
        # Numbers keep their exact digits (beyond 2^53, exponents); strings keep their value.
        for raw in ["123456789012345678901234567890", "-9007199254740993", "1.5e3", "null"]:
            text = await rpc(ws, '{"jsonrpc":"2.0","id":%s,"method":"rpc.discover"}' % raw)
            check(('"id":%s' % raw) in text, f"id {raw} not echoed exactly: {text[:120]}")
        for value in ["\u00e9t\u00e9 \u2603", "a\"b\\c", ""]:
            reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": value, "method": "rpc.discover"}))
            check(reply["id"] == value, f"string id {value!r} came back as {reply['id']!r}")


async def test_errors(base):
    async with websockets.connect(base + "/rpc") as ws:
        reply = json.loads(await rpc(ws, '{"jsonrpc":"2.0","method":"x","id":1'))
        check(reply == {"jsonrpc": "2.0", "id": None, "error": reply["error"]} and reply["error"]["code"] == -32700, reply)
        reply = json.loads(await rpc(ws, "[]"))
        check(reply["error"]["code"] == -32600 and reply["id"] is None, reply)
        reply = json.loads(await rpc(ws, "[1,2,3]"))
        check(isinstance(reply, list) and [r["error"]["code"] for r in reply] == [-32600] * 3, reply)
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": 7, "method": "no.such"}))
        check(reply["error"]["code"] == -32601 and reply["id"] == 7, reply)
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": 8, "method": "rpc.discover", "params": [1]}))
        check(reply["error"]["code"] == -32602, reply)
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": 9, "method": "rpc.discover", "params": {"bogus": 1}}))
        check(reply["error"]["code"] == -32602 and reply["error"]["data"]["errors"][0]["field"] == "bogus", reply)
        batch = [{"jsonrpc": "2.0", "id": i, "method": "rpc.discover"} for i in range(51)]
        reply = json.loads(await rpc(ws, batch))
        check(reply["error"]["code"] == -32013 and reply["error"]["data"] == {"limit": 50}, reply)
        # A batch of notifications only gets no answer at all: the next answer is the next request's.
        await ws.send(json.dumps([{"jsonrpc": "2.0", "method": "rpc.discover"}] * 3))
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": "after", "method": "no.such"}))
        check(reply["id"] == "after", reply)


async def test_mixed_batch_in_order(base):
    async with websockets.connect(base + "/rpc") as ws:
        text = json.dumps([
            {"jsonrpc": "2.0", "id": 1, "method": "no.such"},
            {"jsonrpc": "2.0", "method": "rpc.discover"},
            {"foo": "boo"},
            {"jsonrpc": "2.0", "id": "x", "method": "rpc.discover"},
        ])
        reply = json.loads(await rpc(ws, text))
        check([r.get("id") for r in reply] == [1, None, "x"], reply)
        check(reply[0]["error"]["code"] == -32601 and reply[1]["error"]["code"] == -32600 and "result" in reply[2], reply)


async def test_binary_refused(base):
    async with websockets.connect(base + "/rpc") as ws:
        await ws.send(b"\x00\x01")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("binary message was answered")
        except ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1003, closed)


async def test_message_too_big(base):
    async with websockets.connect(base + "/rpc", max_size=None, compression=None) as ws:
        try:
            # The server may close with 1009 while the message is still going out: send raises then.
            await ws.send('"' + "a" * (1 << 20) + '"')
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("oversized message was answered")
        except ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1009, closed)


async def test_deflate_bomb(base):
    # 64 MiB of spaces compress to ~64 KiB; the server must stop inflating at its 1 MiB limit.
    async with websockets.connect(base + "/rpc", max_size=None) as ws:
        check(ws.protocol.extensions, "permessage-deflate was not negotiated")
        await ws.send(" " * (64 << 20))
        try:
            await asyncio.wait_for(ws.recv(), 10)
            raise AssertionError("bomb was answered")
        except ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1009, closed)


async def test_origin(base):
    try:
        async with websockets.connect(base + "/rpc", origin="https://evil.example"):
            raise AssertionError("foreign origin accepted")
    except InvalidStatus as error:
        check(error.response.status_code == 403, error)
    host = base.split("//", 1)[1]
    async with websockets.connect(base + "/rpc", origin="http://" + host) as ws:
        reply = json.loads(await rpc(ws, {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}))
        check("result" in reply, reply)


def raw_http(base, request):
    host, port = base.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def test_bad_handshakes(base):
    common = "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    reply = raw_http(base, "GET /rpc HTTP/1.1\r\n" + common + key + "Sec-WebSocket-Version: 12\r\n\r\n")
    check(reply.startswith("HTTP/1.1 426") and "sec-websocket-version: 13" in reply.lower(), reply)
    reply = raw_http(base, "GET /rpc HTTP/1.1\r\n" + common + "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n")
    check(reply.startswith("HTTP/1.1 400"), reply)
    reply = raw_http(base, "POST /rpc HTTP/1.1\r\n" + common + key + "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n")
    check(reply.startswith("HTTP/1.1 405"), reply)
    reply = raw_http(base, "GET /rpc HTTP/1.1\r\n" + common + key + "Sec-WebSocket-Version: 13\r\n\r\n")
    check(reply.startswith("HTTP/1.1 101") and "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in reply, reply)
    reply = raw_http(base, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    check(reply.startswith("HTTP/1.1 404"), reply)
    reply = raw_http(base, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    check(reply.startswith("HTTP/1.1 200"), reply)


def test_slowloris(base):
    # A client that trickles its request head is cut off by the handshake timeout (the test server uses 2s).
    host, port = base.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /rpc HTTP/1.1\r\n")
        started = time.monotonic()
        sock.settimeout(0.5)
        closed = False
        while time.monotonic() - started < 8:
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
        check(closed, "slow client was not cut off within 8s")


async def test_echo(base):
    async with websockets.connect(base + "/echo", max_size=None) as ws:
        for message in ["hello", "é" * 70000, b"\x00\xff" * 5000, ""]:
            await ws.send(message)
            echoed = await asyncio.wait_for(ws.recv(), 5)
            check(echoed == message, f"echo mismatch for {type(message).__name__} of {len(message)}")


async def test_rate_limit(base):
    async with websockets.connect(base + "/rpc", max_size=None) as ws:
        for i in range(150):
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "no.such"}))
        codes = []
        for _ in range(150):
            codes.append(json.loads(await asyncio.wait_for(ws.recv(), 5))["error"])
        limited = [e for e in codes if e["code"] == -32029]
        check(limited and all(e["data"]["retryAfterMs"] > 0 for e in limited), codes[-1])
        check(sum(1 for e in codes if e["code"] == -32601) >= 100, "burst of 100 not honoured")


async def test_graceful_shutdown(base, pid):
    async with websockets.connect(base + "/rpc") as ws:
        await rpc(ws, {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})
        os.kill(pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(ws.recv(), 10)
            raise AssertionError("no close after SIGTERM")
        except ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1001, closed)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("server still running 10s after SIGTERM")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--pid", type=int, required=True)
    args = parser.parse_args()
    tests = [
        test_discover, test_no_subprotocol_accepted, test_ids_echoed_exactly, test_errors,
        test_mixed_batch_in_order, test_binary_refused, test_message_too_big, test_deflate_bomb,
        test_origin, test_bad_handshakes, test_slowloris, test_echo, test_rate_limit,
    ]
    failures = 0
    for test in tests:
        try:
            result = test(args.base)
            if asyncio.iscoroutine(result):
                await result
            print(f"ok    {test.__name__}")
        except Exception as error:  # noqa: BLE001 - report every failure
            failures += 1
            print(f"FAIL  {test.__name__}: {error!r}")
    try:
        await test_graceful_shutdown(args.base, args.pid)
        print("ok    test_graceful_shutdown")
    except Exception as error:  # noqa: BLE001
        failures += 1
        print(f"FAIL  test_graceful_shutdown: {error!r}")
    print(f"python client tests: {len(tests) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
