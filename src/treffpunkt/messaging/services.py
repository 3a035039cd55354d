"""The only way messages, conversations and their state change (P-MSG-1 … P-MSG-3).

Every function is atomic; events and mails leave only after commit. Reading (``mark_read``) and
page presence change state but are not audited: they are not decisions anybody needs to trace,
and the audit log would otherwise grow with every glance at a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.messaging import files, realtime
from treffpunkt.messaging.models import (
    Attachment,
    Conversation,
    ConversationPresence,
    InquiryTopic,
    MemberNotice,
    Message,
    MessagingPolicy,
    ReadMarker,
    StaffDigest,
    Status,
)
from treffpunkt.messaging.selectors import (
    ConversationNotFound,
    may_take_part,
    only_unread,
    side_of,
    staff_share,
    unread_count,
)
from treffpunkt.notifications.services import queue_mail

MAX_TEXT_CHARS = 5000
# A page counts as open while its socket was heard from within this time (pings every 30 s).
PRESENCE_TIMEOUT = timedelta(seconds=90)
# While the member has the conversation open somewhere, look again this much later.
RECHECK_WHILE_PRESENT = timedelta(minutes=1)


def batching_window() -> timedelta:
    return timedelta(minutes=settings.MESSAGE_NOTICE_WINDOW_MINUTES)


# --- writing ---------------------------------------------------------------------------------


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


def _check_rate(author: User, now: datetime) -> None:
    limit = settings.MESSAGES_PER_MINUTE
    recent = Message.objects.filter(author=author, created_at__gt=now - timedelta(minutes=1))
    if recent.count() >= limit:
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
    message = Message.objects.create(
        conversation=conversation, author=author, from_member=from_member, text=text, created_at=now
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
    changed: dict[str, Any] = {"last_message_at": now}
    if from_member:
        changed["last_member_message_id"] = message.pk
    else:
        changed["last_staff_message_id"] = message.pk
        if conversation.assigned_to_id is None:
            # The first person of the team to answer takes the conversation on.
            changed["assigned_to"] = author
    if conversation.status == Status.CLOSED:
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
    realtime.to_conversation(conversation.pk, realtime.message_event(message, posted.attachments))
    if reopened:
        realtime.to_conversation(conversation.pk, {"type": "status", "status": Status.OPEN})
    if assigned_now:
        _announce_assignment(conversation)
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
) -> Posted:
    """A new message (with up to five files) from the member or someone of the team."""
    if not may_take_part(author, conversation):
        raise NotAllowed
    text, checked = _check_content(text, uploads or [])
    now = clock.now()
    stored = _store_files(checked)
    try:
        with transaction.atomic():
            locked = (
                Conversation.objects.select_for_update(of=("self",))
                .select_related("organization")
                .get(pk=conversation.pk)
            )
            _check_rate(author, now)
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


# --- reading ---------------------------------------------------------------------------------


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
            realtime.to_conversation(
                conversation.pk, {"type": "read", "side": side_of(user), "up_to": target}
            )
            realtime.recount_for_user(user.pk)
        marker = ReadMarker.objects.filter(conversation=conversation, user=user).first()
        return marker.last_read_id if marker else 0


# --- the team's handling -------------------------------------------------------------------


def _team_member(actor: User, conversation: Conversation) -> None:
    if not (actor.is_team and actor.organization_id == conversation.organization_id):
        raise NotAllowed


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


def assign(*, actor: User, conversation: Conversation, staff: User | None) -> Conversation:
    """Give the conversation to a team member of its organization, or to nobody."""
    _team_member(actor, conversation)
    if staff is not None and not (
        staff.is_team and staff.is_active and staff.organization_id == conversation.organization_id
    ):
        raise DomainError(_("Please choose someone from your organization's team."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.assigned_to_id == (staff.pk if staff else None):
            return locked
        locked.assigned_to = staff
        locked.save(update_fields=["assigned_to"])
        _audit(locked, "assigned", actor=actor, data={"to": staff.pk if staff else None})
        _announce_assignment(locked)
    return locked


def close(*, actor: User, conversation: Conversation) -> Conversation:
    """Done for now. The member may still write, which opens it again; messages are deleted
    the organization's retention time after closing."""
    _team_member(actor, conversation)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status == Status.CLOSED:
            return locked
        locked.status = Status.CLOSED
        locked.closed_at = clock.now()
        locked.save(update_fields=["status", "closed_at"])
        _audit(locked, "closed", actor=actor)
        realtime.to_conversation(locked.pk, {"type": "status", "status": Status.CLOSED})
        realtime.recount_for_team(locked.organization_id)
    return locked


