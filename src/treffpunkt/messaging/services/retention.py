"""Retention: the messages and files of a conversation are deleted when it has been closed
longer than its organization keeps them; the conversation itself stays, emptied."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from treffpunkt.core import audit, clock
from treffpunkt.messaging import files
from treffpunkt.messaging.models import (
    Attachment,
    Conversation,
    MemberNotice,
    MessagingPolicy,
    ReadMarker,
    Status,
)


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
