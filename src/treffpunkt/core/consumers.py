"""The user's event stream: one WebSocket per open page, receiving events for that user."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from treffpunkt.core import frames
from treffpunkt.core.realtime import MISSED_LIMIT, current_user_seq, missed_user_events, user_group
from treffpunkt.core.registries import registry

MAX_FRAME_BYTES = 4096
MAX_FRAMES_PER_10_SECONDS = 30
CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY = 4408
MAX_SEQ = 2**53 - 1  # what JavaScript numbers hold exactly
EVENT_FRAMES: frames.Schemas = {
    "ping": {},
    # After a reconnection or a gap in the numbers: the events after ``after_seq``.
    "sync": {"after_seq": frames.small_int(MAX_SEQ)},
}


def _parse_event_frame(text_data: str | None) -> dict[str, Any]:
    return frames.parse(text_data, EVENT_FRAMES, max_bytes=MAX_FRAME_BYTES)


class JsonSocketConsumer(AsyncWebsocketConsumer):
    """What every socket of the app shares: JSON out, and a rate limit on frames in."""

    max_frames_per_10_seconds = MAX_FRAMES_PER_10_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frame_times: list[float] = []

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels closes stale database connections before every handler, by a hop onto the
        one thread that all sync work shares: with many sockets that thread becomes the queue
        every event waits in. Every database call of these consumers goes through
        ``database_sync_to_async``, which closes stale connections itself, so the handler runs
        directly (an event that only forwards JSON never waits for that thread)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _checked_frame(
        self, text_data: str | None, parse: Callable[[str | None], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The frame if it passes the rate limit and its schema; otherwise None, after closing
        the socket (too many frames) or telling the page what was wrong."""
        if not self._within_rate():
            await self.close(code=CLOSE_POLICY)
            return None
        try:
            return parse(text_data)
        except frames.InvalidFrame as exc:
            await self._send({"type": "error", "code": "invalid_frame", "detail": str(exc)})
            return None

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.frame_times = [t for t in self.frame_times if now - t < 10] + [now]
        return len(self.frame_times) <= self.max_frames_per_10_seconds

    async def _send(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event))

    async def _refuse(self, code: int) -> None:
        """Accept, then close with the reason: a handshake refused outright reaches the page
        as code 1006 only, and the page could not tell "not yours" from "network down"."""
        await self.accept()
        await self.close(code=code)


class UserEventsConsumer(JsonSocketConsumer):
    joined: list[str]

    def event_groups(self, user: Any) -> list[str]:
        """The groups whose events this user hears: their own, and what the apps register."""
        return [user_group(user.pk), *registry.groups_for(user)]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.joined = self.event_groups(user)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        # The number of the newest event so far: the page fetches what it missed since it
        # last heard from its stream, and knows where it stands.
        seq = await database_sync_to_async(current_user_seq)(user.pk)
        await self._send({"type": "hello", "seq": seq})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = await self._checked_frame(text_data, _parse_event_frame)
        if frame is None:
            return
        if frame["type"] == "ping":
            # With the current number, so that a page whose last event was lost notices it.
            seq = await database_sync_to_async(current_user_seq)(self.scope["user"].pk)
            await self._send({"type": "pong", "seq": seq})
        elif frame["type"] == "sync":
            await self._send_missed(frame["after_seq"])

    async def _send_missed(self, after_seq: int) -> None:
        user_id = self.scope["user"].pk

        def missed() -> tuple[list[dict[str, Any]], int]:
            return missed_user_events(user_id, after_seq=after_seq), current_user_seq(user_id)

        events, seq = await database_sync_to_async(missed)()
        for event in events:
            await self._send(event)
        if len(events) == MISSED_LIMIT:
            seq = events[-1]["seq"]  # more are waiting: the page asks again from here
        await self._send({"type": "synced", "seq": seq})

    async def user_event(self, message: dict[str, Any]) -> None:
        await self._send(message["event"])
