#!/usr/bin/env python3
"""Browser-side figures of the Faros app in Debian's headless Chromium, on loopback. Prints, never asserts.

  1. bytes transferred for a first load of `/` (empty cache, signed out), as Chromium counts them
     on the wire (headers and compressed bodies), and the same for the task list after sign-in;
  2. time from navigation start until the first 50 tasks are on screen (a signed-in reload of the
     list, 60 tasks in the store), over RUNS reloads;
  3. time from a write by one person (a comment through the API, Python websockets) to its
     appearance on another person's open task page, over WRITES writes one after another.

    python3 scripts/e2e/bench_browser.py http://127.0.0.1:8080/ [--runs 20] [--writes 100]

The server should run with --no-rate-limits (the seeding writes quickly). Clocks: the write's
start is Python's time.time(), its appearance the page's Date.now() from a MutationObserver;
both read the same system clock.
"""
import argparse
import json
import os
import secrets
import statistics
import sys
import time

from playwright.sync_api import sync_playwright, expect
from websockets.sync.client import connect

PASSWORD = "correct-horse-9"


class Api:
    def __init__(self, base, name, register=True):
        self.socket = connect(base.replace("http", "ws", 1).rstrip("/") + "/rpc", max_size=8 << 20)
        self.next_id = 0
        method = "auth.register" if register else "auth.login"
        params = {"username": name, "password": PASSWORD}
        if register:
            params["email"] = f"{name}@example.com"
        self.call(method, params)

    def call(self, method, params=None):
        self.next_id += 1
        self.socket.send(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.socket.recv(timeout=15))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def summary(values, unit="ms"):
    return (f"median {statistics.median(values):.0f} {unit}, p90 {percentile(values, 90):.0f}, "
            f"p99 {percentile(values, 99):.0f}, max {max(values):.0f} (n={len(values)})")


def sign_in(page, base, name, navigate=True):
    if navigate:
        page.goto(base)
    page.get_by_test_id("signin-username").fill(name)
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("current-user")).to_have_text(name)


def wire_bytes(context, page, action):
    """Bytes Chromium received for everything `action` loads (encodedDataLength: headers plus body as sent)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    received = {}
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], e["encodedDataLength"]))
    frames = []
    cdp.on("Network.webSocketFrameReceived", lambda e: frames.append(len(e["response"]["payloadData"])))
    action()
    page.wait_for_load_state("networkidle")
    cdp.detach()
    return sum(received.values()), len(received), sum(frames)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--chromium", default=os.environ.get("FAROS_E2E_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    base = args.url.rstrip("/") + "/"

    owner = f"bench{secrets.token_hex(3)}"
    api = Api(base, owner)
    for i in range(60):
        api.call("tasks.create", {"title": f"Seeded task {i:02d} with a title of ordinary length",
                                  "description": "Some words about it.", "priority": ["low", "medium", "high"][i % 3],
                                  "tags": ["bench", f"t{i % 5}"]})
    reader = f"reader{secrets.token_hex(3)}"
    Api(base, reader)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])

        # 1. First load, empty cache.
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        total, requests, _ = wire_bytes(context, page, lambda: page.goto(base))
        print(f"first load of / (signed out, empty cache): {total:,} bytes in {requests} responses")
        total, requests, ws = wire_bytes(context, page, lambda: (sign_in(page, base, owner, navigate=False),
                                                           expect(page.get_by_test_id("task-row")).to_have_count(50)))
        print(f"sign-in to the list of 60 tasks: {total:,} bytes in {requests} HTTP responses, {ws:,} bytes of WebSocket messages")

        # 2. Navigation start until 50 rows are on screen: reloads of a signed-in tab (assets
        # cached), then fresh contexts with an empty cache and the same token in sessionStorage.
        def shown(page):
            page.wait_for_function(
                """() => {
                    if (document.querySelectorAll('[data-testid=task-row]').length >= 50) {
                        window.__shown ??= performance.now();
                        return true;
                    }
                    return false;
                }""", polling="raf", timeout=10_000)
            return page.evaluate("window.__shown")

        token = page.evaluate("sessionStorage.getItem('faros.token')")
        page.reload()
        shown(page)  # the first reload warms the browser's own caches
        warm = []
        for _ in range(args.runs):
            page.reload()
            warm.append(shown(page))
        context.close()
        print(f"navigation start to 50 tasks on screen, reload (signed in, assets cached): {summary(warm)}")
        cold = []
        for _ in range(args.runs):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(f"sessionStorage.setItem('faros.token', {json.dumps(token)})")
            page = context.new_page()
            page.goto(base + "#/tasks")
            cold.append(shown(page))
            context.close()
        print(f"navigation start to 50 tasks on screen, fresh context (signed in, empty cache): {summary(cold)}")

        # 3. Write -> appearance on another person's open task page.
        task = api.call("tasks.create", {"title": "Latency probe"})
        api.call("shares.create", {"taskId": task["id"], "username": reader, "permission": "view"})
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        sign_in(page, base, reader)
        page.goto(f"{base}#/tasks/{task['id']}")
        expect(page.get_by_test_id("task-heading")).to_have_text("Latency probe")
        page.evaluate("""() => {
            window.__seen = {};
            new MutationObserver(() => {
                for (const el of document.querySelectorAll('[data-testid=comment-body]')) {
                    const key = el.textContent;
                    if (!(key in window.__seen)) window.__seen[key] = Date.now();
                }
            }).observe(document.body, { childList: true, subtree: true, characterData: true });
        }""")
        latencies = []
        for i in range(args.writes):
            text = f"probe {i}"
            started = time.time() * 1000
            api.call("comments.create", {"taskId": task["id"], "content": text})
            page.wait_for_function("(t) => t in window.__seen", arg=text, polling=5, timeout=10_000)
            latencies.append(page.evaluate("(t) => window.__seen[t]", text) - started)
        print(f"write (comments.create through the API) to appearance on another person's task page: {summary(latencies)}")
        context.close()
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
