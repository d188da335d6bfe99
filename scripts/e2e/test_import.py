#!/usr/bin/env python3
"""End-to-end test of `faros import faros`, checked as a client would: the built binary imports
a FAROS deployment (PostgreSQL schema `faros` + upload directory or S3 bucket), then the built
server is started on the result and everything is read back over JSON-RPC (Python `websockets`)
and HTTP (`requests`), clients we did not write.

usage: test_import.py --bin PATH/TO/faros --source-url postgres://…/faros_src
                      --fixture Tests/Fixtures/faros --work DIR --label sqlite|postgresql|s3
                      [--database-url postgres://…/EMPTY_TARGET_DB]
                      [--s3-endpoint http://127.0.0.1:PORT --s3-bucket BUCKET]
                      [--files-s3 s3://BUCKET/PREFIX]
                      [--hostile-source-url postgres://…/faros_hostile] [--kill-test]
                      [--generator PATH] [--psql PSQL] [--keep]

The caller loads the fixture's faros.sql into --source-url beforehand. The target is SQLite in
DIR/target (--data-dir) or the empty PostgreSQL database --database-url; its files live in
DIR/target/files, or in the bucket --s3-bucket at --s3-endpoint (moto: any keys do). The source
files are a copy of the fixture's uploads/ (so the repository's copy is never handed to the
importer), or with --files-s3 the bucket/prefix the caller uploaded that tree to (read with the
target's S3 endpoint and keys, as the command does).

In order, one line per check (`ok - …` / `FAIL - …`), exit 1 if any failed:

  fixture          faros.sql parses (COPY text format, arrays, JSON) to the README's counts
  dry run          `--dry-run` into the fresh target exits 0 and reports dryRun and the counts a
                   real run then imports; afterwards nobody signs in and no blob was stored
  import           exit 0; the report's counts, copied files/avatars and an empty "skipped";
                   counts name every kind of the interface (users, avatars, preferences, tasks,
                   shares, comments, files, activity)
  source           the source upload tree is byte-for-byte unchanged
  as a client      every user signs in with the README's password, a wrong one (dave's old) is
                   -32001; users.me (email, createdAt, avatar); every user's owned tasks equal
                   FAROS's rows (title, description, tags, priority, dueDate, completed,
                   createdAt, shareCount); shares with roles (task 10 is view for bob);
                   shares.sharedWithMe; a stranger gets -32004; comments with authors, times and
                   the edit; files (name, size, type, time) downloaded byte-identical through
                   files.downloadUrl; bob's avatar byte-identical; every task's timeline is its
                   FAROS history in order with mapped actions, actors and FAROS's times;
                   activity.list; notification preferences (carol's "shared with me" is off)
  second run       exit 0, every "imported" 0, "existing" = the first run's "imported", no blob
                   added, and a full snapshot through the API identical to the first
  hostile          (--hostile-source-url; faros.sql is loaded there first if the database is
                   empty, hostile.sql if not yet loaded) imported into a fresh SQLite target:
                   exit 0, each hostile row in "skipped" (kind + FAROS id + a reason) and no
                   other, every fixture row still imported; as a client: alice's 12 tasks,
                   nothing of the hostile rows, Alice2 cannot sign in
  kill             (--kill-test) scripts/lib/faros_generate.py makes 3000 tasks in a database
                   this script creates beside --source-url (and drops afterwards; every user's
                   password is then set to one known bcrypt hash); an import (--batch-size 50
                   --progress lines) is SIGKILLed at its first progress line for tasks or later
                   and run again to completion; a canonical dump through the API (per user:
                   tasks sorted by title + createdAt, with shares, comment/file/timeline counts)
                   equals that of a clean import into another fresh target

Times are compared exactly after truncating FAROS's microseconds to milliseconds (Faros keeps
milliseconds, truncating toward the past); FAROS's naive timestamps are read as UTC. On a
failure the targets, reports, import logs and server logs stay in --work; after a pass only
the reports and logs do (unless --keep).
"""
import argparse
import asyncio
import datetime
import glob
import hashlib
import inspect
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time

import requests
import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
UTC = datetime.timezone.utc

# The fixture README's numbers (the "fixture" check holds faros.sql to them).
README_COUNTS = {"users": 4, "tasks": 15, "shares": 6, "comments": 4, "files": 3, "avatars": 1, "preferences": 3,
                 "activity": 38}
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "carol": "carol-password-333",
             "dave": "dave-password-new-5"}
DAVE_OLD_PASSWORDS = ["dave-password-5", "dave-password-old-5"]  # the README names no old one: wrong ones
KINDS = ["users", "preferences", "tasks", "shares", "comments", "files", "activity"]  # avatars: the report's top-level "avatars"
UNAUTHENTICATED, NOT_FOUND = -32001, -32004

# (kind, FAROS id) of every row hostile.sql adds; the SVG is written by this script (see hostile.sql).
HOSTILE_ROWS = {("task", 100): "300-character title", ("user", 100): "Alice2, email ALICE@example.org",
                ("task", 101): "Alice2's task", ("file", 100): "stored file missing",
                ("file", 101): "SVG with a script", ("task", 102): "priority 'urgent'",
                ("comment", 100): "content of only spaces"}
HOSTILE_SVG_NAME = "task_2_5f0c2a8e-7d7b-4c55-9a57-0e4f6f1d2b3c.svg"
HOSTILE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>\n'

# FAROS (resource_type, action) -> Faros event type.
ACTIONS = {("task", "created"): "task.created", ("task", "updated"): "task.updated",
           ("task", "deleted"): "task.deleted", ("task", "shared"): "share.created",
           ("task", "unshared"): "share.revoked", ("comment", "created"): "comment.created",
           ("comment", "updated"): "comment.updated", ("comment", "deleted"): "comment.deleted",
           ("file", "uploaded"): "file.uploaded", ("file", "deleted"): "file.deleted"}

# Every generated user's password in the kill test: a bcrypt hash (cost 4, so signing in a few
# hundred users stays quick) written over the generator's hashes before either import.
GENERATED_PASSWORD = "generated-password-1"
GENERATED_HASH = "$2b$04$NdtjHEFLhV4cbM1qaDoUU.G6zFBvklz2EPdyT9kkmUh/Y28aMot.e"
EARLY_PHASES = {"users", "avatars", "preferences"}  # a progress line for any other phase is "tasks or later"
# What the script makes in --work besides reports and logs (removed before a run and after a pass).
WORK_DIRECTORIES = ["target", "source-uploads", "hostile-target", "hostile-uploads", "killed-target", "clean-target",
                    "generated-uploads"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def equal(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


# ---------------------------------------------------------------------------------------------
# The fixture: faros.sql's COPY blocks (PostgreSQL's text format)

INT_COLUMNS = {"id", "user_id", "task_id", "resource_id", "file_size", "shared_with_user_id", "shared_by_user_id"}
BOOL_COLUMNS = {"completed", "email_verified", "email_enabled", "task_shared_with_me", "task_completed",
                "comment_on_my_task", "task_due_soon"}
TIME_COLUMNS = {"created_at", "updated_at", "shared_at", "uploaded_at", "verification_expires",
                "password_reset_token_expires"}
ESCAPES = {ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("v"): 11}


def copy_field(raw):
    """One field of COPY's text format: None for \\N, else the unescaped text."""
    if raw == b"\\N":
        return None
    out, i = bytearray(), 0
    while i < len(raw):
        byte = raw[i]
        if byte != 0x5C or i + 1 == len(raw):
            out.append(byte)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in ESCAPES:
            out.append(ESCAPES[nxt])
            i += 2
        elif 0x30 <= nxt <= 0x37:  # \ooo: up to three octal digits, one byte
            j = i + 1
            while j < len(raw) and j < i + 4 and 0x30 <= raw[j] <= 0x37:
                j += 1
            out.append(int(raw[i + 1:j], 8) & 0xFF)
            i = j
        elif nxt == ord("x") and i + 2 < len(raw) and chr(raw[i + 2]) in "0123456789abcdefABCDEF":
            j = i + 2
            while j < len(raw) and j < i + 4 and chr(raw[j]) in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(raw[i + 2:j], 16))
            i = j
        else:  # \\ and any other escaped character stand for themselves
            out.append(nxt)
            i += 2
    return out.decode("utf-8")


def pg_array(text):
    """A one-dimensional PostgreSQL array literal ({a,"b c",NULL}) as a list."""
    check(text.startswith("{") and text.endswith("}"), f"not an array literal: {text!r}")
    body, items, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == '"':
            i += 1
            value = []
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                value.append(body[i])
                i += 1
            items.append("".join(value))
            i += 1
        else:
            j = body.find(",", i)
            j = len(body) if j < 0 else j
            value = body[i:j].strip()
            items.append(None if value == "NULL" else value)
            i = j
        if i < len(body):
            check(body[i] == ",", f"bad array literal {text!r}")
            i += 1
    return items


def pg_time(text):
    """A timestamp or timestamptz as pg_dump writes it, as an aware UTC datetime (naive = UTC)."""
    if text is None:
        return None
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d(?::?\d\d)?)?", text)
    check(m, f"bad timestamp {text!r}")
    fraction = (m.group(3) or ".0")[1:].ljust(6, "0")[:6]
    value = datetime.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}.{fraction}")
    offset = m.group(4)
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return (value - sign * delta).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC)


