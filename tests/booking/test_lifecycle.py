"""P-BOOK-4/5/8: staff confirm, decline or propose; confirmation and changes carry calendar
files that calendars understand; either side cancels or moves; unanswered requests expire;
reminders go out once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from tests.booking.conftest import Book, Clock, berlin
from tests.calendar_mail import calendar_parts, only_event, parsed_ics
from tests.conftest import World, client_for, deliver_outbox
from treffpunkt.booking import services
from treffpunkt.booking.models import Appointment, AppointmentStatus, BookingPolicy
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db

TUESDAY_10 = berlin(2027, 3, 23, 10, 0)


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in deliver_outbox() if m.to == [address]]


def drain() -> None:
    """Send what is queued and forget it, so the test sees only the mails that follow."""
    deliver_outbox()
    mail.outbox.clear()


def test_staff_confirm_and_the_member_gets_a_valid_calendar_request(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10)
    drain()
    response = client_for(world.staff).post(f"/termine/{appointment.pk}/bestaetigen/")
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    [confirmation] = mails_to(world.member.email)
    method, calendar = parsed_ics(confirmation)
    assert method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = only_event(calendar)
    assert str(event["UID"]) == appointment.calendar_uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == TUESDAY_10
    assert event.decoded("DTEND") == TUESDAY_10 + timedelta(minutes=30)
    assert str(event["ATTENDEE"]) == f"mailto:{world.member.email}"
    assert "/termine/" in str(event["URL"])
    # The staff member's calendar file names no member address (P-ACC-3).
    [to_staff] = mails_to(appointment.staff.email)
    _, staff_calendar = parsed_ics(to_staff)
    assert world.member.email not in staff_calendar.to_ical().decode()


def test_staff_decline_with_a_reason_frees_the_slot_and_tells_the_member(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10)
    drain()
    client = client_for(world.staff)
    client.post(f"/termine/{appointment.pk}/ablehnen/", {"decline-reason": ""})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REQUESTED  # no reason, no decline
    client.post(f"/termine/{appointment.pk}/ablehnen/", {"decline-reason": "Urlaub"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.DECLINED
    [message] = mails_to(world.member.email)
    assert "Urlaub" in message.body
    assert not calendar_parts(message)
    # The slot is free again.
    book(TUESDAY_10, member=world.other_member, staff_id=appointment.staff_id)


def test_staff_propose_another_time_and_the_member_accepts(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10, staff_id=world.staff.pk)
    later = berlin(2027, 3, 24, 14, 0)
    response = client_for(world.staff).post(
        f"/termine/{appointment.pk}/anderer-termin/", {"start": later.isoformat()}
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PROPOSED
    assert appointment.start == later
    member = client_for(world.member)
    assert member.post(f"/termine/{appointment.pk}/vorschlag-annehmen/").status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    # Tuesday 10:00 is free again for this staff member.
    book(TUESDAY_10, member=world.other_member, staff_id=world.staff.pk)


def test_member_declines_a_proposed_time(frozen_clock: Clock, world: World, book: Book):
    appointment = book(TUESDAY_10, staff_id=world.staff.pk)
    services.propose_other_time(
        actor=world.staff, appointment_id=appointment.pk, start=berlin(2027, 3, 24, 14, 0)
    )
    client_for(world.member).post(f"/termine/{appointment.pk}/vorschlag-ablehnen/")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.DECLINED


def test_a_request_can_be_answered_only_once(frozen_clock: Clock, world: World, book: Book):
    appointment = book(TUESDAY_10)
    services.confirm_appointment(actor=world.staff, appointment_id=appointment.pk)
    with pytest.raises(DomainError):
        services.decline_appointment(
            actor=world.org_admin, appointment_id=appointment.pk, reason="zu spät"
        )


def test_unanswered_requests_expire_free_the_slot_and_tell_the_member(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(berlin(2027, 3, 26, 10, 0) - timedelta(days=1))  # Thursday 10:00
    assert services.expire_unanswered_requests() == 0
    frozen_clock.set(appointment.expires_at + timedelta(minutes=1))
    drain()
    assert services.expire_unanswered_requests() == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.EXPIRED
    [message] = mails_to(world.member.email)
    assert "/termine/buchen/" in message.body
    assert services.expire_unanswered_requests() == 0  # once
    with pytest.raises(DomainError):
        services.confirm_appointment(actor=world.staff, appointment_id=appointment.pk)


def test_confirming_after_the_deadline_expires_the_request_instead(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10)
    frozen_clock.set(appointment.expires_at + timedelta(seconds=1))
    with pytest.raises(DomainError):
        services.confirm_appointment(actor=world.staff, appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.EXPIRED


def _confirmed(book: Book, world: World, start=TUESDAY_10) -> Appointment:
    appointment = book(start, staff_id=world.staff.pk)
    services.confirm_appointment(actor=world.staff, appointment_id=appointment.pk)
    drain()
    return Appointment.objects.get(pk=appointment.pk)


def test_member_cancels_and_both_calendars_get_a_cancel_with_the_same_uid(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = _confirmed(book, world, start=berlin(2027, 3, 25, 10, 0))
    client_for(world.member).post(f"/termine/{appointment.pk}/absagen/", {"cancel-reason": ""})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    for address in (world.member.email, world.staff.email):
        [message] = mails_to(address)
        method, calendar = parsed_ics(message)
        assert method == "CANCEL" == str(calendar["METHOD"])
        event = only_event(calendar)
        assert str(event["UID"]) == appointment.calendar_uid
        assert int(event["SEQUENCE"]) == 1
        assert str(event["STATUS"]) == "CANCELLED"
    assert AuditEntry.objects.filter(code="booking.appointment.cancelled").count() == 1


def test_staff_cancel_needs_a_reason_which_the_member_reads(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = _confirmed(book, world)
    with pytest.raises(DomainError):
        services.cancel_appointment(actor=world.staff, appointment_id=appointment.pk, reason="")
    services.cancel_appointment(actor=world.staff, appointment_id=appointment.pk, reason="krank")
    [message] = mails_to(world.member.email)
    assert "krank" in message.body


def test_moving_sends_an_updated_request_with_a_higher_sequence(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = _confirmed(book, world, start=berlin(2027, 3, 25, 10, 0))
    new_start = berlin(2027, 3, 25, 15, 0)
    client_for(world.member).post(
        f"/termine/{appointment.pk}/verschieben/", {"start": new_start.isoformat()}
    )
    appointment.refresh_from_db()
    assert appointment.start == new_start
    [message] = mails_to(world.member.email)
    method, calendar = parsed_ics(message)
    event = only_event(calendar)
    assert method == "REQUEST"
    assert str(event["UID"]) == appointment.calendar_uid
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == new_start


def test_members_cannot_change_within_the_cutoff_but_staff_can_cancel(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = _confirmed(book, world)  # Tuesday 10:00, it is Monday 08:00: 26 hours ahead
    BookingPolicy.objects.filter(organization=world.org).update(member_change_cutoff_hours=48)
    with pytest.raises(DomainError, match="48"):
        services.cancel_appointment(actor=world.member, appointment_id=appointment.pk)
    with pytest.raises(DomainError):
        services.move_appointment(
            actor=world.member, appointment_id=appointment.pk, start=berlin(2027, 3, 25, 10, 0)
        )
    services.cancel_appointment(actor=world.staff, appointment_id=appointment.pk, reason="krank")


def test_moving_to_a_taken_slot_changes_nothing(frozen_clock: Clock, world: World, book: Book):
    appointment = _confirmed(book, world, start=berlin(2027, 3, 25, 10, 0))
    book(berlin(2027, 3, 25, 11, 0), member=world.other_member, staff_id=world.staff.pk)
    with pytest.raises(services.SlotTaken):
        services.move_appointment(
            actor=world.member, appointment_id=appointment.pk, start=berlin(2027, 3, 25, 11, 0)
        )
    appointment.refresh_from_db()
    assert appointment.start == berlin(2027, 3, 25, 10, 0)
    assert appointment.calendar_sequence == 0


def test_reminders_go_out_once_per_offset_with_the_link(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = _confirmed(book, world, start=berlin(2027, 3, 25, 10, 0))
    frozen_clock.set(berlin(2027, 3, 24, 9, 0))
    assert services.send_due_reminders() == 0
    frozen_clock.set(berlin(2027, 3, 24, 10, 0))
    assert services.send_due_reminders() == 1
    assert services.send_due_reminders() == 0
    frozen_clock.set(berlin(2027, 3, 25, 9, 5))
    assert services.send_due_reminders() == 1
    messages = mails_to(world.member.email)
    assert len(messages) == 2
    assert all(appointment.get_absolute_url() in m.body for m in messages)


def test_a_missed_reminder_run_sends_only_the_nearest(
    frozen_clock: Clock, world: World, book: Book
):
    _confirmed(book, world, start=berlin(2027, 3, 25, 10, 0))
    frozen_clock.set(berlin(2027, 3, 25, 9, 30))
    assert services.send_due_reminders() == 1
    assert services.send_due_reminders() == 0
    assert len(mails_to(world.member.email)) == 1


@pytest.mark.parametrize("role", ["other_member", "other_staff", "other_admin", "operator"])
def test_others_cannot_see_or_change_an_appointment(
    frozen_clock: Clock, world: World, book: Book, role: str
):
    appointment = book(TUESDAY_10)
    client = client_for(world.people[role])
    assert client.get(f"/termine/{appointment.pk}/").status_code in (403, 404)
    for action in ("absagen", "bestaetigen", "ablehnen"):
        assert client.post(
            f"/termine/{appointment.pk}/{action}/",
            {"decline-reason": "x y z", "cancel-reason": "x y z"},
        ).status_code in (
            302,
            403,
            404,
        )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REQUESTED
    with pytest.raises(NotAllowed):
        services.cancel_appointment(
            actor=world.people[role], appointment_id=appointment.pk, reason="x y z"
        )


def test_staff_see_requests_in_their_inbox_and_the_agenda(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10, staff_id=world.staff.pk)
    inbox = client_for(world.staff).get("/team/anfragen/?nur=meine")
    assert list(inbox.context["requests"]) == [appointment]
    other_inbox = client_for(world.other_staff).get("/team/anfragen/")
    assert list(other_inbox.context["requests"]) == []
    agenda = client_for(world.staff).get("/team/kalender/?tag=2027-03-23&ansicht=woche")
    assert agenda.status_code == 200
    assert "Mia Mitglied" in agenda.content.decode()
    assert world.member.email not in agenda.content.decode()
