"""Measured availability in a real browser (P-SLA-1): the operator plans a maintenance window
(announced by mail to the customer's contact), a failed probe check outside the window opens an
incident the operator sees, the customer's contact sees the month's figure, the incident and the
chart in the customer area and reports a fault from there. axe-core checks every page on the
way."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.backoffice.conftest import customer_contact, operator_with
from tests.browser.conftest import assert_accessible, new_context
from tests.conftest import LiveApp
from tests.customers.conftest import make_customer
from tests.sockets import session_cookie
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.availability import probes, selectors, services
from treffpunkt.availability.models import Check, MaintenanceWindow
from treffpunkt.availability.views import month_label, percent_text
from treffpunkt.core import clock
from treffpunkt.customers.models import CustomerContact
from treffpunkt.notifications.models import OutboxMail
from treffpunkt.support.models import Ticket

pytestmark = pytest.mark.browser

BERLIN = ZoneInfo("Europe/Berlin")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def sign_in(page: Page, live_app: LiveApp, user: User) -> None:
    """A session with the second factor proved (login and second factor have their own tests)."""
    name, value = session_cookie(user).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_app.url}])


def german(text: str) -> str:
    with translation.override("de"):
        return translation.gettext(text)


def required(label: str) -> str:
    """The accessible name of a required field's label: its text and the "(required)" mark."""
    return f"{german(label)} ({german('required')})"


def test_operator_plans_maintenance_a_probe_failure_opens_an_incident_the_contact_sees_it_and_reports_a_fault(  # noqa: E501
    live_app: LiveApp, browser: Browser, page: Page, viewport: ViewportSize
) -> None:
    operator = operator_with(Capability.AVAILABILITY, preferred_language="de")
    customer = make_customer(actor=operator_with(Capability.CUSTOMERS))
    contact = customer_contact(display_name="Karla Kunde", preferred_language="de")
    CustomerContact.objects.create(
        customer=customer, user=contact, name="Karla Kunde", email=contact.email
    )

    # The operator plans a maintenance window two days ahead, 22:00 to 24:00 in Berlin.
    starts = datetime.combine(
        clock.now().astimezone(BERLIN).date() + timedelta(days=2),
        datetime.min.time().replace(hour=22),
        tzinfo=BERLIN,
    )
    ends = starts + timedelta(hours=2)
    maintenance_title = "Datenbank-Update"
    sign_in(page, live_app, operator)
    page.goto(live_app.url + reverse("backoffice:availability:maintenance_plan"))
    expect(page.get_by_role("heading", level=1)).to_have_text(german("Plan a maintenance window"))
    assert_accessible(page)
    page.get_by_label(required("Title"), exact=True).fill(maintenance_title)
    page.get_by_label(german("What is done, what customers notice"), exact=True).fill(
        "Die Datenbank bekommt ein Update; Anrufe brechen kurz ab."
    )
    page.get_by_label(required("Starts at"), exact=True).fill(starts.strftime(LOCAL_INPUT))
    page.get_by_label(required("Ends at"), exact=True).fill(ends.strftime(LOCAL_INPUT))
    page.get_by_role("button", name=german("Plan and announce")).click()
    page.wait_for_url("**" + reverse("backoffice:availability:maintenance"))
    expect(page.get_by_role("heading", level=1)).to_have_text(german("Maintenance windows"))
    expect(page.get_by_role("row").filter(has_text=maintenance_title)).to_have_count(1)
    assert_accessible(page)
    window = MaintenanceWindow.objects.get(title=maintenance_title)
    assert (window.starts_at, window.ends_at) == (starts, ends)
    assert not window.customers.exists()
    mail = OutboxMail.objects.get(template="availability/maintenance", recipient=contact)
    assert mail.to_address == contact.email

    # A failed check outside the window (what the job of every minute records) opens an incident.
    services.record_results(
        [probes.CheckResult(Check.PAGES, False, 0, "timeout")], at=clock.now(), source="internal"
    )
    with translation.override("de"):
        incident_title = translation.gettext("%(function)s: check failed") % {
            "function": Check.PAGES.label
        }
    page.goto(live_app.url + reverse("backoffice:availability:incidents"))
    expect(page.get_by_role("heading", level=1)).to_have_text(german("Incidents"))
    expect(page.get_by_role("link", name=incident_title)).to_be_visible()
    assert_accessible(page)

    # The customer's contact sees the month's figure, the incident and the chart.
    contact_context, _log = new_context(browser, live_app, viewport)
    contact_page = contact_context.new_page()
    sign_in(contact_page, live_app, contact)
    contact_page.goto(live_app.url + reverse("customer_area:availability:report"))
    month = clock.operator_today().replace(day=1)
    with translation.override("de"):
        figure_line = translation.gettext("Availability in %(month)s: %(percent)s") % {
            "month": month_label(month),
            "percent": percent_text(selectors.month_report(month, customer).figure.percent),
        }
    assert figure_line.startswith("Verfügbarkeit im")
    expect(contact_page.locator(".figure-line")).to_contain_text(figure_line)
    incidents = contact_page.get_by_role("table").filter(
        has=contact_page.get_by_role("cell", name=incident_title)
    )
    expect(incidents).to_have_count(1)
    expect(contact_page.locator("svg[role=img]")).to_be_visible()
    assert_accessible(contact_page)

    # … and reports a fault from there.
    contact_page.locator("main").get_by_role("link", name=german("Report a fault")).click()
    contact_page.wait_for_url("**" + reverse("customer_area:support:report"))
    expect(contact_page.get_by_role("heading", level=1)).to_have_text(german("Report a fault"))
    assert_accessible(contact_page)
    subject = "Startseite lädt nicht"
    contact_page.get_by_label(required("Subject"), exact=True).fill(subject)
    contact_page.get_by_label(required("What does not work?"), exact=True).fill(
        "Seit heute Morgen bleibt die Startseite weiß."
    )
    contact_page.get_by_role("button", name=german("Send the report")).click()
    expect(contact_page.get_by_role("heading", level=1)).to_contain_text(subject)
    assert_accessible(contact_page)
    ticket = Ticket.objects.get(customer=customer)
    assert ticket.subject == subject
    assert contact_page.url.endswith(reverse("customer_area:support:ticket", args=[ticket.pk]))
    contact_context.close()
