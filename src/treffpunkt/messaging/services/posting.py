"""Writing: a new message (with its files) from the member or the team, a member's inquiry on a
topic, and the conversation that comes with an appointment (P-MSG-1)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment
from treffpunkt.core import audit, clock, lean
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


@dataclass(frozen=True)
class _Locked:
    """The conversation as locked for a new message, with what was read in the same trip."""

    conversation: Conversation
    recent_by_author: int  # messages the author wrote in the last minute
    author_is_active: bool | None = None  # the author's standing now (``recheck_author``)
    author_role: str | None = None
    author_organization_id: int | None = None


@functools.cache
def _lock_sql(vendor: str, *, recheck_author: bool) -> str:
    """One statement: the conversation's row, locked, with the author's messages of the last
    minute (the rate limit) and, when asked, the author's current standing.

    Written out rather than built by the ORM each time: built with its subqueries, this one
    statement took about 1.5 ms of CPU per message, a quarter of all the CPU a message costs
    (issue 15; the raw statement takes 0.2 ms). Columns come from the models, so a new field
    is read here too; the ORM's converters still apply (``raw``). Made once per database
    vendor (the cache key; the text depends on its features). Only identifiers from the
    models go into the text; every value is a parameter."""
    columns = ", ".join(
        f"c.{lean.quoted(field.column)}" for field in Conversation._meta.concrete_fields
    )
    recent = (
        f"(SELECT COUNT(*) FROM {lean.quoted(Message._meta.db_table)} m "  # noqa: S608 (identifiers)
        f"WHERE m.{lean.column(Message, 'author')} = %s "
        f"AND m.{lean.column(Message, 'created_at')} > %s) AS recent_by_author"
    )
    standing = ""
    joined = ""
    if recheck_author:
        standing = (
            f", u.{lean.column(User, 'is_active')} AS author_is_active"
            f", u.{lean.column(User, 'role')} AS author_role"
            f", u.{lean.column(User, 'organization')} AS author_organization_id"
        )
        joined = (
            f" LEFT JOIN {lean.quoted(User._meta.db_table)} u ON u.{lean.column(User, 'id')} = %s"
        )
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    table = lean.quoted(Conversation._meta.db_table)
    return (
        f"SELECT {columns}, {recent}{standing} FROM {table} c{joined} "  # noqa: S608 (identifiers)
        f"WHERE c.{lean.column(Conversation, 'id')} = %s{lock}"
    )


def _lock_for_message(
    conversation_id: int, *, author: User, now: datetime, recheck_author: bool
) -> _Locked:
    since = now - timedelta(minutes=1)
    params: list[Any] = [author.pk, since]
    if recheck_author:
        params.append(author.pk)
    params.append(conversation_id)
    found = list(
        Conversation.objects.raw(
            _lock_sql(connection.vendor, recheck_author=recheck_author), params
        )
    )
    if not found:
        raise Conversation.DoesNotExist
    row: Any = found[0]  # carries the extra columns as attributes
    if not recheck_author:
        return _Locked(conversation=row, recent_by_author=int(row.recent_by_author or 0))
    return _Locked(
        conversation=row,
        recent_by_author=int(row.recent_by_author or 0),
        # SQLite answers 1/0 for a boolean read this way; a deleted author reads as None.
        author_is_active=None if row.author_is_active is None else bool(row.author_is_active),
        author_role=row.author_role,
        author_organization_id=row.author_organization_id,
    )


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
    message = lean.insert(
        Message(
            conversation=conversation,
            author=author,
            from_member=from_member,
            text=text,
            created_at=now,
            seq=conversation.event_seq + 1,
        )
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
    lean.update(Conversation, conversation.pk, **changed)
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
            found = _lock_for_message(
                conversation.pk, author=author, now=now, recheck_author=recheck_author
            )
            locked = found.conversation
            if recheck_author:
                if found.author_is_active is None:
                    raise NotAllowed  # the account is gone
                author.is_active = found.author_is_active
                author.role = found.author_role or ""
                author.organization_id = found.author_organization_id
                if not may_take_part(author, locked):
                    raise NotAllowed
            _check_rate(found.recent_by_author)
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
                organization_id=locked.organization_id,
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


def open_for_appointment(*, appointment: Appointment, new: bool = False) -> Conversation:
    """The appointment's conversation, opened with the request (called by booking). Its staff
    member has it from the start.

    ``new``: the appointment was inserted in this transaction, so it has no conversation yet
    and one insert is enough (a lookup, a savepoint and an insert otherwise; the unique
    constraint on the appointment still stops a second one)."""
    fields = {
        # The instance, not its id: the audit entry below reads it without another query.
        "organization": appointment.organization,
        "member_id": appointment.member_id,
        "assigned_to_id": appointment.staff_id,
        "created_at": clock.now(),
    }
    if new:
        conversation, created = Conversation.objects.create(appointment=appointment, **fields), True
    else:
        conversation, created = Conversation.objects.get_or_create(
            appointment=appointment, defaults=fields
        )
    if created:
        _audit(conversation, "opened", actor=None, data={"appointment": appointment.pk})
    return conversation
