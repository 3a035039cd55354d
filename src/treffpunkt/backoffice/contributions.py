"""What the back office brings to the whole (see ``treffpunkt.core.registries``): its own links
in the back office's and the customer area's navigation, and the way into both from the
site's main navigation.

Who sees a link is decided with the same functions the views' decorators use, so that a link
is shown exactly to those whose request the page answers with 200.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import (
    Capability,
    has_capability,
    is_in_back_office,
    may_read,
)
from treffpunkt.core.registries import Area, NavEntry, registry


def _reads_platform(user: Any) -> bool:
    # The platform's records (audit log, outbox): its administrators and the auditor.
    return may_read(user, Capability.PLATFORM)


def _administers_platform(user: Any) -> bool:
    return has_capability(user, Capability.PLATFORM)


def _customer_contact(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_customer_contact)


PLATFORM_SECTION = _("Platform")

NAVIGATION = (
    # The way in from the site's header.
    NavEntry(
        "backoffice.main", Area.MAIN, _("Back office"), "backoffice:home", is_in_back_office, 700
    ),
    NavEntry(
        "customer_area.main",
        Area.MAIN,
        _("Customer area"),
        "customer_area:home",
        _customer_contact,
        700,
    ),
    # The back office's own pages.
    NavEntry(
        "backoffice.home", Area.BACKOFFICE, _("Overview"), "backoffice:home", is_in_back_office, 0
    ),
    NavEntry(
        "backoffice.audit_log",
        Area.BACKOFFICE,
        _("Audit log"),
        "backoffice:audit_log",
        _reads_platform,
        900,
        section=PLATFORM_SECTION,
    ),
    NavEntry(
        "backoffice.outbox",
        Area.BACKOFFICE,
        _("Outbox"),
        "backoffice:outbox",
        _reads_platform,
        910,
        section=PLATFORM_SECTION,
    ),
    NavEntry(
        "backoffice.data_rules",
        Area.BACKOFFICE,
        _("Data rules"),
        "backoffice:data_rules",
        _reads_platform,
        920,
        section=PLATFORM_SECTION,
    ),
    NavEntry(
        "backoffice.admin",
        Area.BACKOFFICE,
        _("Administration"),
        "admin:index",
        _administers_platform,
        990,
        section=PLATFORM_SECTION,
    ),
    # The customer area.
    NavEntry(
        "customer_area.home",
        Area.CUSTOMER,
        _("Overview"),
        "customer_area:home",
        _customer_contact,
        0,
    ),
)


def register() -> None:
    registry.add_nav(*NAVIGATION)
