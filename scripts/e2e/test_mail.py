#!/usr/bin/env python3
"""End-to-end tests of mail over real SMTP: the built `faros` server, a WebSocket client we did
not write (Python `websockets`), HTTP through `requests`, and an SMTP server we did not write
(aiosmtpd, driven by scripts/e2e/smtp_server.py), all on loopback.

usage: test_mail.py --faros BIN [--database-url postgres://… --psql PSQL] [--label sqlite] [--only NAME]…

Each scenario starts its own SMTP server and `faros` process(es) (a fresh data directory; with
--database-url, a fresh PostgreSQL database per scenario is created by the caller's URL's server
via `CREATE DATABASE`), so scenarios can stop, restart and kill them:

  verification      registration mails a verification link over SMTP; following it verifies
  reset             a reset mail over SMTP; its form sets the new password
  share             a share mails the verified sharee (headers encoded, RFC 8058 one-click
                    unsubscribe works and turns that mail off)
  quiet-hours       mail inside quiet hours is held; removing them releases it
  rejected          a 550 recipient is given up at once and recorded, nothing blocks
  outage            the SMTP server is down during a write; the mail arrives once it is back
  restart           faros is killed while the SMTP server is receiving the message; after a
                    restart it is delivered exactly once (one Message-ID, one copy)
  outbox-dir        without SMTP the same mail lands in DATA_DIR/outbox as .eml files

Prints one line per scenario; exits 1 if any failed.
"""
import argparse
import asyncio
import email
import email.policy
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests
import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = []


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_for(what, condition, timeout=15.0, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what}")


async def async_wait_for(what, condition, timeout=15.0, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what}")


class SMTPServer:
    """scripts/e2e/smtp_server.py in a subprocess, on a fixed or a free port."""

    def __init__(self, work, *extra, port=0):
        self.work = work
        self.extra = list(extra)
        self.maildir = os.path.join(work, "maildir")
        self.port = port
        self.process = None

    def start(self):
        port_file = os.path.join(self.work, f"smtp-port-{secrets.token_hex(4)}")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "smtp_server.py"), "--port", str(self.port), "--port-file", port_file,
             "--maildir", self.maildir, "--event-log", os.path.join(self.work, "smtp-events.jsonl"), *self.extra],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "smtp.log"), "a"))
        self.port = int(wait_for("SMTP server port", lambda: os.path.exists(port_file) and open(port_file).read().strip()))
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self):
        """Every accepted message as (envelope, email.message.EmailMessage), oldest first."""
        out = []
        for sidecar in sorted(glob.glob(os.path.join(self.maildir, "*.json"))):
            envelope = json.load(open(sidecar))
            raw = open(sidecar[:-5] + ".eml", "rb").read()
            out.append((envelope, raw, email.message_from_bytes(raw, policy=email.policy.default)))
        return out

    def to(self, address):
        return [m for m in self.messages() if address in m[0]["rcpt_tos"]]

    def events(self):
        path = os.path.join(self.work, "smtp-events.jsonl")
        return [json.loads(line) for line in open(path)] if os.path.exists(path) else []


class Faros:
    """The built server on a free port, JSON logs captured."""

    def __init__(self, binary, work, database_url, *extra):
        self.binary = binary
        self.work = work
        self.data_dir = os.path.join(work, "data")
        self.database_url = database_url
        self.extra = list(extra)
        self.process = None
        self.port = None
        self.log_path = os.path.join(work, "faros.log")

    def start(self):
        out_path = os.path.join(self.work, f"faros-{secrets.token_hex(4)}.out")
        args = [self.binary, "--port", "0", "--data-dir", self.data_dir, "--log-format", "json", "--log-level", "info",
                "--no-rate-limits", "--calls-per-second", "0", *self.extra]
        if self.database_url:
            args += ["--database-url", self.database_url]
        self.process = subprocess.Popen(args, stdout=open(out_path, "w"), stderr=open(self.log_path, "a"))

        def listening():
            if self.process.poll() is not None:
                raise AssertionError("faros exited: " + open(self.log_path).read()[-2000:])
            for line in open(out_path):
                if line.startswith("faros listening on http://"):
                    return int(line.strip().rsplit(":", 1)[1])
            return None

        self.port = wait_for("faros listening", listening)
        return self

    def stop(self, kill=False):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(60)

    @property
    def http(self):
        return f"http://127.0.0.1:{self.port}"

    def logs(self):
        out = []
        for line in open(self.log_path):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def logged(self, message):
        return [entry for entry in self.logs() if entry.get("msg") == message]


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def ok(self, method, params=None):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.ws.send(json.dumps(request))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
            if message.get("id") == self.next_id:
                check("result" in message, f"{method} failed: {message}")
                return message["result"]


