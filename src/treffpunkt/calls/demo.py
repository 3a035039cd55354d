"""Calls demo data: a confirmed appointment starting in a few minutes, so that right after
start-up the demo member and the demo staff member can hold a video call (two browser
windows). Made again on a later start when the last one's call window is about to close."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from treffpunkt.accounts.demo import demo_people
from treffpunkt.booking import services
from treffpunkt.booking.models import Appointment, AppointmentStatus, ConsultationType
from treffpunkt.calls.selectors import call_window
from treffpunkt.core import clock

DEMO_MEMBER = "mitglied1@example.org"
DEMO_STAFF = "berater1@kasse-nord.example.org"
DEMO_TYPE = "Allgemeine Beratung"


def demo_call_appointment(*, minutes_left: int = 0) -> Appointment | None:
    """The demo member's confirmed appointment whose call page is open now (for at least
    ``minutes_left`` more minutes), if there is one."""
    now = clock.now()
    for appointment in Appointment.objects.filter(
        member__email=DEMO_MEMBER, status=AppointmentStatus.CONFIRMED, end__gt=now
    ):
        window = call_window(appointment)
        if window.is_open(now) and window.closes_at - now > timedelta(minutes=minutes_left):
            return appointment
    return None


def load_calls_demo() -> None:
    if demo_call_appointment(minutes_left=20) is not None:
        return
    people = demo_people()
    member, staff = people[DEMO_MEMBER], people[DEMO_STAFF]
    ctype = ConsultationType.objects.filter(
        organization=member.organization, name=DEMO_TYPE
    ).first()
    if ctype is None:
        return
    start = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=5)
    try:
        services.book_for_member(
            actor=staff, member=member, consultation_type=ctype, staff=staff, start=start
        )
    except services.StaffBusy:
        return  # the demo staff member is busy right now: no short-notice demo call this time


def describe_calls_demo() -> list[str]:
    call = demo_call_appointment()
    if call is None:
        return []
    return [
        f"Video call demo: log in as {DEMO_MEMBER} in one browser and as {DEMO_STAFF} in "
        "another (or a private window), then open "
        f"{settings.SITE_URL}/termine/{call.pk}/gespraech/ in both."
    ]
