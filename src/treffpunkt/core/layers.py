"""The channel layers: the embedded mode's (one process, no Redis) and the one over Redis."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer


class ProcessChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer, with its clean-up of expired messages and group memberships
    run at most once a second instead of on every receive and group send.

    That clean-up walks every channel and every group membership of the process. With 1,000
    open pages each message costs several receives, so it took most of the event loop's time
    per message (bench/msg_latency.py --profile). Expiry is a safety net for pages that vanished
    without a goodbye (60 s for messages, a day for memberships); a second more changes
    nothing."""

    clean_interval_seconds = 1.0
    _last_clean = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_clean < self.clean_interval_seconds:
            return
        self._last_clean = now
        super()._clean_expired()


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """channels_redis's publish/subscribe layer, with one round trip for the group sends one
    change makes (``group_send_many``).

    Each of its publishes holds the connection's lock for a whole round trip to Redis, so a
    busy process's publishes queue behind one another: a message makes two or three (the
    conversation, the other person's notice, the unread counts), and at saturation one
    process carried 227 messages/s over Redis against 360 in memory (bench/msg_latency.py
    --redis). Sent as one pipeline, they take the lock and the trip once."""

    async def group_send_many(self, sends: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Send each ``(group, message)`` in order, one pipeline per Redis shard."""
        layer = self._get_layer()
        batches: dict[int, tuple[Any, list[tuple[str, bytes]]]] = {}
        for group, message in sends:
            channel = layer._get_group_channel_name(group)
            shard = layer._get_shard(channel)
            batches.setdefault(id(shard), (shard, []))[1].append((channel, self.serialize(message)))
        for shard, items in batches.values():
            await _publish_all(shard, items)


async def _publish_all(shard: Any, items: list[tuple[str, bytes]]) -> None:
    # As RedisSingleShardConnection.publish does it, for several messages at once.
    async with shard._lock:
        shard._ensure_redis()
        pipeline = shard._redis.pipeline(transaction=False)
        for channel, data in items:
            pipeline.publish(channel, data)
        await pipeline.execute()
