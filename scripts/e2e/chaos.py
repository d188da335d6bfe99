#!/usr/bin/env python3
"""Chaos runs against real Faros servers: outages, kills and restarts under load, counting what was
acknowledged and what arrived. Each scenario prints its counts and exits non-zero on any loss,
duplicate or hang.

usage: chaos.py SCENARIO --faros BIN [options]

  pg-restart   one instance on PostgreSQL; PostgreSQL is restarted (--pg-restart CMD) under writes.
               During the outage calls answer -32050 with a retry hint and /ready names the
               database; afterwards every acknowledged write is in the store once, and retrying a
               write with its requestKey does not apply it twice.
  kill         two instances over PostgreSQL and Redis; one is killed (-9) under writes and
               subscriptions; its clients reconnect to the other and resume with `since`.
  rolling      the same two instances, each sent SIGTERM in turn and started again.
  disk-full    one instance whose file store is a small tmpfs: uploads that do not fit fail with a
               clear error and leave no blob or row; the server keeps serving.
  storm        N subscribed sessions (--sessions) dropped at once by a restart reconnect (full
               jitter) and resume; prints how long until all are back, the server's CPU time and
               RSS, and checks that none lost or doubled an event.

Options: --database-url (an empty database), --redis-url, --pg-restart 'COMMAND' (stops PostgreSQL,
waits, starts it), --seconds (load duration), --sessions. The servers run with --no-rate-limits.
"""
import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websockets

PASSWORD = "chaos-password-1"
CALL_TIMEOUT = 20  # a call unanswered this long is a hang, reported as such


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- servers -------------------------------------------------------------------------------------

