"""Pushing events to a user's open pages. Domain code calls ``notify_user`` inside its
transaction; the event leaves only after commit, so nobody hears of a change that rolled back."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def notify_user(user_id: int, event: dict[str, Any]) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "user.event", "event": event}
            )

    transaction.on_commit(send)
