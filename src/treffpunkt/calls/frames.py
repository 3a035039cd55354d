"""The call page's WebSocket frames, checked against a schema before anything acts on them.

A frame is a JSON object with a ``type`` and exactly the fields listed for it. The server
relays only WebRTC signalling (offer, answer, ICE candidates) and ECDH public keys: frame keys
travel over the peer-to-peer data channel and have no frame type here at all (P-CALL-5).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

MAX_FRAME_BYTES = 32 * 1024
MAX_SDP_CHARS = 30_000
MAX_CANDIDATE_CHARS = 1024
P256_PUBLIC_KEY_BYTES = 65  # uncompressed point: 0x04 ‖ X ‖ Y
SHA256_BYTES = 32
MAX_REPORTED_BYTES = 10**13
PEER_CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Check = Callable[[Any], bool]

# Frames the server relays to the other participant, unchanged.
RELAYED = frozenset({"offer", "answer", "ice", "commit", "pubkey", "restart_ice"})


class InvalidFrame(ValueError):
    pass


def _sdp(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("v=0") and len(value) <= MAX_SDP_CHARS


def _short_text(limit: int) -> Check:
    return lambda value: isinstance(value, str) and len(value) <= limit


def _optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _small_int(limit: int) -> Check:
    return lambda value: type(value) is int and 0 <= value <= limit


def _base64(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) > 100:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _public_key(value: Any) -> bool:
    raw = _base64(value)
    return raw is not None and len(raw) == P256_PUBLIC_KEY_BYTES and raw[0] == 0x04


def _sha256_digest(value: Any) -> bool:
    raw = _base64(value)
    return raw is not None and len(raw) == SHA256_BYTES


def _peer_connection_id(value: Any) -> bool:
    return isinstance(value, str) and PEER_CONNECTION_ID.match(value) is not None


SCHEMAS: dict[str, dict[str, Check]] = {
    "ping": {},
    "ready": {},
    "hangup": {},
    "restart_ice": {},
    "offer": {"sdp": _sdp},
    "answer": {"sdp": _sdp},
    "ice": {
        "candidate": _short_text(MAX_CANDIDATE_CHARS),
        "sdpMid": _optional(_short_text(64)),
        "sdpMLineIndex": _optional(_small_int(64)),
    },
    # A hash of the public key and the DTLS fingerprint, sent before the key itself (see
    # docs/security/e2ee.md: it keeps a man in the middle from choosing keys to fit a code).
    "commit": {"hash": _sha256_digest},
    "pubkey": {"key": _public_key},
    "stats": {
        "pc": _peer_connection_id,
        "bytes_sent": _small_int(MAX_REPORTED_BYTES),
        "bytes_received": _small_int(MAX_REPORTED_BYTES),
    },
}


def parse(text_data: str | None) -> dict[str, Any]:
    """The frame as a dict, or ``InvalidFrame`` saying what is wrong with it."""
    if text_data is None:
        raise InvalidFrame("binary frames are not accepted")
    if len(text_data.encode()) > MAX_FRAME_BYTES:
        raise InvalidFrame("frame too large")
    try:
        frame = json.loads(text_data)
    except ValueError as exc:
        raise InvalidFrame("not JSON") from exc
    if not isinstance(frame, dict):
        raise InvalidFrame("not a JSON object")
    frame_type = frame.get("type")
    schema = SCHEMAS.get(frame_type) if isinstance(frame_type, str) else None
    if schema is None:
        raise InvalidFrame("unknown type")
    fields = set(frame) - {"type"}
    if fields != set(schema):
        raise InvalidFrame("wrong fields")
    for name, check in schema.items():
        if not check(frame[name]):
            raise InvalidFrame(f"invalid {name}")
    return frame
