#!/usr/bin/env python3
"""Browser tests of the Faros web app in Debian's Chromium (playwright, never a downloaded browser).

Each test uses fresh browser contexts (one per user), so sessions never leak between them.

    FAROS_E2E_URL      where the app is served (default http://127.0.0.1:8080/)
    FAROS_E2E_OUTPUT   directory for screenshots (default ./e2e-output)
    FAROS_E2E_CHROMIUM the browser binary (default /usr/bin/chromium)

Run: python3 scripts/e2e/test_browser.py [-v] [TestClass.test_name]
"""
import os
import re
import secrets
import unittest

from playwright.sync_api import sync_playwright, expect

APP_URL = os.environ.get("FAROS_E2E_URL", "http://127.0.0.1:8080/")
OUTPUT = os.environ.get("FAROS_E2E_OUTPUT", "e2e-output")
CHROMIUM = os.environ.get("FAROS_E2E_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct-horse-9"
LIVE_TIMEOUT_MS = 5000  # the app promises well under a second; the margin is for slow CI machines


def unique(prefix):
    return f"{prefix}{secrets.token_hex(3)}"


class User:
    """One person in their own browser context."""

    def __init__(self, test, browser, prefix):
        self.test = test
        self.name = unique(prefix)
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(LIVE_TIMEOUT_MS)

    def tid(self, testid):
        return self.page.get_by_test_id(testid)

    def register(self):
        self.page.goto(APP_URL)
        self.tid("goto-register").click()
        self.tid("register-username").fill(self.name)
        self.tid("register-email").fill(f"{self.name}@example.com")
        self.tid("register-password").fill(PASSWORD)
        self.tid("register-submit").click()
        expect(self.tid("current-user")).to_have_text(self.name)
        return self

    def create_task(self, title):
        self.tid("new-task-title").fill(title)
        self.tid("new-task-submit").click()
        expect(self.row(title)).to_be_visible()

    def row(self, title):
        return self.tid("task-row").filter(has=self.page.get_by_test_id("task-title").get_by_text(title, exact=True))

    def open_task(self, title):
        self.row(title).get_by_test_id("task-title").click()
        expect(self.tid("task-heading")).to_have_text(title)

    def shot(self, name):
        os.makedirs(OUTPUT, exist_ok=True)
        self.page.screenshot(path=os.path.join(OUTPUT, f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()
        self.test.assertEqual(self.errors, [], f"console errors for {self.name}")


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pw = sync_playwright().start()
        cls.browser = cls.pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.pw.stop()

    def user(self, prefix):
        u = User(self, self.browser, prefix)
        self.addCleanup(u.close)
        return u

    def test_register_create_task_and_see_it_listed(self):
        ana = self.user("ana").register()
        ana.shot("tasks-empty")
        ana.create_task("Water the plants")
        expect(ana.tid("stat-total").locator(".value")).to_have_text("1")
        ana.page.reload()
        expect(ana.row("Water the plants")).to_be_visible()
        ana.shot("tasks")

    def test_two_users_share_a_task_and_see_each_other_live(self):
        a = self.user("ana").register()
        b = self.user("ben").register()
        a.create_task("Plan the offsite")

        # A finds B in the share dialog and shares with edit.
        a.open_task("Plan the offsite")
        a.tid("share-open").click()
        a.tid("share-role").select_option("edit")
        a.tid("share-search").fill(b.name[:5])
        a.tid("share-suggestions").get_by_test_id("share-suggestion").filter(has_text=b.name).click()
        expect(a.tid("share-current-row").filter(has_text=b.name)).to_be_visible()
        a.shot("share-dialog")
        a.tid("share-dialog-close").click()

        # B's list shows it without a reload.
        expect(b.row("Plan the offsite")).to_be_visible()
        b.open_task("Plan the offsite")

        # A comments; B sees it live.
        a.tid("comment-input").fill("Shall we go to the lake?")
        a.tid("comment-submit").click()
        expect(b.tid("comment-body").filter(has_text="Shall we go to the lake?")).to_have_count(1)

        # B edits the title; A sees it live.
        b.tid("task-edit-title").fill("Plan the lake offsite")
        b.tid("task-save").click()
        expect(a.tid("task-heading")).to_have_text("Plan the lake offsite")
        expect(a.tid("task-edit-title")).to_have_value("Plan the lake offsite")
        b.shot("task-shared")

        # A revokes; the task leaves B's screen live, with a notice.
        a.tid("share-open").click()
        a.tid("share-current-row").filter(has_text=b.name).get_by_test_id("share-revoke").click()
        expect(a.tid("share-current-row")).to_have_count(0)
        a.tid("share-dialog-close").click()
        expect(b.tid("toast").filter(has_text=re.compile("no longer available"))).to_be_visible()
        expect(b.page).to_have_url(re.compile(r"#/tasks$"))
        expect(b.row("Plan the lake offsite")).to_have_count(0)

    def test_password_change_elsewhere_returns_to_sign_in(self):
        b = self.user("ben").register()
        other = self.user("ben")
        other.name = b.name
        other.page.goto(APP_URL)
        other.tid("signin-username").fill(b.name)
        other.tid("signin-password").fill(PASSWORD)
        other.tid("signin-submit").click()
        other.tid("nav-profile").click()
        other.tid("password-current").fill(PASSWORD)
        other.tid("password-new").fill("another-horse-9")
        other.tid("password-form-submit").click()
        expect(other.tid("password-form-status")).to_be_visible()
        expect(b.tid("signin-message")).to_contain_text("password was changed")
        b.shot("signed-out")

    def test_hostile_text_shows_literally_and_runs_nothing(self):
        hostile = "<img src=x onerror=window.__pwned=1>"
        a = self.user("eve").register()
        dialogs = []
        a.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        a.create_task(f"Title {hostile}")
        a.open_task(f"Title {hostile}")
        a.tid("comment-input").fill(f"Comment {hostile}")
        a.tid("comment-submit").click()
        expect(a.tid("comment-body")).to_have_text(f"Comment {hostile}")
        path = os.path.join(OUTPUT, "hostile <img src=x onerror=window.__pwned=1>.txt")
        os.makedirs(OUTPUT, exist_ok=True)
        with open(path, "w") as f:
            f.write("plain text\n")
        a.tid("file-input").set_input_files(path)
        expect(a.tid("file-name")).to_have_text(os.path.basename(path))
        self.assertEqual(a.page.locator("img[src=x]").count(), 0)
        self.assertIsNone(a.page.evaluate("window.__pwned"))
        self.assertEqual(dialogs, [])
        # The page itself carries the strict policy: scripts and styles from this origin only.
        response = a.page.goto(APP_URL)
        policy = response.headers.get("content-security-policy", "")
        for directive in ("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
            self.assertIn(directive, policy)
        self.assertNotIn("unsafe-inline", policy)
        self.assertNotIn("unsafe-eval", policy)

    def test_upload_shows_progress_and_download_is_identical(self):
        a = self.user("ana").register()
        a.create_task("Big file")
        a.open_task("Big file")
        path = os.path.join(OUTPUT, "twenty-mb.txt")
        os.makedirs(OUTPUT, exist_ok=True)
        with open(path, "wb") as f:
            f.write((b"0123456789abcdef" * 64 + b"\n") * 20_000)
        # Slow the upload down (about 10 MB/s) so the bar is seen moving even on loopback.
        cdp = a.context.new_cdp_session(a.page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                      "downloadThroughput": -1, "uploadThroughput": 10_000_000})
        a.page.evaluate("""() => {
            window.__progress = [];
            const bar = document.querySelector('[data-testid=upload-progress]');
            const tick = () => { window.__progress.push(bar.value); if (window.__progress.length < 2000) setTimeout(tick, 20); };
            tick();
        }""")
        a.tid("file-input").set_input_files(path)
        expect(a.tid("file-name")).to_have_text("twenty-mb.txt", timeout=60_000)
        seen = sorted(set(a.page.evaluate("window.__progress")))
        self.assertGreaterEqual(len([v for v in seen if 0 < v < 100]), 2, f"progress values seen: {seen}")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                      "downloadThroughput": -1, "uploadThroughput": -1})
        with a.page.expect_download() as download:
            a.tid("file-download").click()
        with open(download.value.path(), "rb") as got, open(path, "rb") as sent:
            self.assertEqual(got.read(), sent.read())

    def test_screenshot_of_every_page(self):
        a = self.user("ana")
        a.page.goto(APP_URL)
        expect(a.tid("signin-form")).to_be_visible()
        a.shot("page-signin")
        a.page.get_by_role("link", name="Forgot your password?").click()
        expect(a.tid("forgot-form")).to_be_visible()
        a.shot("page-forgot")
        a.page.goto(APP_URL + "#/register")
        expect(a.tid("register-form")).to_be_visible()
        a.shot("page-register")
        a.register()
        for title, priority in [("Write the quarterly report", "high"), ("Book the venue", "medium"), ("Order coffee", "low")]:
            a.tid("new-task-priority").select_option(priority)
            a.create_task(title)
        a.shot("page-tasks")
        a.open_task("Book the venue")
        a.tid("comment-input").fill("The hall on Main Street is free on the 12th.")
        a.tid("comment-submit").click()
        expect(a.tid("comment")).to_have_count(1)
        a.shot("page-task")
        a.tid("share-open").click()
        a.shot("page-share-dialog")
        a.page.keyboard.press("Escape")
        for nav, ready, name in [("nav-shared", "task-list", "page-shared"), ("nav-settings", "settings-form", "page-settings"),
                                 ("nav-profile", "profile-form", "page-profile")]:
            a.tid(nav).click()
            expect(a.tid(ready)).to_be_visible()
            a.shot(name)
        a.page.goto(APP_URL + "#/verify")
        expect(a.tid("verify-recheck")).to_be_visible()
        a.shot("page-verify")


if __name__ == "__main__":
    unittest.main()
