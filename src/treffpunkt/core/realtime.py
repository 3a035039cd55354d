"""Pushing events to open pages. Domain code calls these inside its transaction; the event
leaves only after commit, so nobody hears of a change that rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import msgspec
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, connection, transaction

from treffpunkt.core import clock, lean
from treffpunkt.core.models import LiveEvent, LiveEventStream
from treffpunkt.core.registries import registry

GroupSend = tuple[str, dict[str, Any]]

# A page that missed more than this many events of its user's stream reloads instead.
MISSED_LIMIT = 500
LIVE_EVENT_KEEP = timedelta(days=1)

# Set while a consumer's own database work runs in the worker thread (``sends_collected``).
_collected: ContextVar[list[GroupSend] | None] = ContextVar("treffpunkt_sends", default=None)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def send_to_group_after_commit(group: str, message: dict[str, Any]) -> None:
    """``message["type"]`` names the consumer handler that receives it."""

    def send() -> None:
        collected = _collected.get()
        if collected is not None:
            collected.append((group, message))
            return
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)


@contextmanager
def sends_collected() -> Iterator[list[GroupSend]]:
    """Inside, the group sends that become due on commit are collected instead of sent, for the
    consumer on whose behalf the code runs to send them on its event loop (``send_all``).

    Channels runs all of a process's database work in one worker thread. Sending from there
    means waiting for the event loop, which is busy with every open socket, once per event:
    the thread, and the queue of work behind it, stands still meanwhile. Collected, the thread
    is free as soon as the transaction is committed."""
    collected: list[GroupSend] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


async def send_all(sends: list[GroupSend]) -> None:
    """Send collected group messages, in the order they became due."""
    layer = get_channel_layer()
    if layer is None:
        return
    many = getattr(layer, "group_send_many", None)  # one round trip over Redis
    if many is not None and len(sends) > 1:
        await many(sends)
        return
    for group, message in sends:
        await layer.group_send(group, message)


def checked_event(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as registered: its type is known and its payload has exactly its schema's
    shape. A mismatch is a programming error and fails where the event is made."""
    kind = event.get("type")
    registered = registry.live_events.get(kind) if isinstance(kind, str) else None
    if registered is None:
        raise LookupError(f"live event {kind!r} is not registered by its app")
    msgspec.convert(event, registered.schema)
    return event


def notify_user(user_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` (a registered live event) to the user's open pages after commit.

    The event takes the next number of the user's stream and is kept (``LiveEvent``) in the
    same transaction: a page that sees a number skipped, or comes back after a drop, fetches
    what it missed (``missed_user_events``) instead of silently going without it."""
    checked = checked_event(event)
    # Inside the caller's transaction no savepoint of its own (two round trips saved on every
    # notice); alone, the number and the kept event still commit together.
    with transaction.atomic(savepoint=False):
        seq = _take_user_seq(user_id)
        numbered = {**checked, "seq": seq}
        lean.insert(LiveEvent(user_id=user_id, seq=seq, event=numbered, created_at=clock.now()))
    send_to_group_after_commit(user_group(user_id), {"type": "user.event", "event": numbered})


def _take_user_seq(user_id: int) -> int:
    """The next number of the user's stream. The update holds the counter row's lock until the
    transaction ends, so numbers follow the order of commits and none is given twice."""
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "core_liveeventstream" SET "last_seq" = "last_seq" + 1 '
            'WHERE "user_id" = %s RETURNING "last_seq"',
            [user_id],
        )
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    try:
        with transaction.atomic():
            LiveEventStream.objects.create(user_id=user_id, last_seq=1)
    except IntegrityError:
        return _take_user_seq(user_id)  # another event for this person made the row just now
    return 1


def current_user_seq(user_id: int) -> int:
    """The number of the newest event of the user's stream (0 before the first)."""
    found = LiveEventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True)
    return next(iter(found), 0)


def missed_user_events(
    user_id: int, *, after_seq: int, limit: int = MISSED_LIMIT
) -> list[dict[str, Any]]:
    """The user's kept events numbered after ``after_seq``, oldest first."""
    return list(
        LiveEvent.objects.filter(user_id=user_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("event", flat=True)[:limit]
    )


def forget_old_live_events(*, now: datetime | None = None) -> int:
    """Delete kept live events older than ``LIVE_EVENT_KEEP``: a page gone that long reloads
    and shows the current state anyway."""
    from treffpunkt.core import audit

    cutoff = (now or clock.now()) - LIVE_EVENT_KEEP
    with transaction.atomic():
        deleted, _per_model = LiveEvent.objects.filter(created_at__lt=cutoff).delete()
        audit.record("core.live_events.forgotten", actor=None, data={"deleted": deleted})
    return deleted
