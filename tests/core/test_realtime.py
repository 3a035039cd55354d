"""Events to open pages leave after commit only; a consumer's own database work hands them back
to the consumer instead of sending them from the worker thread."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from treffpunkt.core.realtime import (
    GroupSend,
    send_all,
    send_to_group_after_commit,
    sends_collected,
)

pytestmark = pytest.mark.django_db(transaction=True)

GROUP = "test.group"
EVENT: dict[str, Any] = {"type": "user.event", "event": {"type": "ping"}}


async def listener() -> tuple[Any, str]:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    return layer, channel


async def waiting(layer: Any, channel: str) -> dict[str, Any] | None:
    try:
        return dict(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
    except TimeoutError:
        return None


def committed_and_rolled_back() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        send_to_group_after_commit(GROUP, {"type": "rolled.back"})
        raise RuntimeError("rolled back")
    with transaction.atomic():
        send_to_group_after_commit(GROUP, EVENT)


def collected_while_committed_and_rolled_back() -> list[GroupSend]:
    with sends_collected() as sends:
        committed_and_rolled_back()
    return sends


async def test_an_event_leaves_after_commit_and_not_at_all_after_a_rollback():
    layer, channel = await listener()
    await sync_to_async(committed_and_rolled_back)()
    assert await waiting(layer, channel) == EVENT
    assert await waiting(layer, channel) is None


async def test_while_collected_the_events_wait_for_the_consumer_to_send_them():
    layer, channel = await listener()
    sends = await sync_to_async(collected_while_committed_and_rolled_back)()
    assert sends == [(GROUP, EVENT)]
    assert await waiting(layer, channel) is None  # nothing went out from the worker thread
    await send_all(sends)
    assert await waiting(layer, channel) == EVENT
    # Outside the block, sending after commit is immediate again.
    await sync_to_async(committed_and_rolled_back)()
    assert await waiting(layer, channel) == EVENT
