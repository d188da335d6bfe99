#!/usr/bin/env python3
"""A loopback Web Push service for tests and benchmarks (RFC 8030, RFC 8291, RFC 8292).

It plays the browser's push service: it creates subscriptions (a P-256 key pair and a 16-byte
auth secret each, as a browser would), accepts push messages for them over HTTP/1.1 with
keep-alive, checks the VAPID Authorization header, decrypts the aes128gcm body with http_ece
(an implementation that is not ours), records what arrived, and answers like a real push
service: 201 with a Location. Answers a test needs to provoke (404, 410, 413, 429 with
Retry-After, 500, 503, slow answers) are switched on through control endpoints.

Needs the PyPI packages http_ece and cryptography (scripts/test installs them in its venv).

Push endpoint:

    POST /push/<id>     the message; answers
                        201  accepted (Location: /message/<n>)
                        400  missing TTL, bad Urgency or Topic, Content-Encoding not aes128gcm,
                             body that does not decrypt
                        401  Authorization missing or not a valid VAPID token for this origin
                             (ES256 signature by k, aud = our origin, exp in the future and at
                             most 24 h ahead, sub a mailto: or https: URI)
                        403  signed by another key than the subscription was created with
                        404  unknown subscription
                        413  body over 4096 bytes
                        or whatever /_control/mode says

Control endpoints (JSON in and out):

    POST   /_control/subscriptions   {"applicationServerKey": optional base64url key}
                                     -> {"id", "endpoint", "keys": {"p256dh", "auth"}}
    POST   /_control/mode            {"status": 410, "count": 1, "retryAfter": 2,
                                      "subscription": optional id, "delayMs": optional,
                                      "body": optional text}
                                     the next `count` pushes (to that subscription, if given)
                                     get `status` (with Retry-After when given) instead of being
                                     delivered; without count, until {"status": 201} resets it.
                                     delayMs alone (status 201) delays answers without failing them.
    GET    /_control/messages[?subscription=<id>]   -> [{"subscription", "headers", "payload",
                                                        "at", "size"}]
    DELETE /_control/messages        forget recorded messages
    GET    /_control/stats           -> {"connections" (TCP connections accepted), "received",
                                         "accepted", "verified", "decrypted",
                                         "unverified", "unauthorized", "forbidden", "notFound",
                                         "tooLarge", "badRequest", "injected", "decryptFailed"}
    DELETE /_control/stats           reset the counters

Subscriptions are self-describing: an id carries a nonce and a tag under a secret made at
start-up, and the subscription's keys are derived from it, so any process of a --processes
group knows every subscription. With --processes N only /_control/stats sums all processes;
messages and modes belong to the process that answers, so tests use one process.

--tls-cert/--tls-key serve HTTPS (HTTP/1.1 only, offered through ALPN). --port 0 picks a free port; the first line on stdout is then "PORT <n>", and --port-file gets
the number too (temporary file + rename, as scripts/e2e/smtp_server.py does). For benchmarks,
--verify-every N checks VAPID and decrypts only every Nth message (all are counted) and --fast
is --verify-every 100; --processes N runs N processes on one port (SO_REUSEPORT).

Runs until SIGTERM or SIGINT, or with --exit-with-parent until the process that started it exits.
"""

import argparse
import asyncio
import base64
import binascii
import collections
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import signal
import socket
import ssl
import sys
import time
import urllib.parse

try:
    import http_ece
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:  # pragma: no cover - a clear message instead of a traceback
    sys.stderr.write("push_service.py needs http_ece and cryptography: pip install http_ece cryptography\n")
    sys.exit(2)

