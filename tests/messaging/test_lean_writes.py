"""The lean writes and reads of the message and booking paths (issue 15) store and give exactly
what Django's own insert, update and get do, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model

from tests.conftest import World
from treffpunkt.accounts.models import User
from treffpunkt.core import lean
from treffpunkt.core.models import AuditEntry, LiveEvent
from treffpunkt.messaging.models import Conversation, InquiryTopic
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

MOMENT = datetime(2027, 3, 22, 7, 30, 15, 123456, tzinfo=UTC)


def test_a_lean_insert_stores_the_same_row_as_create(world: World):
    event = {"type": "messages.new", "url": "/nachrichten/1/", "seq": 7, "umlaut": "Grüße"}
    lean_row = lean.insert(LiveEvent(user=world.member, seq=7, event=event, created_at=MOMENT))
    orm_row = LiveEvent.objects.create(user=world.member, seq=8, event=event, created_at=MOMENT)
    assert lean_row.pk is not None and not lean_row._state.adding
    stored_lean = LiveEvent.objects.get(pk=lean_row.pk)
    stored_orm = LiveEvent.objects.get(pk=orm_row.pk)
    assert (stored_lean.user_id, stored_lean.event, stored_lean.created_at) == (
        stored_orm.user_id,
        stored_orm.event,
        stored_orm.created_at,
    )
    assert stored_lean.created_at == MOMENT


def test_a_lean_outbox_mail_keeps_its_json_and_sql_null(world: World):
    def mail(**fields: object) -> OutboxMail:
        return OutboxMail(
            recipient=world.member,
            to_address="m@example.org",
            template="booking/request_received",
            language="de",
            next_attempt_at=MOMENT,
            attachments=[{"filename": "termin.ics", "content": "BEGIN:VCALENDAR"}],
            **fields,
        )

    frozen = {"context": {"start": MOMENT}, "time_zone": "Europe/Berlin"}
    for render_context in (frozen, None):
        lean_row = lean.insert(mail(render_context=render_context))
        orm_row = OutboxMail.objects.create(
            **{
                field.attname: getattr(mail(render_context=render_context), field.attname)
                for field in OutboxMail._meta.concrete_fields
                if not field.primary_key
            }
        )
        stored = OutboxMail.objects.filter(pk__in=[lean_row.pk, orm_row.pk])
        # The moment goes through the field's encoder; None is SQL NULL, not JSON null.
        assert [row.render_context for row in stored] == [
            OutboxMail.objects.get(pk=orm_row.pk).render_context
        ] * 2
        assert stored.filter(render_context__isnull=True).count() == (
            2 if render_context is None else 0
        )
        assert {row.attachments[0]["filename"] for row in stored} == {"termin.ics"}


def test_a_lean_insert_fills_auto_now_add_and_keeps_constraints(world: World):
    before = datetime.now(UTC)
    entry = lean.insert(AuditEntry(code="x.y.z", actor=world.staff, data={"a": 1}))
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.created_at >= before.replace(microsecond=0)
    assert (stored.actor_id, stored.data) == (world.staff.pk, {"a": 1})
    lean.insert(LiveEvent(user=world.member, seq=1, event={}, created_at=MOMENT))
    with pytest.raises(IntegrityError), transaction.atomic():
        lean.insert(LiveEvent(user=world.member, seq=1, event={}, created_at=MOMENT))


def test_a_lean_update_changes_one_row_by_key(world: World, topic: InquiryTopic):
    first = Conversation.objects.create(
        organization=world.org, member=world.member, topic=topic, created_at=MOMENT
    )
    second = Conversation.objects.create(
        organization=world.org, member=world.other_member, topic=topic, created_at=MOMENT
    )
    changed = lean.update(
        Conversation, first.pk, last_message_at=MOMENT, event_seq=3, assigned_to=world.staff
    )
    assert changed == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.last_message_at, first.event_seq, first.assigned_to_id) == (
        MOMENT,
        3,
        world.staff.pk,
    )
    assert (second.event_seq, second.assigned_to_id) == (0, None)
    assert lean.update(Conversation, 10**9, event_seq=1) == 0


def test_a_lean_update_takes_only_a_models_own_columns():
    with pytest.raises(LookupError):
        lean.update(Conversation, 1, messages=[])


def _every_column(instance: Model) -> dict[str, object]:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def test_a_lean_get_gives_what_the_orms_get_gives(world: World):
    world.staff.last_login = MOMENT
    world.staff.save()
    for pk in (world.staff.pk, world.member.pk):
        lean_row = lean.get(User, pk)
        orm_row = User.objects.get(pk=pk)
        assert lean_row is not None and not lean_row._state.adding
        # Moments aware, booleans as booleans, on both databases.
        assert _every_column(lean_row) == _every_column(orm_row)
    mail = lean.insert(
        OutboxMail(
            recipient=world.member,
            to_address="m@example.org",
            template="t",
            language="de",
            next_attempt_at=MOMENT,
            render_context={"context": {"n": 1}, "time_zone": "Europe/Berlin"},
        )
    )
    read = lean.get(OutboxMail, mail.pk)
    assert read is not None
    assert _every_column(read) == _every_column(OutboxMail.objects.get(pk=mail.pk))
    assert read.next_attempt_at == MOMENT and read.render_context["context"] == {"n": 1}
    assert lean.get(OutboxMail, 10**9) is None
