"""Pushing events to open pages. Domain code calls these inside its transaction; the event
leaves only after commit, so nobody hears of a change that rolled back."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def send_to_group_after_commit(group: str, message: dict[str, Any]) -> None:
    """``message["type"]`` names the consumer handler that receives it."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)


def notify_user(user_id: int, event: dict[str, Any]) -> None:
    send_to_group_after_commit(user_group(user_id), {"type": "user.event", "event": event})
