"""Events to everyone on a call page, sent after commit."""

from __future__ import annotations

from typing import Any

from treffpunkt.core.realtime import send_to_group_after_commit


def call_group(appointment_id: int) -> str:
    return f"call.{appointment_id}"


def notify_call(appointment_id: int, message: dict[str, Any]) -> None:
    """``message["type"]`` names the consumer handler, e.g. ``call.ended``."""
    send_to_group_after_commit(call_group(appointment_id), message)