def reopen(*, actor: User, conversation: Conversation) -> Conversation:
    _team_member(actor, conversation)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status == Status.OPEN:
            return locked
        locked.status = Status.OPEN
        locked.closed_at = None
        locked.save(update_fields=["status", "closed_at"])
        _audit(locked, "reopened", actor=actor)
        realtime.to_conversation(locked.pk, {"type": "status", "status": Status.OPEN})
        realtime.recount_for_team(locked.organization_id)
    return locked


# --- presence on the page ------------------------------------------------------------------


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


# --- notification mails (P-MSG-2) ------------------------------------------------------------


def _schedule_member_notice(conversation: Conversation, *, now: datetime) -> None:
    """The first unread message opens a batching window; one mail at its end covers every
    message written meanwhile (and none goes if the member read them)."""
    notice, created = MemberNotice.objects.get_or_create(
        conversation=conversation,
        user_id=conversation.member_id,
        defaults={"due_at": now + batching_window()},
    )
    if not created and notice.due_at is None:
        earliest = now + batching_window()
        if notice.last_sent_at is not None:
            earliest = max(earliest, notice.last_sent_at + batching_window())
        MemberNotice.objects.filter(pk=notice.pk, due_at__isnull=True).update(due_at=earliest)


def _member_has_unread(notice: MemberNotice) -> bool:
    conversation = notice.conversation
    marker = ReadMarker.objects.filter(conversation=conversation, user=notice.user).first()
    return conversation.last_staff_message_id > (marker.last_read_id if marker else 0)


def _send_member_notice(notice_id: int, now: datetime) -> bool:
    with transaction.atomic():
        notice = (
            MemberNotice.objects.select_for_update()
            .select_related("conversation", "user")
            .filter(pk=notice_id, due_at__lte=now)
            .first()
        )
        if notice is None:
            return False
        if not notice.user.is_active or not _member_has_unread(notice):
            notice.due_at = None
            notice.save(update_fields=["due_at"])
            return False
        if _is_reading(notice.user_id, notice.conversation_id, now):
            notice.due_at = now + RECHECK_WHILE_PRESENT
            notice.save(update_fields=["due_at"])
            return False
        # Nothing of the conversation goes into the mail: not the text, the topic, the staff
        # member or a file name (P-MSG-2). Only that something waits, and where.
        queue_mail(
            template="messaging/new_message",
            context={"link": notice.conversation.get_absolute_url()},
            recipient=notice.user,
        )
        notice.due_at = None
        notice.last_sent_at = now
        notice.save(update_fields=["due_at", "last_sent_at"])
        return True


def send_member_notices() -> int:
    now = clock.now()
    due = MemberNotice.objects.filter(due_at__lte=now).values_list("pk", flat=True)
    return sum(_send_member_notice(pk, now) for pk in list(due[:500]))


def set_digest(*, user: User, enabled: bool) -> StaffDigest:
    if not user.is_team:
        raise NotAllowed
    with transaction.atomic():
        digest, _created = StaffDigest.objects.select_for_update().get_or_create(user=user)
        if digest.enabled != enabled:
            digest.enabled = enabled
            if enabled:
                # Only what arrives from now on: no digest of old messages.
                newest = Message.objects.aggregate(newest=Max("pk"))["newest"] or 0
                digest.covered_up_to = max(digest.covered_up_to, newest)
            digest.save(update_fields=["enabled", "covered_up_to"])
            audit.record(
                "messaging.digest.changed",
                actor=user,
                target=user,
                organization=user.organization,
                data={"enabled": enabled},
            )
    return digest


def _send_digest(digest_id: int, now: datetime) -> bool:
    with transaction.atomic():
        digest = StaffDigest.objects.select_for_update().select_related("user").get(pk=digest_id)
        user = digest.user
        if not (digest.enabled and user.is_active and user.is_team):
            return False
        if digest.last_sent_at is not None and now - digest.last_sent_at < batching_window():
            return False
        unread = only_unread(staff_share(user), user)
        news = Message.objects.filter(
            conversation__in=unread.values("pk"), from_member=True, pk__gt=digest.covered_up_to
        ).aggregate(first=Min("created_at"), newest=Max("pk"))
        if news["first"] is None or news["first"] > now - batching_window():
            return False
        queue_mail(
            template="messaging/staff_digest",
            context={"count": unread_count(user), "link": "/nachrichten/posteingang/"},
            recipient=user,
        )
        digest.last_sent_at = now
        digest.covered_up_to = news["newest"]
        digest.save(update_fields=["last_sent_at", "covered_up_to"])
        return True