def faros_ms(value):
    """What Faros shows for a FAROS time: milliseconds, truncated toward the past, as RFC 3339."""
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_dump(path):
    """faros.sql's COPY blocks: {table: [row dict]}, typed by column name."""
    tables, current, columns = {}, None, None
    for line in open(path, "rb").read().split(b"\n"):
        if current is None:
            m = re.match(rb'COPY "?faros"?\."?(\w+)"? \((.*)\) FROM stdin;$', line)
            if m:
                current = m.group(1).decode()
                columns = [c.strip().strip('"') for c in m.group(2).decode().split(",")]
                tables[current] = []
            continue
        if line == b"\\.":
            current = None
            continue
        fields = [copy_field(f) for f in line.split(b"\t")]
        check(len(fields) == len(columns), f"{current}: {len(fields)} fields for {len(columns)} columns")
        row = {}
        for name, value in zip(columns, fields):
            if value is not None:
                if name in INT_COLUMNS:
                    value = int(value)
                elif name in BOOL_COLUMNS:
                    check(value in ("t", "f"), f"{current}.{name}: {value!r}")
                    value = value == "t"
                elif name in TIME_COLUMNS:
                    value = pg_time(value)
                elif name == "tags":
                    value = pg_array(value)
                elif name == "details":
                    value = json.loads(value)
            row[name] = value
        tables[current].append(row)
    return tables


class Fixture:
    def __init__(self, directory):
        self.directory = directory
        self.uploads = os.path.join(directory, "uploads")
        t = parse_dump(os.path.join(directory, "faros.sql"))
        self.users = sorted(t["users"], key=lambda r: r["id"])
        self.tasks = sorted(t["tasks"], key=lambda r: r["id"])
        self.shares = sorted(t["task_shares"], key=lambda r: r["id"])
        self.comments = sorted(t["task_comments"], key=lambda r: r["id"])
        self.files = sorted(t["task_files"], key=lambda r: r["id"])
        self.preferences = {r["user_id"]: r for r in t["notification_preferences"]}
        self.activity = sorted(t["activity_logs"], key=lambda r: r["id"])
        self.user_by_id = {u["id"]: u for u in self.users}
        self.task_by_id = {x["id"]: x for x in self.tasks}

    def counts(self):
        return {"users": len(self.users), "tasks": len(self.tasks), "shares": len(self.shares),
                "comments": len(self.comments), "files": len(self.files),
                "avatars": sum(1 for u in self.users if u["avatar_url"]),
                "preferences": len(self.preferences), "activity": len(self.activity)}

    def username(self, user_id):
        return self.user_by_id[user_id]["username"]

    def avatar_path(self, user):
        """uploads/avatars/user_<id>_avatar.<ext> for an avatar_url /users/<id>/avatar.<ext>."""
        ext = user["avatar_url"].rsplit(".", 1)[1]
        return os.path.join(self.uploads, "avatars", f"user_{user['id']}_avatar.{ext}")

    def timeline(self, task_id):
        """FAROS's history of a task as Faros should show it: (action, actor, time), in id order."""
        out = []
        for row in self.activity:
            owner_task = row["resource_id"] if row["resource_type"] == "task" else (row["details"] or {}).get("task_id")
            if owner_task == task_id:
                out.append((ACTIONS[(row["resource_type"], row["action"])], self.username(row["user_id"]),
                            faros_ms(row["created_at"])))
        return out


# ---------------------------------------------------------------------------------------------
# Processes: the import command and the server

class ImportRun:
    def __init__(self, returncode, report, stdout, stderr):
        self.returncode, self.report, self.stdout, self.stderr = returncode, report, stdout, stderr

    def describe(self):
        return f"exit {self.returncode}; stderr: {self.stderr[-1500:]!r}; stdout: {self.stdout[-500:]!r}"


