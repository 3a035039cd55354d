"""The channel layer of the embedded mode (one process, no Redis)."""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer


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
