"""Retention: messages and attachments are deleted a set number of months (organization
setting) after a conversation was closed, by a periodic job that writes an audit entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import World, client_for
from tests.messaging.conftest import pdf_bytes, upload
from treffpunkt.core import clock
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import registry
from treffpunkt.messaging import files, services
from treffpunkt.messaging.models import (
    Attachment,
    Conversation,
    InquiryTopic,
    MemberNotice,
    Message,
    ReadMarker,
)

pytestmark = pytest.mark.django_db


def closed_months_ago(
    world: World, topic: InquiryTopic, monkeypatch: pytest.MonkeyPatch, months: int
) -> tuple[Conversation, Path]:
    """A conversation with a file, closed ``months`` months (and a day) before now."""
    then = services.months_before(timezone.now(), months) - timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: then)
    conversation = services.start_inquiry(
        member=world.member,
        topic=topic,
        text="Frage mit Anhang",
        uploads=[upload("befund.pdf", pdf_bytes())],
    )
    services.post_message(author=world.staff, conversation=conversation, text="Antwort")
    services.close(actor=world.staff, conversation=conversation)
    monkeypatch.undo()
    stored = Attachment.objects.get(message__conversation=conversation).stored_name
    return conversation, files.path_of(stored)


def test_messages_and_files_go_after_the_retention_time_with_an_audit_entry(
    world: World,
    topic: InquiryTopic,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
):
    conversation, path = closed_months_ago(world, topic, monkeypatch, 12)
    assert path.exists()

    # Files are removed once the deletion is committed.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delete_expired_messages() == 1
    assert not Message.objects.filter(conversation=conversation).exists()
    assert not Attachment.objects.exists()
    assert not ReadMarker.objects.filter(conversation=conversation).exists()
    assert not MemberNotice.objects.filter(conversation=conversation).exists()
    assert not path.exists()
    conversation.refresh_from_db()
    assert conversation.contents_deleted_at is not None
    entry = AuditEntry.objects.get(code="messaging.conversation.contents_deleted")
    assert entry.target_id == str(conversation.pk) and entry.actor is None
    assert entry.data["messages"] == 2 and entry.data["attachments"] == 1
    assert "Frage" not in str(entry.data)
    # The second run finds nothing more to do.
    assert services.delete_expired_messages() == 0
    # The conversation page says what happened; nothing is unread any more.
    page = client_for(world.member).get(conversation.get_absolute_url()).content.decode()
    assert "Frage mit Anhang" not in page
    assert "gelöscht" in page or "deleted" in page


def test_conversations_closed_more_recently_and_open_ones_are_kept(
    world: World, topic: InquiryTopic, monkeypatch: pytest.MonkeyPatch
):
    recent, recent_file = closed_months_ago(world, topic, monkeypatch, 11)
    still_open = services.start_inquiry(member=world.member, topic=topic, text="Noch offen")
    Conversation.objects.filter(pk=still_open.pk).update(
        created_at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    assert services.delete_expired_messages() == 0
    assert recent.messages.count() == 2 and recent_file.exists()
    assert still_open.messages.count() == 1


def test_the_organizations_own_retention_time_applies(
    world: World,
    topic: InquiryTopic,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
):
    _conversation, path = closed_months_ago(world, topic, monkeypatch, 2)
    assert services.delete_expired_messages() == 0
    services.set_retention(admin=world.org_admin, months=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delete_expired_messages() == 1
    assert not path.exists()


def test_reopening_before_the_deadline_keeps_the_messages(
    world: World, topic: InquiryTopic, monkeypatch: pytest.MonkeyPatch
):
    conversation, path = closed_months_ago(world, topic, monkeypatch, 12)
    services.reopen(actor=world.staff, conversation=conversation)
    assert services.delete_expired_messages() == 0
    assert path.exists()


def test_the_retention_job_is_scheduled():
    jobs = {job.name: job for job in registry.schedule()}
    assert "messaging.delete_expired_messages" in jobs
    assert "messaging.send_member_notices" in jobs
    assert "messaging.send_staff_digests" in jobs


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2027, 3, 31, 12, tzinfo=UTC), 1, datetime(2027, 2, 28, 12, tzinfo=UTC)),
        (datetime(2028, 3, 31, 12, tzinfo=UTC), 1, datetime(2028, 2, 29, 12, tzinfo=UTC)),
        (datetime(2027, 1, 15, 8, tzinfo=UTC), 12, datetime(2026, 1, 15, 8, tzinfo=UTC)),
        (datetime(2027, 1, 15, 8, tzinfo=UTC), 13, datetime(2025, 12, 15, 8, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(moment: datetime, months: int, expected: datetime):
    assert services.months_before(moment, months) == expected
