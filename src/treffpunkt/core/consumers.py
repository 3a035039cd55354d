"""The user's event stream: one WebSocket per open page, receiving events for that user."""

from __future__ import annotations

import json
import time
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from treffpunkt.core.realtime import user_group

MAX_FRAME_BYTES = 4096
MAX_FRAMES_PER_10_SECONDS = 30
CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY = 4408


class JsonSocketConsumer(AsyncWebsocketConsumer):
    """What every socket of the app shares: JSON out, and a rate limit on frames in."""

    max_frames_per_10_seconds = MAX_FRAMES_PER_10_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frame_times: list[float] = []

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.frame_times = [t for t in self.frame_times if now - t < 10] + [now]
        return len(self.frame_times) <= self.max_frames_per_10_seconds

    async def _send(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event))


class UserEventsConsumer(JsonSocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self._within_rate():
            await self.close(code=CLOSE_POLICY)
            return
        frame = self._parse(text_data)
        if frame is None:
            await self._send({"type": "error", "code": "invalid_frame"})
            return
        if frame["type"] == "ping":
            await self._send({"type": "pong"})

    async def user_event(self, message: dict[str, Any]) -> None:
        await self._send(message["event"])

    @staticmethod
    def _parse(text_data: str | None) -> dict[str, Any] | None:
        """Accept only small JSON objects of a known type."""
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            return None
        try:
            frame = json.loads(text_data)
        except ValueError:
            return None
        if not isinstance(frame, dict) or frame.get("type") not in {"ping"} or len(frame) != 1:
            return None
        return frame