class Server:
    """A Faros process on a fixed loopback port, so a restart comes back where clients reconnect."""

    def __init__(self, binary, *args, data_dir=None):
        self.port = free_port()
        self.directory = data_dir or tempfile.mkdtemp(prefix="faros-chaos-")
        self.args = [binary, "--port", str(self.port), "--data-dir", self.directory, "--log-level", "warning",
                     "--no-rate-limits", "--calls-per-second", "0", *args]
        self.process = None
        self.ws = f"ws://127.0.0.1:{self.port}/rpc"
        self.http = f"http://127.0.0.1:{self.port}"

    def start(self):
        out = os.path.join(self.directory, "stdout.log")
        with open(out, "w") as stdout, open(os.path.join(self.directory, "stderr.log"), "a") as stderr:
            self.process = subprocess.Popen(self.args, stdout=stdout, stderr=stderr)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            check(self.process.poll() is None, f"server exited at start; see {self.directory}/stderr.log")
            with open(out) as f:
                if "faros listening on" in f.read():
                    return self
            time.sleep(0.05)
        raise Failure(f"server did not start within 30 s: {self.args}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise Failure(f"server did not stop within {timeout} s of signal {sig}")

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- clients -------------------------------------------------------------------------------------

class Lost(Exception):
    """The connection went away before the answer."""


class Client:
    """One socket: answers matched by id, events collected with their seq."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.answers = {}
        self.events = asyncio.Queue()
        self.signed_out = []  # reasons of any auth.signedOut the server sent
        self.notes = []  # every other notification, in arrival order
        self.arrived = asyncio.Event()  # set when one is added to notes
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if "id" in message and "method" not in message:
                    future = self.answers.pop(message["id"], None)
                    if future and not future.done():
                        future.set_result(message)
                elif message.get("method") == "event":
                    self.events.put_nowait(message["params"])
                elif message.get("method") == "auth.signedOut":
                    self.signed_out.append(message["params"].get("reason"))
                else:
                    self.notes.append(message)
                    self.arrived.set()
        except (websockets.ConnectionClosed, OSError):
            pass
        finally:
            for future in self.answers.values():
                if not future.done():
                    future.set_exception(Lost())
                    future.exception()  # marks it retrieved: a caller that gave up is not an error

    async def call(self, method, params=None):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        future = asyncio.get_running_loop().create_future()
        self.answers[self.next_id] = future
        try:
            await self.ws.send(json.dumps(request))
        except (websockets.ConnectionClosed, OSError) as error:
            self.answers.pop(self.next_id, None)
            raise Lost() from error
        try:
            return await asyncio.wait_for(future, CALL_TIMEOUT)
        except asyncio.TimeoutError:
            raise Failure(f"{method} hung: no answer within {CALL_TIMEOUT} s")

    async def ok(self, method, params=None):
        reply = await self.call(method, params)
        check("result" in reply, f"{method}: {reply}")
        return reply["result"]

    async def close(self):
        try:
            await self.ws.close()
        except Exception:
            pass
        self.reader.cancel()


async def connect(url, token=None, attempts=1, delay=0.2):
    for attempt in range(attempts):
        try:
            ws = await websockets.connect(url, max_size=16 << 20, open_timeout=10, ping_interval=None)
            client = Client(ws)
            if token:
                await client.ok("auth.authenticate", {"accessToken": token})
            return client
        except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, Lost, asyncio.TimeoutError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(delay * random.random() * min(2 ** attempt, 16))


async def register(url, prefix):
    name = f"{prefix}{secrets.token_hex(4)}"
    client = await connect(url)
    result = await client.ok("auth.register", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return client, name, result["token"]["accessToken"]


class Writer:
    """Creates tasks with a requestKey each, across reconnects and outages, and records what was
    acknowledged. A write whose answer was lost, or that answered -32050, is retried with the
    same key on the next connection (the contract: never applied twice)."""

    def __init__(self, urls, token, label):
        self.urls, self.token, self.label = urls, token, label
        self.acked = {}         # requestKey -> task id
        self.unavailable = 0    # -32050 answers
        self.retry_hints = set()
        self.lost = 0           # answers lost to a dropped connection
        self.other_errors = []
        self.turn = 0

    async def run(self, stop):
        client = None
        key = None
        while not stop.is_set():
            if client is None:
                try:
                    client = await connect(self.urls[self.turn % len(self.urls)], self.token)
                except Exception:
                    self.turn += 1
                    await asyncio.sleep(0.1 + random.random() * 0.2)
                    continue
            key = key or secrets.token_hex(12)
            try:
                reply = await client.call("tasks.create", {"title": f"{self.label} {key}", "requestKey": key})
            except Lost:
                self.lost += 1
                await client.close()
                client = None
                self.turn += 1
                continue
            if "result" in reply:
                self.acked[key] = reply["result"]["id"]
                key = None
            elif reply["error"]["code"] == -32050:
                self.unavailable += 1
                self.retry_hints.add(json.dumps(reply["error"].get("data", {}).get("retryAfterMs")))
                await asyncio.sleep(0.2)
            else:
                self.other_errors.append(reply["error"])
                key = None
        if client:
            await client.close()


class Subscriber:
    """Holds `tasks` for one user across reconnects, resuming with `since`; records every seq once
    seen and every duplicate or step backwards."""

    def __init__(self, urls, token, since, turn=0):
        self.urls, self.token, self.since = urls, token, since
        self.turn = turn
        self.seqs = []
        self.created = set()
        self.duplicates = 0
        self.backwards = 0
        self.resyncs = 0
        self.reconnects = 0
        self.client = None
        self.connected = asyncio.Event()

    def last(self):
        return self.seqs[-1] if self.seqs else self.since

    def take(self, event):
        if event["seq"] <= self.last():
            if event["seq"] in self.seqs[-5000:]:
                self.duplicates += 1
            else:
                self.backwards += 1
            return
        self.seqs.append(event["seq"])
        if event["type"] == "task.created":
            self.created.add(event["data"]["id"])

    async def open(self, attempts=1):
        self.client = await connect(self.urls[self.turn % len(self.urls)], self.token, attempts=attempts)
        reply = await self.client.call("events.subscribe", {"topics": ["tasks"], "since": self.last()})
        check("result" in reply, f"events.subscribe: {reply}")
        if reply["result"]["resync"]:
            self.resyncs += 1
        self.connected.set()

    async def run(self, stop, jitter=0.3):
        while True:
            if self.client is None:
                try:
                    await self.open()
                except Exception:
                    self.turn += 1
                    await asyncio.sleep(random.random() * jitter)
                    continue
            get = asyncio.ensure_future(self.client.events.get())
            done, _ = await asyncio.wait({get, self.client.reader}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
            if get in done:
                self.take(get.result())
                continue
            get.cancel()
            if self.client.reader.done():
                while not self.client.events.empty():
                    self.take(self.client.events.get_nowait())
                self.client = None
                self.connected.clear()
                self.reconnects += 1
                self.turn += 1
                continue
            if stop.is_set():
                break
        await self.client.close()


async def drain(subscribers, expected, seconds=20):
    """Waits until every subscriber has seen `expected` task ids or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(expected <= s.created for s in subscribers):
            return
        await asyncio.sleep(0.1)


def report_delivery(subscribers, expected):
    missing = sum(len(expected - s.created) for s in subscribers)
    extra = sum(len(s.created - expected) for s in subscribers)
    duplicates = sum(s.duplicates for s in subscribers)
    backwards = sum(s.backwards for s in subscribers)
    resyncs = sum(s.resyncs for s in subscribers)
    print(f"  events: {len(expected) * len(subscribers)} expected, "
          f"{sum(len(s.created & expected) for s in subscribers)} delivered, {duplicates} doubled, "
          f"{missing} missing, {backwards} out of order, {extra} unacknowledged writes seen, {resyncs} resyncs, "
          f"{sum(s.reconnects for s in subscribers)} reconnections")
    if missing:
        short = [len(expected - s.created) for s in subscribers if expected - s.created]
        print(f"  sessions missing events: {len(short)} of {len(subscribers)}; missing all {len(expected)}: "
              f"{sum(1 for n in short if n == len(expected))}; seen by them: {sorted(set(len(s.created) for s in subscribers if expected - s.created))[:10]}")
        by_id = {}
        for s in subscribers:
            for i in expected - s.created:
                by_id[i] = by_id.get(i, 0) + 1
        print(f"  missed task ids (sessions missing each): {dict(sorted(by_id.items()))}; acknowledged ids in order: {sorted(expected)}")
    check(missing == 0 and duplicates == 0 and backwards == 0 and resyncs == 0,
          "events lost, doubled, out of order or resynced")


async def verify_writes(url, token, writers):
    """Every acknowledged write is in the store once; a retry with its key returns the same task."""
    client = await connect(url, token, attempts=20)
    acked = {}
    for writer in writers:
        acked.update(writer.acked)
    titles = {}
    offset = 0
    while True:
        page = await client.ok("tasks.list", {"limit": 100, "offset": offset, "sortBy": "createdAt", "sortOrder": "asc"})
        for task in page["items"]:
            titles[task["title"]] = titles.get(task["title"], 0) + 1
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    found = sum(1 for writer in writers for key in writer.acked if titles.get(f"{writer.label} {key}", 0) >= 1)
    doubled = sum(count - 1 for count in titles.values() if count > 1)
    retried_same = 0
    sample = random.sample(sorted(acked), min(50, len(acked)))
    label_of = {key: writer.label for writer in writers for key in writer.acked}
    for key in sample:
        again = await client.ok("tasks.create", {"title": f"{label_of[key]} {key}", "requestKey": key})
        retried_same += again["id"] == acked[key]
    await client.close()
    print(f"  writes: {len(acked)} acknowledged, {found} found, {doubled} doubled; "
          f"{retried_same}/{len(sample)} retries with the same requestKey returned the same task")
    check(found == len(acked) and doubled == 0 and retried_same == len(sample), "acknowledged writes lost or doubled")
    return acked


# --- scenarios -----------------------------------------------------------------------------------

async def pg_restart(args):
    check(args.database_url and args.pg_restart, "pg-restart needs --database-url and --pg-restart")
    server = Server(args.faros, "--database-url", args.database_url, "--db-pool-timeout", "2s").start()
    try:
        first, _, token = await register(server.ws, "pgw")
        await first.close()
        writers = [Writer([server.ws], token, f"w{i}") for i in range(8)]
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(w.run(stop)) for w in writers]
        ready_states = set()

        async def watch_ready():
            while not stop.is_set():
                status, body = await asyncio.to_thread(http_get, server.http + "/ready")
                if status == 503:
                    ready_states.add(json.loads(body)["components"].get("database"))
                await asyncio.sleep(0.1)

        watcher = asyncio.ensure_future(watch_ready())
        await asyncio.sleep(2)
        before = sum(len(w.acked) for w in writers)
        started = time.monotonic()
        await asyncio.to_thread(subprocess.run, args.pg_restart, shell=True, check=True)
        outage = time.monotonic() - started
        await asyncio.sleep(3)
        after_restart = sum(len(w.acked) for w in writers)
        await asyncio.sleep(max(0, args.seconds - 5 - outage))
        stop.set()
        await asyncio.gather(*tasks, watcher)
        unavailable = sum(w.unavailable for w in writers)
        hints = set().union(*(w.retry_hints for w in writers))
        errors = [e for w in writers for e in w.other_errors]
        print(f"  outage {outage:.1f} s; -32050 answers: {unavailable} (retry hints {sorted(hints)}); "
              f"/ready during it: database {sorted(ready_states)}; other errors: {len(errors)}")
        check(unavailable > 0, "no call saw the outage (was PostgreSQL restarted?)")
        check("null" not in hints, "a -32050 answer without a retry hint")
        check("unreachable" in ready_states, "/ready never named the database as down")
        check(not errors, f"unexpected errors: {errors[:3]}")
        check(sum(len(w.acked) for w in writers) > after_restart > before, "writes did not resume after the restart")
        await verify_writes(server.ws, token, writers)
    finally:
        server.stop()


