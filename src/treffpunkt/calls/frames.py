"""The call page's WebSocket frames, checked against a schema before anything acts on them.

A frame is a JSON object with a ``type`` and exactly the fields listed for it. The server
relays only WebRTC signalling (offer, answer, ICE candidates) and ECDH public keys: frame keys
travel over the peer-to-peer data channel and have no frame type here at all (P-CALL-5).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from treffpunkt.core import frames as core_frames
from treffpunkt.core.frames import InvalidFrame, optional, short_text, small_int

__all__ = ["RELAYED", "InvalidFrame", "parse"]

MAX_FRAME_BYTES = 32 * 1024
MAX_SDP_CHARS = 30_000
MAX_CANDIDATE_CHARS = 1024
P256_PUBLIC_KEY_BYTES = 65  # uncompressed point: 0x04 ‖ X ‖ Y
SHA256_BYTES = 32
MAX_REPORTED_BYTES = 10**13
PEER_CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Frames the server relays to the other participant, unchanged.
RELAYED = frozenset({"offer", "answer", "ice", "commit", "pubkey", "restart_ice"})


def _sdp(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("v=0") and len(value) <= MAX_SDP_CHARS


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


SCHEMAS: core_frames.Schemas = {
    "ping": {},
    "ready": {},
    "hangup": {},
    "restart_ice": {},
    "offer": {"sdp": _sdp},
    "answer": {"sdp": _sdp},
    "ice": {
        "candidate": short_text(MAX_CANDIDATE_CHARS),
        "sdpMid": optional(short_text(64)),
        "sdpMLineIndex": optional(small_int(64)),
    },
    # A hash of the public key and the DTLS fingerprint, sent before the key itself (see
    # docs/security/e2ee.md: it keeps a man in the middle from choosing keys to fit a code).
    "commit": {"hash": _sha256_digest},
    "pubkey": {"key": _public_key},
    "stats": {
        "pc": _peer_connection_id,
        "bytes_sent": small_int(MAX_REPORTED_BYTES),
        "bytes_received": small_int(MAX_REPORTED_BYTES),
    },
}


def parse(text_data: str | None) -> dict[str, Any]:
    """The frame as a dict, or ``InvalidFrame`` saying what is wrong with it."""
    return core_frames.parse(text_data, SCHEMAS, max_bytes=MAX_FRAME_BYTES)
