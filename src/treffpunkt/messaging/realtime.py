"""Events about conversations, sent after commit.

- ``conversation.<id>``: every open page of that conversation (new messages, read state,
  assignment, open/closed). Consumers forward these unchanged.
- the user's own group and ``team.<org>``: "your unread count may have changed"; each open page
  then counts for its own user (only pages that are open pay for it).
"""

from __future__ import annotations

from typing import Any

from treffpunkt.core.realtime import notify_user, send_to_group_after_commit, user_group
from treffpunkt.messaging.models import Attachment, Conversation, Message


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def team_group(organization_id: int) -> str:
    return f"team.{organization_id}"


def attachment_url(attachment: Attachment, conversation_id: int) -> str:
    return f"/nachrichten/{conversation_id}/anhang/{attachment.pk}/"


def message_event(message: Message, attachments: list[Attachment]) -> dict[str, Any]:
    return {
        "type": "message",
        "seq": message.seq,
        "id": message.pk,
        "author": message.author.display_name,
        "author_id": message.author_id,
        "side": "member" if message.from_member else "staff",
        "text": message.text,
        "created": message.created_at.isoformat(),
        "attachments": [
            {
                "id": item.pk,
                "name": item.file_name,
                "size": item.size,
                "url": attachment_url(item, message.conversation_id),
            }
            for item in attachments
        ],
    }


def to_conversation(conversation_id: int, event: dict[str, Any]) -> None:
    send_to_group_after_commit(
        conversation_group(conversation_id), {"type": "conversation.event", "event": event}
    )


def recount_for_user(user_id: int) -> None:
    send_to_group_after_commit(user_group(user_id), {"type": "unread.changed"})


def recount_for_team(organization_id: int) -> None:
    send_to_group_after_commit(team_group(organization_id), {"type": "unread.changed"})


def recount_for_both_sides(conversation: Conversation) -> None:
    recount_for_user(conversation.member_id)
    recount_for_team(conversation.organization_id)


def tell_member_of_new_message(conversation: Conversation) -> None:
    """A live notice on the member's other pages (content-free, like the mail)."""
    notify_user(
        conversation.member_id,
        {"type": "messages.new", "url": conversation.get_absolute_url()},
    )
