"""The back office and the customer area in a real browser, on a laptop (1280×800) and a tablet
(768×1024): each capability sees exactly its links, the navigation sits beside the content or
above it, and axe-core finds nothing serious on the start page, the audit log, an entry, the
outbox and a mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import DESKTOP, assert_accessible
from tests.conftest import LiveApp
from tests.factories import (
    PASSWORD,
    OperatorFactory,
    OrganizationFactory,
    StaffFactory,
    UserFactory,
)
from tests.sockets import session_cookie
from treffpunkt.accounts.models import Role, User
from treffpunkt.accounts.permissions import Capability, may_read
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import Area, AuditCode, registry
from treffpunkt.notifications.models import MailStatus, OutboxMail

pytestmark = pytest.mark.browser

TABLET: ViewportSize = {"width": 768, "height": 1024}
CODE = "tests.browser.record_opened"

# The back office's own links each capability sees (other apps add theirs to the same area).
OWN_LINKS = {
    Capability.CUSTOMERS: ["/betrieb/"],
    Capability.BILLING: ["/betrieb/"],
    Capability.SUPPORT: ["/betrieb/"],
    Capability.AVAILABILITY: ["/betrieb/"],
    Capability.AUDITOR: ["/betrieb/", "/betrieb/protokoll/", "/betrieb/postausgang/"],
    Capability.PLATFORM: [
        "/betrieb/",
        "/betrieb/protokoll/",
        "/betrieb/postausgang/",
        "/betrieb/admin/",
    ],
}
OWN_HREFS = {href for hrefs in OWN_LINKS.values() for href in hrefs}


@pytest.fixture(params=[DESKTOP, TABLET], ids=["laptop", "tablet"])
def viewport(request: pytest.FixtureRequest) -> ViewportSize:
    size: ViewportSize = request.param
    return size


@pytest.fixture
def records(live_app: LiveApp) -> Iterator[None]:
    """Something in the audit log (one entry with a sentence, one without) and in the outbox."""
    registry.add_audit_codes(AuditCode(CODE, "%(actor)s opened %(target)s."))
    org = OrganizationFactory(name="Kasse Nord", slug="kasse-nord")
    staff = StaffFactory(organization=org, display_name="Bernd Berater")
    AuditEntry.objects.create(
        code=CODE,
        actor=staff,
        organization=org,
        target_type="accounts.user",
        target_id=str(staff.pk),
        data={"reason": "Rückruf"},
    )
    AuditEntry.objects.create(code="tests.browser.not_registered")
    OutboxMail.objects.create(
        recipient=staff,
        to_address=staff.email,
        template="accounts/invitation",
        language="de",
        subject="Einladung",
        body_text="Text",
        status=MailStatus.FAILED,
        attempts=3,
        last_error="Verbindung abgelehnt",
        next_attempt_at=timezone.now(),
    )
    try:
        yield
    finally:
        registry.audit_codes.pop(CODE, None)


def operator_with(capability: Capability) -> User:
    operator: User = OperatorFactory(capabilities=[], display_name=f"Olaf {capability.value}")
    # By its permission: the group's name follows the active language (Capability.group_name).
    operator.groups.add(Group.objects.get(permissions__codename=capability.codename))
    return operator


def log_in_by_cookie(page: Page, live_app: LiveApp, user: User) -> None:
    """Operators must prove a second factor: the session is made with it proved (the login
    form and the second factor have their own tests)."""
    name, value = session_cookie(user).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_app.url}])


def nav_hrefs(page: Page) -> list[str]:
    return [str(a.get_attribute("href")) for a in page.locator("nav.shell-nav a").all()]


def assert_layout(page: Page, viewport: ViewportSize) -> None:
    """Beside the content on a laptop; above it on a tablet, nothing cut off at the side."""
    nav = page.locator("nav.shell-nav").bounding_box()
    content = page.locator("#shell-content").bounding_box()
    assert nav is not None and content is not None
    if viewport["width"] >= 1280:
        assert nav["x"] + nav["width"] <= content["x"]
        assert abs(nav["y"] - content["y"]) < 40
    else:
        assert nav["y"] + nav["height"] <= content["y"]
        assert content["width"] > viewport["width"] * 0.8
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("capability", list(Capability), ids=[c.value for c in Capability])
def test_each_capability_sees_its_back_office(
    live_app: LiveApp, page: Page, records: None, viewport: ViewportSize, capability: Capability
) -> None:
    operator = operator_with(capability)
    log_in_by_cookie(page, live_app, operator)

    page.goto("/betrieb/")
    expect(page.locator("main h1")).to_contain_text(operator.display_name)
    shown = nav_hrefs(page)
    expected = [
        reverse(entry.url_name, kwargs=entry.kwargs(operator) if entry.kwargs else None)
        for entry in registry.nav_for(operator, Area.BACKOFFICE)
    ]
    assert shown == expected
    assert [href for href in shown if href in OWN_HREFS] == OWN_LINKS[capability]
    expect(page.locator('nav.shell-nav a[href="/betrieb/"]')).to_have_attribute(
        "aria-current", "page"
    )
    assert_layout(page, viewport)
    assert_accessible(page)

    if not may_read(operator, Capability.PLATFORM):
        response = page.goto("/betrieb/protokoll/")
        assert response is not None and response.status == 403
        return

    # The audit log: a sentence for the registered code, the code for the other; sortable.
    page.goto("/betrieb/protokoll/")
    table = page.locator("main table.listing")
    expect(table.locator("tbody")).to_contain_text("Bernd Berater opened")
    expect(table.locator("tbody")).to_contain_text("tests.browser.not_registered")
    assert_layout(page, viewport)
    assert_accessible(page)
    table.locator('thead a[href$="sort=actor"]').click()
    expect(page.locator('main th[aria-sort="ascending"]')).to_have_count(1)
    assert_accessible(page)

    table = page.locator("main table.listing")
    table.locator("tbody a", has_text="Bernd Berater opened").click()
    expect(page.locator("main dl.record-facts")).to_contain_text("Rückruf")
    expect(page.locator('nav.shell-nav a[href="/betrieb/protokoll/"]')).to_have_attribute(
        "aria-current", "true"
    )
    assert_accessible(page)

    page.goto("/betrieb/postausgang/")
    expect(page.locator("main table.listing tbody")).to_contain_text("Einladung")
    assert_layout(page, viewport)
    assert_accessible(page)
    page.locator("main table.listing tbody a", has_text="Einladung").click()
    expect(page.locator("main dl.record-facts")).to_contain_text("Verbindung abgelehnt")
    assert_accessible(page)


def test_the_skip_link_leads_past_the_back_office_navigation(
    live_app: LiveApp, page: Page, records: None
) -> None:
    log_in_by_cookie(page, live_app, operator_with(Capability.AUDITOR))
    page.goto("/betrieb/protokoll/")
    skip = page.locator('a.skip-link[href="#shell-content"]')
    skip.focus()
    expect(skip).to_be_visible()  # shown when it has the focus
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "shell-content"


def test_a_customer_contact_sees_the_customer_area(
    live_app: LiveApp, page: Page, viewport: ViewportSize
) -> None:
    contact: User = UserFactory(
        role=Role.CUSTOMER_CONTACT, organization=None, display_name="Kai Kunde"
    )
    # Contacts need no second factor: through the login form like everybody else.
    page.goto("/konto/anmelden/")
    page.fill("#id_username", contact.email)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    # The start page of a contact is the customer area.
    expect(page).to_have_url(f"{live_app.url}/kunde/")
    expect(page.locator("main h1")).to_contain_text("Kai Kunde")
    expected = [reverse(e.url_name) for e in registry.nav_for(contact, Area.CUSTOMER)]
    assert nav_hrefs(page) == expected
    assert "/kunde/" in expected
    expect(page.locator('nav.shell-nav a[href="/kunde/"]')).to_have_attribute(
        "aria-current", "page"
    )
    # Contracts are there; invoices, fault reports and availability reports are not yet.
    expect(page.locator("main .empty-state")).to_have_count(3)
    assert_layout(page, viewport)
    assert_accessible(page)

    response = page.goto("/betrieb/")
    assert response is not None and response.status == 403
