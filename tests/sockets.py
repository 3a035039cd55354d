"""Opening the app's WebSockets in tests as a logged-in user (channels' WebsocketCommunicator)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from tests.conftest import second_factor_proved
from treffpunkt.accounts.models import User
from treffpunkt.asgi import application

# Every socket a test opens, so that it can be closed on the test's own event loop (see below).
_OPENED: list[WebsocketCommunicator] = []


def session_cookie(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    second_factor_proved(user, session)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


async def open_socket(
    path: str, cookie: str | None
) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    _OPENED.append(communicator)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def close_opened_sockets() -> None:
    """Close every socket opened since the last call, on the calling (the test's) event loop,
    and let each consumer end. A consumer left running when its loop stops never finishes its
    pending work: an after-commit send leaves the one shared sync thread waiting for good, and a
    receive on the Redis channel layer stays registered to the dead loop, so the next test's
    consumers are refused ("Two event loops are trying to receive() on one channel layer")."""
    while _OPENED:
        communicator = _OPENED.pop()
        with contextlib.suppress(Exception):
            await communicator.disconnect(timeout=5)


async def receive_json(communicator: WebsocketCommunicator, timeout: float = 2) -> Any:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def send_json(communicator: WebsocketCommunicator, frame: object) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def cookie_of(user: User) -> str:
    """``session_cookie`` from async code (it writes the session to the database)."""
    return await sync_to_async(session_cookie)(user)


async def next_of_type(
    communicator: WebsocketCommunicator, kind: str, *, skip: int = 10
) -> dict[str, Any]:
    """The next event of one type, skipping up to ``skip`` others (presence and the like)."""
    for _ in range(skip):
        event = await receive_json(communicator)
        if event["type"] == kind:
            return dict(event)
    raise AssertionError(f"no {kind} event")


async def refusal_code(path: str, cookie: str | None) -> int | None:
    """The close code a socket answers with right after the handshake, or None if it stays
    open."""
    communicator, connected, code = await open_socket(path, cookie)
    if not connected:
        return code
    output = await communicator.receive_output(timeout=2)
    # The consumer runs on after closing until the client's disconnect reaches it.
    await communicator.disconnect()
    if output["type"] == "websocket.close":
        return int(output["code"])
    return None