async def two_instances(args, disrupt):
    check(args.database_url and args.redis_url, "needs --database-url and --redis-url")
    secret = secrets.token_hex(32)
    shared = ["--database-url", args.database_url, "--redis-url", args.redis_url, "--jwt-secret", secret,
              "--shutdown-grace", "2s"]
    a, b = Server(args.faros, *shared).start(), Server(args.faros, *shared).start()
    try:
        first, _, token = await register(b.ws, "two")
        head = (await first.ok("events.subscribe", {"topics": ["tasks"]}))["seq"]
        await first.close()
        urls = [a.ws, b.ws]
        subscribers = [Subscriber(urls, token, head, turn=i) for i in range(20)]
        for s in subscribers:
            await s.open(attempts=5)
        writers = [Writer(urls, token, f"w{i}") for i in range(4)]
        for i, w in enumerate(writers):
            w.turn = i
        # Readers stop only after the drain: a write acknowledged after the writers were told to
        # stop still has an event on its way (stopping them together lost it in the harness).
        stop, readers_stop = asyncio.Event(), asyncio.Event()
        readers = [asyncio.ensure_future(s.run(readers_stop)) for s in subscribers]
        writing = [asyncio.ensure_future(w.run(stop)) for w in writers]
        await asyncio.sleep(2)
        await disrupt(a, b)
        await asyncio.sleep(max(2, args.seconds - 2))
        stop.set()
        await asyncio.gather(*writing)
        acked = await verify_writes(b.ws if b.process.poll() is None else a.ws, token, writers)
        await drain(subscribers, set(acked.values()))
        readers_stop.set()
        await asyncio.gather(*readers)
        report_delivery(subscribers, set(acked.values()))
        check(not any(w.other_errors for w in writers), f"unexpected errors: {[w.other_errors[:2] for w in writers]}")
    finally:
        a.stop(signal.SIGKILL)
        b.stop(signal.SIGKILL)


