"""Writing: a new message (with its files) from the member or the team, a member's inquiry on a
topic, and the conversation that comes with an appointment (P-MSG-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, Subquery
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.messaging import files, realtime
from treffpunkt.messaging.models import Attachment, Conversation, InquiryTopic, Message, Status
from treffpunkt.messaging.selectors import may_take_part
from treffpunkt.messaging.services._common import (
    _advance_marker,
    _announce_assignment,
    _audit,
    _publish,
)
from treffpunkt.messaging.services.notices import _schedule_member_notice

MAX_TEXT_CHARS = 5000


def _clean_text(text: str) -> str:
    """Line breaks normalized, control characters (but tab and newline) removed, outer blank
    space trimmed. Markup is kept as typed: pages render it as text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable() or ch == " ")
    return text.strip()


def _check_content(text: str, uploads: list[files.Upload]) -> tuple[str, list[files.CheckedFile]]:
    text = _clean_text(text)
    if len(text) > MAX_TEXT_CHARS:
        raise DomainError(
            _("Your message is too long: %(count)d characters, at most %(limit)d are possible.")
            % {"count": len(text), "limit": MAX_TEXT_CHARS},
            code="too_long",
        )
    checked = files.check_uploads(uploads)
    if not text and not checked:
        raise DomainError(_("Please write a message or attach a file."), code="empty")
    return text, checked


