"""Reading: how far each reader has seen a conversation, and which conversation pages are open.
Neither is audited (see the package's docstring)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from treffpunkt.accounts.models import User
from treffpunkt.core import clock
from treffpunkt.core.errors import NotAllowed
from treffpunkt.messaging import realtime
from treffpunkt.messaging.models import Conversation, ConversationPresence, ReadMarker
from treffpunkt.messaging.selectors import ConversationNotFound, may_take_part, side_of
from treffpunkt.messaging.services._common import _advance_marker, _publish


def mark_read(*, user: User, conversation: Conversation, up_to: int | None = None) -> int:
    """The user has seen the conversation up to message ``up_to`` (default: all of it).
    Returns the marker. Ids beyond the newest message are clamped, so a page cannot mark
    messages read that do not exist yet."""
    if not may_take_part(user, conversation):
        raise NotAllowed
    with transaction.atomic():
        newest = max(conversation.last_member_message_id, conversation.last_staff_message_id)
        target = newest if up_to is None else min(up_to, newest)
        if target > 0 and _advance_marker(conversation=conversation, user=user, up_to=target):
            _publish(conversation.pk, {"type": "read", "side": side_of(user), "up_to": target})
            realtime.recount_for_user(user.pk)
        marker = ReadMarker.objects.filter(conversation=conversation, user=user).first()
        return marker.last_read_id if marker else 0


# --- presence on the page --------------------------------------------------------------------


# A page counts as open while its socket was heard from within this time (pings every 30 s).
PRESENCE_TIMEOUT = timedelta(seconds=90)


def enter_page(*, user: User, conversation_id: int, channel_name: str) -> Conversation:
    """A conversation page opened its socket. Raises ``ConversationNotFound`` for anyone who
    may not see the conversation."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or not may_take_part(user, conversation):
        raise ConversationNotFound
    ConversationPresence.objects.update_or_create(
        channel_name=channel_name,
        defaults={"conversation": conversation, "user": user, "seen_at": clock.now()},
    )
    return conversation


def still_on_page(*, channel_name: str) -> None:
    ConversationPresence.objects.filter(channel_name=channel_name).update(seen_at=clock.now())


def leave_page(*, channel_name: str) -> None:
    ConversationPresence.objects.filter(channel_name=channel_name).delete()


def _is_reading(user_id: int, conversation_id: int, now: datetime) -> bool:
    return ConversationPresence.objects.filter(
        conversation_id=conversation_id, user_id=user_id, seen_at__gte=now - PRESENCE_TIMEOUT
    ).exists()
