"""Checking WebSocket frames against a schema before anything acts on them.

A frame is a JSON object with a ``type`` and exactly the fields its schema lists; each field
has a check. Every socket of the app parses its frames here, so they all refuse the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]
Fields = Mapping[str, Check]
# A type's schema, or several alternatives told apart by their field names.
Schemas = Mapping[str, Fields | tuple[Fields, ...]]


class InvalidFrame(ValueError):
    pass


def short_text(limit: int) -> Check:
    return lambda value: isinstance(value, str) and len(value) <= limit


def optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def small_int(limit: int) -> Check:
    return lambda value: type(value) is int and 0 <= value <= limit


def parse(text_data: str | None, schemas: Schemas, *, max_bytes: int) -> dict[str, Any]:
    """The frame as a dict, or ``InvalidFrame`` saying what is wrong with it."""
    if text_data is None:
        raise InvalidFrame("binary frames are not accepted")
    if len(text_data.encode()) > max_bytes:
        raise InvalidFrame("frame too large")
    try:
        frame = json.loads(text_data)
    except ValueError as exc:
        raise InvalidFrame("not JSON") from exc
    if not isinstance(frame, dict):
        raise InvalidFrame("not a JSON object")
    frame_type = frame.get("type")
    schema = schemas.get(frame_type) if isinstance(frame_type, str) else None
    if schema is None:
        raise InvalidFrame("unknown type")
    given = set(frame) - {"type"}
    alternatives = schema if isinstance(schema, tuple) else (schema,)
    schema = next((fields for fields in alternatives if given == set(fields)), None)
    if schema is None:
        raise InvalidFrame("wrong fields")
    for name, check in schema.items():
        if not check(frame[name]):
            raise InvalidFrame(f"invalid {name}")
    return frame
