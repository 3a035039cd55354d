"""The side navigation of the back office and the customer area: the entries apps registered
for the area (``registry.nav_for``), filtered by who is looking, grouped by their section."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.functional import Promise

from treffpunkt.core.navigation import href_of
from treffpunkt.core.registries import registry


@dataclass(frozen=True)
class ShellLink:
    key: str
    label: str | Promise
    href: str
    # The value of aria-current: "page" on the page itself; "true" on the list a detail page
    # belongs to (the reader is inside that part, not on its page); "" elsewhere.
    current: str = ""


@dataclass
class ShellSection:
    label: str | Promise  # "" for the links above every section
    links: list[ShellLink] = field(default_factory=list)


def sections_for(request: HttpRequest, area: str, *, part_of: str = "") -> list[ShellSection]:
    """The sections of ``area`` in the order of their first entry; ``part_of`` is the URL name
    of the entry the current page belongs to (a detail page names its list)."""
    sections: dict[str, ShellSection] = {}
    for entry in registry.nav_for(request.user, area):
        href = href_of(entry, request.user)
        if href == request.path:
            current = "page"
        elif part_of and entry.url_name == part_of:
            current = "true"
        else:
            current = ""
        section = sections.setdefault(str(entry.section), ShellSection(label=entry.section))
        section.links.append(ShellLink(entry.key, entry.label, href, current))
    return list(sections.values())
