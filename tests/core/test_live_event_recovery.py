"""A person's event stream (``/ws/ereignisse/``) loses nothing silently (issue 15): each event
is numbered per person and kept for a day; a page that sees a number skipped, or comes back,
asks for what it missed and gets it in order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from tests.factories import MemberFactory
from tests.sockets import open_socket, session_cookie
from treffpunkt.accounts.models import User
from treffpunkt.core import clock, realtime
from treffpunkt.core.models import AuditEntry, LiveEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sockets_closed_at_the_end"),
]


async def stream_of(user: User) -> tuple[WebsocketCommunicator, int]:
    """The stream and the number its hello gives, past the unread count that follows."""
    communicator, connected, code = await open_socket(
        "/ws/ereignisse/", await sync_to_async(session_cookie)(user)
    )
    assert connected, code
    hello = json.loads(await communicator.receive_from(timeout=3))
    assert hello["type"] == "hello"
    assert json.loads(await communicator.receive_from(timeout=3))["type"] == "unread"
    return communicator, hello["seq"]


async def receive(communicator: WebsocketCommunicator) -> dict[str, object]:
    return dict(json.loads(await communicator.receive_from(timeout=3)))


def notice(user: User, url: str) -> None:
    realtime.notify_user(user.pk, {"type": "messages.new", "url": url})


async def test_a_skipped_number_is_fetched_and_the_stream_says_where_it_stands(
    monkeypatch: pytest.MonkeyPatch,
):
    member = await sync_to_async(MemberFactory)()
    page, seq = await stream_of(member)
    assert seq == 0
    with monkeypatch.context() as patch:  # committed, but the delivery never arrives
        patch.setattr(realtime, "send_to_group_after_commit", lambda group, message: None)
        await sync_to_async(notice)(member, "/verloren/")
    await sync_to_async(notice)(member, "/danach/")
    arrived = await receive(page)
    assert arrived == {"type": "messages.new", "url": "/danach/", "seq": 2}

    await page.send_to(text_data=json.dumps({"type": "sync", "after_seq": 0}))
    assert [await receive(page) for _ in range(3)] == [
        {"type": "messages.new", "url": "/verloren/", "seq": 1},
        {"type": "messages.new", "url": "/danach/", "seq": 2},
        {"type": "synced", "seq": 2},
    ]


async def test_a_page_coming_back_learns_the_number_and_gets_only_its_own_events():
    member = await sync_to_async(MemberFactory)()
    other = await sync_to_async(MemberFactory)()
    await sync_to_async(notice)(member, "/vorher/")
    await sync_to_async(notice)(other, "/fremd/")
    page, seq = await stream_of(member)
    assert seq == 1
    await page.send_to(text_data=json.dumps({"type": "sync", "after_seq": 0}))
    assert await receive(page) == {"type": "messages.new", "url": "/vorher/", "seq": 1}
    assert await receive(page) == {"type": "synced", "seq": 1}
    assert await page.receive_nothing(timeout=0.3)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "sync", "after_seq": -1},
        {"type": "sync", "after_seq": "1"},
        {"type": "sync"},
        {"type": "sync", "after_seq": 1, "user": 2},
    ],
)
async def test_a_broken_sync_frame_gets_an_error(frame: dict[str, object]):
    member = await sync_to_async(MemberFactory)()
    page, _ = await stream_of(member)
    await page.send_to(text_data=json.dumps(frame))
    error = await receive(page)
    assert error["type"] == "error" and error["code"] == "invalid_frame"


def test_kept_events_are_deleted_after_a_day_with_an_audit_entry(db: None):
    member = MemberFactory()
    notice(member, "/alt/")
    notice(member, "/neu/")
    LiveEvent.objects.filter(seq=1).update(created_at=clock.now() - timedelta(days=1, minutes=1))
    assert realtime.forget_old_live_events() == 1
    assert list(LiveEvent.objects.values_list("seq", flat=True)) == [2]
    entry = AuditEntry.objects.get(code="core.live_events.forgotten")
    assert entry.data == {"deleted": 1}
