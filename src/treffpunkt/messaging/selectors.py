"""Reading conversations: who may see which, what is unread, the staff inbox.

Access is the same rule everywhere (pages, downloads, the socket): the conversation's own member,
or anyone on its organization's team. Everybody else is told it does not exist.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from treffpunkt.accounts.models import Organization, User
from treffpunkt.messaging.models import (
    Conversation,
    InquiryTopic,
    Message,
    MessagingPolicy,
    ReadMarker,
    Status,
)

Side = Literal["member", "staff"]
InboxFilter = Literal["open", "unassigned", "mine", "closed"]
INBOX_FILTERS: tuple[InboxFilter, ...] = ("open", "unassigned", "mine", "closed")


class ConversationNotFound(Exception):
    """No such conversation, or not one this user may see: the same answer for both."""


def side_of(user: User) -> Side | None:
    if user.is_member:
        return "member"
    if user.is_team:
        return "staff"
    return None


def visible_conversations(user: User) -> QuerySet[Conversation]:
    if user.is_member:
        return Conversation.objects.filter(member=user)
    if user.is_team:
        return Conversation.objects.filter(organization=user.organization)
    return Conversation.objects.none()


def may_take_part(user: User, conversation: Conversation) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_member:
        return conversation.member_id == user.pk
    return user.is_team and conversation.organization_id == user.organization_id


def conversation_for(user: User, conversation_id: int) -> Conversation:
    conversation = (
        visible_conversations(user)
        .select_related("member", "assigned_to", "topic", "appointment__consultation_type")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise ConversationNotFound
    return conversation


def _marker_of(user: User) -> Coalesce:
    marker = ReadMarker.objects.filter(conversation=OuterRef("pk"), user=user).values(
        "last_read_id"
    )[:1]
    return Coalesce(Subquery(marker), 0)


def _unread_condition(user: User) -> Q:
    """Unread = the other side wrote something newer than this user's marker."""
    other_side = "last_staff_message_id" if user.is_member else "last_member_message_id"
    return Q(**{f"{other_side}__gt": F("read_up_to")})


def with_unread(conversations: QuerySet[Conversation], user: User) -> QuerySet[Conversation]:
    """Adds ``unread`` (bool) for this user to each conversation."""
    return conversations.annotate(read_up_to=_marker_of(user)).annotate(
        unread=ExpressionWrapper(_unread_condition(user), output_field=BooleanField())
    )


def staff_share(user: User) -> QuerySet[Conversation]:
    """Open conversations that are this staff member's to answer: theirs and nobody's."""
    return visible_conversations(user).filter(
        Q(assigned_to=user) | Q(assigned_to__isnull=True), status=Status.OPEN
    )


def unread_count(user: User) -> int:
    """Conversations with something unread, for the navigation."""
    if user.is_member:
        conversations = visible_conversations(user)
    elif user.is_team:
        conversations = staff_share(user)
    else:
        return 0
    return only_unread(conversations, user).count()


def only_unread(conversations: QuerySet[Conversation], user: User) -> QuerySet[Conversation]:
    return conversations.annotate(read_up_to=_marker_of(user)).filter(_unread_condition(user))


def member_conversations(member: User) -> QuerySet[Conversation]:
    return with_unread(
        visible_conversations(member).select_related(
            "topic", "appointment__consultation_type", "assigned_to"
        ),
        member,
    )


def inbox(user: User, which: InboxFilter) -> QuerySet[Conversation]:
    conversations = visible_conversations(user).select_related(
        "member", "assigned_to", "topic", "appointment__consultation_type"
    )
    if which == "closed":
        conversations = conversations.filter(status=Status.CLOSED).order_by("-closed_at", "-pk")
    else:
        conversations = conversations.filter(status=Status.OPEN)
        if which == "unassigned":
            conversations = conversations.filter(assigned_to__isnull=True)
        elif which == "mine":
            conversations = conversations.filter(assigned_to=user)
    return with_unread(conversations, user)


def messages_of(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("author").prefetch_related("attachments")


def read_by_other_side(conversation: Conversation, side: Side) -> int:
    """The highest message id the other side has seen (for "gelesen" under one's own messages)."""
    readers = ReadMarker.objects.filter(conversation=conversation)
    if side == "member":
        readers = readers.exclude(user_id=conversation.member_id)
    else:
        readers = readers.filter(user_id=conversation.member_id)
    marker = readers.order_by("-last_read_id").values_list("last_read_id", flat=True).first()
    return marker or 0


def offered_topics(organization: Organization | None) -> QuerySet[InquiryTopic]:
    return InquiryTopic.objects.filter(organization=organization, is_active=True)


def policy_for(organization: Organization) -> MessagingPolicy:
    policy, _ = MessagingPolicy.objects.get_or_create(organization=organization)
    return policy


def live_state(conversation_id: int) -> dict[str, Any]:
    """What a page that missed events needs besides the messages: the conversation's state as
    of its newest event number (the ``state`` event of a sync)."""
    conversation = Conversation.objects.select_related("assigned_to").get(pk=conversation_id)
    marks = ReadMarker.objects.filter(conversation_id=conversation_id).values_list(
        "user_id", "last_read_id"
    )
    read = {"member": 0, "staff": 0}
    for user_id, last_read in marks:
        side = "member" if user_id == conversation.member_id else "staff"
        read[side] = max(read[side], last_read)
    assignee = conversation.assigned_to
    return {
        "type": "state",
        "seq": conversation.event_seq,
        "status": conversation.status,
        "assignee": assignee.display_name if assignee else None,
        "read": read,
    }


def current_seq(conversation_id: int) -> int:
    """The number of the conversation's newest event."""
    found = Conversation.objects.filter(pk=conversation_id).values_list("event_seq", flat=True)
    return next(iter(found), 0)