class Env:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.work = os.path.abspath(args.work)
        self.label = args.label
        self.failed = 0
        self.passed = 0
        self.servers = []
        self._help = None

    # -- output -------------------------------------------------------------------------------
    async def check(self, name, fn, *fn_args):
        """Runs one check; prints its line; returns its value, or None when it failed."""
        try:
            value = fn(*fn_args)
            if inspect.isawaitable(value):
                value = await value
            note = f" ({value})" if isinstance(value, str) and value else ""
            print(f"ok - [{self.label}] {name}{note}", flush=True)
            self.passed += 1
            return True if value is None or isinstance(value, str) and not value else value
        except Exception as error:  # noqa: BLE001 - every failure is reported
            print(f"FAIL - [{self.label}] {name}: {type(error).__name__}: {error}", flush=True)
            self.failed += 1
            return None

    def not_run(self, what, why):
        print(f"FAIL - [{self.label}] {what}: not run ({why})", flush=True)
        self.failed += 1

    # -- the import command -------------------------------------------------------------------
    def import_help(self):
        if self._help is None:
            try:
                p = subprocess.run([self.bin, "import", "faros", "--help"], capture_output=True, text=True, timeout=60)
                self._help = p.stdout + p.stderr
            except (OSError, subprocess.TimeoutExpired) as error:
                self._help = str(error)
        return self._help

    def s3_target_args(self):
        """The target's bucket (moto takes any keys); `import faros` reads --files-s3 with them too."""
        a = self.args
        if not a.s3_endpoint:
            return []
        return ["--s3-endpoint", a.s3_endpoint, "--s3-bucket", a.s3_bucket, "--s3-access-key-id", "test",
                "--s3-secret-access-key", "test", "--s3-region", "us-east-1", "--s3-path-style"]

    def import_command(self, source_url, target, files, report, extra=()):
        """target: {"data_dir", "database_url", "s3"}; files: ("dir", path) or ("s3", url)."""
        command = [self.bin, "import", "faros", "--from", source_url]
        command += ["--files-dir", files[1]] if files[0] == "dir" else ["--files-s3", files[1]]
        command += ["--report", report, *extra, "--data-dir", target["data_dir"]]
        if target.get("database_url"):
            command += ["--database-url", target["database_url"]]
        if target.get("s3"):
            command += self.s3_target_args()
        return command

    def run_import(self, source_url, target, files, name, extra=(), timeout=900):
        report = os.path.join(self.work, f"report-{name}.json")
        if os.path.exists(report):
            os.remove(report)
        command = self.import_command(source_url, target, files, report, extra)
        if "--progress" not in extra:
            command[command.index("--report"):command.index("--report")] = ["--progress", "none"]
        with open(os.path.join(self.work, f"import-{name}.cmd"), "w") as f:
            f.write(" ".join(command) + "\n")
        try:
            p = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as expired:  # run() has killed it; report it as a failed run
            out, err = (x.decode("utf-8", "replace") if isinstance(x, bytes) else x or "" for x in (expired.stdout, expired.stderr))
            p = subprocess.CompletedProcess(command, f"killed after {timeout} s", out, err)
        with open(os.path.join(self.work, f"import-{name}.log"), "w") as f:
            f.write(p.stdout + "\n--- stderr ---\n" + p.stderr)
        parsed = None
        if os.path.exists(report):
            try:
                parsed = json.load(open(report))
            except ValueError as error:
                parsed = {"unparsable": str(error)}
        return ImportRun(p.returncode, parsed, p.stdout, p.stderr)

    # -- the server ----------------------------------------------------------------------------
    def start_server(self, target, name):
        server = Server(self, target, name)
        self.servers.append(server)
        server.start()
        return server

    def stop_servers(self):
        for server in self.servers:
            server.stop()
        self.servers = []

    # -- blobs -----------------------------------------------------------------------------------
    def blobs(self, target):
        """Every stored blob of the target: file names in DATA_DIR/files, or the bucket's keys."""
        if target.get("s3"):
            keys, token = [], None
            while True:
                params = {"list-type": "2"}
                if token:
                    params["continuation-token"] = token
                r = requests.get(f"{self.args.s3_endpoint}/{self.args.s3_bucket}", params=params, timeout=20)
                check(r.status_code == 200, f"bucket listing: {r.status_code} {r.text[:200]}")
                keys += re.findall(r"<Key>([^<]+)</Key>", r.text)
                m = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", r.text)
                if not m:
                    return sorted(keys)
                token = m.group(1)
        directory = os.path.join(target["data_dir"], "files")
        return sorted(os.listdir(directory)) if os.path.isdir(directory) else []

    # -- psql --------------------------------------------------------------------------------------
    def psql(self, url, *args):
        p = subprocess.run([self.args.psql, "-X", "-v", "ON_ERROR_STOP=1", "-q", *args, url],
                           capture_output=True, text=True, timeout=300)
        check(p.returncode == 0, f"psql {' '.join(args)[:80]}: {p.stderr.strip()[-500:]}")
        return p.stdout

    def create_database(self, beside_url, prefix):
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.psql(beside_url, "-c", f"CREATE DATABASE {name}")
        return name, beside_url.rsplit("/", 1)[0] + "/" + name


