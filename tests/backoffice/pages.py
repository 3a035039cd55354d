"""Reading the back office's pages in tests: the side navigation and the list table."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from django.http import HttpResponse


@dataclass(frozen=True)
class NavLink:
    href: str
    text: str
    current: str | None  # the value of aria-current, if any


class _ShellNavReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[NavLink] = []
        self._depth = 0  # inside <nav class="shell-nav">: how many open <nav>s
        self._link: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "nav" and (self._depth or "shell-nav" in (found.get("class") or "").split()):
            self._depth += 1
        elif tag == "a" and self._depth:
            self._link, self._text = found, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._depth:
            self._depth -= 1
        elif tag == "a" and self._link is not None:
            self.links.append(
                NavLink(
                    href=self._link.get("href") or "",
                    text=" ".join("".join(self._text).split()),
                    current=self._link.get("aria-current"),
                )
            )
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._text.append(data)


def shell_nav(response: HttpResponse) -> list[NavLink]:
    """The links of the area's side navigation, in order."""
    reader = _ShellNavReader()
    reader.feed(response.content.decode())
    reader.close()
    return reader.links


class _TableReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.headers: list[dict[str, str | None]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "th":
            self.headers.append(dict(attrs))
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []
            if dict(attrs).get("colspan"):  # the row that says nothing matches
                self.rows.pop()
                self._cell = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(response: HttpResponse) -> list[list[str]]:
    """The text of each body cell of the page's (first) table."""
    reader = _TableReader()
    reader.feed(response.content.decode())
    reader.close()
    return reader.rows


def table_headers(response: HttpResponse) -> list[dict[str, str | None]]:
    """The attributes of each header cell (``aria-sort`` among them)."""
    reader = _TableReader()
    reader.feed(response.content.decode())
    reader.close()
    return reader.headers
