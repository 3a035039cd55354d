"""A member on a phone requests an appointment, a staff member at a desk confirms it, the member
cancels it: two logged-in browsers, the mails in between (a request is not an appointment; the
confirmation and the cancellation carry calendar files with one UID), and axe-core on every page
either of them sees."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import DESKTOP, PHONE, RequestLog, assert_accessible, new_context
from tests.calendar_mail import calendar_parts, only_event, parsed_ics
from tests.conftest import LiveApp, deliver_outbox
from tests.factories import PASSWORD, MemberFactory, OrganizationFactory, StaffFactory
from treffpunkt.accounts.models import User
from treffpunkt.booking.models import (
    Appointment,
    AppointmentStatus,
    ConsultationType,
    WeeklyHours,
)

pytestmark = pytest.mark.browser

OpenPage = Callable[[ViewportSize], tuple[Page, RequestLog]]


@pytest.fixture
def viewport() -> ViewportSize:
    """The ``page`` fixture is the member's phone."""
    return PHONE


@pytest.fixture
def open_page(live_app: LiveApp, browser: Browser) -> Iterator[OpenPage]:
    """Another browser context set up like the harness's ``page`` (base URL of the live app,
    de-DE, timeouts, every request recorded). The harness's foreign-host guard only watches
    ``page``'s context, so the test checks the returned log itself."""
    contexts = []

    def _open(size: ViewportSize) -> tuple[Page, RequestLog]:
        context, log = new_context(browser, live_app, size)
        contexts.append(context)
        return context.new_page(), log

    yield _open
    for context in contexts:
        context.close()


# --- mails -----------------------------------------------------------------------------------


def take_mails_to(address: str) -> list[mail.EmailMessage]:
    """Send what is queued, return the mails to ``address`` and forget every mail sent so far,
    so the next step sees only its own."""
    found = [message for message in deliver_outbox() if message.to == [address]]
    mail.outbox.clear()
    return found


# --- pages --------------------------------------------------------------------------------------


def log_in(page: Page, live_app: LiveApp, user: User) -> None:
    page.goto("/konto/anmelden/")
    assert_accessible(page)
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_app.url}/")


def assert_no_foreign_requests(page: Page, log: RequestLog) -> None:
    page.evaluate("0")  # a round trip delivers the request events not reported yet
    assert not log.foreign(), f"the staff pages asked other hosts: {log.foreign()}"