MAX_BODY = 4096
MAX_HEADER_BYTES = 16 * 1024
MAX_CONTROL_BODY = 64 * 1024
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
URGENCIES = {"very-low", "low", "normal", "high"}
STAT_NAMES = ["connections", "received", "accepted", "verified", "decrypted", "unverified", "unauthorized",
              "forbidden", "notFound", "tooLarge", "badRequest", "injected", "decryptFailed"]
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
           410: "Gone", 411: "Length Required", 413: "Content Too Large", 429: "Too Many Requests",
           431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write_atomically(path: str, data: bytes) -> None:
    """Writes data to a hidden temporary file beside path, fsyncs it, renames it over path."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory or ".", f".tmp-{os.getpid()}-{name}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temporary, path)


class Subscriptions:
    """Subscription ids that carry their own proof: nonce (16) || restriction (0 or 8) || tag (8).

    The keys are derived from the id under a secret shared by every process, so a subscription
    made by one process is known to all, and a made-up id is refused (404).
    """

    def __init__(self, secret: bytes):
        self.secret = secret
        self.cache = {}

    def _mac(self, label: bytes, data: bytes) -> bytes:
        return hmac.new(self.secret, label + data, hashlib.sha256).digest()

    def create(self, application_server_key: bytes | None) -> str:
        payload = os.urandom(16)
        if application_server_key is not None:
            payload += hashlib.sha256(application_server_key).digest()[:8]
        return b64url(payload + self._mac(b"id", payload)[:8])

    def lookup(self, sub_id: str):
        """(private key, public key bytes, auth secret, restriction hash or None), or None."""
        if sub_id in self.cache:
            return self.cache[sub_id]
        try:
            raw = unb64url(sub_id)
        except (ValueError, binascii.Error):
            return None
        if len(raw) not in (24, 32):
            return None
        payload, tag = raw[:-8], raw[-8:]
        if not hmac.compare_digest(tag, self._mac(b"id", payload)[:8]):
            return None
        scalar = int.from_bytes(self._mac(b"key", payload), "big") % (P256_ORDER - 1) + 1
        private_key = ec.derive_private_key(scalar, ec.SECP256R1())
        public_key = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        auth = self._mac(b"auth", payload)[:16]
        restriction = payload[16:] if len(payload) == 24 else None
        entry = (private_key, public_key, auth, restriction)
        if len(self.cache) > 100_000:
            self.cache.clear()
        self.cache[sub_id] = entry
        return entry


class Stats:
    """Counters in shared memory: each process owns one row, /_control/stats sums the rows."""

    def __init__(self, processes: int):
        self.width = len(STAT_NAMES)
        self.array = multiprocessing.RawArray("q", processes * self.width)
        self.row = 0

    def add(self, name: str, amount: int = 1) -> None:
        self.array[self.row * self.width + STAT_NAMES.index(name)] += amount

    def snapshot(self) -> dict:
        totals = dict.fromkeys(STAT_NAMES, 0)
        for index, value in enumerate(self.array):
            totals[STAT_NAMES[index % self.width]] += value
        return totals

    def reset(self) -> None:
        for index in range(len(self.array)):
            self.array[index] = 0


class Mode:
    """What the next pushes get instead of delivery (see POST /_control/mode)."""

    def __init__(self):
        self.status = 201
        self.count = None
        self.retry_after = None
        self.subscription = None
        self.delay = 0.0
        self.body = None

    def set(self, spec: dict) -> None:
        status = int(spec.get("status", 201))
        if not 100 <= status <= 599:
            raise ValueError("status must be 100..599")
        count = spec.get("count")
        self.status = status
        self.count = None if count is None else int(count)
        self.retry_after = spec.get("retryAfter")
        self.subscription = spec.get("subscription")
        self.delay = float(spec.get("delayMs", 0)) / 1000.0
        self.body = spec.get("body")

    def take(self, sub_id: str):
        """(status, retry_after, body) to answer instead of delivering, or None."""
        if self.status == 201 or (self.subscription is not None and self.subscription != sub_id):
            return None
        if self.count is not None:
            if self.count <= 0:
                return None
            self.count -= 1
        return self.status, self.retry_after, self.body


class PushService:
    def __init__(self, options, stats: Stats, subscriptions: Subscriptions):
        self.options = options
        self.stats = stats
        self.subscriptions = subscriptions
        self.mode = Mode()
        self.messages = collections.deque(maxlen=options.max_messages)
        self.origin = None
        self.port = None
        self.sequence = 0
        self.verify_every = options.verify_every

    # -- HTTP plumbing -------------------------------------------------------------------------

    async def handle(self, method: str, target: str, headers: dict, body: bytes):
        """(status, extra headers, body bytes) for one request."""
        url = urllib.parse.urlsplit(target)
        path = url.path
        if path.startswith("/push/"):
            if method != "POST":
                return 405, {"Allow": "POST"}, b""
            return await self.push(path[len("/push/"):], headers, body)
        if path.startswith("/_control/"):
            try:
                return self.control(method, path, urllib.parse.parse_qs(url.query), body)
            except (ValueError, TypeError, KeyError) as error:
                return self.json(400, {"error": str(error)})
        return 404, {}, b"not found"

    @staticmethod
    def json(status: int, value) -> tuple:
        return status, {"Content-Type": "application/json"}, json.dumps(value).encode("utf-8")

    # -- control -------------------------------------------------------------------------------

    def control(self, method: str, path: str, query: dict, body: bytes):
        if path == "/_control/subscriptions" and method == "POST":
            spec = json.loads(body or b"{}")
            key = spec.get("applicationServerKey")
            sub_id = self.subscriptions.create(unb64url(key) if key else None)
            _, public_key, auth, _ = self.subscriptions.lookup(sub_id)
            return self.json(201, {"id": sub_id, "endpoint": f"{self.origin}/push/{sub_id}",
                                   "keys": {"p256dh": b64url(public_key), "auth": b64url(auth)}})
        if path == "/_control/mode" and method == "POST":
            self.mode.set(json.loads(body or b"{}"))
            return self.json(200, {"status": self.mode.status, "count": self.mode.count})
        if path == "/_control/messages" and method == "GET":
            wanted = query.get("subscription", [None])[0]
            return self.json(200, [m for m in self.messages if wanted is None or m["subscription"] == wanted])
        if path == "/_control/messages" and method == "DELETE":
            self.messages.clear()
            return 204, {}, b""
        if path == "/_control/stats" and method == "GET":
            return self.json(200, self.stats.snapshot())
        if path == "/_control/stats" and method == "DELETE":
            self.stats.reset()
            return 204, {}, b""
        return 404, {}, b"no such control endpoint"

    # -- push ----------------------------------------------------------------------------------

    async def push(self, sub_id: str, headers: dict, body: bytes):
        self.stats.add("received")
        self.sequence += 1
        verify = self.verify_every <= 1 or self.sequence % self.verify_every == 0
        subscription = self.subscriptions.lookup(sub_id)
        if subscription is None:
            self.stats.add("notFound")
            return 404, {}, b"no such subscription"
        private_key, _, auth, restriction = subscription

        if verify:
            problem = self.check_vapid(headers.get("authorization"), restriction)
            if problem is not None:
                status, text = problem
                self.stats.add("unauthorized" if status == 401 else "forbidden")
                return status, {}, text.encode()
            self.stats.add("verified")
        else:
            self.stats.add("unverified")

        problem = self.check_headers(headers)
        if problem is not None:
            self.stats.add("badRequest")
            return 400, {}, problem.encode()
        if len(body) > MAX_BODY:
            self.stats.add("tooLarge")
            return 413, {}, b"payload too large"

        override = self.mode.take(sub_id)
        if self.mode.delay:
            await asyncio.sleep(self.mode.delay)
        if override is not None:
            status, retry_after, text = override
            self.stats.add("injected")
            extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
            if text is None:
                text = f"{REASONS.get(status, 'status')} (injected by push_service.py)"
            return status, extra, text.encode("utf-8")

        record = {"subscription": sub_id, "at": time.time(), "size": len(body),
                  "headers": {name: headers[name.lower()] for name in ("TTL", "Urgency", "Topic")
                              if name.lower() in headers}}
        if verify:
            try:
                plaintext = http_ece.decrypt(body, private_key=private_key, auth_secret=auth, version="aes128gcm")
            except Exception as error:  # http_ece raises several kinds; all mean "not for this key"
                self.stats.add("decryptFailed")
                return 400, {}, f"cannot decrypt: {error}".encode()
            self.stats.add("decrypted")
            try:
                record["payload"] = json.loads(plaintext)
            except ValueError:
                record["payload"] = plaintext.decode("utf-8", "replace")
            self.messages.append(record)
        self.stats.add("accepted")
        number = self.sequence
        return 201, {"Location": f"{self.origin}/message/{number}"}, b""

    def check_headers(self, headers: dict):
        if headers.get("content-encoding", "").strip().lower() != "aes128gcm":
            return "Content-Encoding must be aes128gcm"
        ttl = headers.get("ttl")
        if ttl is None or not ttl.strip().isdigit():
            return "TTL header missing or not a non-negative integer"
        urgency = headers.get("urgency")
        if urgency is not None and urgency.strip() not in URGENCIES:
            return "Urgency must be very-low, low, normal or high"
        topic = headers.get("topic")
        if topic is not None and not TOPIC.fullmatch(topic.strip()):
            return "Topic must be 1 to 32 base64url characters"
        return None

    def check_vapid(self, authorization, restriction):
        """None when the VAPID header is valid for this origin, else (401 or 403, reason)."""
        if not authorization:
            return 401, "missing Authorization"
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() != "vapid":
            return 401, "Authorization scheme is not vapid"
        params = {}
        for part in rest.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep:
                return 401, "malformed vapid parameters"
            params[name.strip().lower()] = value.strip()
        token, key_text = params.get("t"), params.get("k")
        if not token or not key_text:
            return 401, "vapid needs t= and k="
        try:
            key_bytes = unb64url(key_text)
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_bytes)
            if len(key_bytes) != 65:
                raise ValueError("not uncompressed")
            header_text, claims_text, signature_text = token.split(".")
            header = json.loads(unb64url(header_text))
            claims = json.loads(unb64url(claims_text))
            signature = unb64url(signature_text)
        except (ValueError, binascii.Error, TypeError):
            return 401, "malformed VAPID token or key"
        if not isinstance(header, dict) or header.get("alg") != "ES256" or header.get("typ", "JWT") != "JWT":
            return 401, "VAPID token is not an ES256 JWT"
        if len(signature) != 64:
            return 401, "ES256 signature is not 64 bytes"
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            public_key.verify(der, f"{header_text}.{claims_text}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return 401, "VAPID signature does not verify"
        if not isinstance(claims, dict):
            return 401, "VAPID claims are not an object"
        if claims.get("aud") != self.origin:
            return 401, f"aud {claims.get('aud')!r} is not {self.origin!r}"
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or isinstance(exp, bool) or exp <= now or exp > now + 86400:
            return 401, "exp missing, past, or more than 24 hours ahead"
        sub = claims.get("sub")
        if not isinstance(sub, str) or not (sub.startswith("mailto:") or sub.startswith("https:")):
            return 401, "sub must be a mailto: or https: URI"
        if restriction is not None and hashlib.sha256(key_bytes).digest()[:8] != restriction:
            return 403, "signed by another key than the subscription's applicationServerKey"
        return None


class HTTPConnection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies: all a push client sends."""

    def __init__(self, service: PushService):
        self.service = service
        self.buffer = bytearray()
        self.transport = None
        self.busy = False
        self.closing = False

    def connection_made(self, transport):
        self.transport = transport
        self.service.stats.add("connections")

    def data_received(self, data):
        self.buffer += data
        if not self.busy:
            self.next_request()

    def connection_lost(self, exc):
        self.closing = True

    def next_request(self):
        while not self.busy and not self.closing:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    self.fail(431)
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, target, version = lines[0].split(" ")
            except ValueError:
                self.fail(400)
                return
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    self.fail(400)
                    return
                headers[name.strip().lower()] = value.strip()
            if "transfer-encoding" in headers:
                self.fail(501)
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self.fail(400)
                return
            limit = MAX_CONTROL_BODY if target.startswith("/_control/") else 1024 * 1024
            if length < 0 or length > limit:
                self.fail(413)
                return
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            self.busy = True
            asyncio.get_running_loop().create_task(self.respond(method, target, headers, body, keep_alive))

    async def respond(self, method, target, headers, body, keep_alive):
        try:
            status, extra, payload = await self.service.handle(method, target, headers, body)
        except Exception as error:  # a bug here must show up as a 500, not a hung connection
            sys.stderr.write(f"push_service.py: {type(error).__name__}: {error}\n")
            status, extra, payload = 500, {}, b"internal error"
        self.write(status, extra, payload, keep_alive)
        self.busy = False
        if keep_alive:
            self.next_request()

    def write(self, status, extra, payload, keep_alive):
        if self.closing:
            return
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in extra.items()]
        if not keep_alive:
            lines.append("Connection: close")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        if not keep_alive:
            self.closing = True
            self.transport.close()

    def fail(self, status):
        self.write(status, {}, REASONS.get(status, "error").encode(), keep_alive=False)


