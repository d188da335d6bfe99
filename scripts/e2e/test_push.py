#!/usr/bin/env python3
"""Web Push end to end: a real Faros server, a WebSocket client we did not write (Python
`websockets`), and a push service on loopback whose crypto we did not write either
(scripts/e2e/push_service.py: PyPI's http_ece and cryptography verify each VAPID header and
decrypt each message with the subscription's private key).

usage: test_push.py --faros BIN [--database-url URL [--redis-url URL]] [--label NAME]

Checks: share, comment and completion pushes arrive decrypted with the right JSON and headers;
the actor gets none; preferences and quiet hours hold (one summary when they end); 410 removes
the device; 413 drops the push; an outage with Retry-After delays and then delivers once; a
sender killed with -9 while the push service is down loses nothing and doubles nothing after a
restart. With --redis-url as well: a second instance on the same database and Redis, both with
one VAPID key given by setting (subscriptions on the push service are bound to it): a person who
has the task open on instance B gets no push on that browser, whichever instance sends, while
their other browser does. Prints one line per test; exits 1 if any failed.
"""
import argparse
import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import chaos
from chaos import Server, Failure, check

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = []


class PushService:
    """scripts/e2e/push_service.py as a child process, driven over its control endpoints."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "push_service.py"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        check(line.startswith("PORT "), f"push service did not start: {line!r} {self.process.stderr.read() if self.process.poll() is not None else ''}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def subscription(self, application_server_key=None):
        """A new subscription: (id, PushSubscription.toJSON()-shaped dict)."""
        spec = {"applicationServerKey": application_server_key} if application_server_key else {}
        sub = self.control("POST", "/_control/subscriptions", spec)
        return sub["id"], {"endpoint": sub["endpoint"], "keys": sub["keys"]}

    def messages(self, sub_id):
        return self.control("GET", f"/_control/messages?subscription={sub_id}")

    def mode(self, **mode):
        self.control("POST", "/_control/mode", mode)

    async def wait_messages(self, sub_id, count, timeout=10, what=""):
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages(sub_id)
            if len(got) >= count:
                return got
            check(time.monotonic() < deadline, f"{what}: {len(got)} of {count} pushes after {timeout}s: {got[-3:]}")
            await asyncio.sleep(0.05)

    async def quiet(self, sub_id, count, seconds=1.5):
        await asyncio.sleep(seconds)
        got = self.messages(sub_id)
        check(len(got) == count, f"expected {count} pushes, got {len(got)}: {got[count:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def payload(message):
    value = message["payload"]
    return json.loads(value) if isinstance(value, str) else value


def header(message, name):
    headers = {k.lower(): v for k, v in message.get("headers", {}).items()}
    return headers.get(name.lower())


def vapid_key():
    """A VAPID key pair: (private scalar, public point), both unpadded base64url."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import serialization
    key = ec.generate_private_key(ec.SECP256R1())
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64(key.private_numbers().private_value.to_bytes(32, "big")), b64(public)


async def person(server, service, prefix, key=None):
    client, name, token = await chaos.register(server.ws, prefix)
    sub_id, sub = service.subscription(key)
    device = await client.ok("push.subscribe", {**sub, "label": f"{name}'s test browser"})
    check(device["current"] is True and device["service"] == service.base, f"device {device}")
    return client, name, token, sub_id


async def test_share_comment_completion(server, service, ctx):
    ana, ana_name, _, ana_sub = await person(server, service, "ana")
    ben, ben_name, _, ben_sub = await person(server, service, "ben")
    ctx.update(ana=ana, ben=ben, ana_name=ana_name, ben_name=ben_name, ana_sub=ana_sub, ben_sub=ben_sub)
    key = await (await chaos.connect(server.ws)).ok("push.getPublicKey")
    check(len(key["publicKey"]) == 87, f"public key {key}")
    task = await ana.ok("tasks.create", {"title": "Plan the launch"})
    ctx["task"] = task["id"]
    await ana.ok("shares.create", {"taskId": task["id"], "username": ben_name, "permission": "edit"})
    [shared] = await service.wait_messages(ben_sub, 1, what="share")
    p = payload(shared)
    check(p["kind"] == "taskShared" and p["taskId"] == task["id"] and p["taskTitle"] == "Plan the launch", f"share {p}")
    check(p["actor"] == ana_name and p["title"] == f"{ana_name} shared a task with you", f"share {p}")
    check(p["url"] == f"{server.http}/tasks/{task['id']}" and p["tag"] == f"faros-task-{task['id']}", f"share {p}")
    check(header(shared, "Urgency") == "normal" and header(shared, "Topic") == f"task-{task['id']}", f"headers {shared}")
    check(80_000 < int(header(shared, "TTL")) <= 86_400, f"TTL {shared}")
    await ben.ok("comments.create", {"taskId": task["id"], "content": "Looks good to me"})
    await ben.ok("tasks.update", {"id": task["id"], "completed": True})
    got = await service.wait_messages(ana_sub, 2, what="comment and completion")
    # Pushes to one device go out side by side: no order is promised (nor by push services).
    by_kind = {payload(m)["kind"]: m for m in got}
    check(sorted(by_kind) == ["commentAdded", "taskCompleted"], f"kinds {sorted(by_kind)}")
    check(payload(by_kind["commentAdded"])["body"] == "Looks good to me", f"comment {payload(by_kind['commentAdded'])}")
    check(header(by_kind["taskCompleted"], "Urgency") == "low", f"completion urgency {by_kind['taskCompleted']}")
    # Ben made those changes: nothing more for him.
    await service.quiet(ben_sub, 1, seconds=0.5)