def send_staff_digests() -> int:
    now = clock.now()
    enabled = StaffDigest.objects.filter(enabled=True).values_list("pk", flat=True)
    return sum(_send_digest(pk, now) for pk in list(enabled))


# --- retention -------------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the last day of the month
    where that day does not exist)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a first day")


def _purge(conversation_id: int, cutoff: datetime, now: datetime) -> bool:
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .select_related("organization")
            .filter(
                pk=conversation_id,
                status=Status.CLOSED,
                closed_at__lt=cutoff,
                contents_deleted_at__isnull=True,
            )
            .first()
        )
        if conversation is None:
            return False
        stored = list(
            Attachment.objects.filter(message__conversation=conversation).values_list(
                "stored_name", flat=True
            )
        )
        deleted_messages = conversation.messages.count()
        conversation.messages.all().delete()
        ReadMarker.objects.filter(conversation=conversation).delete()
        MemberNotice.objects.filter(conversation=conversation).delete()
        Conversation.objects.filter(pk=conversation.pk).update(
            contents_deleted_at=now, last_member_message_id=0, last_staff_message_id=0
        )
        audit.record(
            "messaging.conversation.contents_deleted",
            actor=None,
            target=conversation,
            organization=conversation.organization,
            data={
                "messages": deleted_messages,
                "attachments": len(stored),
                "closed_at": conversation.closed_at.isoformat() if conversation.closed_at else "",
            },
        )
        transaction.on_commit(lambda: files.remove(stored))
        return True


def delete_expired_messages() -> int:
    """Messages and files of conversations closed longer ago than their organization keeps
    them. Returns how many conversations were emptied."""
    now = clock.now()
    default_months = MessagingPolicy._meta.get_field("retention_months").get_default()
    months_by_org = dict(MessagingPolicy.objects.values_list("organization_id", "retention_months"))
    candidates = Conversation.objects.filter(
        status=Status.CLOSED, contents_deleted_at__isnull=True, closed_at__isnull=False
    ).values_list("pk", "organization_id", "closed_at")
    emptied = 0
    for conversation_id, organization_id, closed_at in candidates:
        cutoff = months_before(now, months_by_org.get(organization_id, default_months))
        if closed_at is not None and closed_at < cutoff:
            emptied += _purge(conversation_id, cutoff, now)
    return emptied


# --- the org admin's setup ---------------------------------------------------------------------


def _org_admin(admin: User) -> None:
    if not admin.is_org_admin:
        raise NotAllowed


def _save_topic(topic: InquiryTopic) -> None:
    try:
        with transaction.atomic():
            topic.save()
    except IntegrityError as exc:
        raise DomainError(
            _("A topic with this name exists already."), code="duplicate_topic"
        ) from exc


def add_topic(*, admin: User, name: str, is_active: bool = True) -> InquiryTopic:
    _org_admin(admin)
    with transaction.atomic():
        topic = InquiryTopic(
            organization=admin.organization, name=name.strip(), is_active=is_active
        )
        _save_topic(topic)
        audit.record(
            "messaging.topic.added",
            actor=admin,
            target=topic,
            organization=admin.organization,
            data={"name": topic.name},
        )
    return topic


def change_topic(*, admin: User, topic: InquiryTopic, name: str, is_active: bool) -> InquiryTopic:
    """Rename or withdraw a topic. Conversations already on it keep it."""
    _org_admin(admin)
    if topic.organization_id != admin.organization_id:
        raise NotAllowed
    with transaction.atomic():
        topic.name = name.strip()
        topic.is_active = is_active
        _save_topic(topic)
        audit.record(
            "messaging.topic.changed",
            actor=admin,
            target=topic,
            organization=admin.organization,
            data={"name": topic.name, "active": is_active},
        )
    return topic


def set_retention(*, admin: User, months: int) -> MessagingPolicy:
    _org_admin(admin)
    if not 1 <= months <= 120:
        raise DomainError(_("Please enter between 1 and 120 months."), code="retention")
    with transaction.atomic():
        policy, _created = MessagingPolicy.objects.select_for_update().get_or_create(
            organization=admin.organization
        )
        before = policy.retention_months
        policy.retention_months = months
        policy.save(update_fields=["retention_months"])
        audit.record(
            "messaging.retention.changed",
            actor=admin,
            target=policy,
            organization=admin.organization,
            data={"before": before, "months": months},
        )
    return policy
