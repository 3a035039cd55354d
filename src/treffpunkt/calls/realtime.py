"""Events to everyone on a call page, sent after commit."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def call_group(appointment_id: int) -> str:
    return f"call.{appointment_id}"


def notify_call(appointment_id: int, message: dict[str, Any]) -> None:
    """``message["type"]`` names the consumer handler, e.g. ``call.ended``."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(call_group(appointment_id), message)

    transaction.on_commit(send)
