"""Browser tests: Debian's Chromium driven by Playwright (sync API) against the live ASGI app.

Fixtures:
  ``browser``   Chromium, started once per session (``/usr/bin/chromium``, headless, fake camera
                and microphone). Function-scoped handle on the session's browser, see below.
  ``viewport``  the size of the page: DESKTOP by default; a test module chooses another size by
                defining its own ``viewport`` fixture, a single test with
                ``@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])``.
  ``page``      a new browser context and page per test (locale de-DE), whose relative URLs go to
                the ``live_app``.

Every context made by ``new_context`` (the ``page`` fixture's and any a test opens itself) is
watched: the test fails when a page asks any host but 127.0.0.1/localhost (pages must not talk to
third parties), or when a page has an id twice in any state the test reaches (checked at load
and after every change of the document).

Helpers: ``assert_accessible(page)`` runs axe-core on the current page and fails on serious or
critical violations.

Playwright's sync API and the rest of the suite
------------------------------------------------
The sync API runs an asyncio loop in a greenlet of the main thread and, between two API calls,
leaves that loop registered as the thread's *running* loop. While it is registered, Django's ORM
raises SynchronousOnlyOperation, async_to_sync refuses to work, and pytest-asyncio cannot run its
own loop for async tests. So the registration is confined to browser tests: the session fixture
unregisters the loop right after starting Chromium, the function-scoped ``browser`` fixture
registers it for the test and unregisters it afterwards, and the other tests of the session run
as if Playwright were not there. Inside a browser test the ORM is allowed through
DJANGO_ALLOW_ASYNC_UNSAFE (nothing runs concurrently in the main thread: the "running" loop is
suspended while the test's own code runs); for async_to_sync use ``outside_browser_loop()``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from tests.conftest import LiveApp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    f"Chromium not found at {CHROMIUM}; install Debian's chromium package to run browser tests"
)
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Schemes that never leave the browser.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome", "chrome-extension", "devtools"})

BLOCKING_IMPACTS = ("serious", "critical")

_axe = Axe()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder drives the browser: mark it, so that ``-m "not browser"``
    leaves it out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


# --- the browser ------------------------------------------------------------------------------


@dataclass
class BrowserSession:
    playwright: Playwright
    browser: Browser
    loop: asyncio.AbstractEventLoop | None

    def enter(self) -> None:
        """Register Playwright's loop as the thread's running loop, as its sync API expects."""
        asyncio._set_running_loop(self.loop)

    @staticmethod
    def leave() -> None:
        asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def _browser_session() -> Iterator[BrowserSession]:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}:
            pytest.fail(f"{CHROMIUM_MISSING} (CI is set: browser tests must run in CI)")
        pytest.skip(CHROMIUM_MISSING)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except BaseException:
        playwright.stop()
        BrowserSession.leave()
        raise
    session = BrowserSession(
        playwright=playwright, browser=browser, loop=asyncio._get_running_loop()
    )
    session.leave()
    yield session
    session.enter()
    try:
        browser.close()
    finally:
        playwright.stop()
        session.leave()


@pytest.fixture
def browser(_browser_session: BrowserSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    # See the module's docstring: the ORM in the test's own code is safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    _browser_session.enter()
    try:
        yield _browser_session.browser
    finally:
        _browser_session.leave()


@contextmanager
def outside_browser_loop() -> Iterator[None]:
    """Run code that needs a thread without a running loop (async_to_sync) in a browser test."""
    loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


# --- pages and the requests they make ---------------------------------------------------------


# Every page of every context watches its own document for ids used twice, at load and after
# each change (a form shown by script, a message added live), and reports them on the console.
# Two elements with one id break labels and descriptions: a field loses its accessible name, or
# is announced twice (WCAG 4.1.1/1.3.1). Added as an init script, so it runs before the page's
# own scripts and outside its Content-Security-Policy.
DUPLICATE_IDS_MARK = "treffpunkt:duplicate-ids"
DUPLICATE_ID_WATCH = """
(() => {
  if (window.top !== window) return;
  const reported = new Set();
  const check = () => {
    const seen = new Map();
    for (const element of document.querySelectorAll("[id]")) {
      seen.set(element.id, (seen.get(element.id) || 0) + 1);
    }
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id).sort();
    const key = location.pathname + location.search + " " + twice.join(" ");
    if (twice.length && !reported.has(key)) {
      reported.add(key);
      console.error("%MARK% " + location.pathname + location.search + ": " + twice.join(", "));
    }
  };
  let pending = null;
  const later = () => {
    if (pending === null) pending = setTimeout(() => { pending = null; check(); }, 20);
  };
  document.addEventListener("DOMContentLoaded", () => {
    check();
    new MutationObserver(later).observe(document.documentElement, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["id"],
    });
  });
})();
""".replace("%MARK%", DUPLICATE_IDS_MARK)


@dataclass
class RequestLog:
    """What the pages of one browser context did: every URL they asked for, and every page
    (with its state) that had an id twice."""

    urls: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)

    def record(self, url: str) -> None:
        self.urls.append(url)

    def record_console(self, text: str) -> None:
        if text.startswith(DUPLICATE_IDS_MARK):
            self.duplicate_ids.append(text.removeprefix(DUPLICATE_IDS_MARK).strip())

    def foreign(self) -> list[str]:
        found = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname not in LOCAL_HOSTS:
                found.append(url)
        return found


# The contexts the running test opened, with their logs: checked when the test ends.
_CONTEXTS_OF_THIS_TEST: list[tuple[RequestLog, BrowserContext]] = []


def new_context(
    browser: Browser, live_app: LiveApp, viewport: ViewportSize, **options: Any
) -> tuple[BrowserContext, RequestLog]:
    """A browser context whose relative URLs go to the live app (locale de-DE), with the
    harness's timeouts, and a log of every request and WebSocket its pages open. ``options``
    go to Playwright (e.g. ``java_script_enabled=False``)."""
    context = browser.new_context(
        base_url=live_app.url, locale="de-DE", viewport=viewport, **options
    )
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    log = RequestLog()
    context.on("request", lambda req: log.record(req.url))
    # "page" also fires for the page made below, and for popups.
    context.on("page", lambda new_page: new_page.on("websocket", lambda ws: log.record(ws.url)))
    context.on("console", lambda message: log.record_console(message.text))
    context.add_init_script(DUPLICATE_ID_WATCH)
    _CONTEXTS_OF_THIS_TEST.append((log, context))
    return context, log


@pytest.fixture
def viewport() -> ViewportSize:
    return DESKTOP


@pytest.fixture
def page(live_app: LiveApp, browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    # The live app comes first in the arguments, so it is torn down (database flush) after the
    # browser let go of the thread.
    #
    # No bypass_csp: the pages run under their real Content-Security-Policy (script-src 'self',
    # no inline script), so a browser test also notices what the policy breaks. axe-core still
    # works: axe-playwright-python injects it with page.evaluate(), which DevTools runs outside
    # the page's CSP (page.add_script_tag(content=...) would be refused: inline script). Should a
    # future axe need more, bypass_csp=True on this context is acceptable for the harness only.
    context, _ = new_context(browser, live_app, viewport)
    browser_page = context.new_page()
    try:
        yield browser_page
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a browser test passed, fail it if any page of any context it opened asked a
    foreign host, or had an id twice in any state the test reached."""
    _CONTEXTS_OF_THIS_TEST.clear()
    try:
        result = yield
        foreign: list[str] = []
        duplicates: list[str] = []
        for log, context in _CONTEXTS_OF_THIS_TEST:
            for open_page in context.pages:
                # A round trip delivers the request and console events Chromium has not
                # reported yet. A closed or navigating page has nothing more to say.
                with suppress(Exception):
                    open_page.evaluate("0")
            foreign += log.foreign()
            duplicates += log.duplicate_ids
    finally:
        _CONTEXTS_OF_THIS_TEST.clear()
    if foreign:
        pytest.fail(
            "The pages requested hosts other than 127.0.0.1/localhost:\n  " + "\n  ".join(foreign),
            pytrace=False,
        )
    if duplicates:
        pytest.fail(
            "Pages had an id more than once (labels and descriptions break):\n  "
            + "\n  ".join(duplicates),
            pytrace=False,
        )
    return result


# --- accessibility ----------------------------------------------------------------------------


def assert_accessible(page: Page, *, context: Any = None) -> None:
    """Run axe-core on the current page; fail on violations of impact serious or critical."""
    page.wait_for_load_state("load")
    results = _axe.run(page, context=context)
    violations = results.response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if not blocking:
        return
    lines = [f"axe-core: {len(blocking)} serious/critical accessibility violations on {page.url}"]
    for violation in blocking:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{violation.get('helpUrl', '')}]"
        )
        for node in violation["nodes"]:
            target = ", ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {node.get('html', '')}")
            if summary:
                lines.append(f"      {summary}")
    pytest.fail("\n".join(lines), pytrace=False)