async def test_preferences_and_quiet_hours(server, service, ctx):
    ana, ben, task, ben_sub = ctx["ana"], ctx["ben"], ctx["task"], ctx["ben_sub"]
    before = len(service.messages(ben_sub))
    prefs = await ben.ok("notifications.updatePreferences", {"pushCommentAdded": False})
    check(prefs["pushCommentAdded"] is False and prefs["commentAdded"] is True, f"prefs {prefs}")
    await ana.ok("comments.create", {"taskId": task, "content": "not pushed"})
    await service.quiet(ben_sub, before)
    await ben.ok("notifications.updatePreferences", {"pushCommentAdded": True})
    # Quiet hours covering now (in UTC): two comments are held...
    now = time.gmtime()
    start = f"{now.tm_hour:02d}:{now.tm_min:02d}"
    end = time.strftime("%H:%M", time.gmtime(time.time() + 3 * 3600))
    await ben.ok("notifications.updatePreferences", {"quietHours": {"start": start, "end": end, "timeZone": "UTC"}})
    await ana.ok("comments.create", {"taskId": task, "content": "held one"})
    await ana.ok("comments.create", {"taskId": task, "content": "held two"})
    await service.quiet(ben_sub, before)
    # ...and when they end (here: removed) one summary goes.
    await ben.ok("notifications.updatePreferences", {"quietHours": None})
    got = await service.wait_messages(ben_sub, before + 1, what="summary")
    summary = payload(got[-1])
    check(summary["kind"] == "summary" and summary["count"] == 2, f"summary {summary}")
    check(summary["url"] == f"{server.http}/tasks/{task}", f"summary url {summary}")
    await service.quiet(ben_sub, before + 1, seconds=0.5)