def test_member_requests_staff_confirm_member_cancels_with_calendar_mails(
    live_app: LiveApp, page: Page, open_page: OpenPage
) -> None:
    # No terms in force for this organization: the login leads straight home.
    org = OrganizationFactory(name="Kasse West", slug="kasse-west")
    member = MemberFactory(organization=org, display_name="Mona Mitglied")
    staff = StaffFactory(organization=org, display_name="Berta Beraterin")
    ctype = ConsultationType.objects.create(
        organization=org,
        name="Beratung Rente",
        description="Fragen zur Rente",
        duration_minutes=30,
        min_notice_minutes=0,
        horizon_days=14,
    )
    ctype.staff.set([staff])
    # 08:00–20:00 on every weekday but today's and tomorrow's (organization's time): the first
    # slot is over 30 hours ahead, whenever the test runs. So the request cannot expire
    # while the test runs (it expires at the latest at the slot's start) and the member may
    # still cancel under the default cut-off (24 hours before).
    today = datetime.now(ZoneInfo(org.time_zone)).date()
    closed = {today.weekday(), (today + timedelta(days=1)).weekday()}
    WeeklyHours.objects.bulk_create(
        [
            WeeklyHours(staff=staff, weekday=day, start=time(8), end=time(20))
            for day in range(7)
            if day not in closed
        ]
    )
    staff_page, staff_log = open_page(DESKTOP)

    # 1. The member books: type, first slot, review, "Termin".
    log_in(page, live_app, member)
    page.goto("/termine/buchen/")
    assert_accessible(page)
    slots_path = f"/termine/buchen/{ctype.pk}/"
    page.locator(f'main a[href="{slots_path}"]').click()
    expect(page).to_have_url(live_app.url + slots_path)
    assert_accessible(page)

    first_slot = page.locator("main a.slot").first
    href = first_slot.get_attribute("href")
    assert href, "the first slot has no link"
    [start_text] = parse_qs(urlsplit(href).query)["start"]
    chosen = datetime.fromisoformat(start_text)
    assert chosen.tzinfo is not None
    assert chosen - datetime.now(chosen.tzinfo) > timedelta(hours=24)
    first_slot.click()
    expect(page).to_have_url(
        re.compile(re.escape(f"{live_app.url}/termine/buchen/{ctype.pk}/anfragen/"))
    )
    shown = page.locator("main dl.facts time").get_attribute("datetime")
    assert shown and datetime.fromisoformat(shown) == chosen, shown
    assert_accessible(page)

    page.locator('main form button[name="book"]').click()
    expect(page).to_have_url(re.compile(re.escape(live_app.url) + r"/termine/\d+/$"))
    match = re.search(r"/termine/(\d+)/$", page.url)
    assert match
    appointment_path = match.group(0)
    appointment = Appointment.objects.get(pk=int(match.group(1)))
    assert appointment.member_id == member.pk
    assert appointment.staff_id == staff.pk
    assert appointment.start == chosen
    assert appointment.status == AppointmentStatus.REQUESTED
    expect(page.locator("main .status-requested")).to_be_visible()
    expect(page.locator("main form[action$='/bestaetigen/']")).to_have_count(0)
    assert_accessible(page)

    # 2. The member's mail: a request, not yet an appointment, and no calendar file.
    [request_mail] = take_mails_to(member.email)
    body = str(request_mail.body)
    # The German catalogue has no booking strings yet: until it does, the English text is sent.
    assert "noch kein Termin" in body or "not yet an appointment" in body, body
    assert live_app.url + appointment_path in body
    assert not calendar_parts(request_mail)

    # 3. Staff: the inbox links to the request; confirm it.
    log_in(staff_page, live_app, staff)
    staff_page.goto("/team/anfragen/")
    assert_accessible(staff_page)
    staff_page.locator(f'main table a[href="{appointment_path}"]').click()
    expect(staff_page).to_have_url(live_app.url + appointment_path)
    expect(staff_page.locator("main .status-requested")).to_be_visible()
    assert_accessible(staff_page)
    staff_page.locator("main form[action$='/bestaetigen/'] button").click()
    expect(staff_page).to_have_url(live_app.url + appointment_path)
    expect(staff_page.locator("main .status-confirmed")).to_be_visible()
    expect(staff_page.locator("main form[action$='/bestaetigen/']")).to_have_count(0)
    assert_accessible(staff_page)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    [confirmation] = take_mails_to(member.email)
    method, calendar = parsed_ics(confirmation)
    assert method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = only_event(calendar)
    assert str(event["UID"]) == appointment.calendar_uid
    assert event.decoded("DTSTART") == chosen
    assert event.decoded("DTEND") == chosen + timedelta(minutes=30)
    assert int(event["SEQUENCE"]) == 0

    # The agenda: today's default view, and the day of the appointment, which lists it.
    staff_page.goto("/team/kalender/")
    assert_accessible(staff_page)
    local_day = chosen.astimezone(ZoneInfo(org.time_zone)).date()
    staff_page.goto(f"/team/kalender/?tag={local_day.isoformat()}")
    entry = staff_page.locator(f'main a[href="{appointment_path}"]')
    expect(entry).to_be_visible()
    expect(
        staff_page.locator(f'main li:has(a[href="{appointment_path}"]) .status-confirmed')
    ).to_be_visible()
    assert_accessible(staff_page)

    # 4. The member sees the confirmation and cancels.
    page.reload()
    expect(page.locator("main .status-confirmed")).to_be_visible()
    assert_accessible(page)
    page.locator("main form[action$='/absagen/'] button").click()
    expect(page).to_have_url(live_app.url + appointment_path)
    expect(page.locator("main .status-cancelled")).to_be_visible()
    expect(page.locator("main form[action$='/absagen/']")).to_have_count(0)
    assert_accessible(page)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    delivered = deliver_outbox()
    to_member = [m for m in delivered if m.to == [member.email]]
    to_staff = [m for m in delivered if m.to == [staff.email]]
    assert len(to_member) == 1, [m.subject for m in to_member]
    assert len(to_staff) == 1, [m.subject for m in to_staff]
    for message in (to_member[0], to_staff[0]):
        method, calendar = parsed_ics(message)
        assert method == "CANCEL"
        assert str(calendar["METHOD"]) == "CANCEL"
        event = only_event(calendar)
        assert str(event["UID"]) == appointment.calendar_uid
        assert int(event["SEQUENCE"]) == 1
        assert str(event["STATUS"]) == "CANCELLED"
        assert event.decoded("DTSTART") == chosen

    # Staff see the cancellation too; the slot's day is empty again.
    staff_page.goto(appointment_path)
    expect(staff_page.locator("main .status-cancelled")).to_be_visible()
    assert_accessible(staff_page)
    staff_page.goto(f"/team/kalender/?tag={local_day.isoformat()}")
    expect(staff_page.locator(f'main a[href="{appointment_path}"]')).to_have_count(0)
    assert_accessible(staff_page)

    assert_no_foreign_requests(staff_page, staff_log)
