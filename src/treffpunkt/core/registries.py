"""What each app brings to the whole, registered from its ``AppConfig.ready()``.

No central file lists another app's pages, audit codes, live events, periodic jobs or demo
data: an app adds its own here, and the parts that show or run them (the navigation, the audit
log, the event stream, the scheduler, ``load_demo``) read this registry. ``core`` knows nothing
of the apps: every entry carries what it needs (a label, a URL name, who may see it).

Registration happens once per process, when Django starts the apps; a key registered twice is
a programming error and fails at start.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from django.utils.functional import Promise

if TYPE_CHECKING:
    from treffpunkt.core.scheduler import PeriodicJob

Visible = Callable[[Any], bool]


# --- navigation -------------------------------------------------------------------------------


class Area:
    """Where a navigation entry appears."""

    MAIN = "main"  # the site's navigation for members, staff and org admins
    BACKOFFICE = "backoffice"  # the operator's back office at /betrieb/
    CUSTOMER = "customer"  # a business customer's area


@dataclass(frozen=True)
class NavEntry:
    """One link in a navigation. ``visible(user)`` decides who sees it (the app that registers
    it knows the roles and capabilities; core does not). ``kwargs(user)`` fills URL arguments,
    e.g. the user's own id. ``badge_template`` is a template included inside the link (a count
    of unread things, say)."""

    key: str
    area: str
    label: str | Promise
    url_name: str
    visible: Visible
    order: int = 100
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    badge_template: str = ""
    section: str | Promise = ""


# --- audit codes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditCode:
    """An audit code with the sentence the audit log shows for it. The sentence may use
    ``%(actor)s`` (who did it) and ``%(target)s`` (what it was done to)."""

    code: str
    sentence: str | Promise


# --- live events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveEvent:
    """An event sent to a user's open pages over the event stream. ``schema`` is the payload's
    exact shape (checked on every send); ``notice`` what the page shows for it, if anything."""

    kind: str  # the payload's "type"
    schema: type[msgspec.Struct]
    notice: str | Promise = ""


# --- demo data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoader:
    """Loads an app's part of the demo. Loaders run in ``order``; each must be idempotent."""

    name: str
    load: Callable[[], None]
    order: int = 100
    # Lines for the console after loading (e.g. logins, a call URL); computed after all loaders.
    describe: Callable[[], list[str]] | None = None


# --- data rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataRule:
    """One kind of personal data, how long it is kept and what happens then, and the job that
    enforces it (P-DATA-1, P-DATA-2). Every app adds the rules of the data it stores; the
    operator's page of data rules lists them all with each job's last run."""

    key: str
    data: str | Promise  # what is stored
    rule: str | Promise  # how long, and what happens then
    job: str = ""  # the periodic job that enforces it; empty when a query does (blocking)
    audit_code: str = ""  # the job's audit entry (with its counts)


# --- the registry -----------------------------------------------------------------------------


@dataclass
class Registry:
    nav: dict[str, NavEntry] = field(default_factory=dict)
    audit_codes: dict[str, AuditCode] = field(default_factory=dict)
    live_events: dict[str, LiveEvent] = field(default_factory=dict)
    demo_loaders: dict[str, DemoLoader] = field(default_factory=dict)
    periodic_jobs: dict[str, PeriodicJob] = field(default_factory=dict)
    # Extra groups a user's event stream joins: app name → function(user) → group names.
    event_groups: dict[str, Callable[[Any], list[str]]] = field(default_factory=dict)
    # Kinds of deadline that apps above contracts add to the operator's deadline dashboard
    # (``contracts.selectors.Source`` objects), by a key.
    deadline_sources: dict[str, Any] = field(default_factory=dict)
    data_rules: dict[str, DataRule] = field(default_factory=dict)

    @staticmethod
    def _add(table: MutableMapping[str, Any], key: str, value: Any) -> None:
        if key in table:
            raise ValueError(f"{key!r} is registered twice")
        table[key] = value

    def add_nav(self, *entries: NavEntry) -> None:
        for entry in entries:
            self._add(self.nav, entry.key, entry)

    def add_audit_codes(self, *codes: AuditCode) -> None:
        for code in codes:
            self._add(self.audit_codes, code.code, code)

    def add_live_events(self, *events: LiveEvent) -> None:
        for event in events:
            self._add(self.live_events, event.kind, event)

    def add_demo_loader(self, loader: DemoLoader) -> None:
        self._add(self.demo_loaders, loader.name, loader)

    def add_periodic_jobs(self, *jobs: PeriodicJob) -> None:
        for job in jobs:
            self._add(self.periodic_jobs, job.name, job)

    def add_event_groups(self, app: str, groups: Callable[[Any], list[str]]) -> None:
        self._add(self.event_groups, app, groups)

    def add_deadline_source(self, key: str, source: Any) -> None:
        self._add(self.deadline_sources, key, source)

    def add_data_rules(self, *rules: DataRule) -> None:
        for rule in rules:
            self._add(self.data_rules, rule.key, rule)

    # --- reading ------------------------------------------------------------------------------

    def nav_for(self, user: Any, area: str) -> list[NavEntry]:
        """The entries of ``area`` that ``user`` may see, in their order."""
        entries = [e for e in self.nav.values() if e.area == area and e.visible(user)]
        return sorted(entries, key=lambda e: (e.order, e.key))

    def sorted_demo_loaders(self) -> list[DemoLoader]:
        return sorted(self.demo_loaders.values(), key=lambda d: (d.order, d.name))

    def schedule(self) -> list[PeriodicJob]:
        return sorted(self.periodic_jobs.values(), key=lambda job: job.name)

    def groups_for(self, user: Any) -> list[str]:
        return [group for groups in self.event_groups.values() for group in groups(user)]


registry = Registry()
