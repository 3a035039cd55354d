"""The Redis layer sends the several group messages of one change in one pipeline, in order
(issue 15). Also the path every socket test takes in CI's Redis pass."""

from __future__ import annotations

import os
import uuid

import pytest

from treffpunkt.core import realtime
from treffpunkt.core.layers import PubSubChannelLayer

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs Redis (REDIS_URL); CI's second pass runs it",
)


@pytest.fixture
async def layer():
    channel_layer = PubSubChannelLayer(
        hosts=[os.environ["REDIS_URL"]], prefix=f"test-{uuid.uuid4().hex[:8]}"
    )
    yield channel_layer
    await channel_layer.flush()


async def test_a_changes_group_sends_arrive_in_order_from_one_pipeline(layer, monkeypatch):
    page_a = await layer.new_channel()
    page_b = await layer.new_channel()
    await layer.group_add("conversation.1", page_a)
    await layer.group_add("user.7", page_b)
    await layer.group_add("conversation.1", page_b)
    published: list[int] = []
    original = layer._get_layer()._shards[0]._redis.pipeline

    def counting_pipeline(*args, **kwargs):
        published.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(layer._get_layer()._shards[0]._redis, "pipeline", counting_pipeline)
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: layer)
    await realtime.send_all(
        [
            ("conversation.1", {"type": "conversation.event", "n": 1}),
            ("user.7", {"type": "user.event", "n": 2}),
            ("conversation.1", {"type": "conversation.event", "n": 3}),
        ]
    )
    assert published == [1]  # one round trip for the three
    assert [(await layer.receive(page_a))["n"] for _ in range(2)] == [1, 3]
    assert [(await layer.receive(page_b))["n"] for _ in range(3)] == [1, 2, 3]


async def test_a_single_send_takes_the_usual_path(layer, monkeypatch):
    page = await layer.new_channel()
    await layer.group_add("team.1", page)
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: layer)
    await realtime.send_all([("team.1", {"type": "unread.changed"})])
    assert await layer.receive(page) == {"type": "unread.changed"}
