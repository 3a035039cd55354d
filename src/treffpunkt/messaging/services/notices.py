"""The notification mails (P-MSG-2, P-MSG-3): a member hears by mail that something waits,
once per batching window and not while reading; staff may get a digest of their unread
conversations. No mail carries anything of a conversation."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min

from treffpunkt.accounts.models import User
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import NotAllowed
from treffpunkt.messaging.models import (
    Conversation,
    MemberNotice,
    Message,
    ReadMarker,
    StaffDigest,
)
from treffpunkt.messaging.selectors import only_unread, staff_share, unread_count
from treffpunkt.messaging.services.reading import _is_reading
from treffpunkt.notifications.services import queue_mail

# While the member has the conversation open somewhere, look again this much later.
RECHECK_WHILE_PRESENT = timedelta(minutes=1)


def batching_window() -> timedelta:
    return timedelta(minutes=settings.MESSAGE_NOTICE_WINDOW_MINUTES)


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


# --- staff digests ---------------------------------------------------------------------------


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
