"""The mail outbox: every mail is stored with the change that causes it and is delivered
exactly once, even when the mail server is down for a while."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.conftest import SmtpServer, World, client_for, deliver_outbox
from treffpunkt.accounts.models import Organization
from treffpunkt.accounts.services import register_member
from treffpunkt.notifications.models import MailStatus, OutboxMail
from treffpunkt.notifications.services import MailAttachment, queue_mail, send_due_mail

pytestmark = pytest.mark.django_db


def _register(org: Organization, n: int, *, language: str = "de") -> None:
    register_member(
        organization=org,
        email=f"neu{n}@example.org",
        password="Sehr-geheimes-Passwort-1",
        display_name=f"Neu {n}",
        language=language,
    )


def _make_all_due() -> None:
    OutboxMail.objects.filter(status=MailStatus.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_no_mail_is_lost_while_the_smtp_server_is_down(world: World, smtp_server: SmtpServer):
    smtp_server.stop()
    for n in range(3):
        _register(world.org, n)
    assert send_due_mail() == 0
    waiting = OutboxMail.objects.filter(status=MailStatus.PENDING)
    assert waiting.count() == 3
    assert all(m.attempts == 1 and m.last_error for m in waiting)

    smtp_server.start()
    _make_all_due()
    assert send_due_mail() == 3
    # A second sweep, and a late retry task for the same mail, send nothing more.
    _make_all_due()
    assert send_due_mail() == 0

    recipients = sorted(msg["To"] for msg in smtp_server.messages)
    assert recipients == [f"neu{n}@example.org" for n in range(3)]
    assert OutboxMail.objects.filter(status=MailStatus.SENT).count() == 3


def test_failed_mail_waits_longer_after_each_attempt(world: World, smtp_server: SmtpServer):
    smtp_server.stop()
    _register(world.org, 1)
    pauses = []
    for _ in range(3):
        before = timezone.now()
        _make_all_due()
        send_due_mail()
        mail_row = OutboxMail.objects.get()
        pauses.append((mail_row.next_attempt_at - before).total_seconds())
    assert pauses[0] < pauses[1] < pauses[2]
    assert OutboxMail.objects.get().attempts == 3


def test_outbox_gives_up_after_the_last_attempt_and_keeps_the_error(
    world: World, smtp_server: SmtpServer, settings
):
    settings.MAIL_MAX_ATTEMPTS = 2
    smtp_server.stop()
    _register(world.org, 1)
    for _ in range(3):
        _make_all_due()
        send_due_mail()
    mail_row = OutboxMail.objects.get()
    assert mail_row.status == MailStatus.FAILED
    assert mail_row.attempts == 2
    assert "Connection refused" in mail_row.last_error or "Error" in mail_row.last_error


def test_mail_is_stored_only_when_the_change_commits(world: World):
    with pytest.raises(RuntimeError), transaction.atomic():
        _register(world.org, 1)
        raise RuntimeError("the change fails after the mail was queued")
    assert OutboxMail.objects.count() == 0
    assert deliver_outbox() == []


@pytest.mark.django_db(transaction=True)
def test_mail_is_sent_by_the_task_after_commit(smtp_server: SmtpServer):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    _register(org, 1)  # autocommit: the on-commit hook enqueues the task at once
    assert [m["To"] for m in smtp_server.messages] == ["neu1@example.org"]
    assert OutboxMail.objects.get().status == MailStatus.SENT


def test_mail_is_written_in_the_recipients_language(world: World):
    _register(world.org, 1, language="de")
    _register(world.org, 2, language="en")
    by_address = {m.to[0]: m for m in deliver_outbox()}
    german = by_address["neu1@example.org"]
    english = by_address["neu2@example.org"]
    assert "E-Mail-Adresse" in german.subject
    assert "confirm your e-mail address" in english.subject.lower()
    assert german.alternatives and english.alternatives  # text and HTML parts
    assert "Hallo Neu 1" in german.body
    assert "Hello Neu 2" in english.body


def test_queue_mail_needs_an_address():
    with pytest.raises(ValueError, match="recipient"):
        queue_mail(template="accounts/confirm_email", context={})


def test_operator_sees_outbox_status_attempts_and_error_but_no_address(
    world: World, smtp_server: SmtpServer
):
    smtp_server.stop()
    _register(world.org, 1)
    send_due_mail()
    client = client_for(world.operator)
    listing = client.get("/betrieb/admin/notifications/outboxmail/")
    assert listing.status_code == 200
    mail_row = OutboxMail.objects.get()
    detail = client.get(f"/betrieb/admin/notifications/outboxmail/{mail_row.pk}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert mail_row.last_error.split(":")[0] in page
    assert "neu1@example.org" not in listing.content.decode() + page


@pytest.mark.parametrize("role", ["member", "staff", "org_admin"])
def test_only_operators_open_the_outbox(world: World, role: str):
    response = client_for(world.people[role]).get("/betrieb/admin/notifications/outboxmail/")
    assert response.status_code in (302, 403)
    assert response.status_code != 200
    assert Client().get("/betrieb/admin/notifications/outboxmail/").status_code == 302
    assert not mail.outbox


def test_a_refused_address_is_not_written_into_the_error_operators_read():
    from treffpunkt.notifications.services import without_addresses

    error = (
        "SMTPRecipientsRefused: {'person1@example.org': (550, b'5.1.1 <person1@example.org>: "
        "Recipient address rejected')}"
    )
    cleaned = without_addresses(error)
    assert "person1@example.org" not in cleaned
    assert cleaned.startswith("SMTPRecipientsRefused: {'<address>': (550")


# --- attachments -------------------------------------------------------------------------------

# Bytes that are no valid UTF-8 and contain every byte value, as a PDF's compressed streams do.
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


def _queue_with(attachments: list[MailAttachment]) -> OutboxMail:
    return queue_mail(
        template="accounts/confirm_email",
        context={"confirm_url": "http://testserver/x", "hours": 48},
        to_address="mia@example.org",
        language="de",
        attachments=attachments,
    )


def _parts(message: mail.EmailMessage) -> dict[str, Message]:
    """The attachments of the mail as it went over the wire, by file name."""
    parsed = message_from_bytes(message.message().as_bytes())
    return {part.get_filename(): part for part in parsed.walk() if part.get_filename()}


def test_a_queued_mail_with_a_pdf_is_sent_with_the_exact_bytes(world: World):
    _queue_with([MailAttachment("brief.pdf", "application/pdf", PDF_BYTES)])
    stored = OutboxMail.objects.get().attachments
    assert stored[0]["encoding"] == "base64"  # JSON holds text: the bytes went in as base64
    [message] = deliver_outbox()
    part = _parts(message)["brief.pdf"]
    assert part.get_content_type() == "application/pdf"
    assert part["Content-Transfer-Encoding"] == "base64"
    assert part.get_payload(decode=True) == PDF_BYTES


def test_text_and_binary_attachments_go_out_in_one_mail(world: World):
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Beratung für Mia\r\nEND:VCALENDAR\r\n"
    _queue_with(
        [
            MailAttachment("termin.ics", "text/calendar", ics, params={"method": "REQUEST"}),
            MailAttachment("brief.pdf", "application/pdf", PDF_BYTES),
        ]
    )
    calendar, pdf = OutboxMail.objects.get().attachments
    assert "encoding" not in calendar  # text is stored as before binary attachments existed
    assert calendar["content"] == ics
    assert pdf["encoding"] == "base64"
    parts = _parts(deliver_outbox()[0])
    assert parts["termin.ics"].get_param("method") == "REQUEST"
    assert parts["termin.ics"].get_payload(decode=True).decode() == ics
    assert parts["brief.pdf"].get_payload(decode=True) == PDF_BYTES


def test_a_text_attachment_stored_before_binary_ones_existed_is_still_sent(world: World):
    mail_row = _queue_with([])
    OutboxMail.objects.filter(pk=mail_row.pk).update(
        attachments=[
            {"filename": "a.ics", "mimetype": "text/calendar", "content": "BEGIN:VCALENDAR\r\n"}
        ]
    )
    part = _parts(deliver_outbox()[0])["a.ics"]
    assert part.get_payload(decode=True) == b"BEGIN:VCALENDAR\r\n"


def test_a_mail_sent_again_after_its_worker_died_keeps_its_message_id(
    world: World, smtp_server: SmtpServer
):
    """At least once is right; the repeat must be recognizably the same mail."""
    _register(world.org, 1)
    stored = OutboxMail.objects.get()
    assert stored.message_id.startswith("<") and stored.message_id.endswith("@treffpunkt.invalid>")
    _make_all_due()
    assert send_due_mail() == 1
    # The worker died after the mail server took the mail, before it could record that.
    OutboxMail.objects.filter(pk=stored.pk).update(status=MailStatus.PENDING, sent_at=None)
    _make_all_due()
    assert send_due_mail() == 1
    sent_ids = [message["Message-ID"] for message in smtp_server.messages]
    assert sent_ids == [stored.message_id, stored.message_id]
    other = queue_mail(template=stored.template, context={}, to_address="b@example.org")
    assert other.message_id != stored.message_id


@pytest.mark.django_db(transaction=True)
def test_the_mails_of_one_transaction_go_to_one_delivery_task(
    monkeypatch: pytest.MonkeyPatch,
):
    from treffpunkt.notifications import services

    enqueued: list[list[int]] = []
    monkeypatch.setattr(services, "_enqueue_delivery", lambda ids: enqueued.append(list(ids)))

    def queue(address: str) -> OutboxMail:
        return queue_mail(template="accounts/confirm_email", context={}, to_address=address)

    with transaction.atomic():
        first, second = queue("a@example.org"), queue("b@example.org")
        try:
            with transaction.atomic():
                queue("rolled-back@example.org")
                raise RuntimeError("this step failed")
        except RuntimeError:
            pass
        third = queue("c@example.org")
        assert enqueued == []  # nothing before the commit
    assert len(enqueued) == 1
    # The rolled-back mail's id may ride along; no mail has it, and delivery skips it.
    existing = [
        mail_id for mail_id in enqueued[0] if OutboxMail.objects.filter(pk=mail_id).exists()
    ]
    assert existing == [first.pk, second.pk, third.pk]
    enqueued.clear()

    # A transaction that rolls back enqueues nothing, and the next one starts afresh.
    with pytest.raises(RuntimeError), transaction.atomic():
        queue("d@example.org")
        raise RuntimeError("the change failed")
    with transaction.atomic():
        fourth = queue("e@example.org")
    assert enqueued == [[fourth.pk]]
    # Outside a transaction a mail is handed over at once.
    fifth = queue("f@example.org")
    assert enqueued[-1] == [fifth.pk]
