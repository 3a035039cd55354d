"""The call page's WebSocket: presence, the two presses of "Gespräch starten", and the relay
of WebRTC signalling between exactly the two people of the appointment.

Close codes: 4401 not logged in, 4404 not one of the two people (or no such appointment),
4403 the call is not possible now (not confirmed, window closed, terms not accepted, calls
held back for the organization),
4408 too many frames, 4409 the same person opened the page in another window.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from treffpunkt.accounts.models import User
from treffpunkt.booking.service_hold import CALLS, held
from treffpunkt.calls import frames, services
from treffpunkt.calls.ice import ice_servers_for
from treffpunkt.calls.realtime import call_group
from treffpunkt.core.consumers import JsonSocketConsumer
from treffpunkt.core.errors import Refusal

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_POSSIBLE = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_REPLACED = 4409

# ICE gathering sends a burst of candidates; far below this, nothing legitimate is slowed.
MAX_FRAMES_PER_10_SECONDS = 200
HEARTBEAT_WRITE_SECONDS = 20
STATS_WRITE_SECONDS = 5
# Traffic reports: a page has few peer connections (one per rebuild), and no call moves more
# than this per second. Anything beyond is refused, so the record cannot be inflated.
MAX_CONNECTIONS_REPORTED = 20
MAX_BYTES_PER_SECOND = 50_000_000


class CallConsumer(JsonSocketConsumer):
    max_frames_per_10_seconds = MAX_FRAMES_PER_10_SECONDS
    user: User
    appointment_id: int
    group: str
    role: str
    session_id: int | None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.appointment_id = int(self.scope["url_route"]["kwargs"]["appointment_id"])
        self.session_id = None
        self.last_heartbeat = time.monotonic()
        self.last_stats = 0.0
        self.connected_at = time.monotonic()
        self.reported: dict[str, tuple[int, int]] = {}
        self.connections_seen: set[str] = set()
        if await database_sync_to_async(held)(user, CALLS) is not None:
            await self._refuse(CLOSE_NOT_POSSIBLE)  # the service is held back (P-SLA-3)
            return
        try:
            joined = await database_sync_to_async(services.join_call)(
                user=user, appointment_id=self.appointment_id, channel_name=self.channel_name
            )
        except services.CallNotFound:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        except Refusal:
            await self._refuse(CLOSE_NOT_POSSIBLE)
            return
        self.role = joined.role
        self.window_closes_at = joined.window_closes_at
        self.group = call_group(self.appointment_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if joined.replaced_channel:
            await self.channel_layer.send(joined.replaced_channel, {"type": "call.replaced"})
        await self._send({"type": "hello", "role": self.role})
        await self._broadcast_presence(joined.presence)
        if joined.running_session_id is not None:
            # Back after a reload or a drop: this side gets the call again, the other side
            # builds a fresh connection to it. No second press: both already agreed.
            await self._enter_call(joined.running_session_id, resume=True)
            await self.channel_layer.group_send(
                self.group, {"type": "call.restart", "sender": self.channel_name}
            )

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        presence = await database_sync_to_async(services.leave_call)(
            user=self.user, appointment_id=self.appointment_id, channel_name=self.channel_name
        )
        if presence is not None:
            await self._broadcast_presence(presence)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = await self._checked_frame(text_data, frames.parse)
        if frame is None:
            return
        kind = frame["type"]
        try:
            if kind == "ping":
                await self._heartbeat()
            elif kind == "ready":
                await self._press_start()
            elif kind == "hangup":
                await database_sync_to_async(services.hang_up)(
                    user=self.user, appointment_id=self.appointment_id
                )
            elif kind == "stats":
                await self._record_traffic(frame)
            elif kind in frames.RELAYED:
                await self._relay(frame)
        except Refusal as exc:
            await self._send({"type": "error", "code": exc.code})

    # --- what the page asks for ---------------------------------------------------------------

    async def _heartbeat(self) -> None:
        now = time.monotonic()
        if now - self.last_heartbeat >= HEARTBEAT_WRITE_SECONDS:
            self.last_heartbeat = now
            await database_sync_to_async(services.keep_present)(
                user=self.user, appointment_id=self.appointment_id, channel_name=self.channel_name
            )
        await self._send({"type": "pong"})

    async def _press_start(self) -> None:
        if await database_sync_to_async(held)(self.user, CALLS) is not None:
            await self._send({"type": "error", "code": "service_held"})
            return
        pressed = await database_sync_to_async(services.press_start)(
            user=self.user, appointment_id=self.appointment_id
        )
        await self._broadcast_presence(pressed.presence)
        if pressed.started_now:
            await self.channel_layer.group_send(
                self.group, {"type": "call.start", "session": pressed.session_id}
            )
        elif pressed.session_id is None:
            await self._send({"type": "waiting"})
        else:
            # The call runs already and this page asks to join it (a new tab): it gets the
            # call, the other side builds a fresh connection to it.
            await self._enter_call(pressed.session_id, resume=True)
            await self.channel_layer.group_send(
                self.group, {"type": "call.restart", "sender": self.channel_name}
            )

    async def _record_traffic(self, frame: dict[str, Any]) -> None:
        """The page reports running totals per peer connection; the record adds the growth."""
        if self.session_id is None:
            return
        sent, received = frame["bytes_sent"], frame["bytes_received"]
        before_sent, before_received = self.reported.get(frame["pc"], (0, 0))
        now = time.monotonic()
        possible = MAX_BYTES_PER_SECOND * (now - self.connected_at + STATS_WRITE_SECONDS)
        if (
            sent < before_sent
            or received < before_received
            or sent - before_sent + received - before_received > possible
            or (
                frame["pc"] not in self.connections_seen
                and len(self.connections_seen) >= MAX_CONNECTIONS_REPORTED
            )
        ):
            await self._send({"type": "error", "code": "invalid_stats"})
            return
        self.connections_seen.add(frame["pc"])
        if now - self.last_stats < STATS_WRITE_SECONDS:
            return
        self.last_stats = now
        self.reported[frame["pc"]] = (sent, received)
        await database_sync_to_async(services.record_traffic)(
            user=self.user,
            session_id=self.session_id,
            sent=sent - before_sent,
            received=received - before_received,
        )

    async def _relay(self, frame: dict[str, Any]) -> None:
        """Signalling goes to the other participant only, and only during a call: before
        both pressed start, nothing can be negotiated (P-CALL-3, enforced here)."""
        if self.session_id is None:
            await self._send({"type": "error", "code": "not_in_call"})
            return
        await self.channel_layer.group_send(
            self.group, {"type": "call.signal", "sender": self.channel_name, "frame": frame}
        )

    # --- what the group tells this page -------------------------------------------------------

    async def call_presence(self, message: dict[str, Any]) -> None:
        await self._send({"type": "presence", **message["presence"]})

    async def call_start(self, message: dict[str, Any]) -> None:
        await self._enter_call(message["session"], resume=False)

    async def call_restart(self, message: dict[str, Any]) -> None:
        if message["sender"] != self.channel_name and self.session_id is not None:
            await self._send({"type": "restart"})

    async def call_signal(self, message: dict[str, Any]) -> None:
        if message["sender"] != self.channel_name and self.session_id is not None:
            await self._send({"type": "signal", "frame": message["frame"]})

    async def call_ended(self, message: dict[str, Any]) -> None:
        self.session_id = None
        self.reported = {}
        await self._send({"type": "ended", "reason": message["reason"], "by": message["by"]})

    async def call_replaced(self, message: dict[str, Any]) -> None:
        await self._send({"type": "replaced"})
        await self.close(code=CLOSE_REPLACED)

    # --- helpers ------------------------------------------------------------------------------

    async def _enter_call(self, session_id: int, *, resume: bool) -> None:
        self.session_id = session_id
        await self._send(
            {
                "type": "start",
                "session": session_id,
                "role": self.role,
                "offerer": self.role == "staff",
                "resume": resume,
                "iceServers": ice_servers_for(
                    user_id=self.user.pk, session_id=session_id, expires_at=self.window_closes_at
                ),
                "iceTransportPolicy": settings.CALL_ICE_TRANSPORT_POLICY,
                "rotationSeconds": settings.CALL_KEY_ROTATION_SECONDS,
            }
        )

    async def _broadcast_presence(self, presence: services.Presence) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "call.presence", "presence": presence.as_event()}
        )
