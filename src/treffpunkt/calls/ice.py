"""ICE servers for a call. TURN credentials follow coturn's shared-secret scheme
("TURN REST API"): the user name is ``<expiry as Unix time>:<label>`` and the password is
base64(HMAC-SHA1(secret, user name)). coturn recomputes the HMAC with the same secret and
refuses a name whose time has passed, so a credential works for one person, one call and
a limited time, and nobody has to store it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from django.conf import settings


def turn_credential(*, secret: str, label: str, expires_at: datetime) -> tuple[str, str]:
    username = f"{int(expires_at.timestamp())}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(*, user_id: int, session_id: int, expires_at: datetime) -> list[dict[str, Any]]:
    servers: list[dict[str, Any]] = []
    if settings.CALL_STUN_URLS:
        servers.append({"urls": list(settings.CALL_STUN_URLS)})
    if settings.CALL_TURN_URLS:
        # The label names the call and the user by number only: coturn's logs carry no address.
        username, credential = turn_credential(
            secret=settings.CALL_TURN_SECRET,
            label=f"call{session_id}-user{user_id}",
            expires_at=expires_at,
        )
        servers.append(
            {"urls": list(settings.CALL_TURN_URLS), "username": username, "credential": credential}
        )
    return servers
