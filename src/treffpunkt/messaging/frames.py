"""The conversation page's WebSocket frames (see ``core.frames`` for the rules)."""

from __future__ import annotations

from typing import Any

from treffpunkt.core import frames
from treffpunkt.core.frames import InvalidFrame, short_text, small_int

__all__ = ["InvalidFrame", "parse"]

# 5,000 characters of text even if every one is escaped (\\uXXXX), plus the frame around it.
MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_ID = 2**53 - 1  # what JavaScript numbers hold exactly

SCHEMAS: frames.Schemas = {
    "ping": {},
    # ``ref`` is the page's own label for the message, echoed in the answer.
    "send": {"text": short_text(5000), "ref": short_text(64)},
    "read": {"up_to": small_int(MAX_MESSAGE_ID)},
    # After a reconnection or a gap in the event numbers: everything after the newest message
    # the page has (``after``, a message id), or after the last event number up to which it
    # has everything (``after_seq``); the answer ends with the conversation's state.
    "sync": ({"after": small_int(MAX_MESSAGE_ID)}, {"after_seq": small_int(MAX_MESSAGE_ID)}),
}


def parse(text_data: str | None) -> dict[str, Any]:
    return frames.parse(text_data, SCHEMAS, max_bytes=MAX_FRAME_BYTES)
