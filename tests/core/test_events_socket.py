"""The user's WebSocket event stream: authenticated only, frames validated, events after commit."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from tests.factories import MemberFactory
from tests.sockets import open_socket, session_cookie
from treffpunkt.asgi import application
from treffpunkt.core.realtime import notify_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sockets_closed_at_the_end"),
]


async def _connect(cookie: str | None) -> tuple[WebsocketCommunicator, bool, int | None]:
    """The stream, past its hello and the unread count of messages it starts with."""
    communicator, connected, code = await open_socket("/ws/ereignisse/", cookie)
    if connected:
        hello = json.loads(await communicator.receive_from(timeout=3))
        assert hello["type"] == "hello"
        first = json.loads(await communicator.receive_from(timeout=3))
        assert first == {"type": "unread", "count": 0}
    return communicator, connected, code


async def test_anonymous_visitors_cannot_open_the_event_stream():
    _communicator, connected, code = await _connect(None)
    assert not connected
    assert code == 4401


async def test_a_logged_in_user_gets_pong_and_events_for_them_only():
    member = await sync_to_async(MemberFactory)()
    other = await sync_to_async(MemberFactory)()
    communicator, connected, _ = await _connect(await sync_to_async(session_cookie)(member))
    assert connected
    await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    assert json.loads(await communicator.receive_from()) == {"type": "pong", "seq": 0}

    await sync_to_async(notify_user)(other.pk, {"type": "messages.new", "url": "/for-other/"})
    await sync_to_async(notify_user)(member.pk, {"type": "messages.new", "url": "/for-member/"})
    # Numbered per person: the member's first event is 1, whatever others got.
    assert json.loads(await communicator.receive_from()) == {
        "type": "messages.new",
        "url": "/for-member/",
        "seq": 1,
    }
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"type": "delete_everything"}),
        json.dumps({"type": "ping", "extra": 1}),
        json.dumps({"type": "ping", "x": "y" * 5000}),
    ],
    ids=["not-json", "not-object", "unknown-type", "extra-field", "oversized"],
)
async def test_invalid_frames_get_an_error_and_change_nothing(frame: str):
    member = await sync_to_async(MemberFactory)()
    communicator, connected, _ = await _connect(await sync_to_async(session_cookie)(member))
    assert connected
    await communicator.send_to(text_data=frame)
    error = json.loads(await communicator.receive_from())
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    assert error["detail"]  # what was wrong, for whoever debugs the page
    await communicator.disconnect()


async def test_a_flood_of_frames_closes_the_connection():
    member = await sync_to_async(MemberFactory)()
    communicator, connected, _ = await _connect(await sync_to_async(session_cookie)(member))
    assert connected
    for _ in range(40):
        await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    messages = []
    while True:
        output = await communicator.receive_output(timeout=1)
        if output["type"] == "websocket.close":
            assert output["code"] == 4408
            break
        messages.append(output)
    assert len(messages) == 30


async def test_a_page_from_another_site_cannot_open_the_stream():
    member = await sync_to_async(MemberFactory)()
    cookie = await sync_to_async(session_cookie)(member)
    communicator = WebsocketCommunicator(
        application,
        "/ws/ereignisse/",
        headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie.encode())],
    )
    connected, _ = await communicator.connect()
    assert not connected
