"""An order becomes a contract and the customer cancels it, in a real browser (P-OP-2, P-OP-6):
the operator accepts the order on its page, the customer's contact finds the contract in the
customer area and cancels it there, and the operator sees the cancellation with the day it takes
effect. axe-core checks every page on the way."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, translation
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.backoffice.conftest import customer_contact, operator_with
from tests.browser.conftest import assert_accessible, new_context
from tests.conftest import LiveApp
from tests.customers.conftest import make_customer
from tests.sockets import session_cookie
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.contracts import deadlines, services
from treffpunkt.contracts.models import Cancellation, Channel, Contract, ContractState, Order
from treffpunkt.contracts.services._common import today
from treffpunkt.customers.models import CustomerContact

pytestmark = pytest.mark.browser


def sign_in(page: Page, live_app: LiveApp, user: User) -> None:
    """A session with the second factor proved (login and second factor have their own tests)."""
    name, value = session_cookie(user).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_app.url}])


def german(text: str) -> str:
    with translation.override("de"):
        return translation.gettext(text)


def long_date(day) -> str:  # a date
    with translation.override("de"):
        return formats.date_format(day, "DATE_FORMAT")


def test_operator_accepts_an_order_the_contact_cancels_and_the_operator_sees_the_effective_day(
    live_app: LiveApp, browser: Browser, page: Page, viewport: ViewportSize
):
    operator = operator_with(Capability.CUSTOMERS)
    customer = make_customer(actor=operator)
    contact = customer_contact(display_name="Karla Kunde", preferred_language="de")
    CustomerContact.objects.create(
        customer=customer, user=contact, name="Karla Kunde", email=contact.email
    )
    product = services.add_product(
        actor=operator,
        code="videoberatung",
        kind="video",
        name="Videoberatung",
        price=services.PriceTerms(monthly_fee="249.00"),
        valid_from=today() - timedelta(days=30),
    )
    order = services.place_order(
        actor=operator,
        customer=customer,
        items=[services.OrderItem(product, 1)],
        submission_key=uuid.uuid4(),
        channel=Channel.EMAIL,
        received_on=today(),
    )
    start = today() + timedelta(days=14)

    # The operator accepts the order with its start.
    sign_in(page, live_app, operator)
    page.goto(live_app.url + reverse("backoffice:contracts:order", args=[order.pk]))
    assert_accessible(page)
    page.get_by_label(german("Contract start")).fill(start.isoformat())
    page.get_by_role("button", name=german("Accept the order")).click()
    expect(page.locator("[role=status], .messages").first).to_be_visible()
    assert_accessible(page)
    order.refresh_from_db()
    assert order.state == "accepted"
    contract = Contract.objects.get(order=order)
    assert contract.state == ContractState.WAITING
    end = deadlines.term_end(start)
    assert contract.term_end == end

    # The customer's contact sees the contract with its notice deadline and cancels it.
    contact_context, _log = new_context(browser, live_app, viewport)
    contact_page = contact_context.new_page()
    sign_in(contact_page, live_app, contact)
    contact_page.goto(live_app.url + reverse("customer_area:contracts:list"))
    assert_accessible(contact_page)
    expect(contact_page.get_by_text(long_date(deadlines.latest_notice_day(end)))).to_be_visible()
    contact_page.get_by_role("link", name=contract.number).click()
    expect(contact_page.get_by_role("heading", level=1)).to_contain_text(contract.number)
    assert_accessible(contact_page)
    expect(contact_page.locator("#cancel-effective")).to_contain_text(long_date(end))
    contact_page.get_by_label(
        german("Yes, I cancel this contract with effect from the date stated above.")
    ).check()
    contact_page.get_by_role("button", name=german("Cancel the contract")).click()
    expect(contact_page.locator("[role=status], .messages").first).to_contain_text(long_date(end))
    assert_accessible(contact_page)
    contact_context.close()

    cancellation = Cancellation.objects.get(contract=contract)
    assert cancellation.channel == Channel.CUSTOMER_AREA
    assert cancellation.effective_on == end
    assert cancellation.confirmation is not None

    # The operator sees the cancellation and the day it takes effect.
    page.goto(live_app.url + reverse("backoffice:contracts:contract", args=[contract.pk]))
    assert_accessible(page)
    cancellations = page.get_by_role("table").filter(has_text=german("Customer area"))
    expect(cancellations.first).to_contain_text(long_date(end))
    assert Order.objects.get(pk=order.pk).state == "accepted"
