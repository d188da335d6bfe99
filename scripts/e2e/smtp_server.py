#!/usr/bin/env python3
"""A small SMTP server for tests, built on aiosmtpd (pip install aiosmtpd).

It listens on loopback, accepts mail, and stores every accepted message in a
directory so a test can compare what arrived with what it sent. Behaviour that
a test needs to provoke (refused or deferred recipients, a slow server, AUTH,
STARTTLS, implicit TLS) is switched on with flags; see --help.

Files in --maildir, per accepted message (NAME is unique, sortable by arrival):

    NAME.eml    the message bytes exactly as received after DATA (dot-stuffing
                removed, nothing else changed; CRLF line ends kept)
    NAME.json   the envelope: {"mail_from" ("" for the null path <>), "rcpt_tos", "mail_options",
                "rcpt_options", "peer", "tls", "auth_user", "received_at",
                "eml", "size"}

Both are written to a dot-prefixed temporary file, fsynced and renamed into
place, and the .json is renamed last: once NAME.json exists, NAME.eml is
complete. Readers should glob "*.json" (temporary files never match).

--port-file is written the same way (temporary file + rename) once the socket
listens, so a test can poll for it and read a complete port number.

--event-log FILE appends one JSON object per line for AUTH attempts, MAIL,
RCPT and DATA (never a password or message bytes), so a test can check, for
example, that no AUTH was attempted over a cleartext connection.

The server runs until SIGTERM or SIGINT (or, with --exit-with-parent, until the
process that started it exits).
"""

import argparse
import asyncio
import hmac
import json
import logging
import os
import signal
import ssl
import sys
import time
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # pragma: no cover - a clear message instead of a traceback
    sys.stderr.write("smtp_server.py needs aiosmtpd: pip install aiosmtpd\n")
    sys.exit(2)

log = logging.getLogger("smtp_server")


