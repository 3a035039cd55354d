"""A new member, on a phone: register, confirm the address from the mail, log in, accept the terms
and arrive at the member home, with every page passing axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import PHONE, assert_accessible
from tests.conftest import LiveApp, deliver_outbox
from tests.factories import (
    PASSWORD,
    OrgAdminFactory,
    OrganizationFactory,
    TermsVersionFactory,
)
from treffpunkt.accounts.models import TermsKind

pytestmark = pytest.mark.browser

NAME = "Frieda Neumitglied"
EMAIL = "frieda.neu@example.org"


@pytest.fixture
def viewport() -> ViewportSize:
    return PHONE


def test_member_registers_confirms_accepts_terms_and_reaches_home(
    live_app: LiveApp, page: Page
) -> None:
    org = OrganizationFactory(name="Kasse Ost", slug="kasse-ost")
    admin = OrgAdminFactory(organization=org, display_name="Olaf Ost-Admin")
    TermsVersionFactory(organization=org, kind=TermsKind.TERMS, published_by=admin)
    TermsVersionFactory(organization=org, kind=TermsKind.PRIVACY, published_by=admin)
    register_path = f"/o/{org.slug}/registrieren/"

    # The start page lists the organization with its register link.
    page.goto("/")
    page.locator(f'a[href="{register_path}"]').click()
    expect(page).to_have_url(live_app.url + register_path)
    expect(page.locator("h1")).to_contain_text(org.name)
    assert_accessible(page)

    page.fill("#id_display_name", NAME)
    page.fill("#id_email", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_repeat", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_app.url}/konto/registriert/")

    # The confirmation mail, sent from the outbox as the worker would.
    sent = [message for message in deliver_outbox() if EMAIL in message.to]
    assert sent, "no mail to the new member"
    match = re.search(re.escape(live_app.url) + r"/konto/bestaetigen/[^/\s]+/", str(sent[-1].body))
    assert match, f"no confirmation link in the mail:\n{sent[-1].body}"

    # Opening the link only shows a button; pressing it confirms.
    page.goto(match.group(0))
    assert_accessible(page)
    page.locator("main form button[type=submit]").click()

    # Confirmed: on to the login.
    expect(page).to_have_url(re.compile(re.escape(f"{live_app.url}/konto/anmelden/")))
    assert_accessible(page)
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()

    # The terms are not accepted yet: the login leads to them.
    expect(page).to_have_url(re.compile(re.escape(f"{live_app.url}/konto/bedingungen/")))
    assert_accessible(page)
    page.check("#id_agree")
    page.locator("main form:has(#id_agree) button[type=submit]").click()

    # The member home greets the member by name and does not show the e-mail address.
    expect(page).to_have_url(f"{live_app.url}/")
    expect(page.locator("h1")).to_contain_text(NAME)
    assert_accessible(page)
    assert EMAIL not in page.content()
