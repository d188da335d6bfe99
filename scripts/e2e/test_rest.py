#!/usr/bin/env python3
"""End-to-end tests of the REST bridge (files, avatars, mail-link pages, health, readiness,
metrics, CORS, timeouts) against a running Faros server, with HTTP clients we did not write
(`requests`, raw sockets) and `websockets` for the JSON-RPC side.

usage: test_rest.py http://127.0.0.1:PORT --data-dir DIR [--label disk|s3] [--s3-bucket-url URL]

The server must run with `--max-upload-bytes 1MiB --handshake-timeout 2s --no-rate-limits
--allowed-origins http://app.example` and its data directory at DIR. With --s3 the blobs live
in that bucket (listed without credentials, as moto allows), and DIR/spool must hold no
leftover upload.
Prints one line per test; exits 1 if any failed.
"""
import argparse
import asyncio
import json
import os
import re
import secrets
import socket
import sys
import time

import requests
import websockets

RESULTS = []
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x1f\x15\xc4\x89" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 64


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class RPC:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    async def call(self, method, params=None):
        self.next_id += 1
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if "id" not in message:
                self.events.append(message)
                continue
            return message

    async def ok(self, method, params=None):
        reply = await self.call(method, params)
        check("result" in reply, f"{method} failed: {reply}")
        return reply["result"]

    async def event(self, type_, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            for i, message in enumerate(self.events):
                if message.get("method") == "event" and message["params"]["type"] == type_:
                    return self.events.pop(i)["params"]
            left = deadline - time.monotonic()
            check(left > 0, f"no {type_} event; got {self.events}")
            try:
                self.events.append(json.loads(await asyncio.wait_for(self.ws.recv(), left)))
            except asyncio.TimeoutError:
                pass


class Env:
    def __init__(self, base, data_dir, bucket_url):
        self.base, self.data_dir, self.bucket_url = base, data_dir, bucket_url
        self.s3 = bucket_url is not None
        self.ws_base = base.replace("http://", "ws://") + "/rpc"

    async def user(self, name):
        ws = await websockets.connect(self.ws_base)
        rpc = RPC(ws)
        username = f"{name}_{secrets.token_hex(3)}"
        result = await rpc.ok("auth.register", {"username": username, "email": f"{username}@example.com", "password": "correct horse battery"})
        rpc.username, rpc.token, rpc.id = username, result["token"]["accessToken"], result["user"]["id"]
        rpc.email = f"{username}@example.com"
        return rpc

    def blobs(self):
        """Every stored blob's key (and any partial file, which must not outlive its upload)."""
        d = os.path.join(self.data_dir, "spool" if self.s3 else "files")
        names = sorted(os.listdir(d)) if os.path.isdir(d) else []
        if self.s3:
            listing = requests.get(self.bucket_url, params={"list-type": "2"}, timeout=10).text
            names = sorted(names + re.findall(r"<Key>([^<]+)</Key>", listing))
        return names


def auth(rpc):
    return {"Authorization": f"Bearer {rpc.token}"}


def upload(env, rpc, task_id, content, filename="a.png", field="file", headers=None):
    return requests.post(f"{env.base}/tasks/{task_id}/files", files={field: (filename, content, "image/png")},
                         headers={**auth(rpc), **(headers or {})}, timeout=20)


def raw_post(env, task_id, rpc, body, content_type):
    return requests.post(f"{env.base}/tasks/{task_id}/files", data=body,
                         headers={**auth(rpc), "Content-Type": content_type}, timeout=20)


def local(env, url):
    """The server's public URL may name another port (it is derived before a port-0 bind)."""
    return re.sub(r"^https?://[^/]+", env.base, url)


def wait_until(predicate, timeout=8, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def mail_token(env, email, path):
    outbox = os.path.join(env.data_dir, "outbox")
    for _ in range(50):
        for name in sorted(os.listdir(outbox)) if os.path.isdir(outbox) else []:
            text = open(os.path.join(outbox, name), encoding="utf-8", errors="replace").read()
            text = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
            if email in text and path in text:
                found = re.findall(re.escape(path) + r"\?token=([A-Za-z0-9_\-]+)", text)
                if found:
                    return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {path} mail for {email}")


async def setup(env):
    owner = await env.user("owner")
    viewer = await env.user("viewer")
    editor = await env.user("editor")
    stranger = await env.user("stranger")
    task = await owner.ok("tasks.create", {"title": "with files"})
    await owner.ok("shares.create", {"taskId": task["id"], "username": viewer.username, "permission": "view"})
    await owner.ok("shares.create", {"taskId": task["id"], "username": editor.username, "permission": "edit"})
    await owner.ok("events.subscribe", {"topics": [f"task:{task['id']}"]})
    return owner, viewer, editor, stranger, task["id"]


async def run(env):
    owner, viewer, editor, stranger, task_id = await setup(env)

    async def t_health_ready_metrics_openrpc():
        r = requests.get(f"{env.base}/health")
        check(r.status_code == 200 and r.json() == {"status": "ok"}, r.text)
        r = requests.get(f"{env.base}/ready")
        check(r.status_code == 200 and r.json()["components"] == {"database": "ok", "eventBus": "ok"}, r.text)
        r = requests.get(f"{env.base}/openrpc.json")
        check(r.status_code == 200 and any(m["name"] == "files.downloadUrl" for m in r.json()["methods"]), "openrpc")
        await owner.ok("tasks.get", {"id": task_id})
        r = requests.get(f"{env.base}/metrics")
        check(r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), r.headers)
        check('faros_rpc_calls_total{method="tasks.get",code="ok"}' in r.text or
              'faros_rpc_calls_total{code="ok",method="tasks.get"}' in r.text, r.text[:500])
        check("faros_rpc_call_duration_seconds" in r.text, "durations")
        pool = {line.split()[0]: float(line.split()[1]) for line in r.text.splitlines() if line.startswith("faros_db_pool_")}
        check(pool.get("faros_db_pool_connections", 0) >= 1 and "faros_db_pool_connections_in_use" in pool
              and "faros_db_pool_waiting" in pool, f"pool gauges: {pool}")
        check("faros_live_sessions" in r.text and "faros_signed_in_sessions" in r.text, "session gauges")
        r = requests.post(f"{env.base}/health")
        check(r.status_code == 405 and "GET" in r.headers.get("Allow", ""), r.status_code)
        r = requests.get(f"{env.base}/nope")
        check(r.status_code == 404 and r.json()["error"]["code"] == -32004, r.text)

    state = {}

    async def t_upload_list_download():
        before = len(env.blobs())
        r = upload(env, owner, task_id, PNG, filename="pixel.png")
        check(r.status_code == 201, f"{r.status_code} {r.text}")
        f = r.json()
        check(f["contentType"] == "image/png" and f["size"] == len(PNG) and f["filename"] == "pixel.png" and f["taskId"] == task_id, f)
        event = await owner.event("file.uploaded")
        check(event["data"]["id"] == f["id"], event)
        state["file"] = f
        r = requests.get(f"{env.base}/tasks/{task_id}/files", headers=auth(viewer))
        check(r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [f["id"]], r.text)
        r = requests.get(f"{env.base}/files/{f['id']}", headers=auth(viewer))
        check(r.status_code == 200 and r.content == PNG, r.status_code)
        check(r.headers["Content-Type"] == "image/png", r.headers)
        check(r.headers["X-Content-Type-Options"] == "nosniff", r.headers)
        check(r.headers["Content-Disposition"].startswith("attachment;") and "filename*=UTF-8''pixel.png" in r.headers["Content-Disposition"], r.headers)
        check(r.headers.get("ETag", "").startswith('"'), r.headers)
        state["etag"] = r.headers["ETag"]
        check(len(env.blobs()) == before + 1 and all(re.fullmatch(r"[0-9a-f]{32}", b) for b in env.blobs()), env.blobs())

    async def t_ranges_and_conditional():
        f = state["file"]
        url = f"{env.base}/files/{f['id']}"
        r = requests.get(url, headers={**auth(owner), "Range": "bytes=0-7"})
        check(r.status_code == 206 and r.content == PNG[:8] and r.headers["Content-Range"] == f"bytes 0-7/{len(PNG)}", r.headers)
        r = requests.get(url, headers={**auth(owner), "Range": "bytes=-4"})
        check(r.status_code == 206 and r.content == PNG[-4:], r.status_code)
        r = requests.get(url, headers={**auth(owner), "Range": f"bytes={len(PNG)}-"})
        check(r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(PNG)}" and r.json()["error"]["code"] == -32016, r.headers)
        for bad in ["bytes=abc", "items=0-1", "bytes=5-2", "bytes=0-1,4-5"]:
            r = requests.get(url, headers={**auth(owner), "Range": bad})
            check(r.status_code == 200 and r.content == PNG, f"{bad}: {r.status_code}")
        r = requests.get(url, headers={**auth(owner), "If-None-Match": state["etag"]})
        check(r.status_code == 304 and r.content == b"", r.status_code)
        r = requests.head(url, headers=auth(owner))
        check(r.status_code == 200 and r.headers["Content-Length"] == str(len(PNG)), r.headers)

    async def t_signed_link():
        f = state["file"]
        link = await viewer.ok("files.downloadUrl", {"id": f["id"]})
        check(re.search(rf"/files/{f['id']}\?exp=\d+&sig=[A-Za-z0-9_-]{{43}}$", link["url"]), link)
        link["url"] = local(env, link["url"])
        r = requests.get(link["url"])
        check(r.status_code == 200 and r.content == PNG, r.status_code)
        r = requests.get(link["url"][:-3] + "AAA")
        check(r.status_code == 401, r.status_code)
        r = requests.get(re.sub(r"exp=\d+", "exp=99999999999", link["url"]))
        check(r.status_code == 401, r.status_code)
        reply = await stranger.call("files.downloadUrl", {"id": f["id"]})
        check(reply.get("error", {}).get("code") == -32004, reply)

    async def t_tokens_and_permissions():
        f = state["file"]
        r = requests.get(f"{env.base}/files/{f['id']}")
        check(r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.status_code)
        r = requests.get(f"{env.base}/files/{f['id']}", headers={"Authorization": "Bearer nonsense"})
        check(r.status_code == 401 and r.json()["error"]["code"] == -32001, r.status_code)
        r = requests.get(f"{env.base}/files/{f['id']}", headers=auth(stranger))
        check(r.status_code == 404, r.status_code)
        r = upload(env, viewer, task_id, PNG)
        check(r.status_code == 403 and r.json()["error"]["code"] == -32003, r.status_code)
        r = upload(env, stranger, task_id, PNG)
        check(r.status_code == 404, r.status_code)
        r = requests.post(f"{env.base}/tasks/{task_id}/files", files={"file": ("a.png", PNG)})
        check(r.status_code == 401, r.status_code)

    async def t_bad_multipart():
        before = env.blobs()
        r = raw_post(env, task_id, owner, b"hello", "text/plain")
        check(r.status_code == 400, f"not multipart: {r.status_code}")
        r = raw_post(env, task_id, owner, b"hello", "multipart/form-data")
        check(r.status_code == 400, f"no boundary: {r.status_code}")
        r = raw_post(env, task_id, owner, b"hello", 'multipart/form-data; boundary="' + "x" * 80 + '"')
        check(r.status_code == 400, f"long boundary: {r.status_code}")
        body = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello world\r\n'
        r = raw_post(env, task_id, owner, body, "multipart/form-data; boundary=XX")
        check(r.status_code == 400 and "closing boundary" in r.text, f"unterminated: {r.text}")
        body = b'--XX\r\nContent-Disposition: form-data; name="file"\r\n\r\nhello\r\n--XX--\r\n'
        r = raw_post(env, task_id, owner, body, "multipart/form-data; boundary=XX")
        check(r.status_code == 400 and "no filename" in r.text, f"no filename: {r.text}")
        body = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n'
                b'--XX\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n\r\nworld\r\n--XX--\r\n')
        r = raw_post(env, task_id, owner, body, "multipart/form-data; boundary=XX")
        check(r.status_code == 400 and "one file" in r.text, f"two files: {r.text}")
        body = b'--XX\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--XX--\r\n'
        r = raw_post(env, task_id, owner, body, "multipart/form-data; boundary=XX")
        check(r.status_code == 400, f"no file part: {r.text}")
        r = raw_post(env, task_id, owner, b'--XX\r\nBad Header\r\n\r\nx\r\n--XX--\r\n', "multipart/form-data; boundary=XX")
        check(r.status_code == 400, f"malformed part header: {r.status_code}")
        wait_until(lambda: env.blobs() == before, message="no blob left after bad multipart")

    async def t_limits_and_types():
        before = env.blobs()
        r = upload(env, owner, task_id, PDF * 40)  # about 650 KiB: under the 1 MiB limit
        check(r.status_code == 201 and r.json()["contentType"] == "application/pdf", r.text)
        await owner.event("file.uploaded")
        before = env.blobs()
        r = upload(env, owner, task_id, b"%PDF-1.4\n" + os.urandom(1536 * 1024))
        check(r.status_code == 413 and r.json()["error"]["data"]["limit"] == 1 << 20, f"{r.status_code} {r.text[:200]}")
        exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
        r = upload(env, owner, task_id, exe, filename="holiday.png")
        check(r.status_code == 415 and r.json()["error"]["code"] == -32015 and "image/png" in r.json()["error"]["data"]["allowed"], r.text)
        elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
        r = upload(env, owner, task_id, elf, filename="photo.jpg")
        check(r.status_code == 415, f"elf: {r.status_code}")
        svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        r = upload(env, owner, task_id, svg, filename="logo.svg")
        check(r.status_code == 415, f"svg: {r.status_code}")
        r = upload(env, owner, task_id, b"  <!DOCTYPE html><html><body>x</body></html>", filename="x.txt")
        check(r.status_code == 415, f"html: {r.status_code}")
        r = upload(env, owner, task_id, b"caf\xc3" + b"x" * 1000, filename="bad.txt")
        check(r.status_code == 415, f"invalid utf-8: {r.status_code}")
        wait_until(lambda: env.blobs() == before, message="refused uploads leave no blob")
        r = upload(env, owner, task_id, b"plain notes\n\xc3\xa9t\xc3\xa9\n", filename="../../etc/passwd")
        check(r.status_code == 201, r.text)
        f = r.json()
        check(f["filename"] == "passwd" and f["contentType"] == "text/plain; charset=utf-8", f)
        await owner.event("file.uploaded")
        check(not os.path.exists(os.path.join(env.data_dir, "etc")), "path traversal")
        body = ('--XX\r\nContent-Disposition: form-data; name="file"; filename="r\u00e9sum\u00e9 \\"final\\".txt\x07"\r\n\r\n'
                'x\r\n--XX--\r\n').encode()
        r = raw_post(env, task_id, owner, body, "multipart/form-data; boundary=XX")
        check(r.status_code == 201 and r.json()["filename"] == 'r\u00e9sum\u00e9 "final".txt', r.text)
        await owner.event("file.uploaded")
        d = requests.get(f"{env.base}/files/{r.json()['id']}", headers=auth(owner)).headers["Content-Disposition"]
        check(d == "attachment; filename=\"r_sum_ _final_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt", d)
        state["text"] = f

    async def t_office_types():
        import io, zipfile
        for name, inner, expected in [("d.docx", "word/document.xml", "wordprocessingml"), ("s.xlsx", "xl/workbook.xml", "spreadsheetml"),
                                      ("p.zip", "readme.txt", "application/zip")]:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                if expected != "application/zip":
                    z.writestr("[Content_Types].xml", "<Types/>")
                z.writestr(inner, "x" * 100)
            r = upload(env, owner, task_id, buf.getvalue(), filename=name)
            check(r.status_code == 201 and expected in r.json()["contentType"], f"{name}: {r.text}")
            await owner.event("file.uploaded")
        ole = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600 + "Workbook".encode("utf-16-le") + b"\x00" * 100
        r = upload(env, owner, task_id, ole, filename="old.xls")
        check(r.status_code == 201 and r.json()["contentType"] == "application/vnd.ms-excel", r.text)
        await owner.event("file.uploaded")
        msi = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600
        r = upload(env, owner, task_id, msi, filename="setup.doc")
        check(r.status_code == 415, f"unknown OLE: {r.status_code}")

    def raw_connection():
        host, port = env.base.replace("http://", "").split(":")
        return socket.create_connection((host, int(port)), timeout=10)

    async def t_client_stops_mid_upload():
        before = env.blobs()
        head = (f"POST /tasks/{task_id}/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {owner.token}\r\n"
                "Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 900000\r\n\r\n").encode()
        part = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n' + PDF * 30
        s = raw_connection()
        s.sendall(head + part)
        time.sleep(0.5)
        s.close()
        wait_until(lambda: env.blobs() == before, message="partial blob removed after disconnect")
        # Stalling: the server gives up after the body timeout (2 s) and removes the partial blob.
        s = raw_connection()
        s.sendall(head + part)
        start = time.monotonic()
        s.settimeout(10)
        closed = s.recv(65536) == b""
        check(closed and time.monotonic() - start < 8, "stalled upload not cut off")
        s.close()
        wait_until(lambda: env.blobs() == before, message="partial blob removed after stall")
        r = requests.get(f"{env.base}/tasks/{task_id}/files", headers=auth(owner))
        check(not any(f["filename"] == "big.pdf" for f in r.json()["items"]), "no row for an abandoned upload")

    async def t_slowloris():
        s = raw_connection()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        try:
            for _ in range(20):
                s.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.5)
            raise AssertionError("slow header was not cut off")
        except (BrokenPipeError, ConnectionResetError):
            pass
        check(time.monotonic() - start < 6, "header timeout")
        s = raw_connection()
        s.sendall(b"POST /reset-password HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=")
        start = time.monotonic()
        try:
            for _ in range(20):
                s.sendall(b"a")
                time.sleep(0.5)
            raise AssertionError("slow body was not cut off")
        except (BrokenPipeError, ConnectionResetError):
            pass
        check(time.monotonic() - start < 6, "body timeout")

    async def t_delete_file():
        f = state["file"]
        r = requests.delete(f"{env.base}/files/{f['id']}", headers=auth(viewer))
        check(r.status_code == 403, r.status_code)
        up = upload(env, editor, task_id, PNG, filename="editor.png").json()
        await owner.event("file.uploaded")
        r = requests.delete(f"{env.base}/files/{f['id']}", headers=auth(editor))
        check(r.status_code == 403, f"editor deleting the owner's file: {r.status_code}")
        r = requests.delete(f"{env.base}/files/{up['id']}", headers=auth(editor))
        check(r.status_code == 204, r.status_code)
        await owner.event("file.deleted")
        key = state["etag"].strip('"')
        check(key in env.blobs(), "blob present before delete")
        r = requests.delete(f"{env.base}/files/{f['id']}", headers=auth(owner))
        check(r.status_code == 204, r.status_code)
        event = await owner.event("file.deleted")
        check(event["data"] == {"id": f["id"], "taskId": task_id}, event)
        wait_until(lambda: key not in env.blobs(), message="blob removed after delete")
        r = requests.get(f"{env.base}/files/{f['id']}", headers=auth(owner))
        check(r.status_code == 404, r.status_code)

    async def t_avatar():
        r = requests.post(f"{env.base}/users/me/avatar", files={"file": ("me.png", PNG)}, headers=auth(owner))
        check(r.status_code == 200 and "/users/%d/avatar?v=" % owner.id in r.json()["avatarUrl"], r.text)
        url = local(env, r.json()["avatarUrl"])
        me = await owner.ok("users.me")
        check(local(env, me["avatarUrl"]) == url, me)
        r = requests.get(url)
        check(r.status_code == 200 and r.content == PNG and r.headers["Content-Type"] == "image/png", r.headers)
        check("max-age" in r.headers["Cache-Control"] and r.headers.get("ETag"), r.headers)
        old = r.headers["ETag"].strip('"')
        gif = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 40
        r = requests.post(f"{env.base}/users/me/avatar", files={"file": ("me.gif", gif)}, headers=auth(owner))
        check(r.status_code == 200 and r.json()["avatarUrl"] != url, r.text)
        wait_until(lambda: old not in env.blobs(), message="old avatar removed")
        r = requests.get(f"{env.base}/users/{owner.id}/avatar")
        check(r.headers["Content-Type"] == "image/gif", r.headers)
        r = requests.post(f"{env.base}/users/me/avatar", files={"file": ("me.png", b"just some text")}, headers=auth(owner))
        check(r.status_code == 415, f"text avatar: {r.status_code}")
        r = requests.post(f"{env.base}/users/me/avatar", files={"file": ("me.pdf", PDF)}, headers=auth(owner))
        check(r.status_code == 415, f"pdf avatar: {r.status_code}")
        r = requests.post(f"{env.base}/users/me/avatar", files={"file": ("big.png", PNG + b"\x00" * (2 << 20))}, headers=auth(owner))
        check(r.status_code == 413, f"big avatar: {r.status_code}")
        r = requests.post(f"{env.base}/users/me/avatar", files={"file": ("me.png", PNG)})
        check(r.status_code == 401, r.status_code)
        r = requests.delete(f"{env.base}/users/me/avatar", headers=auth(owner))
        check(r.status_code == 204, r.status_code)
        r = requests.get(f"{env.base}/users/{owner.id}/avatar")
        check(r.status_code == 404, r.status_code)
        check((await owner.ok("users.me"))["avatarUrl"] is None, "avatarUrl cleared")

    async def t_cors():
        r = requests.options(f"{env.base}/tasks/{task_id}/files", headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST",
                                                                           "Access-Control-Request-Headers": "authorization"})
        check(r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "http://app.example", r.headers)
        check("POST" in r.headers["Access-Control-Allow-Methods"] and "Authorization" in r.headers["Access-Control-Allow-Headers"], r.headers)
        r = requests.options(f"{env.base}/tasks/{task_id}/files", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        check(r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers, r.status_code)
        r = requests.get(f"{env.base}/tasks/{task_id}/files", headers={**auth(owner), "Origin": "http://app.example"})
        check(r.headers.get("Access-Control-Allow-Origin") == "http://app.example", r.headers)
        r = upload(env, owner, task_id, PNG, headers={"Origin": "http://evil.example"})
        check(r.status_code == 403, f"cross-origin upload: {r.status_code}")
        r = upload(env, owner, task_id, PNG, headers={"Origin": "http://app.example"})
        check(r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == "http://app.example", r.status_code)
        await owner.event("file.uploaded")

    async def t_verify_and_reset_pages():
        user = await env.user("pages")
        token = mail_token(env, user.email, "/verify-email")
        # Opening the link (as a mail scanner does) only shows the button; its POST verifies.
        r = requests.get(f"{env.base}/verify-email", params={"token": token})
        check(r.status_code == 200 and 'action="/verify-email"' in r.text and r.headers["Content-Type"].startswith("text/html"), r.text[:300])
        check((await user.ok("users.me"))["emailVerified"] is False, "a GET verified the address")
        r = requests.post(f"{env.base}/verify-email", data={"token": token})
        check(r.status_code == 200 and "verified" in r.text and r.headers["Content-Type"].startswith("text/html"), r.text[:300])
        check((await user.ok("users.me"))["emailVerified"] is True, "verified")
        r = requests.post(f"{env.base}/verify-email", data={"token": token})
        check(r.status_code == 400 and "not valid" in r.text, r.status_code)
        r = requests.get(f"{env.base}/verify-email", params={"token": "<script>"})
        check(r.status_code == 200 and "<script>" not in r.text, r.text)
        r = requests.post(f"{env.base}/verify-email", data={"token": "<script>"})
        check(r.status_code == 400 and "<script>" not in r.text, r.text)
        await user.ok("auth.requestPasswordReset", {"email": user.email})
        token = mail_token(env, user.email, "/reset-password")
        r = requests.get(f"{env.base}/reset-password", params={"token": token})
        check(r.status_code == 200 and token in r.text and "<form" in r.text, r.text[:300])
        r = requests.post(f"{env.base}/reset-password", data={"token": token, "newPassword": "short"})
        check(r.status_code == 400 and "<form" in r.text, r.status_code)
        r = requests.post(f"{env.base}/reset-password", data={"token": token, "newPassword": "a brand new password"})
        check(r.status_code == 200 and "changed" in r.text, r.text[:300])
        r = requests.post(f"{env.base}/reset-password", data={"token": token, "newPassword": "a brand new password"})
        check(r.status_code == 400 and "not valid" in r.text, r.status_code)
        ws = await websockets.connect(env.ws_base)
        login = await RPC(ws).call("auth.login", {"username": user.username, "password": "a brand new password"})
        check("result" in login, login)
        await ws.close()
        r = requests.post(f"{env.base}/reset-password", data={"token": "x", "newPassword": "whatever pass"}, headers={"Origin": "http://evil.example"})
        check(r.status_code == 403, f"cross-site form post: {r.status_code}")

    async def t_download_after_task_delete():
        f = upload(env, owner, task_id, PDF, filename="last.pdf").json()
        await owner.event("file.uploaded")
        link = await owner.ok("files.downloadUrl", {"id": f["id"]})
        link["url"] = local(env, link["url"])
        listed = requests.get(f"{env.base}/tasks/{task_id}/files", headers=auth(owner)).json()["items"]
        keys = [requests.head(f"{env.base}/files/{x['id']}", headers=auth(owner)).headers["ETag"].strip('"') for x in listed]
        await owner.ok("tasks.delete", {"id": task_id})
        r = requests.get(f"{env.base}/files/{f['id']}", headers=auth(owner))
        check(r.status_code == 404, r.status_code)
        r = requests.get(link["url"])
        check(r.status_code == 404, f"signed link after delete: {r.status_code}")
        wait_until(lambda: not set(keys) & set(env.blobs()), timeout=10, message=f"task's blobs removed ({env.blobs()})")
        r = requests.get(f"{env.base}/tasks/{task_id}/files", headers=auth(owner))
        check(r.status_code == 404, r.status_code)

    tests = [t_health_ready_metrics_openrpc, t_upload_list_download, t_ranges_and_conditional, t_signed_link,
             t_tokens_and_permissions, t_bad_multipart, t_limits_and_types, t_office_types, t_client_stops_mid_upload,
             t_slowloris, t_delete_file, t_avatar, t_cors, t_verify_and_reset_pages, t_download_after_task_delete]
    for test in tests:
        name = test.__name__[2:]
        try:
            await test()
            RESULTS.append((name, None))
        except Exception as error:  # noqa: BLE001 - every failure is reported
            RESULTS.append((name, f"{type(error).__name__}: {error}"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--label", default="disk")
    parser.add_argument("--s3-bucket-url")
    args = parser.parse_args()
    asyncio.run(run(Env(args.base.rstrip("/"), args.data_dir, args.s3_bucket_url)))
    failed = 0
    for name, error in RESULTS:
        print(f"{'ok  ' if error is None else 'FAIL'} [{args.label}] {name}{'' if error is None else ': ' + error}")
        failed += error is not None
    print(f"{len(RESULTS) - failed}/{len(RESULTS)} REST tests passed ({args.label})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