def write_atomically(path: str, data: bytes) -> None:
    """Writes data to a hidden temporary file beside path, fsyncs it, renames it over path."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory or ".", f".tmp-{os.getpid()}-{name}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temporary, path)


class EventLog:
    """Appends JSON lines to a file (or does nothing when no file was given)."""

    def __init__(self, path):
        self.path = path

    def write(self, event: str, **fields) -> None:
        if not self.path:
            return
        record = {"event": event, "time": time.time(), **fields}
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record, sort_keys=True) + "\n")
            stream.flush()


class Handler:
    """aiosmtpd hooks: recipient policy, the DATA delay, storage of accepted messages."""

    def __init__(self, options, events: EventLog, implicit_tls: bool):
        self.maildir = options.maildir
        self.reject = {address.lower() for address in options.reject_rcpt}
        self.defer = {address.lower() for address in options.defer_rcpt}
        self.delay = options.delay_data
        self.events = events
        self.implicit_tls = implicit_tls
        self.counter = 0

    def is_tls(self, session) -> bool:
        return self.implicit_tls or session.ssl is not None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # The null reverse-path (bounces) arrives as "<>"; it stays so in the envelope (aiosmtpd
        # needs a non-empty mail_from before RCPT) and becomes "" in the sidecar.
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.events.write("mail", address=address, options=mail_options, tls=self.is_tls(session))
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        if key in self.reject:
            reply = "550 5.1.1 Recipient address rejected: user unknown"
        elif key in self.defer:
            reply = "451 4.3.0 Recipient temporarily unavailable, try again later"
        else:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            reply = "250 OK"
        self.events.write("rcpt", address=address, reply=reply[:3])
        return reply

    async def handle_DATA(self, server, session, envelope):
        if self.delay > 0:
            # If the client gives up meanwhile, aiosmtpd cancels this coroutine: nothing is stored.
            await asyncio.sleep(self.delay)
            if server.transport is None or server.transport.is_closing():
                self.events.write("data", stored=False, size=len(envelope.original_content or b""),
                                  reason="client disconnected during --delay-data")
                return "421 4.4.2 Client went away"
        content = envelope.original_content or b""
        self.counter += 1
        name = f"{time.time_ns():020d}-{os.getpid()}-{self.counter:06d}"
        eml = os.path.join(self.maildir, name + ".eml")
        sidecar = {
            "mail_from": "" if envelope.mail_from == "<>" else envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "peer": list(session.peer) if isinstance(session.peer, tuple) else session.peer,
            "tls": self.is_tls(session),
            "auth_user": getattr(session.auth_data, "login", b"").decode("utf-8", "replace")
            if session.authenticated else None,
            "received_at": time.time(),
            "eml": name + ".eml",
            "size": len(content),
        }
        try:
            write_atomically(eml, content)
            write_atomically(os.path.join(self.maildir, name + ".json"),
                             json.dumps(sidecar, indent=2, sort_keys=True).encode("utf-8"))
        except OSError as error:
            log.error("could not store message: %s", error)
            self.events.write("data", stored=False, size=len(content))
            return "451 4.3.0 Could not store the message"
        self.events.write("data", stored=True, size=len(content), name=name)
        log.info("stored %s (%d bytes) from %s to %s", name, len(content), envelope.mail_from, envelope.rcpt_tos)
        return "250 OK: queued as " + name


class Authenticator:
    """Checks LOGIN/PLAIN credentials against the one --auth USER:PASS pair."""

    def __init__(self, user: str, password: str, events: EventLog, handler: Handler):
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")
        self.events = events
        self.handler = handler

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = False
        login = b""
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login
            ok = hmac.compare_digest(login, self.user) and hmac.compare_digest(auth_data.password, self.password)
        self.events.write("auth", mechanism=mechanism, user=login.decode("utf-8", "replace"),
                          success=ok, tls=self.handler.is_tls(session))
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False makes aiosmtpd answer "535 5.7.8" itself (handled=True would send nothing).
        return AuthResult(success=False, handled=False)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Test SMTP server (aiosmtpd) that stores accepted messages in a directory.",
        epilog="Files: NAME.eml (raw bytes) and NAME.json (envelope), both written via temp+rename, "
               ".json last. Stops on SIGTERM/SIGINT.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default 0)")
    parser.add_argument("--port-file", help="write the listening port here (atomically) once listening")
    parser.add_argument("--maildir", required=True, help="directory for accepted messages (created if missing)")
    parser.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDR",
                        help="answer 550 at RCPT TO for this address (repeatable, case-insensitive)")
    parser.add_argument("--defer-rcpt", action="append", default=[], metavar="ADDR",
                        help="answer 451 at RCPT TO for this address (repeatable, case-insensitive)")
    parser.add_argument("--delay-data", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long after the message body before answering DATA")
    parser.add_argument("--auth", metavar="USER:PASS",
                        help="require AUTH (LOGIN or PLAIN) with these credentials before MAIL; "
                             "offered only over TLS unless --auth-allow-cleartext")
    parser.add_argument("--auth-allow-cleartext", action="store_true",
                        help="offer and accept AUTH without TLS (to test that a client refuses to use it)")
    parser.add_argument("--tls-cert", metavar="PEM", help="certificate chain for STARTTLS (or --implicit-tls)")
    parser.add_argument("--tls-key", metavar="PEM", help="private key for --tls-cert")
    parser.add_argument("--implicit-tls", action="store_true",
                        help="TLS from the first byte (smtps, as on port 465) instead of STARTTLS")
    parser.add_argument("--require-starttls", action="store_true",
                        help="refuse every command but EHLO/STARTTLS/QUIT before STARTTLS")
    parser.add_argument("--max-message-size", type=int, default=32 * 1024 * 1024, metavar="BYTES",
                        help="answer 552 to larger messages (default 32 MiB; 0 = unlimited)")
    parser.add_argument("--hostname", default="localhost", help="name in the greeting (default localhost)")
    parser.add_argument("--event-log", metavar="FILE", help="append JSON lines for AUTH, MAIL, RCPT, DATA")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started us exits (so a crashed test run leaves no server)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each SMTP exchange to stderr")
    options = parser.parse_args(argv)

    if not 0 <= options.port <= 65535:
        parser.error("--port must be 0...65535")
    if (options.tls_cert is None) != (options.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if options.implicit_tls and options.tls_cert is None:
        parser.error("--implicit-tls needs --tls-cert and --tls-key")
    if options.require_starttls and (options.tls_cert is None or options.implicit_tls):
        parser.error("--require-starttls needs --tls-cert/--tls-key and no --implicit-tls")
    if options.auth is not None:
        if ":" not in options.auth:
            parser.error("--auth takes USER:PASS")
        if options.tls_cert is None and not options.auth_allow_cleartext:
            parser.error("--auth without TLS can never succeed; add --tls-cert/--tls-key or --auth-allow-cleartext")
    if options.delay_data < 0:
        parser.error("--delay-data must not be negative")
    return options


async def serve(options) -> int:
    os.makedirs(options.maildir, exist_ok=True)
    events = EventLog(options.event_log)
    tls_context = None
    if options.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(options.tls_cert, options.tls_key)
    handler = Handler(options, events, implicit_tls=options.implicit_tls)

    auth_kwargs = {}
    if options.auth is not None:
        user, _, password = options.auth.partition(":")
        auth_kwargs = dict(
            authenticator=Authenticator(user, password, events, handler),
            auth_required=True,
            # Over implicit TLS the whole connection is encrypted, but aiosmtpd only knows about STARTTLS.
            auth_require_tls=not (options.auth_allow_cleartext or options.implicit_tls),
        )
    else:
        auth_kwargs = dict(auth_require_tls=not options.auth_allow_cleartext)

    loop = asyncio.get_running_loop()

    def factory():
        return SMTP(
            handler,
            loop=loop,
            hostname=options.hostname,
            data_size_limit=options.max_message_size or None,
            tls_context=None if options.implicit_tls else tls_context,
            require_starttls=options.require_starttls,
            **auth_kwargs,
        )

    server = await loop.create_server(
        factory, host=options.host, port=options.port,
        ssl=tls_context if options.implicit_tls else None, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if options.port_file:
        write_atomically(options.port_file, f"{port}\n".encode("ascii"))
    log.info("listening on %s:%d (maildir %s)", options.host, port, options.maildir)
    print(f"listening on {options.host}:{port}", flush=True)

    stop = asyncio.Event()
    # A parent may start us with these blocked (Foundation's Process from a Swift concurrency or
    # NIO thread passes its signal mask on); blocked, SIGTERM would never stop the server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if options.exit_with_parent:
        parent = os.getppid()

        async def watch_parent():
            while os.getppid() == parent:
                await asyncio.sleep(0.5)
            log.warning("parent %d exited; stopping", parent)
            stop.set()

        watcher = loop.create_task(watch_parent())
    async with server:
        await stop.wait()
        server.close()
    return 0


def main(argv=None) -> int:
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if options.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    if not options.verbose:
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    # aiosmtpd warns when AUTH is allowed without TLS; here that is the point of the flag.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    try:
        return asyncio.run(serve(options))
    except OSError as error:
        sys.stderr.write(f"smtp_server.py: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
