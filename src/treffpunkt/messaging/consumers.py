"""Sockets for messages.

``ConversationConsumer`` (``ws/nachrichten/<id>/``) serves one open conversation page: it sends
new messages, read state, assignment and open/closed as they happen, and takes the page's own
messages and read marks. Close codes: 4401 not logged in, 4404 no such conversation or not
yours, 4408 too many frames.

``EventsConsumer`` extends the user's event stream with the unread count for the navigation.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.core.consumers import JsonSocketConsumer, UserEventsConsumer
from treffpunkt.core.errors import NotAllowed, Refusal
from treffpunkt.core.realtime import GroupSend, checked_event, send_all, sends_collected
from treffpunkt.messaging import frames, services
from treffpunkt.messaging.models import Conversation, Message
from treffpunkt.messaging.realtime import conversation_group, message_event
from treffpunkt.messaging.selectors import (
    ConversationNotFound,
    current_seq,
    live_state,
    side_of,
    unread_count,
)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404

MAX_FRAMES_PER_10_SECONDS = 60
PRESENCE_WRITE_SECONDS = 30
SYNC_LIMIT = 200
# Many changes in a row (a busy team) give one recount, this long after the first.
RECOUNT_DELAY_SECONDS = 0.5


class ConversationConsumer(JsonSocketConsumer):
    max_frames_per_10_seconds = MAX_FRAMES_PER_10_SECONDS
    user: User
    conversation: Conversation
    group: str

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        try:
            self.conversation = await database_sync_to_async(services.enter_page)(
                user=user, conversation_id=conversation_id, channel_name=self.channel_name
            )
        except ConversationNotFound:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        self.user = user
        self.last_presence_write = time.monotonic()
        self.group = conversation_group(conversation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        conversation = self.conversation
        await self._send(
            {
                "type": "hello",
                "user_id": user.pk,
                "side": side_of(user),
                "status": conversation.status,
                "last_id": max(
                    conversation.last_member_message_id, conversation.last_staff_message_id
                ),
                # The newest event's number: a page behind it fetches what it missed.
                "seq": conversation.event_seq,
            }
        )

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await database_sync_to_async(services.leave_page)(channel_name=self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = await self._checked_frame(text_data, frames.parse)
        if frame is None:
            return
        kind = frame["type"]
        if kind == "ping":
            await self._still_here()
        elif kind == "send":
            await self._post(frame["text"], frame["ref"])
        elif kind == "read":
            await self._mark_read(frame["up_to"])
        elif kind == "sync" and "after_seq" in frame:
            await self._send_missed_events(frame["after_seq"])
        elif kind == "sync":
            await self._send_missed(frame["after"])

    async def _still_here(self) -> None:
        """Answer a ping with the newest event's number, so that a page whose last event was
        lost (and which hears nothing after it) notices within one ping."""
        now = time.monotonic()
        write_presence = now - self.last_presence_write >= PRESENCE_WRITE_SECONDS
        if write_presence:
            self.last_presence_write = now

        def still_here() -> int:
            if write_presence:
                services.still_on_page(channel_name=self.channel_name)
            return current_seq(self.conversation.pk)

        seq = await database_sync_to_async(still_here)()
        await self._send({"type": "pong", "seq": seq})

    async def _post(self, text: str, ref: str) -> None:
        def post() -> tuple[services.Posted, list[GroupSend]]:
            # Refusals are shown to the person as they are: in their own language.
            with (
                translation.override(self.user.preferred_language or settings.LANGUAGE_CODE),
                sends_collected() as sends,
            ):
                try:
                    # The socket may have been open for hours: a person who left the team
                    # (or was deactivated) meanwhile must not write with the rights they had
                    # at connect, so their standing is read again with the lock.
                    posted = services.post_message(
                        author=self.user,
                        conversation=self.conversation,
                        text=text,
                        recheck_author=True,
                    )
                except NotAllowed as exc:
                    raise NotAllowed(_("You can no longer write in this conversation.")) from exc
            return posted, sends

        try:
            # Not in Channels' one shared worker thread: posting is most of a busy process's
            # database work and mostly waits for round trips, so several posts run at once
            # (posts to one conversation still queue on its row lock).
            posted, sends = await database_sync_to_async(post, thread_sensitive=False)()
        except Refusal as exc:
            await self._send(
                {"type": "error", "code": exc.code, "message": str(exc.message), "ref": ref}
            )
            return
        try:
            await self._send({"type": "sent", "ref": ref, "id": posted.message.pk})
        finally:
            # The message is stored: its events go out even when this page's socket closed
            # meanwhile (the answer above then fails), or the other page would get it only
            # by a later sync.
            await send_all(sends)

    async def _mark_read(self, up_to: int) -> None:
        def mark() -> list[GroupSend]:
            self.conversation.refresh_from_db()
            with sends_collected() as sends:
                services.mark_read(user=self.user, conversation=self.conversation, up_to=up_to)
            return sends

        await send_all(await database_sync_to_async(mark)())

    async def _send_missed(self, after: int) -> None:
        def missed() -> list[dict[str, Any]]:
            messages = (
                Message.objects.filter(conversation=self.conversation, pk__gt=after)
                .select_related("author")
                .prefetch_related("attachments")
                .order_by("pk")[:SYNC_LIMIT]
            )
            return [message_event(message, list(message.attachments.all())) for message in messages]

        for event in await database_sync_to_async(missed)():
            await self._send(event)

    async def _send_missed_events(self, after_seq: int) -> None:
        """Every message numbered after ``after_seq``, oldest first, then the conversation's
        state (status, assignee, read marks) with the number it stands at: together they
        replace whatever events the page missed. The state is read first and the messages up
        to its number after: a message and its number are committed together, so every
        message up to that number is there, and the page's count never runs ahead of what it
        was sent."""

        def missed() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            state = live_state(self.conversation.pk)
            messages = list(
                Message.objects.filter(
                    conversation=self.conversation, seq__gt=after_seq, seq__lte=state["seq"]
                )
                .select_related("author")
                .prefetch_related("attachments")
                .order_by("seq")[: SYNC_LIMIT + 1]
            )
            if len(messages) > SYNC_LIMIT:
                # More than one answer's worth: the page asks again from the last one sent.
                messages = messages[:SYNC_LIMIT]
                state["seq"] = messages[-1].seq
            events = [
                message_event(message, list(message.attachments.all())) for message in messages
            ]
            return events, state

        events, state = await database_sync_to_async(missed)()
        for event in events:
            await self._send(event)
        await self._send(state)

    async def conversation_event(self, message: dict[str, Any]) -> None:
        await self._send(message["event"])


class EventsConsumer(UserEventsConsumer):
    """The user's event stream plus ``{"type": "unread", "count": n}`` whenever their unread
    count may have changed. Team members also hear their organization's changes (a group that
    messaging registers), since a member's message is unread for everyone who could answer it."""

    recount: asyncio.Task[None] | None = None
    recount_wanted = False

    async def connect(self) -> None:
        await super().connect()
        if getattr(self, "joined", None):
            # The count as of now: after a reconnection the page may have missed changes.
            self.recount_wanted = True
            self.recount = asyncio.create_task(self._recount(delay=0))

    async def unread_changed(self, message: dict[str, Any]) -> None:
        self.recount_wanted = True
        if self.recount is None or self.recount.done():
            self.recount = asyncio.create_task(self._recount())

    async def _recount(self, delay: float = RECOUNT_DELAY_SECONDS) -> None:
        # A change that arrives while counting sets the flag again and gets its own count.
        while self.recount_wanted:
            await asyncio.sleep(delay)
            delay = RECOUNT_DELAY_SECONDS
            self.recount_wanted = False
            count = await database_sync_to_async(unread_count)(self.scope["user"])
            try:
                await self._send(checked_event({"type": "unread", "count": count}))
            except OSError:
                # The page went away while counting (uvicorn's ClientDisconnected); its
                # disconnect is on the way and ends this consumer.
                return

    async def disconnect(self, code: int) -> None:
        if self.recount is not None:
            self.recount.cancel()
        await super().disconnect(code)
