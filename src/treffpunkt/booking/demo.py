"""Booking demo data: two consultation types, opening hours for both demo staff members, one
confirmed appointment and one open request. Idempotent like the rest of the demo. (The
appointment whose call page is open at once belongs to the calls demo.)"""

from __future__ import annotations

import uuid
from datetime import time, timedelta

from django.db import transaction

from treffpunkt.accounts.demo import demo_organization, demo_people
from treffpunkt.accounts.models import Organization, User
from treffpunkt.booking import services
from treffpunkt.booking.models import (
    Appointment,
    ConsultationType,
    WeeklyHours,
)
from treffpunkt.booking.selectors import organization_today, slots_for

WORKDAYS = range(5)
DEMO_MEMBER = "mitglied1@example.org"


def load_booking_demo() -> None:
    organization = demo_organization()
    people = demo_people()
    staff = [people["berater1@kasse-nord.example.org"], people["berater2@kasse-nord.example.org"]]
    with transaction.atomic():
        general = _demo_type(
            organization,
            name="Allgemeine Beratung",
            description="Fragen zu Leistungen, Beiträgen und Anträgen.",
            minutes=30,
            staff=staff,
        )
        _demo_type(
            organization,
            name="Pflegeberatung",
            description="Beratung zu Pflegegrad, Pflegegeld und Entlastung von Angehörigen.",
            minutes=45,
            staff=staff,
            buffer_after=15,
        )
        for person, spans in (
            (staff[0], [(time(8), time(12)), (time(13), time(18))]),
            (staff[1], [(time(9), time(17))]),
        ):
            if not WeeklyHours.objects.filter(staff=person).exists():
                WeeklyHours.objects.bulk_create(
                    [
                        WeeklyHours(staff=person, weekday=day, start=start, end=end)
                        for day in WORKDAYS
                        for start, end in spans
                    ]
                )
    mia = people[DEMO_MEMBER]
    max_ = people["mitglied2@example.org"]
    if not Appointment.objects.filter(member__in=[mia, max_]).exists():
        _book_coming_days(organization, general, mia=mia, max_=max_)


def _book_coming_days(
    organization: Organization, general: ConsultationType, *, mia: User, max_: User
) -> None:
    """One confirmed appointment for Mia and one open request from Max in the coming days."""
    slots = slots_for(
        general, first_day=organization_today(organization) + timedelta(days=1), days=14
    )
    if len(slots) < 2:
        return
    confirmed = services.request_appointment(
        member=mia, consultation_type=general, start=slots[0].start, request_key=uuid.uuid4()
    )
    services.confirm_appointment(actor=confirmed.staff, appointment_id=confirmed.pk)
    services.request_appointment(
        member=max_,
        consultation_type=general,
        start=slots[len(slots) // 2].start,
        request_key=uuid.uuid4(),
        note="Ich habe eine Frage zu meinem Antrag.",
    )


def _demo_type(
    organization: Organization,
    *,
    name: str,
    description: str,
    minutes: int,
    staff: list[User],
    buffer_after: int = 0,
) -> ConsultationType:
    ctype, created = ConsultationType.objects.get_or_create(
        organization=organization,
        name=name,
        defaults={
            "description": description,
            "duration_minutes": minutes,
            "buffer_after_minutes": buffer_after,
            "min_notice_minutes": 60,
            "horizon_days": 56,
        },
    )
    if created:
        ctype.staff.set(staff)
    return ctype
