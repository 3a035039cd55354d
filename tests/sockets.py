"""Opening the app's WebSockets in tests as a logged-in user (channels' WebsocketCommunicator)."""

from __future__ import annotations

import json
from typing import Any

from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from treffpunkt.accounts.models import User
from treffpunkt.asgi import application


def session_cookie(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


async def open_socket(
    path: str, cookie: str | None
) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def receive_json(communicator: WebsocketCommunicator, timeout: float = 2) -> Any:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def send_json(communicator: WebsocketCommunicator, frame: object) -> None:
    await communicator.send_to(text_data=json.dumps(frame))
