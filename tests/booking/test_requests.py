"""P-BOOK-2/3/7: a member presses "Termin" on a free slot; that is a binding request that holds
the slot, confirmed by a mail that says no appointment exists yet. Bad input writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client

from tests.booking.conftest import Book, Clock, berlin
from tests.conftest import World, client_for, deliver_outbox
from tests.factories import MemberFactory
from treffpunkt.booking.models import Appointment, AppointmentStatus, ConsultationType
from treffpunkt.booking.services import SlotTaken
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.messaging.models import Conversation

pytestmark = pytest.mark.django_db

TUESDAY_10 = berlin(2027, 3, 23, 10, 0)


def _post_request(client: Client, ctype: ConsultationType, start: str, key: str | None = None):
    return client.post(
        f"/termine/buchen/{ctype.pk}/anfragen/",
        {"start": start, "request_key": key or str(uuid.uuid4()), "note": "Frage zur Pflege"},
    )


def test_member_requests_a_slot_and_it_is_held(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    client = client_for(world.member)
    slots_page = client.get(f"/termine/buchen/{consultation.pk}/?ab=2027-03-23")
    assert slots_page.status_code == 200
    assert TUESDAY_10.isoformat().replace("+", "%2B") in slots_page.content.decode() or (
        "start=2027-03-23T09%3A00%3A00%2B00%3A00" in slots_page.content.decode()
    )
    start = TUESDAY_10.astimezone(TUESDAY_10.tzinfo).isoformat()
    review = client.get(f"/termine/buchen/{consultation.pk}/anfragen/", {"start": start})
    assert review.status_code == 200
    page = review.content.decode()
    assert "Termin" in page
    assert "Kosten" in page or "Costs" in page  # P-BOOK-7: says there are none; no payment step

    response = _post_request(client, consultation, start)
    appointment = Appointment.objects.get()
    assert response["Location"] == appointment.get_absolute_url()
    assert appointment.status == AppointmentStatus.REQUESTED
    assert appointment.start == TUESDAY_10
    assert appointment.staff in (world.staff, world.org_admin)
    assert appointment.member_note == "Frage zur Pflege"
    # 48 hours would be after the slot's minimum notice (2 hours before), so that wins.
    assert appointment.expires_at == TUESDAY_10 - timedelta(hours=2)
    assert AuditEntry.objects.filter(code="booking.appointment.requested").count() == 1
    # The slot is held: nobody else can get it from the same staff member.
    assert client.get(f"/termine/buchen/{consultation.pk}/?ab=2027-03-23").status_code == 200


def test_request_mail_repeats_the_request_and_says_no_appointment_exists_yet(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10)
    mails = deliver_outbox()
    to_member = [m for m in mails if m.to == [world.member.email]]
    to_staff = [m for m in mails if m.to == [appointment.staff.email]]
    assert len(to_member) == 1 and len(to_staff) == 1
    body = to_member[0].body
    assert "Beratung Pflege" in body
    assert "23. März 2027" in body and "10:00" in body
    assert "erst" in body and "bestätigt" in body  # no appointment until confirmed
    assert world.member.email not in to_staff[0].body  # staff see a display name only
    assert "Mia Mitglied" in to_staff[0].body


def test_a_request_opens_the_appointments_conversation_with_its_staff_member(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10)
    conversation = Conversation.objects.get(appointment=appointment)
    assert (conversation.member, conversation.assigned_to) == (world.member, appointment.staff)
    assert conversation.organization == world.org and conversation.is_open
    # The same request sent twice still has one conversation.
    book(TUESDAY_10, request_key=appointment.request_key)
    assert Conversation.objects.count() == 1


def test_pressing_termin_twice_gives_one_request(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    client = client_for(world.member)
    key = str(uuid.uuid4())
    start = TUESDAY_10.isoformat()
    first = _post_request(client, consultation, start, key)
    second = _post_request(client, consultation, start, key)
    assert first["Location"] == second["Location"]
    assert Appointment.objects.count() == 1
    assert len(deliver_outbox()) == 2  # one to the member, one to staff: not four


def test_any_staff_member_spreads_requests_and_then_the_slot_is_gone(
    frozen_clock: Clock, world: World, book: Book
):
    first = book(TUESDAY_10)
    second = book(TUESDAY_10, member=world.other_member)
    assert {first.staff, second.staff} == {world.staff, world.org_admin}
    third_member = MemberFactory(organization=world.org)
    with pytest.raises(SlotTaken) as taken:
        book(TUESDAY_10, member=third_member)
    assert taken.value.alternatives
    assert all(slot.start != TUESDAY_10 for slot in taken.value.alternatives)
    assert Appointment.objects.count() == 2


def test_any_staff_member_goes_to_whoever_holds_fewest_requests_that_day(
    frozen_clock: Clock, world: World, book: Book
):
    busy, idle = sorted([world.staff, world.org_admin], key=lambda user: user.pk)
    # The lower id would win a tie: two holds that day make it the busier one.
    book(berlin(2027, 3, 23, 9, 0), staff_id=busy.pk)
    book(berlin(2027, 3, 23, 14, 0), member=world.other_member, staff_id=busy.pk)
    # A hold on another day does not count for Tuesday.
    book(berlin(2027, 3, 24, 9, 0), member=world.other_member, staff_id=idle.pk)
    third_member = MemberFactory(organization=world.org)
    assert book(TUESDAY_10, member=third_member).staff == idle
    # On Thursday nobody holds anything: the tie goes to the lower id.
    assert book(berlin(2027, 3, 25, 10, 0), member=third_member).staff == busy


def test_the_same_form_sent_again_after_its_slot_is_gone_gives_the_first_request(
    frozen_clock: Clock, world: World, book: Book
):
    key = uuid.uuid4()
    first = book(TUESDAY_10, request_key=key, staff_id=world.staff.pk)
    # Its staff member's slot is held by the first copy itself.
    assert book(TUESDAY_10, request_key=key, staff_id=world.staff.pk) == first
    # Sent again once the slot is too near to book: still the first copy, not an error.
    frozen_clock.set(TUESDAY_10 - timedelta(minutes=30))
    assert book(TUESDAY_10, request_key=key) == first
    assert Appointment.objects.count() == 1
    # A new form for that time gets the reason.
    with pytest.raises(DomainError) as refused:
        book(TUESDAY_10)
    assert refused.value.code == "notice"


def test_a_taken_slot_gets_a_clear_message_and_fresh_alternatives_on_the_page(
    frozen_clock: Clock, world: World, consultation: ConsultationType, book: Book
):
    consultation.staff.set([world.staff])
    book(TUESDAY_10)
    response = _post_request(client_for(world.other_member), consultation, TUESDAY_10.isoformat())
    assert response.status_code == 409
    page = response.content.decode()
    assert "gerade vergeben" in page or "just taken" in page
    assert response.context["alternatives"]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (berlin(2027, 3, 21, 10, 0), "Vergangenheit"),
        (berlin(2027, 3, 22, 9, 0), "zu kurzfristig"),
        (berlin(2027, 3, 23, 12, 0), "keine Beratung"),
        (berlin(2027, 3, 23, 10, 10), "keine Beratung"),
        (berlin(2027, 3, 27, 10, 0), "keine Beratung"),
        (berlin(2027, 6, 1, 10, 0), "zu weit"),
    ],
    ids=["past", "too-soon", "lunch-break", "off-grid", "saturday", "beyond-horizon"],
)
def test_bad_slots_get_a_clear_message_and_write_nothing(
    frozen_clock: Clock,
    world: World,
    consultation: ConsultationType,
    start,
    message,
):
    response = _post_request(client_for(world.member), consultation, start.isoformat())
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Appointment.objects.exists()
    assert deliver_outbox() == []


@pytest.mark.parametrize("start", ["nicht-ein-datum", "2027-03-23T10:00:00", ""])
def test_tampered_start_is_refused(
    frozen_clock: Clock, world: World, consultation: ConsultationType, start: str
):
    client = client_for(world.member)
    response = _post_request(client, consultation, start)
    assert response.status_code in (302, 400)
    assert not Appointment.objects.exists()


def test_another_organizations_type_does_not_exist_for_the_member(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    foreign = ConsultationType.objects.create(
        organization=world.other_org, name="Fremd", duration_minutes=30
    )
    foreign.staff.set([world.other_staff])
    client = client_for(world.member)
    assert client.get(f"/termine/buchen/{foreign.pk}/").status_code == 404
    assert _post_request(client, foreign, TUESDAY_10.isoformat()).status_code == 404
    with pytest.raises(NotAllowed):
        from treffpunkt.booking.services import request_appointment

        request_appointment(
            member=world.member,
            consultation_type=foreign,
            start=TUESDAY_10,
            request_key=uuid.uuid4(),
        )
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("role", ["staff", "org_admin", "operator"])
def test_only_members_book(
    frozen_clock: Clock, world: World, consultation: ConsultationType, role: str
):
    response = _post_request(client_for(world.people[role]), consultation, TUESDAY_10.isoformat())
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_an_inactive_type_cannot_be_booked(
    frozen_clock: Clock, world: World, consultation: ConsultationType, book: Book
):
    consultation.is_active = False
    consultation.save()
    with pytest.raises(DomainError):
        book(TUESDAY_10)


def test_there_is_no_payment_step_anywhere_in_the_member_flow(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    client = client_for(world.member)
    pages = [
        "/termine/",
        "/termine/buchen/",
        f"/termine/buchen/{consultation.pk}/",
        f"/termine/buchen/{consultation.pk}/anfragen/?start={TUESDAY_10.isoformat()}",
    ]
    for page in pages:
        text = client.get(page).content.decode().lower()
        for word in ("zahlung", "bezahlen", "payment", "kreditkarte", "iban", "€"):
            assert word not in text, (page, word)
