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


class Listener:
    """A channel in ``GROUP`` whose receive stays pending between looks. Cancelling a receive
    (``wait_for`` timing out) ends the channel's subscription on the Redis publish/subscribe
    layer, so a later event would never arrive: only what a page's consumer never does."""

    def __init__(self, layer: Any, channel: str) -> None:
        self.layer = layer
        self.channel = channel
        self.pending: asyncio.Future[Any] | None = None

    async def next(self, timeout: float = 0.5) -> dict[str, Any] | None:
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.layer.receive(self.channel))
        done, _ = await asyncio.wait({self.pending}, timeout=timeout)
        if not done:
            return None
        finished, self.pending = self.pending, None
        return dict(finished.result())

    def close(self) -> None:
        if self.pending is not None:
            self.pending.cancel()


async def listener() -> Listener:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    return Listener(layer, channel)


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
    page = await listener()
    await sync_to_async(committed_and_rolled_back)()
    assert await page.next() == EVENT
    assert await page.next() is None
    page.close()


async def test_while_collected_the_events_wait_for_the_consumer_to_send_them():
    page = await listener()
    sends = await sync_to_async(collected_while_committed_and_rolled_back)()
    assert sends == [(GROUP, EVENT)]
    assert await page.next() is None  # nothing went out from the worker thread
    await send_all(sends)
    assert await page.next() == EVENT
    # Outside the block, sending after commit is immediate again.
    await sync_to_async(committed_and_rolled_back)()
    assert await page.next() == EVENT
    page.close()
