"""The pages of support, availability and the data rules that the flows do not walk through,
checked with axe-core in a real browser: support's ticket page with its forms, the
availability overview and a customer's report in the back office, the data rules, the
customer's export page, a member's own data page with the account deletion, and the
advertising consent (the contact's page, the operator's mailing form, the objection link), and
the provider switch form."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.backoffice.conftest import customer_contact, operator_with
from tests.browser.conftest import assert_accessible
from tests.conftest import LiveApp, World
from tests.contracts.conftest import accepted_contract, today, video_product
from tests.customers.conftest import make_customer
from tests.sockets import session_cookie
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.availability import services as availability
from treffpunkt.core import clock
from treffpunkt.customers import advertising
from treffpunkt.customers.models import CustomerContact
from treffpunkt.support import services as support

pytestmark = pytest.mark.browser


def visit(page: Page, live_app: LiveApp, user: User, url: str) -> None:
    page.context.clear_cookies()
    name, value = session_cookie(user).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_app.url}])
    response = page.goto(live_app.url + url)
    assert response is not None and response.status == 200, url
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)


def test_the_support_availability_and_data_pages_pass_axe(
    live_app: LiveApp, page: Page, world: World
):
    customer = make_customer(actor=operator_with(Capability.CUSTOMERS))
    contact = customer_contact(display_name="Karla Kunde", preferred_language="de")
    CustomerContact.objects.create(
        customer=customer, user=contact, name="Karla Kunde", email=contact.email
    )
    ticket = support.report_fault(actor=contact, subject="Kein Ton", description="Stille.")
    supporter = operator_with(Capability.SUPPORT, preferred_language="de")
    support.reply(actor=supporter, ticket=ticket, text="Welcher Browser?", wait_for_customer=True)
    watcher = operator_with(Capability.AVAILABILITY, preferred_language="de")
    availability.open_incident(
        actor=watcher,
        title="Anmeldung langsam",
        started_at=clock.now() - timedelta(hours=3),
        ended_at=clock.now() - timedelta(hours=1),
        customers=[customer],
    )
    platform = operator_with(Capability.PLATFORM, preferred_language="de")

    visit(page, live_app, supporter, reverse("backoffice:support:ticket", args=[ticket.pk]))
    visit(page, live_app, supporter, reverse("backoffice:support:tickets"))
    visit(page, live_app, supporter, reverse("backoffice:support:record"))
    visit(page, live_app, watcher, reverse("backoffice:availability:overview"))
    visit(page, live_app, watcher, reverse("backoffice:availability:customer", args=[customer.pk]))
    visit(page, live_app, platform, reverse("backoffice:data_rules"))
    visit(page, live_app, contact, reverse("customer_area:portability:export"))
    visit(page, live_app, contact, reverse("customer_area:support:ticket", args=[ticket.pk]))
    visit(page, live_app, world.member, reverse("member_data"))
    visit(page, live_app, contact, reverse("customer_area:customers:advertising"))
    marketer = operator_with(Capability.CUSTOMERS, preferred_language="de")
    visit(page, live_app, marketer, reverse("backoffice:customers:advertising"))
    contract = accepted_contract(make_customer(), video_product(), today())
    visit(page, live_app, marketer, reverse("backoffice:contracts:switch", args=[contract.pk]))
    # The objection link from a mail, opened without signing in.
    page.context.clear_cookies()
    link = advertising.objection_url(CustomerContact.objects.get(user=contact))
    page.goto(live_app.url + urlsplit(link).path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