async def session(faros):
    ws = await websockets.connect(f"ws://127.0.0.1:{faros.port}/rpc")
    return ws, Client(ws)


async def register(faros, name):
    ws, client = await session(faros)
    await client.ok("auth.register", {"username": name, "email": f"{name}@example.com", "password": "correct horse battery"})
    return ws, client


def text_part(message):
    part = message.get_body(preferencelist=("plain",))
    return part.get_content()


def link(message, prefix):
    for word in text_part(message).split():
        if word.startswith(prefix):
            return word
    raise AssertionError(f"no {prefix} link in {text_part(message)!r}")


async def verified(faros, smtp, name):
    ws, client = await register(faros, name)
    mail = await async_wait_for(f"verification mail to {name}", lambda: smtp.to(f"{name}@example.com"))
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link(mail[-1][2], "http")).query)["token"][0]
    await client.ok("notifications.verifyEmail", {"token": token})
    return ws, client


# MARK: Scenarios


async def scenario_verification(ctx):
    smtp = ctx.smtp()
    faros = ctx.faros("--smtp-url", smtp.url, "--mail-from", "Faros Team <faros@faros.test>")
    ws, client = await register(faros, "ana")
    envelope, raw, mail = (await async_wait_for("verification mail", lambda: smtp.to("ana@example.com")))[0]
    check(envelope["mail_from"] == "faros@faros.test", f"envelope sender {envelope['mail_from']}")
    check(mail["Subject"] == "Confirm your email address for Faros", mail["Subject"])
    check(mail["From"] == "Faros Team <faros@faros.test>", mail["From"])
    check(mail["To"] == "ana@example.com" and mail["Message-ID"].endswith("@faros.test>"), str(mail))
    check(mail["Auto-Submitted"] == "auto-generated", "Auto-Submitted")
    check(mail.get_content_type() == "multipart/alternative", mail.get_content_type())
    check(mail.get_body(preferencelist=("html",)) is not None, "no HTML part")
    check(all(len(line) <= 998 for line in raw.split(b"\r\n")), "line over 998")
    target = link(mail, f"http://127.0.0.1:{faros.port}/verify-email?token=")
    # Opening the link only shows a button (mail scanners follow links); the button's POST verifies.
    page = requests.get(target, timeout=10)
    check(page.status_code == 200 and 'action="/verify-email"' in page.text, f"{page.status_code} {page.text[:200]}")
    check((await client.ok("users.me"))["emailVerified"] is False, "opening the link verified the address")
    token = urllib.parse.parse_qs(urllib.parse.urlparse(target).query)["token"][0]
    done = requests.post(f"{faros.http}/verify-email", data={"token": token}, timeout=10)
    check(done.status_code == 200 and "verified" in done.text, f"{done.status_code} {done.text[:200]}")
    me = await client.ok("users.me")
    check(me["emailVerified"] is True, me)
    again = requests.post(f"{faros.http}/verify-email", data={"token": token}, timeout=10)
    check(again.status_code == 400, f"reused link answered {again.status_code}")
    # The log names recipient and subject, never the body or the token.
    check(token not in open(faros.log_path).read(), "token in the log")
    await ws.close()


