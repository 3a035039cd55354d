"""Pushing events to open pages. Domain code calls these inside its transaction; the event
leaves only after commit, so nobody hears of a change that rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import msgspec
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from treffpunkt.core.registries import registry

GroupSend = tuple[str, dict[str, Any]]

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
    """Send ``event`` (a registered live event) to the user's open pages after commit."""
    send_to_group_after_commit(
        user_group(user_id), {"type": "user.event", "event": checked_event(event)}
    )
