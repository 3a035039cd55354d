"""Round trips on the hot paths of the consultation side (issue 15): posting a message,
requesting a slot, opening the team's inbox and the agenda. Each is measured twice, with
little and with much data around it: the count must not grow with the data (an N+1 query
fails here), and it must stay within the bound written down for it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.booking.conftest import Clock, berlin
from tests.conftest import World, client_for
from tests.factories import MemberFactory
from tests.query_counts import queries_of
from treffpunkt.booking.models import Appointment, AppointmentStatus, ConsultationType
from treffpunkt.booking.services import confirm_appointment, request_appointment
from treffpunkt.core.models import LiveEventStream

pytestmark = pytest.mark.django_db

# The bounds: today's counts, so that a new query on these paths is a decision. Requesting:
# session, login, second factor, terms (one query), the type with its organization and booking
# rules (one query), the slot search (staff, hours, changes, holds), the appointment, its
# conversation, audit entries, two mails (stored to be rendered by the delivery), the staff
# member's live event. PostgreSQL takes the staff members' turns (one statement for any number
# of them) and lets its exclusion constraint refuse a double booking; SQLite looks for an
# overlapping hold instead. A twin of the form is looked up only when the request fails.
REQUEST_SLOT_QUERIES = 24
AGENDA_QUERIES = 8


def test_requesting_a_slot_costs_the_same_however_many_appointments_exist(
    world: World, consultation: ConsultationType, frozen_clock: Clock
):
    client = client_for(world.member)
    url = f"/termine/buchen/{consultation.pk}/anfragen/"

    def request_at(hour: int, day: int) -> int:
        start = berlin(2027, 3, day, hour)
        return queries_of(
            lambda: client.post(
                url,
                {"start": start.isoformat(), "request_key": str(uuid.uuid4()), "note": ""},
            )
        )

    # The organization's first request makes its booking rules once, and each person's first
    # live event their event stream: what is measured comes after both.
    request_at(9, 23)
    for user in (world.staff, world.org_admin):
        LiveEventStream.objects.get_or_create(user=user)
    few = request_at(10, 23)
    # Many appointments of other members that day and the days around it (Tuesday to
    # Thursday: the Friday is Good Friday).
    for index in range(12):
        appointment = request_appointment(
            member=MemberFactory(organization=world.org),
            consultation_type=consultation,
            start=berlin(2027, 3, 23 + index % 3, 9) + timedelta(minutes=30 * (index // 3)),
            request_key=uuid.uuid4(),
        )
        confirm_appointment(actor=world.staff, appointment_id=appointment.pk)
    many = request_at(14, 24)
    assert Appointment.objects.filter(member=world.member).count() == 3
    assert few == many
    assert many <= REQUEST_SLOT_QUERIES, many


def test_the_agenda_costs_the_same_for_two_or_twelve_appointments(
    world: World, consultation: ConsultationType, frozen_clock: Clock
):
    client = client_for(world.staff)
    week = "/team/kalender/?ansicht=woche&tag=2027-03-22"

    def book(count: int, day: int) -> None:
        for index in range(count):
            appointment = request_appointment(
                member=MemberFactory(organization=world.org),
                consultation_type=consultation,
                start=berlin(2027, 3, day, 9) + timedelta(minutes=30 * index),
                request_key=uuid.uuid4(),
            )
            if index % 2:
                confirm_appointment(actor=world.staff, appointment_id=appointment.pk)

    book(2, 23)
    few = queries_of(lambda: client.get(week))
    book(5, 24)
    book(5, 25)
    assert (
        Appointment.objects.filter(
            status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED]
        ).count()
        == 12
    )
    many = queries_of(lambda: client.get(week))
    assert client.get(week).status_code == 200
    assert few == many
    assert many <= AGENDA_QUERIES, many
