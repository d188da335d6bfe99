#!/usr/bin/env python3
"""Presence end to end against real servers, with a WebSocket client we did not write (Python
`websockets`). Starts and kills its own servers.

usage: test_presence.py --faros BIN [--database-url URL --redis-url URL --redis-restart CMD]

One instance (SQLite, in process): two people see each other, three tabs are one member, a
close leaves at once, a silent socket leaves when the keepalive closes it, typing expires by
itself, losing the share leaves.

With --database-url (an empty PostgreSQL database) and --redis-url: two instances A and B. A join
on one is seen on the other; three tabs of one person spread over both are one member; B killed
with -9: its members leave at A within the presence TTL (6 s here; the time is printed); Redis
restarted (--redis-restart, a command that stops Redis, waits and starts it): presence changed
during the outage converges on both instances. Prints one line per test; exits 1 if any failed.
"""
import argparse
import asyncio
import json
import secrets
import signal
import sys
import time

import websockets

import chaos
from chaos import Server, Failure, check

PASSWORD = "presence-password-1"
RESULTS = []


class Client(chaos.Client):
    """chaos.Client (answers by id, notifications kept in arrival order), plus presence helpers:
    each notification is taken at most once."""

    def __init__(self, ws):
        super().__init__(ws)
        self.taken = set()

    async def presence(self, method, user_id, timeout=5, **want):
        """The first not yet taken `method` notification about `user_id` whose member has the
        `want` fields, waiting up to `timeout` for it."""
        deadline = time.monotonic() + timeout
        while True:
            for index, note in enumerate(self.notes):
                if index in self.taken or note.get("method") != method:
                    continue
                params = note.get("params", {})
                member = params.get("member", {})
                if (member.get("userId") or params.get("userId")) == user_id and all(member.get(k) == v for k, v in want.items()):
                    self.taken.add(index)
                    return params
            left = deadline - time.monotonic()
            check(left > 0, f"no {method} for user {user_id} {want or ''} within {timeout}s; got {self.notes[-5:]}")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    def drain(self):
        """Takes every notification received so far."""
        self.taken.update(range(len(self.notes)))

    async def quiet(self, seconds=0.6):
        """No new presence notification arrives for `seconds`."""
        count = len(self.notes)
        await asyncio.sleep(seconds)
        late = [n for n in self.notes[count:] if n.get("method", "").startswith("presence.")]
        check(not late, f"unexpected {late}")


async def connect(server, token=None):
    ws = await websockets.connect(server.ws, max_size=8 << 20, ping_interval=None)
    client = Client(ws)
    if token:
        await client.ok("auth.authenticate", {"accessToken": token})
    return client


