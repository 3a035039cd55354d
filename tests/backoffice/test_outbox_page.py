"""The mail outbox in the back office: state, attempts and errors, never an address or a text
(decision 0001, P-ACC-3), not even for the platform's administrators."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.backoffice.conftest import operator_with
from tests.backoffice.pages import table_rows
from tests.conftest import World, client_for
from treffpunkt.accounts.permissions import Capability
from treffpunkt.notifications.models import MailStatus, OutboxMail

pytestmark = pytest.mark.django_db

OUTBOX = "/betrieb/postausgang/"
BERLIN = ZoneInfo("Europe/Berlin")
SECRET_LINK = "https://treffpunkt.example/konto/passwort-neu/abc/def/"
# Columns of the page's table.
QUEUED, RECIPIENT, SUBJECT, STATE, ATTEMPTS, NEXT, SENT, TEMPLATE = range(8)


def mail(world: World, *, status: str = MailStatus.PENDING, **fields: object) -> OutboxMail:
    defaults: dict[str, object] = {
        "recipient": world.member,
        "to_address": world.member.email,
        "template": "accounts/password_reset",
        "language": "de",
        "subject": "Neues Passwort",
        "body_text": f"Ihr Link: {SECRET_LINK}",
        "next_attempt_at": timezone.now(),
        "status": status,
    }
    defaults.update(fields)
    return OutboxMail.objects.create(**defaults)


@pytest.fixture(params=["op_platform", "op_auditor", "superuser"])
def reader(request: pytest.FixtureRequest, world: World) -> Client:
    if request.param == "superuser":
        return client_for(world.operator)
    capability = Capability.PLATFORM if request.param == "op_platform" else Capability.AUDITOR
    return client_for(operator_with(capability))


def test_no_address_and_no_text_on_any_outbox_page(world: World, reader: Client):
    failed = mail(
        world,
        status=MailStatus.FAILED,
        attempts=7,
        last_error=f"550 5.1.1 <{world.member.email}>: Recipient address rejected",
        attachments=[{"filename": "termin.ics", "mimetype": "text/calendar", "content": "X"}],
    )
    pages = [
        reader.get(OUTBOX),
        reader.get(reverse("backoffice:outbox_mail", args=[failed.pk])),
    ]
    export = reader.get(OUTBOX, {"format": "csv"})
    assert isinstance(export, StreamingHttpResponse)
    texts = [page.content.decode() for page in pages]
    texts.append(b"".join(export.streaming_content).decode())  # type: ignore[arg-type]
    for text in texts:
        assert world.member.email not in text
        assert SECRET_LINK not in text
        assert "Ihr Link" not in text

    detail = texts[1]
    assert "Mia Mitglied" in detail  # the recipient by name
    assert "550 5.1.1 &lt;" in detail  # the error, its address blanked out
    assert "termin.ics" in detail
    assert "Neues Passwort" in detail


def test_the_list_shows_state_attempts_and_times(world: World, reader: Client):
    sent_at = datetime(2026, 3, 1, 10, 15, tzinfo=BERLIN)
    mail(world, status=MailStatus.SENT, attempts=2, sent_at=sent_at)
    [row] = table_rows(reader.get(OUTBOX))
    assert row[RECIPIENT] == "Mia Mitglied"
    assert row[SUBJECT] == "Neues Passwort"
    assert row[STATE] in {"gesendet", "sent"}
    assert row[ATTEMPTS] == "2"
    assert row[NEXT] == "–"  # a sent mail has no next attempt
    assert row[SENT].endswith("10:15:00")
    assert row[TEMPLATE] == "accounts/password_reset"


def test_filters_by_state_and_by_day_queued(world: World, reader: Client):
    waiting = mail(world, subject="Wartet")
    mail(world, subject="Aufgegeben", status=MailStatus.FAILED)
    old = mail(world, subject="Alt", status=MailStatus.SENT)
    OutboxMail.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    def subjects(**query: object) -> list[str]:
        return sorted(row[SUBJECT] for row in table_rows(reader.get(OUTBOX, query)))

    assert subjects(status=MailStatus.PENDING) == ["Wartet"]
    assert subjects(status=MailStatus.FAILED) == ["Aufgegeben"]
    today = timezone.localdate(waiting.created_at, BERLIN).isoformat()
    assert subjects(since=today) == ["Aufgegeben", "Wartet"]
    long_ago = (timezone.localdate(timezone.now(), BERLIN) - timedelta(days=30)).isoformat()
    assert subjects(until=long_ago) == ["Alt"]
    assert reader.get(OUTBOX, {"status": "verloren"}).status_code == 200


def test_the_outbox_sorts_and_exports(world: World, reader: Client):
    for attempts in (3, 1, 2):
        mail(world, subject=f"Versuch {attempts}", attempts=attempts)
    rows = table_rows(reader.get(OUTBOX, {"sort": "-attempts"}))
    assert [row[ATTEMPTS] for row in rows] == ["3", "2", "1"]

    export = reader.get(OUTBOX, {"format": "csv", "sort": "attempts"})
    text = b"".join(export.streaming_content).decode("utf-8")  # type: ignore[union-attr]
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert [line[SUBJECT] for line in lines[1:]] == ["Versuch 1", "Versuch 2", "Versuch 3"]


def test_a_page_costs_as_many_queries_for_fifty_mails_as_for_two(world: World, reader: Client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert reader.get(OUTBOX).status_code == 200
        return len(captured)

    for _ in range(2):
        mail(world)
    few = queries()
    for _ in range(60):
        mail(world)
    assert queries() == few
