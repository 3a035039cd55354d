"""A booking's mails are rendered by the delivery, not in the member's request (issue 15), and
say what was true when they were queued."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.booking.conftest import Book, Clock, berlin
from tests.conftest import SmtpServer, World, client_for, deliver_outbox
from treffpunkt.booking.services import confirm_appointment
from treffpunkt.notifications.models import MailStatus, OutboxMail
from treffpunkt.notifications.services import deliver, queue_mail

pytestmark = pytest.mark.django_db

TUESDAY_10 = berlin(2027, 3, 23, 10)


def test_a_request_stores_its_mails_unrendered_for_the_delivery(
    frozen_clock: Clock, world: World, book: Book
):
    book(TUESDAY_10)
    rows = list(OutboxMail.objects.order_by("pk"))
    assert [row.template for row in rows] == ["booking/request_received", "booking/new_request"]
    for row in rows:
        assert row.subject == "" and row.body_text == "" and row.render_context is not None
        assert row.status == MailStatus.PENDING

    mails = deliver_outbox()
    assert {m.subject for m in mails} == {
        "Wir haben Ihre Terminanfrage erhalten",
        "Neue Terminanfrage",
    }
    for row in OutboxMail.objects.all():
        # Rendered once, kept as sent, and the frozen context is gone from the row.
        assert row.status == MailStatus.SENT and row.render_context is None
        assert row.subject and row.body_text and row.body_html


def test_a_request_mail_rendered_late_still_says_what_the_request_was(
    frozen_clock: Clock, world: World, book: Book
):
    appointment = book(TUESDAY_10)
    held_until = appointment.expires_at
    assert held_until is not None
    # Staff confirm and the member renames themselves before the worker gets to the mails.
    confirm_appointment(actor=appointment.staff, appointment_id=appointment.pk)
    world.member.display_name = "Ganz Anders"
    world.member.save(update_fields=["display_name"])
    frozen_clock.set(frozen_clock.now + timedelta(minutes=5))

    to_member = [m for m in deliver_outbox() if m.to == [world.member.email]]
    received = next(m for m in to_member if m.subject == "Wir haben Ihre Terminanfrage erhalten")
    assert "Hallo Mia Mitglied" in received.body
    assert "Ganz Anders" not in received.body
    # The hold's end as it was when queued (confirming cleared it on the appointment).
    assert "bis 23. März 2027 08:00" in received.body


def test_a_frozen_mail_holds_no_password_hash(frozen_clock: Clock, world: World, book: Book):
    book(TUESDAY_10)
    for row in OutboxMail.objects.all():
        stored = json.dumps(row.render_context)
        assert "password" not in stored
        assert world.member.password not in stored


def test_only_instances_and_plain_values_can_be_frozen(world: World):
    with pytest.raises(TypeError, match="cannot be frozen"):
        queue_mail(
            template="accounts/invitation",
            recipient=world.member,
            context={"amounts": [1, 2]},
            render_later=True,
        )
    assert not OutboxMail.objects.exists()


def test_a_mail_that_cannot_be_rendered_is_kept_with_its_error(
    world: World, smtp_server: SmtpServer
):
    row = queue_mail(
        template="booking/no_such_mail", recipient=world.member, context={}, render_later=True
    )
    assert deliver(mail_id=row.pk) is False
    row.refresh_from_db()
    assert row.status == MailStatus.PENDING and row.attempts == 1
    assert "TemplateDoesNotExist" in row.last_error
    assert smtp_server.messages == []


def test_the_operator_sees_a_waiting_booking_mail_as_written_when_sent(
    frozen_clock: Clock, world: World, book: Book
):
    book(TUESDAY_10)
    waiting = OutboxMail.objects.filter(template="booking/request_received").get()
    client = client_for(world.operator)
    listing = client.get("/betrieb/postausgang/").content.decode()
    detail = client.get(f"/betrieb/postausgang/{waiting.pk}/").content.decode()
    for page in (listing, detail):
        assert "(wird beim Versand geschrieben)" in page
        assert world.member.email not in page