async def person(server, prefix):
    name = f"{prefix}{secrets.token_hex(3)}"
    client = await connect(server)
    result = await client.ok("auth.register", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return {"client": client, "name": name, "id": result["user"]["id"], "token": result["token"]["accessToken"]}


async def shared_task(owner, *others, permission="edit"):
    task = (await owner["client"].ok("tasks.create", {"title": "presence"}))["id"]
    for other in others:
        await owner["client"].ok("shares.create", {"taskId": task, "username": other["name"], "permission": permission})
    return task


def members(result):
    return sorted((m["userId"], m["sessions"]) for m in result["members"])


async def converge(clients, task, want, timeout=5):
    """Every client's presence.list shows `want` ((userId, sessions) pairs) within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        seen = [members(await c.ok("presence.list", {"taskId": task})) for c in clients]
        if all(s == sorted(want) for s in seen):
            return
        check(time.monotonic() < deadline, f"not converged within {timeout}s: {seen}, want {sorted(want)}")
        await asyncio.sleep(0.1)


# --- one instance --------------------------------------------------------------------------------

async def test_people_not_sockets_and_a_close_leaves_at_once(s, _):
    ana, ben = await person(s, "ana"), await person(s, "ben")
    task = await shared_task(ana, ben)
    await ana["client"].ok("presence.enter", {"taskId": task})
    tabs = [ben["client"], await connect(s, ben["token"]), await connect(s, ben["token"])]
    for tab in tabs:
        await tab.ok("presence.enter", {"taskId": task})
    await ana["client"].presence("presence.joined", ben["id"], sessions=1)
    await ana["client"].presence("presence.updated", ben["id"], sessions=3)
    listed = await ana["client"].ok("presence.list", {"taskId": task})
    check(members(listed) == sorted([(ana["id"], 1), (ben["id"], 3)]), f"list: {listed}")
    # The tabs go in every way there is: leave, close, sign out.
    await tabs[1].ok("presence.leave", {"taskId": task})
    await tabs[2].close()
    await ana["client"].presence("presence.updated", ben["id"], sessions=1)
    await tabs[0].ok("auth.logout")
    await ana["client"].presence("presence.left", ben["id"])
    listed = await ana["client"].ok("presence.list", {"taskId": task})
    check(members(listed) == [(ana["id"], 1)], f"after: {listed}")


async def test_a_silent_socket_leaves_when_the_keepalive_closes_it(s, _):
    ana, ben = await person(s, "ana"), await person(s, "ben")
    task = await shared_task(ana, ben)
    await ana["client"].ok("presence.enter", {"taskId": task})
    silent = await connect(s, ben["token"])
    await silent.ok("presence.enter", {"taskId": task})
    await ana["client"].presence("presence.joined", ben["id"])
    # The client stops reading: no pong answers the server's pings any more.
    silent.ws.transport.pause_reading()
    started = time.monotonic()
    await ana["client"].presence("presence.left", ben["id"], timeout=15)
    print(f"    silent socket left after {time.monotonic() - started:.1f} s (idle timeout 3 s)")


async def test_typing_is_coalesced_and_expires_by_itself(s, _):
    ana, ben = await person(s, "ana"), await person(s, "ben")
    task = await shared_task(ana, ben)
    await ana["client"].ok("presence.enter", {"taskId": task})
    await ben["client"].ok("presence.enter", {"taskId": task})
    await ana["client"].presence("presence.joined", ben["id"])
    for n in range(20):
        await ben["client"].ok("presence.enter", {"taskId": task, "state": {"typing": True, "n": n}})
    started = time.monotonic()
    seen = []
    while True:
        note = await ana["client"].presence("presence.updated", ben["id"], timeout=3)
        seen.append(note["member"]["state"])
        if note["member"]["state"].get("n") == 19:
            break
    check(len(seen) <= 3, f"20 changes in a burst went out as {len(seen)}: {seen}")
    await ana["client"].presence("presence.updated", ben["id"], timeout=5, state={})
    waited = time.monotonic() - started
    check(1.5 <= waited <= 4, f"typing cleared after {waited:.1f} s with a 2 s lifetime")


async def test_losing_the_share_leaves(s, _):
    ana, ben = await person(s, "ana"), await person(s, "ben")
    task = await shared_task(ana, ben)
    await ana["client"].ok("presence.enter", {"taskId": task})
    await ben["client"].ok("presence.enter", {"taskId": task})
    await ana["client"].presence("presence.joined", ben["id"])
    await ana["client"].ok("shares.revoke", {"taskId": task, "username": ben["name"]})
    await ana["client"].presence("presence.left", ben["id"])
    reply = await ben["client"].call("presence.list", {"taskId": task})
    check(reply.get("error", {}).get("code") == -32004, f"list after revoke: {reply}")
    await asyncio.sleep(0.3)
    ben["client"].drain()
    await ana["client"].ok("presence.enter", {"taskId": task, "state": {"typing": True}})
    await ben["client"].quiet()


# --- two instances over Redis --------------------------------------------------------------------

async def test_two_instances_one_member_kill_and_redis_restart(a, b, restart, faros, shared):
    ana, ben, carl = await person(a, "ana"), await person(b, "ben"), await person(b, "carl")
    task = await shared_task(ana, ben, carl)
    await ana["client"].ok("presence.enter", {"taskId": task})
    # Join on B, seen on A (and the other way round).
    await ben["client"].ok("presence.enter", {"taskId": task})
    started = time.monotonic()
    await ana["client"].presence("presence.joined", ben["id"])
    print(f"    join on B seen on A after {1000 * (time.monotonic() - started):.0f} ms")
    await converge([ben["client"]], task, [(ana["id"], 1), (ben["id"], 1)])
    # Three tabs of ben, one on A and two on B: one member with three sessions, on both.
    tab_a = await connect(a, ben["token"])
    tab_b = await connect(b, ben["token"])
    await tab_a.ok("presence.enter", {"taskId": task})
    await tab_b.ok("presence.enter", {"taskId": task})
    await ana["client"].presence("presence.updated", ben["id"], sessions=3)
    await carl["client"].ok("presence.enter", {"taskId": task})
    await ana["client"].presence("presence.joined", carl["id"])
    await converge([ana["client"], carl["client"]], task, [(ana["id"], 1), (ben["id"], 3), (carl["id"], 1)])

    # B killed with -9: carl (only on B) leaves and ben keeps his tab on A, within the TTL.
    b.stop(signal.SIGKILL)
    killed = time.monotonic()
    await ana["client"].presence("presence.left", carl["id"], timeout=12)
    left_after = time.monotonic() - killed
    await ana["client"].presence("presence.updated", ben["id"], sessions=1, timeout=5)
    print(f"    members of the killed instance left at A after {left_after:.1f} s (TTL 6 s)")
    check(left_after <= 6.5, f"left after {left_after:.1f} s, TTL 6 s")

    # A new B; Redis restarted while dave enters there and ben's last tab leaves A.
    b2 = Server(faros, *shared).start()
    try:
        dave = await person(b2, "dave")
        await ana["client"].ok("shares.create", {"taskId": task, "username": dave["name"], "permission": "view"})
        await dave["client"].ok("events.subscribe", {"topics": [f"task:{task}"]})
        outage = asyncio.ensure_future(asyncio.to_thread(restart))
        await asyncio.sleep(0.5)  # Redis is down now
        entered = await dave["client"].ok("presence.enter", {"taskId": task})
        await tab_a.ok("presence.leave", {"taskId": task})
        check(await outage == 0, "Redis restart command failed")
        # Converged: A sees dave, B sees ben gone, and both lists agree.
        await ana["client"].presence("presence.joined", dave["id"], timeout=15)
        await dave["client"].presence("presence.left", ben["id"], timeout=15)
        await converge([ana["client"], dave["client"]], task, [(ana["id"], 1), (dave["id"], 1)], timeout=15)
        check(entered["partial"] is True, f"presence.enter during the Redis outage: {entered}")
        # A graceful stop (SIGTERM) takes its members off everywhere at once, not after the TTL.
        b2.stop(signal.SIGTERM)
        stopped = time.monotonic()
        await ana["client"].presence("presence.left", dave["id"], timeout=5)
        print(f"    members of an instance stopped with SIGTERM left at A after {time.monotonic() - stopped:.1f} s")
        check(time.monotonic() - stopped < 3, "a graceful stop left its members to the TTL")
    finally:
        b2.stop(signal.SIGKILL)


async def run(name, test, *args):
    started = time.monotonic()
    try:
        await test(*args)
        RESULTS.append((name, None))
        print(f"ok    {name} ({time.monotonic() - started:.1f} s)")
    except (Failure, chaos.Lost, AssertionError, asyncio.TimeoutError, websockets.WebSocketException, OSError) as error:
        RESULTS.append((name, error))
        print(f"FAIL  {name}: {error!r}")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--faros", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--redis-restart")
    parser.add_argument("--require-redis", action="store_true", help="missing Redis options are a failure")
    args = parser.parse_args()

    one = Server(args.faros, "--presence-state-lifetime", "2s", "--idle-timeout", "3s").start()
    try:
        for test in (test_people_not_sockets_and_a_close_leaves_at_once, test_a_silent_socket_leaves_when_the_keepalive_closes_it,
                     test_typing_is_coalesced_and_expires_by_itself, test_losing_the_share_leaves):
            await run(f"in-process: {test.__name__[5:]}", test, one, None)
    finally:
        one.stop(signal.SIGKILL)

    if args.database_url and args.redis_url and args.redis_restart:
        shared = ["--database-url", args.database_url, "--redis-url", args.redis_url, "--jwt-secret", secrets.token_hex(32),
                  "--presence-ttl", "6s"]
        a, b = Server(args.faros, *shared).start(), Server(args.faros, *shared).start()
        restart = lambda: __import__("subprocess").call(args.redis_restart, shell=True)
        try:
            await run("redis: two_instances_one_member_kill_and_redis_restart",
                      test_two_instances_one_member_kill_and_redis_restart, a, b, restart, args.faros, shared)
        finally:
            a.stop(signal.SIGKILL)
            b.stop(signal.SIGKILL)
    elif args.require_redis:
        RESULTS.append(("redis", "missing --database-url, --redis-url or --redis-restart"))
        print("FAIL  redis: missing --database-url, --redis-url or --redis-restart")
    failed = [name for name, error in RESULTS if error]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