def make_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def serve(options, sock, stats, subscriptions, parent_pid) -> int:
    loop = asyncio.get_running_loop()
    service = PushService(options, stats, subscriptions)
    service.port = sock.getsockname()[1]
    host = f"[{options.host}]" if ":" in options.host else options.host
    tls = None
    if options.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(options.tls_cert, options.tls_key)
        # Only HTTP/1.1 is spoken here: a client asking for h2 through ALPN falls back to it.
        tls.set_alpn_protocols(["http/1.1"])
    service.origin = f"{'https' if tls else 'http'}://{host}:{service.port}"
    server = await loop.create_server(lambda: HTTPConnection(service), sock=sock, ssl=tls)

    stop = asyncio.Event()
    # A parent may start us with these blocked (a Swift concurrency or NIO thread passes its
    # signal mask on); blocked, SIGTERM would never stop the server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if parent_pid is not None:
        async def watch_parent():
            while os.getppid() == parent_pid:
                await asyncio.sleep(0.5)
            stop.set()
        loop.create_task(watch_parent())
    async with server:
        await stop.wait()
        server.close()
    return 0


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="A loopback Web Push service for tests.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one and prints PORT <n> first")
    parser.add_argument("--port-file", help="write the listening port here (atomically) once listening")
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate chain")
    parser.add_argument("--tls-key", metavar="PEM", help="private key for --tls-cert")
    parser.add_argument("--verify-every", type=int, default=1, metavar="N",
                        help="check VAPID and decrypt every Nth message only; all are counted (default 1)")
    parser.add_argument("--fast", action="store_true", help="same as --verify-every 100")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="processes sharing the port through SO_REUSEPORT (default 1)")
    parser.add_argument("--max-messages", type=int, default=100_000, metavar="N",
                        help="recorded messages kept per process, oldest dropped first (default 100000)")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one exits")
    options = parser.parse_args(argv)
    if options.fast:
        options.verify_every = max(options.verify_every, 100)
    if options.verify_every < 1 or options.processes < 1:
        parser.error("--verify-every and --processes must be at least 1")
    return options


def main(argv=None) -> int:
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    parent_pid = os.getppid() if options.exit_with_parent else None
    stats = Stats(options.processes)
    subscriptions = Subscriptions(os.urandom(32))
    try:
        first = make_socket(options.host, options.port, reuse_port=options.processes > 1)
    except OSError as error:
        sys.stderr.write(f"push_service.py: {error}\n")
        return 1
    port = first.getsockname()[1]
    # Every process binds before the port is announced, so no connection meets an empty group.
    sockets = [first] + [make_socket(options.host, port, reuse_port=True) for _ in range(options.processes - 1)]
    children = []
    for row in range(1, options.processes):
        pid = os.fork()
        if pid == 0:
            stats.row = row
            for index, sock in enumerate(sockets):
                if index != row:
                    sock.close()
            # A child watches its own parent (this process) as well as the original one.
            os._exit(asyncio.run(serve(options, sockets[row], stats, subscriptions, os.getppid())))
        children.append(pid)
    for sock in sockets[1:]:
        sock.close()
    print(f"PORT {port}", flush=True)
    if options.port_file:
        write_atomically(options.port_file, f"{port}\n".encode("ascii"))
    try:
        return asyncio.run(serve(options, first, stats, subscriptions, parent_pid))
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
