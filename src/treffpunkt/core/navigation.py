"""Navigations built from the entries the apps register (``core.registries``), filtered by who
is looking: the site's main navigation, the back office's, the customer area's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise

from treffpunkt.core.registries import NavEntry, registry


@dataclass(frozen=True)
class Link:
    label: str | Promise
    href: str
    current: bool
    badge_template: str = ""
    section: str | Promise = ""


def href_of(entry: NavEntry, user: Any) -> str:
    """Where a navigation entry leads for ``user`` (some entries carry the user's own id)."""
    return reverse(entry.url_name, kwargs=entry.kwargs(user) if entry.kwargs else None)


def links_for(request: HttpRequest, area: str) -> list[Link]:
    """The links of ``area`` the requesting user may see; the page they are on is marked."""
    user = request.user
    links = []
    for entry in registry.nav_for(user, area):
        href = href_of(entry, user)
        links.append(
            Link(
                label=entry.label,
                href=href,
                current=request.path == href,
                badge_template=entry.badge_template,
                section=entry.section,
            )
        )
    return links
