"""The back office's navigation is built from the registry and shows each person exactly what
their capabilities let them open: no link to a 403, no page without its link."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.backoffice.conftest import customer_contact, operator_with
from tests.backoffice.pages import shell_nav
from tests.conftest import World, client_for
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import Area, NavEntry, registry

pytestmark = pytest.mark.django_db

PLATFORM_READING = [
    "backoffice.home",
    "backoffice.audit_log",
    "backoffice.outbox",
    "backoffice.data_rules",
]
# The back office's own entries each capability sees (other apps add theirs to the same area).
OWN_ENTRIES = {
    Capability.CUSTOMERS: ["backoffice.home"],
    Capability.BILLING: ["backoffice.home"],
    Capability.SUPPORT: ["backoffice.home"],
    Capability.AVAILABILITY: ["backoffice.home"],
    Capability.AUDITOR: PLATFORM_READING,
    Capability.PLATFORM: [*PLATFORM_READING, "backoffice.admin"],
}


def _own(keys: list[str]) -> list[str]:
    return [key for key in keys if key.startswith("backoffice.")]


def _is_own(key: str, entry: NavEntry) -> bool:
    return key.startswith("backoffice.") and entry.area == Area.BACKOFFICE


def _href(entry: NavEntry, user: User) -> str:
    return reverse(entry.url_name, kwargs=entry.kwargs(user) if entry.kwargs else None)


@pytest.mark.parametrize("capability", list(Capability), ids=[c.value for c in Capability])
def test_each_capability_sees_exactly_its_entries(capability: Capability):
    operator = operator_with(capability)
    entries = registry.nav_for(operator, Area.BACKOFFICE)
    assert _own([entry.key for entry in entries]) == OWN_ENTRIES[capability]

    response = client_for(operator).get(reverse("backoffice:home"))
    assert response.status_code == 200
    shown = [link.href for link in shell_nav(response)]
    # The page shows the registry's entries for this person, in the registry's order.
    assert shown == [_href(entry, operator) for entry in entries]
    own = {_href(entry, operator) for key, entry in registry.nav.items() if _is_own(key, entry)}
    assert [href for href in shown if href in own] == [
        _href(registry.nav[key], operator) for key in OWN_ENTRIES[capability]
    ]


@pytest.mark.parametrize("capability", list(Capability), ids=[c.value for c in Capability])
def test_every_link_of_the_back_office_opens_and_every_hidden_page_is_refused(
    capability: Capability,
):
    """For every entry any app registered in the back office (the Django admin has its own
    gate): shown to this person ⇔ the page answers them with 200."""
    operator = operator_with(capability)
    client = client_for(operator)
    for entry in registry.nav.values():
        if entry.area != Area.BACKOFFICE or entry.url_name.startswith("admin:"):
            continue
        status = client.get(_href(entry, operator)).status_code
        assert status == (200 if entry.visible(operator) else 403), (entry.key, status)


def test_an_operator_without_any_capability_sees_no_back_office():
    operator = operator_with(None)
    assert registry.nav_for(operator, Area.BACKOFFICE) == []
    assert "backoffice.main" not in {e.key for e in registry.nav_for(operator, Area.MAIN)}


def test_the_current_page_and_the_list_of_a_detail_page_are_marked(world: World):
    entry = AuditEntry.objects.create(code="tests.backoffice.never_registered")
    client = client_for(operator_with(Capability.AUDITOR))

    on_list = {link.href: link.current for link in shell_nav(client.get("/betrieb/protokoll/"))}
    assert on_list["/betrieb/protokoll/"] == "page"
    assert on_list["/betrieb/"] is None
    assert on_list["/betrieb/postausgang/"] is None

    detail = client.get(reverse("backoffice:audit_entry", args=[entry.pk]))
    on_detail = {link.href: link.current for link in shell_nav(detail)}
    # Inside the audit log, not on its page.
    assert on_detail["/betrieb/protokoll/"] == "true"
    assert [current for current in on_detail.values() if current == "page"] == []


def test_the_customer_area_has_its_own_navigation():
    contact = customer_contact()
    entries = registry.nav_for(contact, Area.CUSTOMER)
    assert "customer_area.home" in [entry.key for entry in entries]
    response = client_for(contact).get(reverse("customer_area:home"))
    links = shell_nav(response)
    assert [link.href for link in links] == [reverse(entry.url_name) for entry in entries]
    assert [link.current for link in links if link.href == "/kunde/"] == ["page"]
    # No operator sees the customer area's entries, no customer contact the back office's.
    assert registry.nav_for(contact, Area.BACKOFFICE) == []
    assert registry.nav_for(operator_with(Capability.PLATFORM), Area.CUSTOMER) == []


def test_the_site_navigation_leads_each_into_their_area(world: World):
    def main_keys(user: User) -> set[str]:
        return {entry.key for entry in registry.nav_for(user, Area.MAIN)}

    assert "backoffice.main" in main_keys(operator_with(Capability.SUPPORT))
    assert "customer_area.main" in main_keys(customer_contact())
    for user in (world.member, world.staff, world.org_admin):
        assert not main_keys(user) & {"backoffice.main", "customer_area.main"}