class Server:
    def __init__(self, env, target, name):
        self.env, self.target, self.name = env, target, name
        self.process = None
        self.port = None

    def start(self):
        env = self.env
        command = [env.bin, "--port", "0", "--data-dir", self.target["data_dir"], "--no-rate-limits",
                   "--calls-per-second", "0", "--log-level", "warning"]
        if self.target.get("database_url"):
            command += ["--database-url", self.target["database_url"]]
        if self.target.get("s3"):
            a = env.args
            command += ["--s3-endpoint", a.s3_endpoint, "--s3-bucket", a.s3_bucket, "--s3-access-key-id", "test",
                        "--s3-secret-access-key", "test", "--s3-region", "us-east-1", "--s3-path-style"]
        out_path = os.path.join(env.work, f"server-{self.name}.out")
        self.log_path = os.path.join(env.work, f"server-{self.name}.log")
        self.process = subprocess.Popen(command, stdout=open(out_path, "w"), stderr=open(self.log_path, "w"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in open(out_path):
                m = re.match(r"faros listening on http://.*:(\d+)$", line.strip())
                if m:
                    self.port = int(m.group(1))
                    return
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}: {open(self.log_path).read()[-1500:]}")
            time.sleep(0.1)
        raise AssertionError("server did not print its listening line within 60 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    @property
    def http(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self):
        return f"ws://127.0.0.1:{self.port}/rpc"

    def local(self, url):
        """The server's public URL may name another port (derived before the port-0 bind)."""
        return re.sub(r"^https?://[^/]+", self.http, url)


# ---------------------------------------------------------------------------------------------
# JSON-RPC client

class RPCError(Exception):
    def __init__(self, method, error):
        super().__init__(f"{method}: {error}")
        self.code = error.get("code")
        self.error = error


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.notifications = []

    @classmethod
    async def open(cls, server):
        return cls(await websockets.connect(server.ws, subprotocols=["faros.v1"], max_size=None))

    async def close(self):
        await self.ws.close()

    async def _answer(self):
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if isinstance(message, dict) and "id" not in message:
                self.notifications.append(message)
                continue
            return message

    async def call(self, method, params=None):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.ws.send(json.dumps(request))
        message = await self._answer()
        check(message.get("id") == self.next_id, f"unexpected answer {message}")
        return message

    async def ok(self, method, params=None):
        reply = await self.call(method, params)
        if "error" in reply:
            raise RPCError(method, reply["error"])
        return reply["result"]

    async def error(self, method, params, code):
        reply = await self.call(method, params)
        check("error" in reply and reply["error"]["code"] == code, f"{method} expected {code}: {reply}")
        return reply["error"]

    async def batch(self, calls):
        """[(method, params)] in one JSON-RPC batch (at most 50); results in order (RPCError raised)."""
        out = []
        for start in range(0, len(calls), 50):
            chunk = calls[start:start + 50]
            first = self.next_id + 1
            self.next_id += len(chunk)
            await self.ws.send(json.dumps([{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
                                           for i, (m, p) in enumerate(chunk)]))
            answers = await self._answer()
            check(isinstance(answers, list) and len(answers) == len(chunk), f"batch answer: {str(answers)[:300]}")
            for (method, _), answer in zip(chunk, answers):
                if "error" in answer:
                    raise RPCError(method, answer["error"])
                out.append(answer["result"])
        return out

    async def pages(self, method, params=None, limit=100):
        items, offset = [], 0
        while True:
            page = await self.ok(method, {**(params or {}), "limit": limit, "offset": offset})
            items += page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                equal(len(items), page["total"], f"{method} total")
                return items


async def sign_in(server, username, password, attempts=20):
    """A signed-in client, or RPCError. A full hashing queue (-32029) is waited out."""
    for _ in range(attempts):
        client = await Client.open(server)
        reply = await client.call("auth.login", {"username": username, "password": password})
        if "result" in reply:
            client.user = reply["result"]["user"]
            return client
        await client.close()
        if reply["error"]["code"] == -32029:
            await asyncio.sleep(reply["error"].get("data", {}).get("retryAfterMs", 500) / 1000)
            continue
        raise RPCError("auth.login", reply["error"])
    raise AssertionError(f"auth.login {username}: rate limited {attempts} times")


def strip_origin(url):
    return re.sub(r"^https?://[^/]+", "", url) if isinstance(url, str) else url


# ---------------------------------------------------------------------------------------------
# Checks on the fixture import

def check_report_shape(report, dry_run):
    check(isinstance(report, dict), f"no report: {report!r}")
    for key in ("source", "dryRun", "seconds", "rows", "rowsPerSecond", "counts", "files", "avatars", "skipped",
                "normalized"):
        check(key in report, f"report lacks {key!r}: {sorted(report)}")
    equal(report["dryRun"], dry_run, "dryRun")
    check(isinstance(report["counts"], dict) and report["counts"], f"counts: {report['counts']!r}")
    for kind in kinds(report):  # which kinds are there is its own check (check_report_kinds)
        entry = report["counts"].get(kind)
        check(isinstance(entry, dict) and all(isinstance(entry.get(k), int) for k in ("imported", "existing", "skipped")),
              f"counts.{kind}: {entry!r}")
    check(isinstance(report["skipped"], list) and isinstance(report["normalized"], list), "skipped/normalized lists")
    for entry in report["skipped"] + report["normalized"]:
        check(isinstance(entry, dict) and isinstance(entry.get("kind"), str) and isinstance(entry.get("id"), int)
              and isinstance(entry.get("reason"), str) and entry["reason"].strip(), f"entry {entry!r}")


def kinds(report):
    """The interface's kinds the report's counts hold, in KINDS order."""
    return [kind for kind in KINDS if kind in report["counts"]]


def check_report_kinds(report):
    """counts holds every kind of the interface, and nothing else."""
    missing = [k for k in KINDS if k not in report["counts"]]
    unknown = [k for k in report["counts"] if k not in KINDS]
    check(not missing and not unknown, f"counts lacks {missing}, has unknown {unknown} (interface: {KINDS})")
    return ", ".join(KINDS)


def imported(report):
    return {kind: report["counts"][kind]["imported"] for kind in kinds(report)}


def check_first_report(run, fixture):
    check(run.returncode == 0, run.describe())
    report = run.report
    check_report_shape(report, False)
    want = fixture.counts()
    for kind in kinds(report):
        equal(report["counts"][kind], {**report["counts"][kind], "imported": want[kind], "existing": 0, "skipped": 0},
              f"counts.{kind}")
    equal(report["skipped"], [], "skipped")
    file_bytes = sum(f["file_size"] for f in fixture.files)
    avatar_bytes = sum(os.path.getsize(fixture.avatar_path(u)) for u in fixture.users if u["avatar_url"])
    equal({k: report["files"].get(k) for k in ("copied", "bytes")}, {"copied": len(fixture.files), "bytes": file_bytes}, "files")
    equal({k: report["avatars"].get(k) for k in ("copied", "bytes")}, {"copied": want["avatars"], "bytes": avatar_bytes}, "avatars")
    check(isinstance(report["rows"], int) and report["rows"] > 0, f"rows {report['rows']!r}")
    normalized = f"; normalized: {report['normalized']}" if report["normalized"] else ""
    return f"{report['rows']} rows in {report['seconds']} s{normalized}"


def tree_digest(directory):
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "**"), recursive=True)):
        if os.path.isfile(path):
            out[os.path.relpath(path, directory)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return out


class Signed:
    """The fixture's users signed in on one server, and the FAROS-id -> Faros-id maps."""

    def __init__(self):
        self.clients = {}   # username -> Client
        self.user_ids = {}  # FAROS user id -> Faros user id
        self.task_ids = {}  # FAROS task id -> Faros task id

    async def close(self):
        for client in self.clients.values():
            await client.close()


async def sign_in_everyone(server, fixture):
    signed = Signed()
    for user in fixture.users:
        client = await sign_in(server, user["username"], PASSWORDS[user["username"]])
        signed.clients[user["username"]] = client
        signed.user_ids[user["id"]] = client.user["id"]
    return signed


async def check_users(server, fixture, signed):
    for user in fixture.users:
        me = await signed.clients[user["username"]].ok("users.me")
        equal((me["username"], me["email"], me["createdAt"], me["emailVerified"]),
              (user["username"], user["email"].lower(), faros_ms(user["created_at"]), bool(user["email_verified"])),
              f"users.me of {user['username']}")
        check((me["avatarUrl"] is not None) == bool(user["avatar_url"]), f"{user['username']}'s avatarUrl: {me['avatarUrl']!r}")


async def check_wrong_passwords(server):
    for password in DAVE_OLD_PASSWORDS:
        client = await Client.open(server)
        try:
            await client.error("auth.login", {"username": "dave", "password": password}, UNAUTHENTICATED)
        finally:
            await client.close()
    return f"-32001 for {len(DAVE_OLD_PASSWORDS)} wrong passwords"


def task_view(task):
    return {k: task[k] for k in ("title", "description", "tags", "priority", "dueDate", "completed", "createdAt",
                                 "shareCount", "ownerUsername")}


def faros_task_view(fixture, row):
    return {"title": row["title"], "description": row["description"], "tags": row["tags"], "priority": row["priority"],
            "dueDate": row["due_date"], "completed": row["completed"], "createdAt": faros_ms(row["created_at"]),
            "shareCount": sum(1 for s in fixture.shares if s["task_id"] == row["id"]),
            "ownerUsername": fixture.username(row["user_id"])}


async def check_owned_tasks(fixture, signed, username):
    """username's tasks.list (scope owned, every page) equals FAROS's rows; fills the id map."""
    owner = next(u for u in fixture.users if u["username"] == username)
    got = await signed.clients[username].pages("tasks.list", {"scope": "owned", "sortBy": "createdAt", "sortOrder": "asc"})
    want = [x for x in fixture.tasks if x["user_id"] == owner["id"]]
    by_title = {t["title"]: t for t in got}
    for row in want:  # the id map first (titles are unique in the fixture): later checks need it
        if row["title"] in by_title:
            signed.task_ids[row["id"]] = by_title[row["title"]]["id"]
    equal(len(got), len(want), f"{username}'s owned tasks")
    equal(len(by_title), len(got), "distinct titles")
    for row in want:
        task = by_title.get(row["title"])
        check(task is not None, f"FAROS task {row['id']} {row['title']!r} missing")
        equal(task_view(task), faros_task_view(fixture, row), f"FAROS task {row['id']}")
        equal(task["permission"], "owner", "permission")
    return f"{len(got)} tasks"


async def check_counts(fixture, signed):
    shares = comments = files = 0
    for row in fixture.tasks:
        owner = signed.clients[fixture.username(row["user_id"])]
        tid = signed.task_ids[row["id"]]
        s, c, f = await owner.batch([("shares.list", {"taskId": tid}), ("comments.list", {"taskId": tid}),
                                     ("files.list", {"taskId": tid})])
        shares += len(s["items"])
        comments += c["total"]
        files += len(f["items"])
    got = {"users": len(signed.clients), "tasks": len(signed.task_ids), "shares": shares, "comments": comments, "files": files}
    want = {k: README_COUNTS[k] for k in got}
    equal(got, want, "counts through the API")
    return ", ".join(f"{k} {v}" for k, v in got.items())


async def check_shares(fixture, signed):
    # As each owner: shares.list of each task = FAROS's rows (username, permission, sharedAt, sharedBy).
    for row in fixture.tasks:
        owner = signed.clients[fixture.username(row["user_id"])]
        items = (await owner.ok("shares.list", {"taskId": signed.task_ids[row["id"]]}))["items"]
        want = sorted((fixture.username(s["shared_with_user_id"]), s["permission"], faros_ms(s["shared_at"]),
                       signed.user_ids[s["shared_by_user_id"]]) for s in fixture.shares if s["task_id"] == row["id"])
        got = sorted((s["username"], s["permission"], s["sharedAt"], s["sharedBy"]) for s in items)
        equal(got, want, f"shares of FAROS task {row['id']}")
    # As each sharee: shares.sharedWithMe = the tasks shared with them, with their role.
    for user in fixture.users:
        client = signed.clients[user["username"]]
        got = sorted((t["id"], t["permission"], t["ownerUsername"]) for t in await client.pages("shares.sharedWithMe"))
        want = sorted((signed.task_ids[s["task_id"]], s["permission"], fixture.username(fixture.task_by_id[s["task_id"]]["user_id"]))
                      for s in fixture.shares if s["shared_with_user_id"] == user["id"])
        equal(got, want, f"{user['username']}'s shares.sharedWithMe")
        scoped = await client.pages("tasks.list", {"scope": "shared"})
        equal(sorted(t["id"] for t in scoped), sorted(x[0] for x in want), f"{user['username']}'s tasks.list scope shared")
    # Task 10 went from edit to view: bob sees view.
    task10 = await signed.clients["bob"].ok("tasks.get", {"id": signed.task_ids[10]})
    equal(task10["permission"], "view", "bob's permission on FAROS task 10")
    # A task shared with nobody stays private: carol cannot see alice's task 1, bob not task 2.
    await signed.clients["carol"].error("tasks.get", {"id": signed.task_ids[1]}, NOT_FOUND)
    await signed.clients["bob"].error("tasks.get", {"id": signed.task_ids[2]}, NOT_FOUND)
    await signed.clients["dave"].error("comments.list", {"taskId": signed.task_ids[1]}, NOT_FOUND)
    return "task 10 is view for bob"


async def check_comments(fixture, signed):
    edited = 0
    for row in fixture.tasks:
        owner = signed.clients[fixture.username(row["user_id"])]
        got = await owner.pages("comments.list", {"taskId": signed.task_ids[row["id"]]})
        want = [c for c in fixture.comments if c["task_id"] == row["id"]]
        want.sort(key=lambda c: (c["created_at"], c["id"]))
        equal(len(got), len(want), f"comments on FAROS task {row['id']}")
        for comment, source in zip(got, want):
            created = faros_ms(source["created_at"])
            updated = faros_ms(source["updated_at"]) if source["updated_at"] else created
            equal((comment["content"], comment["authorUsername"], comment["authorId"], comment["createdAt"], comment["updatedAt"],
                   comment["taskId"]),
                  (source["content"], fixture.username(source["user_id"]), signed.user_ids[source["user_id"]], created, updated,
                   signed.task_ids[row["id"]]),
                  f"FAROS comment {source['id']}")
            if source["updated_at"]:
                check(comment["updatedAt"] > comment["createdAt"], f"edit of comment {source['id']} not later than creation")
                edited += 1
    check(edited == 1, f"{edited} edited comments")
    # A sharee reads them too (bob, editor of task 1).
    got = await signed.clients["bob"].pages("comments.list", {"taskId": signed.task_ids[1]})
    equal([c["authorUsername"] for c in got], ["bob", "alice"], "comments on task 1 as bob")
    return "comment 3's edit is its updatedAt"


async def check_files(server, fixture, signed):
    total = 0
    for row in fixture.tasks:
        owner_name = fixture.username(row["user_id"])
        owner = signed.clients[owner_name]
        got = (await owner.ok("files.list", {"taskId": signed.task_ids[row["id"]]}))["items"]
        want = sorted((f for f in fixture.files if f["task_id"] == row["id"]), key=lambda f: (f["uploaded_at"], f["id"]))
        equal([(f["filename"], f["size"], f["uploadedAt"]) for f in got],
              [(f["original_filename"], f["file_size"], faros_ms(f["uploaded_at"])) for f in want],
              f"files of FAROS task {row['id']}")
        for item, source in zip(got, want):
            main_type = (source["content_type"] or "").split(";")[0].strip()
            check(item["contentType"].split(";")[0].strip() == main_type, f"{source['original_filename']}: {item['contentType']}")
            uploaders = {row["user_id"]} | {a["user_id"] for a in fixture.activity
                                            if a["resource_type"] == "file" and a["resource_id"] == source["id"]}
            check(item["uploadedBy"] in {None} | {signed.user_ids[u] for u in uploaders}, f"uploadedBy {item['uploadedBy']}")
            content = open(os.path.join(fixture.uploads, source["stored_filename"]), "rb").read()
            link = await owner.ok("files.downloadUrl", {"id": item["id"]})
            r = requests.get(server.local(link["url"]), timeout=30)
            check(r.status_code == 200, f"download {source['original_filename']}: {r.status_code}")
            check(r.content == content, f"{source['original_filename']}: {len(r.content)} bytes differ from uploads/ ({len(content)})")
            total += 1
    # A sharee downloads too: bob, editor of task 4, gets steps.txt.
    items = (await signed.clients["bob"].ok("files.list", {"taskId": signed.task_ids[4]}))["items"]
    link = await signed.clients["bob"].ok("files.downloadUrl", {"id": items[0]["id"]})
    r = requests.get(server.local(link["url"]), timeout=30)
    check(r.status_code == 200 and r.content == open(os.path.join(fixture.uploads, fixture.files[2]["stored_filename"]), "rb").read(),
          f"bob's download: {r.status_code}")
    return f"{total} files byte-identical"


async def check_avatars(server, fixture, signed):
    for user in fixture.users:
        r = requests.get(f"{server.http}/users/{signed.user_ids[user['id']]}/avatar", timeout=30)
        if not user["avatar_url"]:
            equal(r.status_code, 404, f"{user['username']}'s avatar")
            continue
        want = open(fixture.avatar_path(user), "rb").read()
        check(r.status_code == 200, f"{user['username']}'s avatar: {r.status_code}")
        check(r.content == want, f"{user['username']}'s avatar: {len(r.content)} bytes differ from uploads/ ({len(want)})")
        me = await signed.clients[user["username"]].ok("users.me")
        r = requests.get(server.local(me["avatarUrl"]), timeout=30)
        check(r.status_code == 200 and r.content == want, f"avatarUrl {me['avatarUrl']}: {r.status_code}")
    return "bob's avatar byte-identical"


async def timeline_of(client, task_id):
    items = await client.pages("activity.taskTimeline", {"taskId": task_id})
    for item in items:
        equal(item["taskId"], task_id, "timeline entry's taskId")
    return [(i["action"], i["actorUsername"], i["createdAt"]) for i in items]


async def check_timeline_task1(fixture, signed):
    want = fixture.timeline(1)
    equal([a for a, _, _ in want], ["task.created", "share.created", "task.updated", "comment.created", "comment.created",
                                    "file.uploaded", "file.uploaded"], "the fixture's own history of task 1")
    got = await timeline_of(signed.clients["alice"], signed.task_ids[1])
    equal(got, want, "timeline of task 1")
    # bob, editor, sees the same history (it predates his access in part).
    equal(await timeline_of(signed.clients["bob"], signed.task_ids[1]), want, "timeline of task 1 as bob")
    return " > ".join(a for a, _, _ in got)


async def check_timelines(fixture, signed):
    entries = 0
    for row in fixture.tasks:
        owner = signed.clients[fixture.username(row["user_id"])]
        got = await timeline_of(owner, signed.task_ids[row["id"]])
        equal(got, fixture.timeline(row["id"]), f"timeline of FAROS task {row['id']}")
        entries += len(got)
    deleted = len(fixture.activity) - entries
    return f"{entries} entries on {len(fixture.tasks)} tasks; {deleted} of a deleted task not reachable"


async def check_activity_list(fixture, signed):
    for user in fixture.users:
        got = await signed.clients[user["username"]].pages("activity.list")
        got = [(i["action"], i["createdAt"]) for i in got]
        mine = [r for r in fixture.activity if r["user_id"] == user["id"]]
        live = [r for r in mine if (r["resource_id"] if r["resource_type"] == "task" else (r["details"] or {}).get("task_id"))
                in fixture.task_by_id]
        everything = sorted(((ACTIONS[(r["resource_type"], r["action"])], faros_ms(r["created_at"])) for r in mine),
                            key=lambda x: x[1], reverse=True)
        required = {(ACTIONS[(r["resource_type"], r["action"])], faros_ms(r["created_at"])) for r in live}
        check(set(got) <= set(everything), f"{user['username']}: entries FAROS does not have: {set(got) - set(everything)}")
        check(required <= set(got), f"{user['username']}: missing {required - set(got)}")
        equal(got, sorted(got, key=lambda x: x[1], reverse=True), f"{user['username']}'s activity.list order (newest first)")
    return "each user's own actions, newest first"


async def check_preferences(fixture, signed):
    for user in fixture.users:
        prefs = await signed.clients[user["username"]].ok("notifications.getPreferences")
        row = fixture.preferences.get(user["id"])
        if row is None:  # never touched in FAROS: Faros's defaults
            check(all(prefs[k] is True for k in ("emailEnabled", "taskShared", "taskCompleted", "commentAdded")), f"{user['username']}: {prefs}")
            continue
        equal((prefs["emailEnabled"], prefs["taskShared"], prefs["commentAdded"], prefs["emailVerified"]),
              (row["email_enabled"], row["task_shared_with_me"], row["comment_on_my_task"], bool(row["email_verified"])),
              f"{user['username']}'s preferences")
    carol = await signed.clients["carol"].ok("notifications.getPreferences")
    equal(carol["taskShared"], False, "carol's taskShared")
    return "carol's taskShared is off"


async def snapshot(server, fixture):
    """Everything a client sees, per user, with origins stripped from URLs: for the second run."""
    signed = await sign_in_everyone(server, fixture)
    out = {}
    try:
        for user in fixture.users:
            client = signed.clients[user["username"]]
            me = await client.ok("users.me")
            me["avatarUrl"] = strip_origin(me["avatarUrl"])
            tasks = sorted(await client.pages("tasks.list", {"scope": "all"}), key=lambda t: t["id"])
            per_task = {}
            for task in tasks:
                if task["permission"] != "owner":
                    continue
                tid = task["id"]
                shares, files = await client.batch([("shares.list", {"taskId": tid}), ("files.list", {"taskId": tid})])
                per_task[tid] = {"shares": shares["items"], "files": files["items"],
                                 "comments": await client.pages("comments.list", {"taskId": tid}),
                                 "timeline": await client.pages("activity.taskTimeline", {"taskId": tid})}
            out[user["username"]] = {"me": me, "tasks": tasks, "owned": per_task,
                                     "sharedWithMe": await client.pages("shares.sharedWithMe"),
                                     "activity": await client.pages("activity.list"),
                                     "preferences": await client.ok("notifications.getPreferences")}
    finally:
        await signed.close()
    return out


def diff_summary(a, b, path=""):
    """The first few paths where two JSON values differ."""
    out = []
    if type(a) is not type(b):
        return [f"{path or '/'}: {str(a)[:120]} != {str(b)[:120]}"]
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(f"{path}/{key}: only in {'second' if key not in a else 'first'}")
            else:
                out += diff_summary(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff_summary(x, y, f"{path}/{i}")
    elif a != b:
        out.append(f"{path}: {str(a)[:120]} != {str(b)[:120]}")
    return out[:8]


# ---------------------------------------------------------------------------------------------
# The scenarios

async def scenario_fixture(env, fixture):
    a = env.args
    target = {"data_dir": os.path.join(env.work, "target"), "database_url": a.database_url, "s3": bool(a.s3_endpoint)}
    uploads = os.path.join(env.work, "source-uploads")
    shutil.copytree(fixture.uploads, uploads)
    files = ("s3", a.files_s3) if a.files_s3 else ("dir", uploads)
    before = tree_digest(uploads)

    # 1. Dry run into the fresh target: counts, and nothing written.
    dry = env.run_import(a.source_url, target, files, "dry-run", ["--dry-run"])

    def dry_report():
        check(dry.returncode == 0, dry.describe())
        check_report_shape(dry.report, True)
        return ", ".join(f"{k} {dry.report['counts'][k]['imported']}" for k in kinds(dry.report))

    dry_ok = await env.check("dry run: exit 0 and a report with dryRun true", dry_report)

    async def nothing_written():
        equal(env.blobs(target), [], "blobs after a dry run")
        server = env.start_server(target, "after-dry-run")
        try:
            for user in fixture.users:
                client = await Client.open(server)
                try:
                    await client.error("auth.login", {"username": user["username"], "password": PASSWORDS[user["username"]]},
                                       UNAUTHENTICATED)
                finally:
                    await client.close()
        finally:
            env.stop_servers()
        return "nobody signs in, no blob stored"

    await env.check("dry run: changes nothing", nothing_written)

    # 2. The import.
    first = env.run_import(a.source_url, target, files, "first")
    if not await env.check("import: exit 0, report counts = the fixture's, nothing skipped", check_first_report, first, fixture):
        if first.returncode != 0 or not isinstance(first.report, dict):
            env.not_run("client checks, second run", "the import failed")
            return
    await env.check("report: counts for every kind of the interface", check_report_kinds, first.report)
    if dry_ok:
        await env.check("dry run: counted what the import then imported",
                        lambda: equal(imported(dry.report), imported(first.report), "imported counts"))
    if files[0] == "dir":
        await env.check("source: the upload tree is unchanged", lambda: equal(tree_digest(uploads), before, "uploads"))
    blobs_first = env.blobs(target)

    # 3. As a client.
    snap_first = None
    try:
        server = env.start_server(target, "first")
    except AssertionError as error:
        env.not_run("client checks", f"server: {error}")
        server = None
    signed = server and await env.check("every user signs in with the README's password", sign_in_everyone, server, fixture)
    if server and not signed:
        env.not_run("client checks", "sign-in failed")
    if signed:
        try:
            await env.check("a wrong (old) password for dave is -32001", check_wrong_passwords, server)
            await env.check("users.me: usernames, emails, creation times, avatars", check_users, server, fixture, signed)
            for user in fixture.users:
                await env.check(f"{user['username']}'s tasks (scope owned) equal FAROS's rows",
                                check_owned_tasks, fixture, signed, user["username"])
            if len(signed.task_ids) != len(fixture.tasks):
                missing = sorted(set(fixture.task_by_id) - set(signed.task_ids))
                env.not_run("shares, comments, files, timelines", f"FAROS tasks {missing} not found by title")
            else:
                await env.check("counts through the API equal the README", check_counts, fixture, signed)
                await env.check("shares and roles (owner's list, sharedWithMe, privacy)", check_shares, fixture, signed)
                await env.check("comments: authors, times, the edit", check_comments, fixture, signed)
                await env.check("files: names, sizes, times; downloads byte-identical", check_files, server, fixture, signed)
                await env.check("avatars: bob's byte-identical, none for the others", check_avatars, server, fixture, signed)
                await env.check("timeline of alice's task 1 is its FAROS history", check_timeline_task1, fixture, signed)
                await env.check("every task's timeline is its FAROS history", check_timelines, fixture, signed)
                await env.check("activity.list: each user's own FAROS actions", check_activity_list, fixture, signed)
                await env.check("notification preferences", check_preferences, fixture, signed)
        finally:
            await signed.close()
        snap_first = await env.check("snapshot after the first run", snapshot, server, fixture)
    env.stop_servers()

    # 4. A second run changes nothing.
    second = env.run_import(a.source_url, target, files, "second")

    def second_report():
        check(second.returncode == 0, second.describe())
        check_report_shape(second.report, False)
        equal(kinds(second.report), kinds(first.report), "kinds counted")
        for kind in kinds(second.report):
            c = second.report["counts"][kind]
            equal((c["imported"], c["existing"], c["skipped"]), (0, first.report["counts"][kind]["imported"], 0), f"counts.{kind}")
        equal(second.report["skipped"], [], "skipped")
        equal((second.report["files"].get("copied"), second.report["avatars"].get("copied")), (0, 0), "files/avatars copied")
        return "imported 0, existing = the first run's imported"

    await env.check("second run: exit 0, nothing imported, everything existing", second_report)
    await env.check("second run: no blob added or removed", lambda: equal(env.blobs(target), blobs_first, "blobs"))
    if snap_first:
        try:
            server = env.start_server(target, "second")
            snap_second = await snapshot(server, fixture)
            await env.check("second run: everything a client sees is unchanged",
                            lambda: check(snap_second == snap_first, "; ".join(diff_summary(snap_first, snap_second))))
        except Exception as error:  # noqa: BLE001
            env.not_run("second run: client-visible state", f"{type(error).__name__}: {error}")
        finally:
            env.stop_servers()


async def scenario_hostile(env, fixture):
    a = env.args
    url = a.hostile_source_url

    def load():
        have_schema = env.psql(url, "-Atc", "SELECT count(*) FROM pg_namespace WHERE nspname = 'faros'").strip() == "1"
        if not have_schema:
            env.psql(url, "-o", "/dev/null", "-f", os.path.join(fixture.directory, "faros.sql"))
        loaded = env.psql(url, "-Atc", "SELECT count(*) FROM faros.users WHERE id = 100").strip() == "1"
        if not loaded:
            env.psql(url, "-o", "/dev/null", "-f", os.path.join(fixture.directory, "hostile.sql"))
        counts = env.psql(url, "-Atc", "SELECT (SELECT count(*) FROM faros.users) || ' ' || (SELECT count(*) FROM faros.tasks)").strip()
        equal(counts, f"{len(fixture.users) + 1} {len(fixture.tasks) + 3}", "users and tasks in the hostile source")
        return "faros.sql" * (not have_schema) + (" + " if not have_schema else "") + "hostile.sql" * (not loaded) or "already loaded"

    if not await env.check("hostile: source loaded", load):
        return
    uploads = os.path.join(env.work, "hostile-uploads")
    shutil.copytree(fixture.uploads, uploads)
    with open(os.path.join(uploads, HOSTILE_SVG_NAME), "wb") as f:
        f.write(HOSTILE_SVG)
    target = {"data_dir": os.path.join(env.work, "hostile-target")}
    run = env.run_import(url, target, ("dir", uploads), "hostile")

    def report():
        check(run.returncode == 0, run.describe())
        check_report_shape(run.report, False)
        skipped = {(e["kind"], e["id"]): e["reason"] for e in run.report["skipped"]}
        missing = [f"{k} {i} ({what})" for (k, i), what in HOSTILE_ROWS.items() if (k, i) not in skipped]
        check(not missing, f"not in skipped: {missing}; skipped: {run.report['skipped']}")
        extra = [e for e in run.report["skipped"] if (e["kind"], e["id"]) not in HOSTILE_ROWS]
        check(not extra, f"fixture rows skipped: {extra}")
        want = fixture.counts()
        for kind in kinds(run.report):
            equal(run.report["counts"][kind]["imported"], want[kind], f"counts.{kind}.imported")
        by_kind = {}
        for kind, _ in HOSTILE_ROWS:
            by_kind[kind + "s"] = by_kind.get(kind + "s", 0) + 1
        for kind in kinds(run.report):
            equal(run.report["counts"][kind]["skipped"], by_kind.get(kind, 0), f"counts.{kind}.skipped")
        return "; ".join(f"{k} {i}: {skipped[(k, i)]}" for k, i in HOSTILE_ROWS)

    if not await env.check("hostile: exit 0, every hostile row skipped with a reason, every fixture row imported", report):
        if run.returncode != 0:
            return

    async def as_client():
        server = env.start_server(target, "hostile")
        try:
            signed = await sign_in_everyone(server, fixture)
            try:
                alice = signed.clients["alice"]
                tasks = await alice.pages("tasks.list", {"scope": "owned"})
                equal(sorted(t["title"] for t in tasks),
                      sorted(x["title"] for x in fixture.tasks if x["user_id"] == 1), "alice's task titles")
                dentist = next(t for t in tasks if t["title"] == fixture.task_by_id[2]["title"])
                equal((await alice.ok("files.list", {"taskId": dentist["id"]}))["items"], [], "files on task 2")
                equal((await alice.ok("comments.list", {"taskId": dentist["id"]}))["total"], 0, "comments on task 2")
                me = await alice.ok("users.me")
                equal(me["email"], "alice@example.org", "alice's email")
            finally:
                await signed.close()
            by_email = await sign_in(server, "ALICE@example.org", PASSWORDS["alice"])
            equal(by_email.user["username"], "alice", "the account of ALICE@example.org")
            await by_email.close()
            client = await Client.open(server)
            try:
                await client.error("auth.login", {"username": "Alice2", "password": PASSWORDS["bob"]}, UNAUTHENTICATED)
            finally:
                await client.close()
            return "alice has her 12 tasks, task 2 no files or comments, Alice2 cannot sign in"
        finally:
            env.stop_servers()

    await env.check("hostile: as a client, only the fixture's rows are there", as_client)


def run_killed_import(env, source_url, target, files, name, batch_size=50):
    """Starts an import with progress lines and SIGKILLs it at the first line for tasks or later."""
    report = os.path.join(env.work, f"report-{name}.json")
    command = env.import_command(source_url, target, files, report, ["--batch-size", str(batch_size), "--progress", "lines"])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen, killed_at = [], []

    def reader():
        buffer = b""
        while True:
            chunk = process.stderr.read1(4096) if hasattr(process.stderr, "read1") else process.stderr.read(1)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = re.split(rb"[\r\n]", buffer)
            for line in lines:
                text = line.decode("utf-8", "replace").strip()
                if not text:
                    continue
                seen.append(text)
                m = re.match(r"faros import: (\w+) ", text)
                if m and m.group(1) not in EARLY_PHASES and not killed_at:
                    killed_at.append(text)
                    try:
                        os.kill(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        process.wait(900)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    thread.join(10)
    with open(os.path.join(env.work, f"import-{name}.log"), "w") as f:
        f.write("\n".join(seen))
    return process.returncode, killed_at[0] if killed_at else None, seen


async def portable_dump(server, usernames, password):
    """Per user: sign-in outcome; owned tasks sorted by (title, createdAt) with shares and comment,
    file and timeline counts; the tasks shared with them. No ids, no updatedAt, no seq: two
    separate imports need not number rows alike."""
    out = {}
    for username in usernames:
        try:
            client = await sign_in(server, username, password)
        except RPCError as error:
            out[username] = {"signIn": error.code}
            continue
        try:
            me = await client.ok("users.me")
            owned = await client.pages("tasks.list", {"scope": "owned"})
            calls = []
            for task in owned:
                calls += [("shares.list", {"taskId": task["id"]}), ("comments.list", {"taskId": task["id"], "limit": 1}),
                          ("files.list", {"taskId": task["id"]}), ("activity.taskTimeline", {"taskId": task["id"], "limit": 1})]
            results = await client.batch(calls)
            tasks = []
            for i, task in enumerate(owned):
                shares, comments, files, timeline = results[4 * i:4 * i + 4]
                tasks.append({**{k: task[k] for k in ("title", "description", "tags", "priority", "dueDate", "completed",
                                                      "createdAt", "shareCount")},
                              "shares": sorted((s["username"], s["permission"], s["sharedAt"]) for s in shares["items"]),
                              "comments": comments["total"],
                              "files": sorted((f["filename"], f["size"]) for f in files["items"]),
                              "timeline": timeline["total"]})
            tasks.sort(key=lambda t: (t["title"], t["createdAt"]))
            shared = sorted((t["title"], t["createdAt"], t["ownerUsername"], t["permission"])
                            for t in await client.pages("shares.sharedWithMe"))
            out[username] = {"email": me["email"], "createdAt": me["createdAt"], "avatar": me["avatarUrl"] is not None,
                             "owned": tasks, "shared": shared}
        finally:
            await client.close()
    return out


async def scenario_kill(env):
    a = env.args
    generator = a.generator
    state = {}

    def generate():
        check(os.path.exists(generator), f"{generator} does not exist")
        name, url = env.create_database(a.source_url, "faros_import_gen")
        state["db"], state["url"] = name, url
        files_dir = os.path.join(env.work, "generated-uploads")
        os.makedirs(files_dir, exist_ok=True)
        p = subprocess.run([sys.executable, generator, "--url", url, "--tasks", "3000", "--files-dir", files_dir],
                           capture_output=True, text=True, timeout=1200)
        check(p.returncode == 0, f"generator exit {p.returncode}: {p.stderr[-1500:]}")
        state["files"] = ("dir", files_dir)
        # One known password for every generated user (the dump signs each one in).
        env.psql(url, "-c", f"UPDATE faros.users SET hashed_password = '{GENERATED_HASH}'")
        state["usernames"] = [u for u in env.psql(url, "-Atc", "SELECT username FROM faros.users ORDER BY id").split("\n") if u]
        tasks = env.psql(url, "-Atc", "SELECT count(*) FROM faros.tasks").strip()
        check(int(tasks) >= 3000, f"{tasks} tasks generated")
        return f"{len(state['usernames'])} users, {tasks} tasks in {name}"

    if not await env.check("kill: generated source", generate):
        return
    killed_target = {"data_dir": os.path.join(env.work, "killed-target")}
    clean_target = {"data_dir": os.path.join(env.work, "clean-target")}

    def kill():
        code, line, seen = run_killed_import(env, state["url"], killed_target, state["files"], "killed")
        check(line is not None, f"no progress line for tasks or later (exit {code}); stderr: {seen[-5:]}")
        check(code == -signal.SIGKILL, f"import ended with {code} before the kill took effect (at {line!r})")
        return f"SIGKILL at {line!r}"

    if not await env.check("kill: import SIGKILLed at a progress line for tasks or later", kill):
        return
    resumed = env.run_import(state["url"], killed_target, state["files"], "resumed", ["--batch-size", "50"], timeout=1800)
    clean = env.run_import(state["url"], clean_target, state["files"], "clean", ["--batch-size", "50"], timeout=1800)

    def reports():
        check(resumed.returncode == 0, "resumed: " + resumed.describe())
        check(clean.returncode == 0, "clean: " + clean.describe())
        check_report_shape(resumed.report, False)
        check_report_shape(clean.report, False)
        equal(kinds(resumed.report), kinds(clean.report), "kinds counted")
        for kind in kinds(clean.report):
            r, c = resumed.report["counts"][kind], clean.report["counts"][kind]
            equal((r["imported"] + r["existing"], r["skipped"]), (c["imported"] + c["existing"], c["skipped"]), f"counts.{kind}")
        done = sum(resumed.report["counts"][k]["existing"] for k in kinds(resumed.report))
        return f"the resumed run found {done} rows already there"

    if not await env.check("kill: the resumed run and a clean run account for the same rows", reports):
        if resumed.returncode != 0 or clean.returncode != 0:
            return
    dumps = {}
    for name, target in (("killed", killed_target), ("clean", clean_target)):
        try:
            server = env.start_server(target, f"kill-{name}")
            dumps[name] = await portable_dump(server, state["usernames"], GENERATED_PASSWORD)
        except Exception as error:  # noqa: BLE001
            env.not_run("kill: dump", f"{name}: {type(error).__name__}: {error}")
            return
        finally:
            env.stop_servers()

    def compare():
        killed, clean_dump = dumps["killed"], dumps["clean"]
        signed_in = [u for u, d in clean_dump.items() if "owned" in d]
        check(signed_in, "nobody signed in on the clean import")
        tasks = sum(len(d["owned"]) for d in clean_dump.values() if "owned" in d)
        equal(tasks, clean.report["counts"]["tasks"]["imported"], "tasks in the clean dump")
        check(killed == clean_dump, "; ".join(diff_summary(clean_dump, killed)))
        return f"{len(signed_in)} users, {tasks} tasks identical"

    await env.check("kill: killed + resumed ends like a clean import (dump through the API)", compare)
    try:
        env.psql(a.source_url, "-c", f"DROP DATABASE IF EXISTS {state['db']}")
    except AssertionError:
        pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the built faros binary")
    parser.add_argument("--source-url", required=True, help="the FAROS database, faros.sql loaded")
    parser.add_argument("--fixture", required=True, help="Tests/Fixtures/faros")
    parser.add_argument("--work", required=True, help="a directory for targets, reports and logs")
    parser.add_argument("--label", required=True, help="sqlite, postgresql or s3 (shown in every line)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database for the target (else SQLite)")
    parser.add_argument("--s3-endpoint", help="target files in S3 at this endpoint (moto)")
    parser.add_argument("--s3-bucket", help="the target bucket (exists, empty)")
    parser.add_argument("--files-s3", help="s3://BUCKET/PREFIX holding the fixture's uploads/ tree (needs --s3-endpoint)")
    parser.add_argument("--hostile-source-url", help="a second source database: faros.sql (loaded here if absent) + hostile.sql")
    parser.add_argument("--kill-test", action="store_true", help="the kill-and-resume test (creates a database beside --source-url)")
    parser.add_argument("--generator", default=os.path.join(ROOT, "scripts", "lib", "faros_generate.py"),
                        help="the FAROS data generator for --kill-test (default: scripts/lib/faros_generate.py)")
    parser.add_argument("--psql", default=None, help="psql binary (default: PATH, else the newest /usr/lib/postgresql/*/bin/psql)")
    parser.add_argument("--keep", action="store_true", help="keep the targets and upload copies in --work when everything passed")
    args = parser.parse_args()
    if bool(args.s3_endpoint) != bool(args.s3_bucket):
        parser.error("--s3-endpoint and --s3-bucket go together")
    if args.files_s3 and not args.s3_endpoint:
        parser.error("--files-s3 needs --s3-endpoint (the source bucket is read with the target's endpoint and keys)")
    if args.psql is None:
        installed = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=lambda p: int(re.findall(r"\d+", p)[0]))
        args.psql = shutil.which("psql") or (installed[-1] if installed else "psql")
    os.makedirs(args.work, exist_ok=True)
    for directory in WORK_DIRECTORIES:  # a previous run's
        shutil.rmtree(os.path.join(args.work, directory), ignore_errors=True)

    env = Env(args)
    fixture = None

    def load_fixture():
        nonlocal fixture
        fixture = Fixture(os.path.abspath(args.fixture))
        equal(fixture.counts(), README_COUNTS, "faros.sql against the README")
        for f in fixture.files:
            path = os.path.join(fixture.uploads, f["stored_filename"])
            check(os.path.getsize(path) == f["file_size"], f"{path}: size")
        return ", ".join(f"{k} {v}" for k, v in fixture.counts().items())

    if await env.check("fixture: faros.sql parses to the README's counts", load_fixture):
        help_text = env.import_help()
        if not await env.check("`faros import faros` exists",
                               lambda: check("--from" in help_text, f"`{args.bin} import faros --help` does not know "
                                             f"--from: {help_text.strip().splitlines()[:2]}")):
            env.not_run("import checks", "no `faros import faros` in this binary")
        else:
            scenarios = [("fixture import", scenario_fixture, (env, fixture))]
            if args.hostile_source_url:
                scenarios.append(("hostile import", scenario_hostile, (env, fixture)))
            if args.kill_test:
                scenarios.append(("kill test", scenario_kill, (env,)))
            for name, scenario, scenario_args in scenarios:
                try:
                    await scenario(*scenario_args)
                except Exception as error:  # noqa: BLE001 - a harness failure is a failed check, not a traceback
                    env.not_run(f"{name} (the rest of it)", f"{type(error).__name__}: {error}")
                finally:
                    env.stop_servers()
    print(f"{env.passed}/{env.passed + env.failed} import checks passed ({args.label})", flush=True)
    if env.failed:
        print(f"logs, reports and targets kept in {os.path.abspath(args.work)}", flush=True)
    elif not args.keep:  # reports and logs stay (small); the targets and copies go
        for directory in WORK_DIRECTORIES:
            shutil.rmtree(os.path.join(args.work, directory), ignore_errors=True)
    return 1 if env.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
