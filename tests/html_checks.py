"""A page must never use one id twice: a label then names the wrong field, a description is read
for the wrong control, and a screen reader announces a field twice or not at all (WCAG 1.3.1,
4.1.2). The test settings put ``DuplicateIdWatch`` in front of every view: it reads each HTML
page the suite receives, from the test client and from the live server of the browser tests,
and notes every page with an id twice; an autouse fixture (tests/conftest.py) fails the test
that received it. The browser tests also watch pages after their scripts changed them
(tests/browser/conftest.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from threading import Lock

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

# Pages with an id twice, noted by the watch; emptied by the fixture around each test.
FOUND: list[str] = []
_found_lock = Lock()


class _IdCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


def duplicate_ids(html: str) -> list[str]:
    counter = _IdCounter()
    counter.feed(html)
    counter.close()
    return sorted(name for name, count in counter.ids.items() if count > 1)


def _note(request: HttpRequest, response: HttpResponseBase) -> None:
    if response.status_code != 200 or response.streaming:
        return
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    content: bytes = response.content  # type: ignore[attr-defined]
    twice = duplicate_ids(content.decode(response.charset or "utf-8", errors="replace"))
    if twice:
        with _found_lock:
            FOUND.append(f"{request.method} {request.get_full_path()}: {', '.join(twice)}")


class DuplicateIdWatch:
    """Test-only middleware: notes pages with an id twice (sync and async, so the live
    server's chain stays async)."""

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
    ) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self):
            return self._async_call(request)
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        _note(request, response)
        return response

    async def _async_call(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)  # type: ignore[misc]
        _note(request, response)
        return response