def _recent_by(author: User, now: datetime) -> Subquery:
    """How many messages ``author`` wrote in the last minute, as a subquery: read in the same
    round trip as the conversation's lock."""
    recent = (
        Message.objects.filter(author=author, created_at__gt=now - timedelta(minutes=1))
        .order_by()
        .values("author")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Subquery(recent, output_field=IntegerField())


def _author_now(author: User) -> dict[str, Subquery]:
    """The author's current standing, as subqueries for the lock query."""
    row = User.objects.filter(pk=author.pk)
    return {
        "author_is_active": Subquery(row.values("is_active")),
        "author_role": Subquery(row.values("role")),
        "author_organization_id": Subquery(row.values("organization_id")),
    }


def _check_rate(recent: int | None) -> None:
    if (recent or 0) >= settings.MESSAGES_PER_MINUTE:
        raise DomainError(
            _("You are sending messages very quickly. Please wait a minute and try again."),
            code="too_fast",
        )


def _store_files(checked: list[files.CheckedFile]) -> list[files.StoredFile]:
    stored: list[files.StoredFile] = []
    try:
        for item in checked:
            stored.append(files.store(item))
    except OSError:
        files.remove([item.stored_name for item in stored])
        raise
    return stored


CHANGED_BY_A_MESSAGE = (
    "status",
    "closed_at",
    "assigned_to_id",
    "last_message_at",
    "last_member_message_id",
    "last_staff_message_id",
    "event_seq",
)


@dataclass(frozen=True)
class Posted:
    message: Message
    attachments: list[Attachment]


def _write_message(
    *,
    conversation: Conversation,
    author: User,
    text: str,
    checked: list[files.CheckedFile],
    stored: list[files.StoredFile],
    now: datetime,
) -> Posted:
    from_member = author.is_member
    reopens = conversation.status == Status.CLOSED
    takes_on = not from_member and conversation.assigned_to_id is None
    # The conversation's row is locked: its event numbers are taken here without a query of
    # their own, one each for the message, the reopening and the assignment it causes.
    message = Message.objects.create(
        conversation=conversation,
        author=author,
        from_member=from_member,
        text=text,
        created_at=now,
        seq=conversation.event_seq + 1,
    )
    attachments = Attachment.objects.bulk_create(
        Attachment(
            message=message,
            file_name=item.display_name,
            content_type=item.kind.content_type,
            size=item.size,
            stored_name=saved.stored_name,
            sha256=saved.sha256,
        )
        for item, saved in zip(checked, stored, strict=True)
    )
    changed: dict[str, Any] = {
        "last_message_at": now,
        "event_seq": conversation.event_seq + 1 + int(reopens) + int(takes_on),
    }
    if from_member:
        changed["last_member_message_id"] = message.pk
    else:
        changed["last_staff_message_id"] = message.pk
        if takes_on:
            # The first person of the team to answer takes the conversation on.
            changed["assigned_to"] = author
    if reopens:
        # Writing into a closed conversation opens it again, so nothing goes unanswered.
        changed.update(status=Status.OPEN, closed_at=None)
    Conversation.objects.filter(pk=conversation.pk).update(**changed)
    for name, value in changed.items():
        setattr(conversation, name, value)
    _advance_marker(conversation=conversation, user=author, up_to=message.pk)
    return Posted(message=message, attachments=attachments)


def _after_message(
    conversation: Conversation, posted: Posted, *, reopened: bool, assigned_now: bool
) -> None:
    message = posted.message
    seq = message.seq
    _publish(conversation.pk, realtime.message_event(message, posted.attachments), seq=seq)
    if reopened:
        seq += 1
        _publish(conversation.pk, {"type": "status", "status": Status.OPEN}, seq=seq)
    if assigned_now:
        seq += 1
        _announce_assignment(conversation, seq=seq)
    if message.from_member:
        realtime.recount_for_team(conversation.organization_id)
    else:
        _schedule_member_notice(conversation, now=message.created_at)
        realtime.recount_for_user(conversation.member_id)
        realtime.tell_member_of_new_message(conversation)
        if reopened:
            realtime.recount_for_team(conversation.organization_id)


def post_message(
    *,
    author: User,
    conversation: Conversation,
    text: str,
    uploads: list[files.Upload] | None = None,
    recheck_author: bool = False,
) -> Posted:
    """A new message (with up to five files) from the member or someone of the team.

    ``recheck_author``: ``author`` may be hours old (a socket's user): whether they may still
    write (active, same role and organization) is read again with the conversation's lock, in
    the same round trip."""
    if not may_take_part(author, conversation):
        raise NotAllowed
    text, checked = _check_content(text, uploads or [])
    now = clock.now()
    stored = _store_files(checked)
    try:
        with transaction.atomic():
            found = (
                Conversation.objects.select_for_update(of=("self",))
                .select_related("organization")
                .annotate(recent_by_author=_recent_by(author, now))
            )
            if recheck_author:
                found = found.annotate(**_author_now(author))
            locked = found.get(pk=conversation.pk)
            if recheck_author:
                standing: Any = locked  # carries the annotations of _author_now
                author.is_active = standing.author_is_active
                author.role = standing.author_role
                author.organization_id = standing.author_organization_id
                if not may_take_part(author, locked):
                    raise NotAllowed
            _check_rate(locked.recent_by_author)
            reopened = locked.status == Status.CLOSED
            assigned_before = locked.assigned_to_id
            posted = _write_message(
                conversation=locked,
                author=author,
                text=text,
                checked=checked,
                stored=stored,
                now=now,
            )
            if reopened:
                _audit(locked, "reopened", actor=author)
            audit.record(
                "messaging.message.posted",
                actor=author,
                target=posted.message,
                organization=locked.organization,
                data={"conversation": locked.pk, "attachments": len(posted.attachments)},
            )
            assigned_now = locked.assigned_to_id != assigned_before
            if assigned_now:
                _audit(locked, "assigned", actor=author, data={"to": locked.assigned_to_id})
            _after_message(locked, posted, reopened=reopened, assigned_now=assigned_now)
    except BaseException:
        files.remove([item.stored_name for item in stored])
        raise
    # The caller's object reflects the change too (pages render it right after), without
    # reading it again.
    for name in CHANGED_BY_A_MESSAGE:
        setattr(conversation, name, getattr(locked, name))
    return posted


def start_inquiry(
    *, member: User, topic: InquiryTopic, text: str, uploads: list[files.Upload] | None = None
) -> Conversation:
    """A member's general inquiry on a topic their organization offers; the first message is
    part of it (a conversation never starts empty)."""
    if not member.is_member or topic.organization_id != member.organization_id:
        raise NotAllowed
    if not topic.is_active:
        raise DomainError(_("This topic is no longer offered. Please choose another one."))
    # One transaction: bad content in the first message leaves no empty conversation behind.
    with transaction.atomic():
        conversation = Conversation.objects.create(
            organization_id=topic.organization_id,
            member=member,
            topic=topic,
            created_at=clock.now(),
        )
        _audit(conversation, "opened", actor=member, data={"topic": topic.pk})
        post_message(author=member, conversation=conversation, text=text, uploads=uploads)
    return conversation


def open_for_appointment(*, appointment: Appointment) -> Conversation:
    """The appointment's conversation, opened with the request (called by booking). Its staff
    member has it from the start."""
    conversation, created = Conversation.objects.get_or_create(
        appointment=appointment,
        defaults={
            "organization_id": appointment.organization_id,
            "member_id": appointment.member_id,
            "assigned_to_id": appointment.staff_id,
            "created_at": clock.now(),
        },
    )
    if created:
        _audit(conversation, "opened", actor=None, data={"appointment": appointment.pk})
    return conversation