async def kill(args):
    async def disrupt(a, b):
        a.stop(signal.SIGKILL)
        print("  first instance killed (-9)")
    await two_instances(args, disrupt)


async def rolling(args):
    async def disrupt(a, b):
        for server in (a, b):
            started = time.monotonic()
            await asyncio.to_thread(server.stop, signal.SIGTERM)
            stopped = time.monotonic() - started
            await asyncio.to_thread(server.start)
            print(f"  instance on port {server.port}: SIGTERM, stopped in {stopped:.1f} s, started again")
            await asyncio.sleep(2)
    await two_instances(args, disrupt)


def upload(base, token, task_id, size):
    boundary = "chaos" + secrets.token_hex(8)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode()
    body = head + (b"chaos line of text\n" * (size // 19 + 1))[:size] + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base}/tasks/{task_id}/files", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


async def disk_full(args):
    directory = tempfile.mkdtemp(prefix="faros-chaos-disk-")
    files = os.path.join(directory, "files")
    os.makedirs(files)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", files], capture_output=True)
    check(mounted.returncode == 0, f"cannot mount a tmpfs for the file store (root needed): {mounted.stderr.decode().strip()}")
    server = Server(args.faros, "--max-upload-bytes", "8MiB", data_dir=directory).start()
    try:
        client, _, token = await register(server.ws, "disk")
        task = await client.ok("tasks.create", {"title": "Fill the disk"})
        results = [await asyncio.to_thread(upload, server.http, token, task["id"], 1 << 20) for _ in range(6)]
        statuses = [status for status, _ in results]
        refused = [(status, body) for status, body in results if status != 201]
        listed = (await client.ok("files.list", {"taskId": task["id"]}))
        listed = listed["items"]
        stored = [name for name in os.listdir(files) if not name.startswith(".")]
        partials = [name for name in os.listdir(files) if name.startswith(".partial")]
        print(f"  uploads of 1 MiB into 4 MiB: statuses {statuses}; refusal {refused[0] if refused else None}; "
              f"{len(listed)} files listed, {len(stored)} blobs stored, {len(partials)} partial blobs left")
        check(refused, "no upload was refused on a full disk")
        check(all(status == 503 and body.get("error", {}).get("message") == "File storage is full" for status, body in refused),
              f"unclear refusal: {refused[:2]}")
        check(len(listed) == statuses.count(201) == len(stored), "a refused upload left a row or a blob")
        check(not partials, "partial blobs left behind")
        # Still serving: calls work, and after a delete an upload fits again.
        await client.ok("tasks.get", {"id": task["id"]})
        first_id = listed[0]["id"]
        request = urllib.request.Request(f"{server.http}/files/{first_id}", method="DELETE",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            check(response.status == 204, "delete failed")
        # The blob goes with the janitor's next drain, right after the commit.
        deadline = time.monotonic() + 10
        while len([n for n in os.listdir(files) if not n.startswith(".")]) == len(stored):
            check(time.monotonic() < deadline, "the deleted file's blob was not removed within 10 s")
            await asyncio.sleep(0.05)
        status, _ = await asyncio.to_thread(upload, server.http, token, task["id"], 512 << 10)
        check(status == 201, f"an upload that fits after a delete answered {status}")
        print("  after a delete, an upload that fits succeeds; calls kept working")
        await client.close()
    finally:
        server.stop()
        subprocess.run(["umount", files])
        shutil.rmtree(directory, ignore_errors=True)


async def storm(args):
    extra = ["--database-url", args.database_url] if args.database_url else []
    server = Server(args.faros, *extra, "--shutdown-grace", "1s").start()
    try:
        first, _, token = await register(server.ws, "storm")
        head = (await first.ok("events.subscribe", {"topics": ["tasks"]}))["seq"]
        await first.close()
        subscribers = [Subscriber([server.ws], token, head) for _ in range(args.sessions)]
        started = time.monotonic()
        for batch in range(0, len(subscribers), 200):
            await asyncio.gather(*(s.open(attempts=10) for s in subscribers[batch:batch + 200]))
        print(f"  {len(subscribers)} sessions subscribed in {time.monotonic() - started:.1f} s")
        # Readers stop only after the drain (see two_instances): with 10,000 sessions in one
        # client process, the event of the last write often came after a reader had stopped.
        stop, readers_stop = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.ensure_future(s.run(readers_stop, jitter=args.jitter)) for s in subscribers]
        writer = Writer([server.ws], token, "storm")
        writer_task = asyncio.ensure_future(writer.run(stop))
        # Some writes before the drop, so that events are in flight when it comes.
        deadline = time.monotonic() + 30
        while len(writer.acked) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # Drop everyone at once: the server restarts (SIGTERM closes every socket with 1001).
        print(f"  acknowledged before the drop: {sorted(writer.acked.values())}")
        await asyncio.to_thread(server.stop, signal.SIGTERM)
        dropped = time.monotonic()
        await asyncio.to_thread(server.start)
        listening = time.monotonic()
        cpu_before = server.cpu_seconds()
        # Back means: noticed the drop (the client loop may not have yet, with thousands of
        # sessions) and subscribed again.
        while not all(s.reconnects >= 1 and s.connected.is_set() for s in subscribers):
            check(time.monotonic() - dropped < 300, "sessions not back within 300 s")
            await asyncio.sleep(0.05)
        back = time.monotonic() - dropped
        cpu = server.cpu_seconds() - cpu_before
        print(f"  all {len(subscribers)} back {back:.1f} s after the drop, {time.monotonic() - listening:.1f} s after the "
              f"server listened again (jitter window {args.jitter} s); "
              f"server CPU during the return {cpu:.1f} s, RSS {server.rss_mib():.0f} MiB")
        await asyncio.sleep(2)
        stop.set()
        await writer_task
        acked = set(writer.acked.values())
        await drain(subscribers, acked, seconds=60)
        readers_stop.set()
        await asyncio.gather(*tasks)
        report_delivery(subscribers, acked)
    finally:
        server.stop()


SCENARIOS = {"pg-restart": pg_restart, "kill": kill, "rolling": rolling, "disk-full": disk_full, "storm": storm}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--faros", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--pg-restart")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--jitter", type=float, default=5.0, help="storm: reconnect spread, seconds (full jitter)")
    args = parser.parse_args()
    print(f"chaos {args.scenario}:")
    try:
        asyncio.run(SCENARIOS[args.scenario](args))
    except Failure as failure:
        print(f"chaos {args.scenario}: FAILED: {failure}")
        return 1
    print(f"chaos {args.scenario}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
