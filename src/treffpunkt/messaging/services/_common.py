"""What a message shares with reading and with the team's handling: moving a reader's marker,
announcing who has a conversation, and a conversation's audit entry."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from treffpunkt.accounts.models import User
from treffpunkt.core import audit
from treffpunkt.messaging import realtime
from treffpunkt.messaging.models import Conversation, ReadMarker


def _advance_marker(*, conversation: Conversation, user: User, up_to: int) -> bool:
    """Move the reader's marker forward (never back). True if it moved."""
    moved = ReadMarker.objects.filter(
        conversation=conversation, user=user, last_read_id__lt=up_to
    ).update(last_read_id=up_to)
    if moved:
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


def _audit(
    conversation: Conversation, verb: str, *, actor: User | None, data: dict[str, Any] | None = None
) -> None:
    audit.record(
        f"messaging.conversation.{verb}",
        actor=actor,
        target=conversation,
        organization=conversation.organization,
        data=data,
    )


def _announce_assignment(conversation: Conversation) -> None:
    assignee = conversation.assigned_to
    realtime.to_conversation(
        conversation.pk,
        {
            "type": "assigned",
            "staff_id": assignee.pk if assignee else None,
            "staff": assignee.display_name if assignee else None,
        },
    )
    realtime.recount_for_team(conversation.organization_id)
