#!/usr/bin/env python3
"""Live events end to end, across server instances, with a WebSocket client we did not write
(Python `websockets`).

usage: test_events.py ws://HOST:PORT_A [ws://HOST:PORT_B] [--redis-restart 'COMMAND'] [--label L]

With one URL, both "instances" are the same server (the in-process bus). With two, they are two
server processes on one PostgreSQL and one Redis: every test then puts the two users (or the two
sessions of one user) on different instances. `--redis-restart` is a shell command that stops
Redis, waits, and starts it again (scripts/test passes one); with it the outage test runs: a
stream of writes while Redis restarts, every write must succeed, and both a live subscriber and
a client resuming with `since` must see every event exactly once, in order.

The servers must run with FAROS_RATE_LIMITS=off or generous limits (tests register many users
from one address). Prints one line per test; exits 1 if any failed.
"""
import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import time

import websockets

RESULTS = []


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Client:
    """One socket: calls are answered by id; notifications are queued apart."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.answers = {}
        self.notifications = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if "id" in message and "method" not in message:
                    future = self.answers.pop(message["id"], None)
                    if future and not future.done():
                        future.set_result(message)
                else:
                    await self.notifications.put(message)
        except websockets.ConnectionClosed:
            pass

    async def call(self, method, params=None, timeout=15):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        future = asyncio.get_running_loop().create_future()
        self.answers[self.next_id] = future
        await self.ws.send(json.dumps(request))
        return await asyncio.wait_for(future, timeout)

    async def ok(self, method, params=None):
        reply = await self.call(method, params)
        check("result" in reply, f"{method} failed: {reply}")
        return reply["result"]

    async def error(self, method, params, code):
        reply = await self.call(method, params)
        check("error" in reply and reply["error"]["code"] == code, f"{method} expected {code}: {reply}")
        return reply["error"]

    async def event(self, timeout=5, types=None):
        """The next `event` notification (others are skipped), optionally of one of `types`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, f"no event{' of ' + str(types) if types else ''} within {timeout}s")
            message = await asyncio.wait_for(self.notifications.get(), left)
            if message.get("method") != "event":
                continue
            if types and message["params"]["type"] not in types:
                continue
            return message["params"]

    async def notification(self, method, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, f"no {method} within {timeout}s")
            message = await asyncio.wait_for(self.notifications.get(), left)
            if message.get("method") == method:
                return message["params"]

    async def quiet(self, seconds=0.5):
        """Nothing but non-event traffic arrives for `seconds`."""
        try:
            while True:
                message = await asyncio.wait_for(self.notifications.get(), seconds)
                check(message.get("method") != "event", f"unexpected event {message}")
        except asyncio.TimeoutError:
            pass

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def connect(base, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    ws = await websockets.connect(base + "/rpc", additional_headers=headers, max_size=8 << 20)
    return Client(ws)


async def user(base, name=None):
    """A new account and a signed-in client on `base`; returns (client, name, token)."""
    name = name or "e" + secrets.token_hex(5)
    client = await connect(base)
    result = await client.ok("auth.register", {"username": name, "email": f"{name}@example.com", "password": "correct horse 1"})
    return client, name, result["token"]["accessToken"]


async def test_live_events_reach_the_other_user_and_the_actors_other_session(a, b, _):
    ana, ana_name, ana_token = await user(a)
    ben, ben_name, _ = await user(b)
    ana_other = await connect(b, ana_token)
    task = await ana.ok("tasks.create", {"title": "plan"})
    share = await ana.ok("shares.create", {"taskId": task["id"], "username": ben_name, "permission": "edit"})
    check(share["permission"] == "edit", share)
    await ben.ok("events.subscribe", {"topics": ["tasks"]})
    await ana_other.ok("events.subscribe", {"topics": [f"task:{task['id']}"]})
    await ana.ok("events.subscribe", {"topics": ["tasks"]})

    comment = await ana.ok("comments.create", {"taskId": task["id"], "content": "hello"})
    seen = {}
    for name, client in (("ben", ben), ("ana-other", ana_other), ("ana", ana)):
        event = await client.event(types=["comment.created"])
        check(event["data"]["id"] == comment["id"] and event["actor"]["username"] == ana_name, event)
        seen[name] = event
    check(seen["ben"]["topic"] == "tasks" and seen["ana-other"]["topic"] == f"task:{task['id']}", seen)
    check(len({e["seq"] for e in seen.values()}) == 1, "one seq for one change")

    await ben.ok("tasks.update", {"id": task["id"], "title": "plan B"})
    updated = await ana.event(types=["task.updated"])
    check(updated["data"]["permission"] == "owner" and updated["data"]["changes"]["title"] == {"old": "plan", "new": "plan B"}, updated)
    mine = await ben.event(types=["task.updated"])
    check(mine["data"]["permission"] == "edit" and mine["seq"] == updated["seq"], mine)
    for client in (ana, ben, ana_other):
        await client.close()


async def test_events_arrive_in_increasing_seq_once(a, b, _):
    ana, _, _ = await user(a)
    ben, ben_name, _ = await user(b)
    task = await ana.ok("tasks.create", {"title": "stream"})
    await ana.ok("shares.create", {"taskId": task["id"], "username": ben_name})
    await ben.ok("events.subscribe", {"topics": ["tasks", f"task:{task['id']}"]})
    count = 60
    await asyncio.gather(*(ana.ok("comments.create", {"taskId": task["id"], "content": f"c{i}"}) for i in range(count)))
    seqs = []
    for _ in range(count):
        event = await ben.event(types=["comment.created"])
        check(event["topic"] == f"task:{task['id']}", event)
        seqs.append(event["seq"])
    check(seqs == sorted(seqs) and len(set(seqs)) == count, f"out of order or twice: {seqs}")
    await ben.quiet(0.5)
    await ana.close()
    await ben.close()


async def test_revocation_ends_the_flow_at_once(a, b, _):
    ana, _, _ = await user(a)
    ben, ben_name, _ = await user(b)
    task = await ana.ok("tasks.create", {"title": "secret"})
    await ana.ok("shares.create", {"taskId": task["id"], "username": ben_name})
    await ben.ok("events.subscribe", {"topics": [f"task:{task['id']}"]})
    await ana.ok("shares.revoke", {"taskId": task["id"], "username": ben_name})
    revoked = await ben.event(types=["share.revoked"])
    check(revoked["data"]["username"] == ben_name and revoked["topic"] == f"task:{task['id']}", revoked)
    await ana.ok("comments.create", {"taskId": task["id"], "content": "not for ben"})
    await ben.quiet(1.0)
    await ben.error("comments.create", {"taskId": task["id"], "content": "too late"}, -32004)
    await ben.error("events.subscribe", {"topics": [f"task:{task['id']}"]}, -32004)
    await ana.close()
    await ben.close()


async def test_password_change_signs_out_sessions_on_every_instance(a, b, _):
    ana, name, token = await user(a)
    other = await connect(b, token)
    await other.ok("events.subscribe", {"topics": ["tasks"]})
    await ana.ok("users.changePassword", {"currentPassword": "correct horse 1", "newPassword": "correct horse 2"})
    notice = await other.notification("auth.signedOut")
    check(notice["reason"] == "passwordChanged", notice)
    await other.error("users.me", None, -32001)
    await ana.ok("users.me")
    await ana.close()
    await other.close()


async def test_resume_on_another_instance_gets_exactly_what_was_missed(a, b, _):
    ana, _, _ = await user(a)
    ben, ben_name, ben_token = await user(a)
    task = await ana.ok("tasks.create", {"title": "resume"})
    await ana.ok("shares.create", {"taskId": task["id"], "username": ben_name})
    await ben.ok("events.subscribe", {"topics": ["tasks"]})
    await ana.ok("comments.create", {"taskId": task["id"], "content": "seen"})
    last = (await ben.event(types=["comment.created"]))["seq"]
    await ben.close()
    missed = [await ana.ok("comments.create", {"taskId": task["id"], "content": f"missed {i}"}) for i in range(5)]
    await ana.ok("tasks.update", {"id": task["id"], "completed": True})
    back = await connect(b, ben_token)
    answer = await back.ok("events.subscribe", {"topics": ["tasks"], "since": last})
    check(answer["resync"] is False and answer["seq"] > last, answer)
    replayed = [await back.event() for _ in range(6)]
    check([e["data"].get("content") for e in replayed[:5]] == [c["content"] for c in missed], replayed)
    check(replayed[5]["type"] == "task.updated" and replayed[5]["data"]["completed"] is True, replayed[5])
    seqs = [e["seq"] for e in replayed]
    check(seqs == sorted(seqs) and seqs[0] > last, seqs)
    await ana.ok("comments.create", {"taskId": task["id"], "content": "live again"})
    live = await back.event()
    check(live["data"]["content"] == "live again" and live["seq"] > seqs[-1], live)
    await back.quiet(0.5)
    await back.error("events.subscribe", {"topics": ["tasks"], "since": answer["seq"] + 10_000}, -32602)
    await ana.close()
    await back.close()


async def test_redis_restart_loses_and_doubles_nothing(a, b, restart):
    if not restart:
        return "skipped (no --redis-restart)"
    ana, _, _ = await user(a)
    ben, ben_name, ben_token = await user(b)
    task = await ana.ok("tasks.create", {"title": "outage"})
    await ana.ok("shares.create", {"taskId": task["id"], "username": ben_name})
    await ben.ok("events.subscribe", {"topics": [f"task:{task['id']}"]})
    resumer = await connect(b, ben_token)
    start = (await resumer.ok("events.subscribe", {"topics": ["tasks"]}))["seq"]
    await resumer.close()

    total = 120
    written = []
    restarter = None
    for i in range(total):
        if i == 30:
            restarter = asyncio.get_running_loop().run_in_executor(None, lambda: subprocess.run(restart, shell=True, check=True))
        written.append(await ana.ok("comments.create", {"taskId": task["id"], "content": f"w{i}"}))
        await asyncio.sleep(0.02)
    await restarter
    check(len(written) == total, "every write succeeded")

    live = [await ben.event(timeout=20, types=["comment.created"]) for _ in range(total)]
    check([e["data"]["id"] for e in live] == [c["id"] for c in written], "live subscriber: every event once, in order")
    await ben.quiet(1.0)

    back = await connect(a, ben_token)
    answer = await back.ok("events.subscribe", {"topics": ["tasks"], "since": start})
    check(answer["resync"] is False, answer)
    # `start` is where instance B's dispatcher stood when the resumer subscribed, which can be
    # just before the share (written through A) reached it: then the share is replayed as well,
    # rightly, since that connection did not get it live either. Anything else is unexpected.
    replayed = []
    while sum(e["type"] == "comment.created" for e in replayed) < total:
        replayed.append(await back.event(timeout=20))
    seqs = [e["seq"] for e in replayed]
    check(seqs == sorted(set(seqs)), f"resuming client: increasing seq, none twice ({seqs[:5]}…)")
    others = [(e["seq"], e["type"]) for e in replayed if e["type"] != "comment.created"]
    check(all(kind == "share.created" for _, kind in others) and len(others) <= 1 and
          all(seq < seqs[-total] for seq, _ in others), f"resuming client: only the share may come before the comments ({others})")
    got = [e["data"].get("id") for e in replayed if e["type"] == "comment.created"]
    want = [c["id"] for c in written]
    check(got == want, f"resuming client: every event once, in order (got {[(e['seq'], e['type']) for e in replayed[:5]]}…, "
                       f"{len(set(got) - set(want))} unexpected, {len(set(want) - set(got))} missing)")
    await back.quiet(1.0)
    await ana.close()
    await ben.close()
    await back.close()


TESTS = [
    test_live_events_reach_the_other_user_and_the_actors_other_session,
    test_events_arrive_in_increasing_seq_once,
    test_revocation_ends_the_flow_at_once,
    test_password_change_signs_out_sessions_on_every_instance,
    test_resume_on_another_instance_gets_exactly_what_was_missed,
    test_redis_restart_loses_and_doubles_nothing,
]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b", nargs="?")
    parser.add_argument("--redis-restart")
    parser.add_argument("--label", default="events")
    args = parser.parse_args()
    a, b = args.a, args.b or args.a
    failed = 0
    for test in TESTS:
        started = time.monotonic()
        try:
            note = await asyncio.wait_for(test(a, b, args.redis_restart), 120)
            print(f"ok    {args.label} {test.__name__} ({time.monotonic() - started:.1f}s){' ' + note if note else ''}")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the run fails
            failed += 1
            print(f"FAIL  {args.label} {test.__name__}: {type(error).__name__}: {error}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