async def test_refusals(server, service, ctx):
    ana, ben, task = ctx["ana"], ctx["ben"], ctx["task"]
    ana_sub = ctx["ana_sub"]
    # 413 drops that push only.
    service.mode(status=413, count=1, subscription=ana_sub)
    before = len(service.messages(ana_sub))
    await ben.ok("comments.create", {"taskId": task, "content": "refused"})
    await asyncio.sleep(1)
    await ben.ok("comments.create", {"taskId": task, "content": "taken"})
    got = await service.wait_messages(ana_sub, before + 1, what="after 413")
    check(payload(got[-1])["body"] == "taken", f"after 413 {payload(got[-1])}")
    check(len((await ana.ok("push.listDevices"))["devices"]) == 1, "413 kept the device")
    # 410: the device is removed.
    service.mode(status=410, count=1, subscription=ana_sub)
    await ben.ok("comments.create", {"taskId": task, "content": "gone"})
    deadline = time.monotonic() + 10
    while (await ana.ok("push.listDevices"))["devices"]:
        check(time.monotonic() < deadline, "the device was not removed after 410")
        await asyncio.sleep(0.1)
    # Garbage is refused by field.
    reply = await ana.call("push.subscribe", {"endpoint": "http://10.0.0.1/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}})
    fields = sorted(e["field"] for e in reply.get("error", {}).get("data", {}).get("errors", []))
    check(reply.get("error", {}).get("code") == -32602 and fields == ["endpoint", "keys.auth", "keys.p256dh"], f"garbage {reply}")


async def test_outage_then_delivery(server, service, ctx):
    ana, ben, task, ben_sub = ctx["ana"], ctx["ben"], ctx["task"], ctx["ben_sub"]
    before = len(service.messages(ben_sub))
    service.mode(status=503, count=3, retryAfter=1, subscription=ben_sub)
    started = time.monotonic()
    await ana.ok("comments.create", {"taskId": task, "content": "after the outage"})
    got = await service.wait_messages(ben_sub, before + 1, timeout=20, what="after 503s")
    waited = time.monotonic() - started
    check(payload(got[-1])["body"] == "after the outage", f"outage {payload(got[-1])}")
    check(waited >= 2.5, f"delivered after {waited:.1f}s: Retry-After: 1 three times was not honoured")
    await service.quiet(ben_sub, before + 1, seconds=1)
    RESULTS.append(f"   (delivered {waited:.1f}s after three 503s with Retry-After: 1)")


async def test_killed_sender_loses_nothing(server, service, ctx, args):
    ana, task, ben_sub = ctx["ana"], ctx["task"], ctx["ben_sub"]
    before = len(service.messages(ben_sub))
    service.mode(status=503, count=1000, retryAfter=1, subscription=ben_sub)
    await ana.ok("comments.create", {"taskId": task, "content": "survives a crash"})
    await asyncio.sleep(1.5)
    server.stop(signal.SIGKILL)
    service.mode(status=201)
    server.start()
    got = await service.wait_messages(ben_sub, before + 1, timeout=20, what="after the restart")
    check(payload(got[-1])["body"] == "survives a crash", f"after restart {payload(got[-1])}")
    await service.quiet(ben_sub, before + 1, seconds=2)


async def test_two_instances(server, other, service, key):
    """Ben has the task open in his laptop's browser on instance B; his phone is another
    signed-in session. Ana comments on instance A: only the phone is pushed, whichever
    instance's sender takes the push, since presence (with its device) is shared through Redis."""
    ana, ana_name, _, _ = await person(server, service, "ana", key)
    ben, ben_name, ben_token, laptop = await person(server, service, "ben", key)
    check((await ana.ok("push.getPublicKey"))["publicKey"] == key, "instance A's key is the one given")
    check((await (await chaos.connect(other.ws)).ok("push.getPublicKey"))["publicKey"] == key, "instance B's key is the one given")
    phone_client = await chaos.connect(other.ws)
    await phone_client.ok("auth.login", {"username": ben_name, "password": chaos.PASSWORD})
    phone, phone_sub = service.subscription(key)
    await phone_client.ok("push.subscribe", phone_sub)
    task = (await ana.ok("tasks.create", {"title": "Two instances"}))["id"]
    await ana.ok("shares.create", {"taskId": task, "username": ben_name, "permission": "edit"})
    await service.wait_messages(laptop, 1, what="share to the laptop")
    await service.wait_messages(phone, 1, what="share to the phone")
    laptop_on_b = await chaos.connect(other.ws, ben_token)
    await laptop_on_b.ok("presence.enter", {"taskId": task})
    await asyncio.sleep(0.5)  # the entry reaches instance A through Redis
    for i in range(4):
        await ana.ok("comments.create", {"taskId": task, "content": f"while open {i}"})
    got = await service.wait_messages(phone, 5, what="comments to the phone")
    check(sorted(payload(m)["body"] for m in got[1:]) == [f"while open {i}" for i in range(4)], f"phone {got}")
    await service.quiet(laptop, 1, seconds=1.5)
    await laptop_on_b.ok("presence.leave", {"taskId": task})
    await asyncio.sleep(0.5)
    await ana.ok("comments.create", {"taskId": task, "content": "after leaving"})
    got = await service.wait_messages(laptop, 2, what="the laptop after leaving")
    check(payload(got[-1])["body"] == "after leaving", f"laptop {payload(got[-1])}")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--faros", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--label", default="sqlite")
    args = parser.parse_args()
    service = PushService()
    extra = ["--push-allow-http", "loopback"]
    if args.database_url:
        extra += ["--database-url", args.database_url]
    server = Server(args.faros, *extra).start()
    other = None
    ctx = {}
    failed = 0
    tests = [
        ("share, comment and completion pushes arrive decrypted", lambda: test_share_comment_completion(server, service, ctx)),
        ("push preferences and quiet hours hold; one summary", lambda: test_preferences_and_quiet_hours(server, service, ctx)),
        ("413 drops one push, 410 removes the device, garbage is refused", lambda: test_refusals(server, service, ctx)),
        ("an outage with Retry-After delays, then delivers once", lambda: test_outage_then_delivery(server, service, ctx)),
        ("a sender killed with -9 loses nothing, doubles nothing", lambda: test_killed_sender_loses_nothing(server, service, ctx, args)),
    ]
    if args.database_url and args.redis_url:
        private, public = vapid_key()
        shared = [*extra, "--redis-url", args.redis_url, "--vapid-private-key", private, "--jwt-secret", os.urandom(32).hex()]

        async def two_instances():
            nonlocal server, other
            server.stop()
            server = Server(args.faros, *shared).start()
            other = Server(args.faros, *shared).start()
            await test_two_instances(server, other, service, public)
        tests.append(("two instances: no push to a browser showing the task on the other one", two_instances))
    try:
        for name, test in tests:
            started = time.monotonic()
            try:
                await asyncio.wait_for(test(), 60)
                print(f"ok   [{args.label}] {name} ({time.monotonic() - started:.1f}s)")
            except (Failure, AssertionError, asyncio.TimeoutError, OSError) as error:
                failed += 1
                print(f"FAIL [{args.label}] {name}: {error!r}")
                if not ctx:
                    break
            for line in RESULTS:
                print(line)
            RESULTS.clear()
    finally:
        server.stop()
        if other:
            other.stop()
        service.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