async def scenario_reset(ctx):
    smtp = ctx.smtp()
    faros = ctx.faros("--smtp-url", smtp.url)
    ws, client = await register(faros, "ben")
    await async_wait_for("verification mail", lambda: smtp.to("ben@example.com"))
    anonymous_ws, anonymous = await session(faros)
    check(await anonymous.ok("auth.requestPasswordReset", {"email": "ben@example.com"}) == {}, "reset answer")
    check(await anonymous.ok("auth.requestPasswordReset", {"email": "nobody@example.com"}) == {}, "reset answer")
    mails = await async_wait_for("reset mail", lambda: [m for m in smtp.to("ben@example.com") if "Reset" in m[2]["Subject"]])
    target = link(mails[0][2], f"http://127.0.0.1:{faros.port}/reset-password?token=")
    token = urllib.parse.parse_qs(urllib.parse.urlparse(target).query)["token"][0]
    check(requests.get(target, timeout=10).status_code == 200, "reset form")
    answer = requests.post(f"{faros.http}/reset-password", data={"token": token, "newPassword": "a brand new secret"}, timeout=10)
    check(answer.status_code == 200, f"{answer.status_code} {answer.text[:200]}")
    await anonymous.ok("auth.login", {"username": "ben", "password": "a brand new secret"})
    time.sleep(0.5)
    check(not smtp.to("nobody@example.com"), "mail to an unknown address")
    await ws.close()
    await anonymous_ws.close()


