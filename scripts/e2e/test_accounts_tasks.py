#!/usr/bin/env python3
"""End-to-end tests of accounts and tasks against a running Faros server, with a WebSocket client
we did not write (Python `websockets`).

usage: test_accounts_tasks.py ws://127.0.0.1:PORT --data-dir DIR [--label sqlite]

The server must run with FAROS_RATE_LIMITS=on (the default), `--trusted-proxies 127.0.0.1` (each
test client claims its own address in X-Forwarded-For, as a reverse proxy would write it, so the
per-address limits apply per test), and its data directory at DIR (the outbox is read from
DIR/outbox). Prints one line per test; exits 1 if any failed.
"""
import argparse
import asyncio
import json
import os
import secrets
import sys

import websockets
from websockets.exceptions import InvalidStatus

RESULTS = []


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.notifications = []

    async def call(self, method, params=None):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.ws.send(json.dumps(request))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if "id" not in message:
                self.notifications.append(message)
                continue
            check(message["id"] == self.next_id, f"unexpected answer {message}")
            return message

    async def ok(self, method, params=None):
        reply = await self.call(method, params)
        check("result" in reply, f"{method} failed: {reply}")
        return reply["result"]

    async def error(self, method, params, code):
        reply = await self.call(method, params)
        check("error" in reply and reply["error"]["code"] == code, f"{method} expected {code}: {reply}")
        return reply["error"]

    async def next_notification(self, timeout=5):
        if self.notifications:
            return self.notifications.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))


def fresh_address():
    return f"198.51.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


def connect(base, token=None, address=None):
    headers = {"X-Forwarded-For": address or fresh_address()}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return websockets.connect(base + "/rpc", additional_headers=headers, subprotocols=["faros.v1"])


def fresh_name():
    return "u" + secrets.token_hex(6)


async def register(client, name=None, password="correct horse 1"):
    name = name or fresh_name()
    result = await client.ok("auth.register", {"username": name, "email": f"{name}@example.com", "password": password})
    return name, result


async def test_register_login_and_bearer_upgrade(base, data_dir):
    async with connect(base) as ws:
        c = Client(ws)
        name, result = await register(c)
        check(result["user"]["username"] == name and result["user"]["emailVerified"] is False, result)
        check(result["token"]["expiresAt"].endswith("Z"), result)
        me = await c.ok("users.me")
        check(me["id"] == result["user"]["id"], me)
        token = result["token"]["accessToken"]
    # The token opens a signed-in socket directly.
    async with connect(base, token) as ws:
        me = await Client(ws).ok("users.me")
        check(me["username"] == name, me)
    # A bad token gets 401 and no upgrade.
    try:
        async with connect(base, token[:-2] + "xx"):
            raise AssertionError("upgrade with a forged token succeeded")
    except InvalidStatus as error:
        check(error.response.status_code == 401, error.response.status_code)
        check("bearer" in error.response.headers.get("WWW-Authenticate", "").lower(), error.response.headers)
    # Login by email, any case.
    async with connect(base) as ws:
        c = Client(ws)
        await c.ok("auth.login", {"username": f"{name.upper()}@EXAMPLE.COM", "password": "correct horse 1"})
        await c.ok("users.me")


async def test_anonymous_calls_are_refused(base, data_dir):
    async with connect(base) as ws:
        c = Client(ws)
        await c.error("tasks.list", {}, -32001)
        await c.error("users.me", None, -32001)
        await c.error("auth.login", {"username": "nobody-here", "password": "whatever123"}, -32001)


async def test_duplicate_registration_race(base, data_dir):
    name = fresh_name()

    async def attempt(i):
        async with connect(base) as ws:
            return await Client(ws).call("auth.register", {"username": name if i % 2 else name.upper(),
                                                           "email": f"{name}{i}@example.com", "password": "password-123"})
    replies = await asyncio.gather(*(attempt(i) for i in range(4)))
    wins = [r for r in replies if "result" in r]
    losses = [r for r in replies if "error" in r]
    check(len(wins) == 1, replies)
    check(all(r["error"]["code"] == -32009 and r["error"]["data"]["field"] == "username" for r in losses), losses)


async def test_verification_mail_in_outbox(base, data_dir):
    async with connect(base) as ws:
        name, _ = await register(Client(ws))
    outbox = os.path.join(data_dir, "outbox")
    for _ in range(50):
        files = [f for f in os.listdir(outbox) if f.endswith(".eml")] if os.path.isdir(outbox) else []
        mails = [open(os.path.join(outbox, f), encoding="utf-8", errors="replace").read() for f in files]
        mine = [m for m in mails if f"{name}@example.com" in m]
        if mine:
            check("/verify-email?token=" in mine[0].replace("=\n", "").replace("=3D", "="), mine[0][:400])
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no verification mail in the outbox")


