"""The embedded mode's channel layer: Channels' in-memory layer, cleaning up at most once per
interval instead of on every receive and group send."""

from __future__ import annotations

import asyncio

from treffpunkt.core.layers import ProcessChannelLayer

EVENT = {"type": "user.event"}


async def test_expired_messages_are_still_dropped_but_not_looked_for_on_every_receive():
    layer = ProcessChannelLayer(expiry=1)
    layer.clean_interval_seconds = 0.2
    await layer.send("gone.page!a", EVENT)  # nobody will receive it
    await asyncio.sleep(1.1)  # now it has expired
    for channel in ("open.page!b", "open.page!c"):
        await layer.send(channel, EVENT)
    layer.clean_interval_seconds = 60
    layer._last_clean = asyncio.get_running_loop().time()  # a clean-up just ran
    assert await layer.receive("open.page!b") == EVENT
    assert "gone.page!a" in layer.channels  # within the interval nothing is looked for
    layer.clean_interval_seconds = 0
    assert await layer.receive("open.page!c") == EVENT
    assert "gone.page!a" not in layer.channels
