"""An objection with the itemized record, in a real browser (P-BILL-3): the customer's contact
downloads an invoice, objects to one of its items and demands the itemized record; the operator
sees the record's due date among the objections and delivers it; the contact sees it
delivered. axe-core checks every page on the way."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

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
from treffpunkt.billing import services
from treffpunkt.billing.models import Objection, ObjectionState
from treffpunkt.core import clock
from treffpunkt.customers.models import CustomerContact

pytestmark = pytest.mark.browser


def sign_in(page: Page, live_app: LiveApp, user: User) -> None:
    """A session with the second factor proved (login and second factor have their own tests)."""
    name, value = session_cookie(user).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_app.url}])


def german(text: str) -> str:
    with translation.override("de"):
        return translation.gettext(text)


def short_date(day: date) -> str:
    with translation.override("de"):
        return str(formats.date_format(day, "SHORT_DATE_FORMAT"))


def test_contact_objects_and_demands_the_record_the_operator_delivers_it(
    live_app: LiveApp, browser: Browser, page: Page, viewport: ViewportSize
):
    operator = operator_with(Capability.BILLING)
    customer = make_customer(actor=operator_with(Capability.CUSTOMERS))
    contact = customer_contact(display_name="Karla Kunde", preferred_language="de")
    CustomerContact.objects.create(
        customer=customer, user=contact, name="Karla Kunde", email=contact.email
    )
    today = clock.operator_today()
    invoice = services.issue_invoice(
        actor=operator,
        customer=customer,
        lines=[
            services.LineDraft(
                description="Videoberatung, Monatsentgelt",
                quantity=Decimal("1"),
                unit="MON",
                unit_price=Decimal("249.00"),
                supply_start=today.replace(day=1),
                supply_end=today.replace(day=1),
            ),
            services.LineDraft(
                description="Minuten über die enthaltenen hinaus",
                quantity=Decimal("120"),
                unit="MIN",
                unit_price=Decimal("0.10"),
                supply_start=today.replace(day=1),
                supply_end=today.replace(day=1),
            ),
        ],
    )
    invoice = services.send_invoice(actor=operator, invoice=invoice)

    # The contact downloads the invoice.
    contact_context, _log = new_context(browser, live_app, viewport)
    contact_page = contact_context.new_page()
    sign_in(contact_page, live_app, contact)
    contact_page.goto(live_app.url + reverse("customer_area:billing:invoices"))
    assert_accessible(contact_page)
    with contact_page.expect_download() as download_info:
        contact_page.get_by_role("link", name=f"PDF {invoice.number}").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # … objects to the minutes (one item) and demands the itemized record.
    contact_page.get_by_role("link", name=german("Objections")).first.click()
    expect(contact_page.get_by_role("heading", level=1)).to_have_text(german("Objections"))
    assert_accessible(contact_page)
    contact_page.get_by_role(
        "link", name=german("Object to %(number)s") % {"number": invoice.number}
    ).click()
    assert_accessible(contact_page)
    contact_page.get_by_label("Minuten über die enthaltenen hinaus").check()
    contact_page.get_by_label(german("What is wrong with these items?")).fill(
        "So viele Minuten haben wir nicht telefoniert."
    )
    contact_page.get_by_role("button", name=german("Send the objection")).click()
    expect(contact_page.locator("[role=status], .messages").first).to_be_visible()
    assert_accessible(contact_page)
    objection = Objection.objects.get(invoice=invoice)
    assert objection.positions == [2] and objection.on_time
    contact_page.get_by_role("button", name=german("Demand the itemized record")).click()
    expect(contact_page.locator("[role=status], .messages").first).to_be_visible()
    assert_accessible(contact_page)
    objection.refresh_from_db()
    due = today + timedelta(weeks=8)
    assert objection.record_demanded_on == today and objection.record_due_on == due

    # The operator sees the clock and delivers the record.
    sign_in(page, live_app, operator)
    page.goto(live_app.url + reverse("backoffice:billing:objections"))
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text=invoice.number)
    expect(row).to_contain_text(short_date(due))
    expect(row).to_contain_text("56")  # days left
    row.get_by_role("link", name=invoice.number).click()
    expect(page.locator("#record-clock")).to_contain_text("56")
    assert_accessible(page)
    page.get_by_label(german("Result of the technical check")).fill(
        "Keine Störung; die Minuten sind richtig gezählt."
    )
    page.get_by_role("button", name=german("Send the itemized record")).click()
    expect(page.locator("[role=status], .messages").first).to_be_visible()
    assert_accessible(page)
    objection.refresh_from_db()
    assert objection.record_delivered_on == today and objection.record is not None
    assert objection.state == ObjectionState.OPEN

    # The contact sees it delivered and can download it.
    contact_page.reload()
    delivered = german("delivered on %(day)s (due on %(due)s)").split("%(day)s")[0].strip()
    expect(contact_page.locator("#record-state")).to_contain_text(delivered)
    assert_accessible(contact_page)
    with contact_page.expect_download() as record_download:
        contact_page.get_by_role("link", name=german("Itemized record (PDF)")).click()
    assert record_download.value.suggested_filename.endswith(".pdf")
    contact_context.close()
