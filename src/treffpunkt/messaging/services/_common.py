"""What a message shares with reading and with the team's handling: moving a reader's marker,
announcing who has a conversation, and a conversation's audit entry."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction

from treffpunkt.accounts.models import User
from treffpunkt.core import audit
from treffpunkt.messaging import realtime
from treffpunkt.messaging.models import Conversation, ReadMarker


def _advance_marker(*, conversation: Conversation, user: User, up_to: int) -> bool:
    """Move the reader's marker forward (never back). True if it moved."""
    if _move_marker(conversation.pk, user.pk, up_to):
        return True
    if ReadMarker.objects.filter(conversation=conversation, user=user).exists():
        return False
    try:
        with transaction.atomic():
            ReadMarker.objects.create(conversation=conversation, user=user, last_read_id=up_to)
    except IntegrityError:
        # Another page of the same person created it a moment ago.
        return _advance_marker(conversation=conversation, user=user, up_to=up_to)
    return True


def _move_marker(conversation_id: int, user_id: int, up_to: int) -> bool:
    """The marker's usual move, written out: it runs with every message posted, and the ORM
    building this update each time cost more than the update itself (issue 15)."""
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_MARKER_SQL, [up_to, conversation_id, user_id, up_to])
        return int(cursor.rowcount) > 0


_MOVE_MARKER_SQL = (
    'UPDATE "messaging_readmarker" SET "last_read_id" = %s '
    'WHERE "conversation_id" = %s AND "user_id" = %s AND "last_read_id" < %s'
)


def _audit(
    conversation: Conversation, verb: str, *, actor: User | None, data: dict[str, Any] | None = None
) -> None:
    audit.record(
        f"messaging.conversation.{verb}",
        actor=actor,
        target=conversation,
        organization_id=conversation.organization_id,
        data=data,
    )


def _next_seq(conversation_id: int) -> int:
    """The next number of the conversation's event stream. The update holds the row's lock
    until the transaction ends, so numbers follow the order of commits, with no gap."""
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "messaging_conversation" SET "event_seq" = "event_seq" + 1 '
            'WHERE "id" = %s RETURNING "event_seq"',
            [conversation_id],
        )
        row = cursor.fetchone()
    return int(row[0])


def _publish(conversation_id: int, event: dict[str, Any], *, seq: int | None = None) -> None:
    """Send ``event`` to the conversation's open pages after commit, numbered: with ``seq``
    when the caller already took the number, otherwise with the next one."""
    number = _next_seq(conversation_id) if seq is None else seq
    realtime.to_conversation(conversation_id, {**event, "seq": number})


def _announce_assignment(conversation: Conversation, *, seq: int | None = None) -> None:
    assignee = conversation.assigned_to
    _publish(
        conversation.pk,
        {
            "type": "assigned",
            "staff_id": assignee.pk if assignee else None,
            "staff": assignee.display_name if assignee else None,
        },
        seq=seq,
    )
    realtime.recount_for_team(conversation.organization_id)
