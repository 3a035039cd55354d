"""P-BOOK-4/5: every calendar file the product sends is valid iTIP (RFC 5546) in two
independent parsers, with an ORGANIZER and at least one ATTENDEE, for the member's copy and the
staff member's copy alike; the staff copy names the staff member and never the member's address
(P-ACC-3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail

from tests.booking.conftest import Book, Clock, berlin
from tests.calendar_mail import calendar_parts, only_event, parsed_ics
from tests.conftest import World, deliver_outbox
from treffpunkt.booking import services
from treffpunkt.booking.models import Appointment, ConsultationType

pytestmark = pytest.mark.django_db

TUESDAY_10 = berlin(2027, 3, 23, 10, 0)
TUESDAY_15 = berlin(2027, 3, 23, 15, 0)


def _calendar_mails() -> list[mail.EmailMessage]:
    return [m for m in deliver_outbox() if calendar_parts(m)]


def _confirm(world: World, book: Book, _: ConsultationType) -> Appointment:
    appointment = book(TUESDAY_10, staff_id=world.staff.pk)
    return services.confirm_appointment(actor=world.staff, appointment_id=appointment.pk)


def _accept_proposal(world: World, book: Book, _: ConsultationType) -> Appointment:
    appointment = book(TUESDAY_10, staff_id=world.staff.pk)
    services.propose_other_time(actor=world.staff, appointment_id=appointment.pk, start=TUESDAY_15)
    return services.accept_proposal(member=world.member, appointment_id=appointment.pk)


def _staff_books(world: World, _: Book, consultation: ConsultationType) -> Appointment:
    return services.book_for_member(
        actor=world.org_admin,
        member=world.member,
        consultation_type=consultation,
        staff=world.staff,
        start=TUESDAY_10,
    )


def _move(world: World, book: Book, consultation: ConsultationType) -> Appointment:
    appointment = _confirm(world, book, consultation)
    deliver_outbox()
    mail.outbox.clear()
    return services.move_appointment(
        actor=world.member, appointment_id=appointment.pk, start=TUESDAY_15
    )


def _cancel(world: World, book: Book, consultation: ConsultationType) -> Appointment:
    appointment = _confirm(world, book, consultation)
    deliver_outbox()
    mail.outbox.clear()
    return services.cancel_appointment(
        actor=world.staff, appointment_id=appointment.pk, reason="Erkrankt"
    )


Scenario = Callable[[World, Book, ConsultationType], Appointment]


@pytest.mark.parametrize(
    ("scenario", "method"),
    [
        (_confirm, "REQUEST"),
        (_accept_proposal, "REQUEST"),
        (_staff_books, "REQUEST"),
        (_move, "REQUEST"),
        (_cancel, "CANCEL"),
    ],
    ids=["confirm", "accepted-proposal", "staff-books", "move", "cancel"],
)
def test_every_calendar_file_has_organizer_and_attendee_and_is_valid_itip_in_two_parsers(
    frozen_clock: Clock,
    world: World,
    book: Book,
    consultation: ConsultationType,
    scenario: Scenario,
    method: str,
) -> None:
    appointment = scenario(world, book, consultation)
    sent = _calendar_mails()
    recipients = sorted(address for message in sent for address in message.to)
    assert recipients == sorted([world.member.email, world.staff.email]), "one copy per side"
    for message in sent:
        found_method, calendar = parsed_ics(message)  # checks iTIP with icalendar and vobject
        assert found_method == method
        event = only_event(calendar)
        assert str(event["UID"]) == appointment.calendar_uid
        [recipient] = message.to
        # The ATTENDEE is always the recipient's own address.
        assert str(event["ATTENDEE"]) == f"mailto:{recipient}"
        if recipient == world.staff.email:
            assert world.member.email not in calendar.to_ical().decode()
            assert str(event["ATTENDEE"].params["CN"]) == world.staff.display_name