async def scenario_share(ctx):
    smtp = ctx.smtp()
    faros = ctx.faros("--smtp-url", smtp.url)
    ana_ws, ana = await verified(faros, smtp, "ana")
    ben_ws, ben = await verified(faros, smtp, "ben")
    title = "Grüße <b>bold</b>\u2028Bcc: evil@example.com " + "long " * 30
    task = await ana.ok("tasks.create", {"title": title.strip()})
    await ana.ok("shares.create", {"taskId": task["id"], "username": "ben", "permission": "edit"})
    envelope, raw, mail = (await async_wait_for("share mail", lambda: [m for m in smtp.to("ben@example.com") if "shared" in m[2]["Subject"]]))[0]
    head = raw.split(b"\r\n\r\n", 1)[0]
    check(b"Bcc" not in head.replace(b"Bcc: evil", b"") and not any(line.startswith(b"Bcc") for line in head.split(b"\r\n")), "Bcc header")
    check(all(len(line) <= 78 or line.startswith(b" <http") for line in head.split(b"\r\n")), "long header line")
    check(mail["Subject"].startswith("ana shared \u201cGrüße <b>bold</b> Bcc: evil@example.com long"), mail["Subject"])
    html = mail.get_body(preferencelist=("html",)).get_content()
    check("&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold" not in html, "HTML escaping")
    check(f"http://127.0.0.1:{faros.port}/tasks/{task['id']}" in text_part(mail), "task link")
    check(f"http://127.0.0.1:{faros.port}/settings/notifications" in text_part(mail), "preferences link")
    unsubscribe = mail["List-Unsubscribe"].strip().strip("<>")
    check(mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", "List-Unsubscribe-Post")
    # Opening the link asks; the one-click POST (as a mail provider sends it) unsubscribes.
    page = requests.get(unsubscribe, timeout=10)
    check(page.status_code == 200 and "<form" in page.text, f"GET {page.status_code}")
    check((await ben.ok("notifications.getPreferences"))["taskShared"] is True, "GET unsubscribed")
    forged = requests.post(unsubscribe.replace("k=task_shared", "k=comment_added"), data="List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    check(forged.status_code == 400, f"forged link answered {forged.status_code}")
    done = requests.post(unsubscribe, data="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    check(done.status_code == 200, f"POST {done.status_code} {done.text[:200]}")
    preferences = await ben.ok("notifications.getPreferences")
    check(preferences["taskShared"] is False and preferences["commentAdded"] is True, preferences)
    second = await ana.ok("tasks.create", {"title": "second"})
    await ana.ok("shares.create", {"taskId": second["id"], "username": "ben"})
    # A comment still mails ben (only share mail was switched off).
    await ana.ok("comments.create", {"taskId": second["id"], "content": "hello\nthere"})
    await async_wait_for("comment mail", lambda: [m for m in smtp.to("ben@example.com") if "commented" in m[2]["Subject"]])
    check(len([m for m in smtp.to("ben@example.com") if "shared" in m[2]["Subject"]]) == 1, "share mail after unsubscribing")
    await ana_ws.close()
    await ben_ws.close()


async def scenario_quiet_hours(ctx):
    smtp = ctx.smtp()
    faros = ctx.faros("--smtp-url", smtp.url)
    ana_ws, ana = await verified(faros, smtp, "ana")
    ben_ws, ben = await verified(faros, smtp, "ben")
    # Quiet now, whatever the time: from the current UTC minute to a minute before it.
    now = time.gmtime()
    start = f"{now.tm_hour:02d}:{now.tm_min:02d}"
    end_minute = (now.tm_hour * 60 + now.tm_min - 1) % 1440
    end = f"{end_minute // 60:02d}:{end_minute % 60:02d}"
    await ana.ok("notifications.updatePreferences", {"quietHours": {"start": start, "end": end, "timeZone": "UTC"}})
    task = await ana.ok("tasks.create", {"title": "quiet"})
    await ana.ok("shares.create", {"taskId": task["id"], "username": "ben"})
    await ben.ok("comments.create", {"taskId": task["id"], "content": "one"})
    await ben.ok("comments.create", {"taskId": task["id"], "content": "two"})
    await asyncio.sleep(2)
    check(not [m for m in smtp.to("ana@example.com") if "commented" in m[2]["Subject"] or "updates" in m[2]["Subject"]], "held mail was sent")
    await ana.ok("notifications.updatePreferences", {"quietHours": None})
    digest = await async_wait_for("digest", lambda: [m for m in smtp.to("ana@example.com") if "updates from Faros" in m[2]["Subject"]], timeout=20)
    check(digest[0][2]["Subject"] == "2 updates from Faros while you were away", digest[0][2]["Subject"])
    check(text_part(digest[0][2]).count("ben commented on") == 2, text_part(digest[0][2]))
    await ana_ws.close()
    await ben_ws.close()


async def scenario_rejected(ctx):
    smtp = ctx.smtp("--reject-rcpt", "bounce@example.com")
    faros = ctx.faros("--smtp-url", smtp.url)
    ws, client = await register(faros, "bounce")
    failed = await async_wait_for("give-up log line", lambda: faros.logged("mail delivery failed for good"), timeout=20)
    check("550" in json.dumps(failed[0]), failed[0])
    check(not smtp.to("bounce@example.com"), "a rejected message arrived")
    check(not faros.logged("mail delivery failed; will retry"), "a 550 was retried")
    # Nothing blocks: calls go on.
    await client.ok("tasks.create", {"title": "still working"})
    await ws.close()


async def scenario_outage(ctx):
    smtp = ctx.smtp().start_stopped()
    faros = ctx.faros("--smtp-url", smtp.url, "--smtp-timeout", "5s")
    started = time.time()
    ws, client = await register(faros, "cleo")  # the answer does not wait for mail
    check(time.time() - started < 5, "registration waited for SMTP")
    await async_wait_for("retry log line", lambda: faros.logged("mail delivery failed; will retry"), timeout=20)
    smtp.start()
    mail = await async_wait_for("mail after the outage", lambda: smtp.to("cleo@example.com"), timeout=60)
    check(len(mail) == 1, f"{len(mail)} copies")
    await ws.close()


async def scenario_restart(ctx):
    smtp = ctx.smtp("--delay-data", "4")
    faros = ctx.faros("--smtp-url", smtp.url, "--smtp-timeout", "10s")
    ws, client = await register(faros, "dora")
    # Kill the server while the SMTP server holds the message's DATA.
    await async_wait_for("DATA started", lambda: [e for e in smtp.events() if e.get("event") in ("data", "rcpt")], timeout=20)
    await asyncio.sleep(1)
    faros.stop(kill=True)
    await asyncio.sleep(4)
    check(not smtp.to("dora@example.com"), "the interrupted message was stored")
    faros.start()
    # The dead instance's claim lapses (SMTP timeout + 30 s), then the message goes again.
    mail = await async_wait_for("mail after the restart", lambda: smtp.to("dora@example.com"), timeout=70)
    await asyncio.sleep(6)
    copies = smtp.to("dora@example.com")
    check(len(copies) == 1, f"{len(copies)} copies")
    check(mail[0][2]["Message-ID"] == copies[0][2]["Message-ID"], "Message-ID changed")
    try:
        await ws.close()
    except Exception:
        pass


async def scenario_outbox_dir(ctx):
    faros = ctx.faros()
    ws, client = await register(faros, "eve")
    outbox = os.path.join(faros.data_dir, "outbox")
    files = await async_wait_for("outbox file", lambda: os.path.isdir(outbox) and [f for f in os.listdir(outbox) if f.endswith(".eml")])
    check(all(not f.startswith(".") for f in os.listdir(outbox)), "temporary file left")
    mail = email.message_from_bytes(open(os.path.join(outbox, files[0]), "rb").read(), policy=email.policy.default)
    check(mail["To"] == "eve@example.com" and "verify-email?token=" in text_part(mail), str(mail)[:300])
    logged = await async_wait_for("outbox log", lambda: faros.logged("mail written to the outbox"))
    check(logged[0].get("mail.file") == files[0] or files[0] in json.dumps(logged[0]), logged[0])
    check(oct(os.stat(os.path.join(outbox, files[0])).st_mode & 0o777) == "0o600", "file mode")
    await ws.close()


SCENARIOS = {
    "verification": scenario_verification,
    "reset": scenario_reset,
    "share": scenario_share,
    "quiet-hours": scenario_quiet_hours,
    "rejected": scenario_rejected,
    "outage": scenario_outage,
    "restart": scenario_restart,
    "outbox-dir": scenario_outbox_dir,
}


class Context:
    """One scenario's processes and directories; everything is stopped afterwards."""

    def __init__(self, args, name):
        self.args = args
        self.work = tempfile.mkdtemp(prefix=f"faros-mail-{name}-")
        self.servers = []
        self.faroses = []
        self.database_url = None
        if args.database_url:
            database = f"faros_mail_{name.replace('-', '_')}_{secrets.token_hex(3)}"
            subprocess.run([args.psql, args.database_url, "-qc", f"CREATE DATABASE {database}"], check=True, stdout=subprocess.DEVNULL)
            self.database_url = args.database_url.rsplit("/", 1)[0] + "/" + database

    def smtp(self, *extra):
        server = SMTPServer(self.work, *extra)
        server.start_stopped = lambda: self._reserve(server)
        self.servers.append(server)
        return server.start()

    def _reserve(self, server):
        # Keep the port it had, then stop it: the server is down but faros knows where it lives.
        server.stop()
        return server

    def faros(self, *extra):
        process = Faros(self.args.faros, self.work, self.database_url, *extra)
        self.faroses.append(process)
        return process.start()

    def close(self, keep):
        for process in self.faroses:
            process.stop()
        for server in self.servers:
            server.stop()
        if not keep:
            shutil.rmtree(self.work, ignore_errors=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--faros", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--psql", default="psql", help="psql binary (creates one database per scenario)")
    parser.add_argument("--label", default="sqlite")
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    failed = False
    for name, scenario in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        ctx = Context(args, name)
        started = time.time()
        ok = False
        try:
            await scenario(ctx)
            ok = True
            print(f"ok   {args.label} {name} ({time.time() - started:.1f}s)", flush=True)
        except Exception as error:  # noqa: BLE001 - report and go on
            failed = True
            print(f"FAIL {args.label} {name}: {type(error).__name__}: {error}", flush=True)
            print(f"     logs kept in {ctx.work}", flush=True)
        finally:
            ctx.close(keep=not ok)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