async def test_password_change_signs_other_sessions_out(base, data_dir):
    async with connect(base) as ws1:
        a = Client(ws1)
        name, result = await register(a)
        async with connect(base, result["token"]["accessToken"]) as ws2:
            b = Client(ws2)
            await b.ok("users.me")
            await a.error("users.changePassword", {"currentPassword": "wrong-password", "newPassword": "another pass 2"}, -32602)
            await a.ok("users.me")  # a wrong current password does not end the session
            token = await a.ok("users.changePassword", {"currentPassword": "correct horse 1", "newPassword": "another pass 2"})
            check(token["accessToken"] != result["token"]["accessToken"], token)
            note = await b.next_notification()
            check(note == {"jsonrpc": "2.0", "method": "auth.signedOut", "params": {"reason": "passwordChanged"}}, note)
            await b.error("users.me", None, -32001)
            await a.ok("users.me")
        try:
            async with connect(base, result["token"]["accessToken"]):
                raise AssertionError("old token still opens a session")
        except InvalidStatus as error:
            check(error.response.status_code == 401, error.response.status_code)


async def test_tasks_roundtrip(base, data_dir):
    async with connect(base) as ws:
        c = Client(ws)
        await register(c)
        task = await c.ok("tasks.create", {"title": "  Write the report  ", "tags": ["Work", "work", " urgent "],
                                          "dueDate": "2026-12-01", "priority": "high"})
        check(task["title"] == "Write the report" and task["tags"] == ["Work", "urgent"], task)
        check(task["permission"] == "owner" and task["shareCount"] == 0 and task["description"] is None, task)
        same = await c.ok("tasks.get", {"id": task["id"]})
        check(same == task, (same, task))
        updated = await c.ok("tasks.update", {"id": task["id"], "completed": True, "requestKey": "k1"})
        again = await c.ok("tasks.update", {"id": task["id"], "completed": True, "requestKey": "k1"})
        check(updated == again and updated["completed"] is True, (updated, again))
        for title in ["100% done", "under_score", "it's", "back\\slash"]:
            await c.ok("tasks.create", {"title": title})
        page = await c.ok("tasks.list", {"search": "_"})
        check([t["title"] for t in page["items"]] == ["under_score"], page)
        page = await c.ok("tasks.list", {"search": "%"})
        check([t["title"] for t in page["items"]] == ["100% done"], page)
        page = await c.ok("tasks.list", {"sortBy": "title", "sortOrder": "asc", "limit": 2})
        check(page["total"] == 5 and page["limit"] == 2 and len(page["items"]) == 2, page)
        stats = await c.ok("tasks.stats")
        check(stats["total"] == 5 and stats["completed"] == 1, stats)
        error = await c.error("tasks.update", {"id": task["id"], "title": "   "}, -32602)
        check(error["data"]["errors"][0]["field"] == "title", error)
        await c.error("tasks.get", {"id": 999999999}, -32004)
        await c.ok("tasks.delete", {"id": task["id"]})
        await c.error("tasks.get", {"id": task["id"]}, -32004)


async def test_other_users_tasks_are_invisible(base, data_dir):
    async with connect(base) as ws1, connect(base) as ws2:
        a, b = Client(ws1), Client(ws2)
        await register(a)
        await register(b)
        task = await a.ok("tasks.create", {"title": "private"})
        await b.error("tasks.get", {"id": task["id"]}, -32004)
        await b.error("tasks.update", {"id": task["id"], "title": "mine now"}, -32004)
        await b.error("tasks.delete", {"id": task["id"]}, -32004)
        error = await b.error("tasks.bulkUpdate", {"ids": [task["id"]], "changes": {"completed": True}}, -32004)
        check(error["data"]["id"] == task["id"], error)
        check((await a.ok("tasks.get", {"id": task["id"]}))["title"] == "private", "task changed")


async def test_login_rate_limit(base, data_dir):
    async with connect(base) as ws:
        c = Client(ws)
        name, _ = await register(c)
        for _ in range(5):
            await c.error("auth.login", {"username": name, "password": "wrong password"}, -32001)
        error = await c.error("auth.login", {"username": name, "password": "correct horse 1"}, -32029)
        check(error["data"]["retryAfterMs"] > 0, error)


async def test_registration_rate_limit_per_address(base, data_dir):
    address = fresh_address()
    async with connect(base, address=address) as ws:
        c = Client(ws)
        for _ in range(5):
            await register(c)
        name = fresh_name()
        error = await c.error("auth.register", {"username": name, "email": f"{name}@example.com",
                                                "password": "correct horse 1"}, -32029)
        check(error["data"]["retryAfterMs"] > 0, error)
    # Another address (as the trusted proxy reports it) is not affected.
    async with connect(base) as ws:
        await register(Client(ws))


TESTS = [
    test_registration_rate_limit_per_address,
    test_register_login_and_bearer_upgrade,
    test_anonymous_calls_are_refused,
    test_duplicate_registration_race,
    test_verification_mail_in_outbox,
    test_password_change_signs_other_sessions_out,
    test_tasks_roundtrip,
    test_other_users_tasks_are_invisible,
    test_login_rate_limit,
]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    failed = 0
    for test in TESTS:
        try:
            await test(args.base, args.data_dir)
            print(f"ok   {args.label} {test.__name__}")
        except Exception as error:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {args.label} {test.__name__}: {type(error).__name__}: {error}")
    print(f"{len(TESTS) - failed}/{len(TESTS)} passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
