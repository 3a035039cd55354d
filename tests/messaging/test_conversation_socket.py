"""The conversation socket (P-MSG-1, P-MSG-3) and the unread count on the event stream: who may
connect, every event it sends, every frame it takes, and the frames it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.db import transaction

from tests.conftest import World
from tests.factories import StaffFactory
from tests.messaging.conftest import FIRST_QUESTION
from tests.sockets import (
    cookie_of,
    next_of_type,
    open_socket,
    receive_json,
    refusal_code,
    send_json,
)
from treffpunkt.accounts.models import User
from treffpunkt.messaging import selectors, services
from treffpunkt.messaging.models import (
    Conversation,
    ConversationPresence,
    InquiryTopic,
    Message,
    ReadMarker,
    Status,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sockets_closed_at_the_end"),
]


@pytest.fixture
async def inquiry(world: World, topic: InquiryTopic) -> Conversation:
    """As in conftest, but made off the event loop: posting sends events after commit."""
    return await sync_to_async(services.start_inquiry)(
        member=world.member, topic=topic, text=FIRST_QUESTION
    )


def path_of(conversation: Conversation | int) -> str:
    pk = conversation if isinstance(conversation, int) else conversation.pk
    return f"/ws/nachrichten/{pk}/"


async def connect_as(user: User, conversation: Conversation) -> tuple[WebsocketCommunicator, Any]:
    communicator, connected, code = await open_socket(path_of(conversation), await cookie_of(user))
    assert connected, code
    hello = await receive_json(communicator)
    assert hello["type"] == "hello"
    return communicator, hello


async def events_stream(user: User, *, expect_count: int | None = None) -> WebsocketCommunicator:
    """The user's event stream, after its hello and the count it sends on connecting (checked
    if given)."""
    communicator, connected, code = await open_socket("/ws/ereignisse/", await cookie_of(user))
    assert connected, code
    hello = await receive_json(communicator, timeout=3)
    assert hello["type"] == "hello" and isinstance(hello["seq"], int)
    first = await receive_json(communicator, timeout=3)
    assert first["type"] == "unread"
    if expect_count is not None:
        assert first["count"] == expect_count
    return communicator


async def nothing_more(communicator: WebsocketCommunicator) -> bool:
    return await communicator.receive_nothing(timeout=0.3)


# --- who may connect ---------------------------------------------------------------------------


async def test_anonymous_visitors_cannot_open_a_conversation_socket(inquiry: Conversation):
    assert await refusal_code(path_of(inquiry), None) == 4401


@pytest.mark.parametrize("role", ["other_member", "other_staff", "other_admin", "operator"])
async def test_only_the_member_and_their_organizations_team_can_listen(
    world: World, inquiry: Conversation, role: str
):
    assert await refusal_code(path_of(inquiry), await cookie_of(world.people[role])) == 4404
    assert not await sync_to_async(ConversationPresence.objects.exists)()


async def test_a_forged_conversation_id_gets_the_same_answer_as_a_foreign_one(
    world: World, inquiry: Conversation
):
    assert await refusal_code(path_of(inquiry.pk + 1000), await cookie_of(world.member)) == 4404


@pytest.mark.parametrize("role", ["member", "staff", "org_admin"])
async def test_participants_get_hello_with_their_side_and_the_newest_message(
    world: World, inquiry: Conversation, role: str
):
    user = world.people[role]
    communicator, hello = await connect_as(user, inquiry)
    newest = await sync_to_async(lambda: Message.objects.latest("pk").pk)()
    assert hello == {
        "type": "hello",
        "user_id": user.pk,
        "side": "member" if role == "member" else "staff",
        "status": "open",
        "last_id": newest,
        "seq": 1,  # the first question was the conversation's first event
    }
    assert await sync_to_async(ConversationPresence.objects.filter(user=user).count)() == 1
    await communicator.disconnect()
    # Leaving the page ends the presence, so notification mails may go again.
    assert not await sync_to_async(ConversationPresence.objects.exists)()


# --- messages both ways -------------------------------------------------------------------------


async def test_a_message_reaches_every_open_page_of_the_conversation_and_nobody_else(
    world: World, inquiry: Conversation, topic: InquiryTopic
):
    member, _ = await connect_as(world.member, inquiry)
    staff, _ = await connect_as(world.staff, inquiry)
    other = await sync_to_async(services.start_inquiry)(
        member=world.other_member, topic=topic, text="Eine andere Frage"
    )
    bystander, _ = await connect_as(world.staff, other)

    await send_json(member, {"type": "send", "text": "Hallo, noch eine Frage", "ref": "r1"})
    received = await next_of_type(staff, "message")
    # The sender hears "sent" (its own answer) and the message (the group's) in either order.
    answers = {event["type"]: event for event in [await receive_json(member) for _ in range(2)]}
    echoed, sent = answers["message"], answers["sent"]

    assert received == echoed
    assert received["text"] == "Hallo, noch eine Frage"
    assert received["author"] == world.member.display_name
    assert received["author_id"] == world.member.pk
    assert received["side"] == "member"
    assert received["attachments"] == []
    assert "email" not in json.dumps(received) and world.member.email not in json.dumps(received)
    assert sent == {"type": "sent", "ref": "r1", "id": received["id"]}
    assert await nothing_more(bystander)
    stored = await sync_to_async(Message.objects.get)(pk=received["id"])
    assert stored.conversation_id == inquiry.pk and stored.from_member


async def test_the_first_answer_from_the_team_assigns_the_conversation_and_says_so(
    world: World, inquiry: Conversation
):
    member, _ = await connect_as(world.member, inquiry)
    staff, _ = await connect_as(world.staff, inquiry)
    await send_json(staff, {"type": "send", "text": "Gern helfe ich.", "ref": "a"})
    message = await next_of_type(member, "message")
    assigned = await next_of_type(member, "assigned")
    assert message["side"] == "staff" and message["author"] == world.staff.display_name
    # The first question was event 1; the answer is 2 and the assignment it causes 3.
    assert message["seq"] == 2
    assert assigned == {
        "type": "assigned",
        "staff_id": world.staff.pk,
        "staff": world.staff.display_name,
        "seq": 3,
    }


async def test_read_state_reaches_the_other_side_and_moves_only_forward(
    world: World, inquiry: Conversation
):
    member, _ = await connect_as(world.member, inquiry)
    staff, _ = await connect_as(world.staff, inquiry)
    first = await sync_to_async(lambda: Message.objects.get(text=FIRST_QUESTION).pk)()

    await send_json(staff, {"type": "read", "up_to": first})
    read = await next_of_type(member, "read")
    assert read == {"type": "read", "side": "staff", "up_to": first, "seq": 2}

    # Marking an older id again changes nothing and says nothing.
    await send_json(staff, {"type": "read", "up_to": 0})
    assert await nothing_more(member)
    marker = await sync_to_async(ReadMarker.objects.get)(conversation=inquiry, user=world.staff)
    assert marker.last_read_id == first


async def test_a_page_cannot_mark_messages_read_that_do_not_exist_yet(
    world: World, inquiry: Conversation
):
    staff, _ = await connect_as(world.staff, inquiry)
    await send_json(staff, {"type": "read", "up_to": 10**12})
    read = await next_of_type(staff, "read")
    newest = await sync_to_async(lambda: Message.objects.latest("pk").pk)()
    assert read["up_to"] == newest
    # A later message is unread for this staff member, although the page claimed "everything".
    await sync_to_async(services.post_message)(
        author=world.member, conversation=inquiry, text="Noch etwas"
    )
    count = await sync_to_async(selectors.unread_count)(world.staff)
    assert count == 1


async def test_assignment_and_closing_by_the_team_arrive_live(world: World, inquiry: Conversation):
    member, _ = await connect_as(world.member, inquiry)
    await sync_to_async(services.assign)(
        actor=world.org_admin, conversation=inquiry, staff=world.staff
    )
    assert await next_of_type(member, "assigned") == {
        "type": "assigned",
        "staff_id": world.staff.pk,
        "staff": world.staff.display_name,
        "seq": 2,
    }
    await sync_to_async(services.close)(actor=world.staff, conversation=inquiry)
    assert await next_of_type(member, "status") == {"type": "status", "status": "closed", "seq": 3}
    await sync_to_async(services.reopen)(actor=world.staff, conversation=inquiry)
    assert await next_of_type(member, "status") == {"type": "status", "status": "open", "seq": 4}


async def test_writing_into_a_closed_conversation_opens_it_again(
    world: World, inquiry: Conversation
):
    await sync_to_async(services.close)(actor=world.staff, conversation=inquiry)
    staff, hello = await connect_as(world.staff, inquiry)
    assert hello["status"] == "closed"
    member, _ = await connect_as(world.member, inquiry)
    await send_json(member, {"type": "send", "text": "Eine Nachfrage", "ref": "x"})
    message = await next_of_type(staff, "message")
    # Event 1 the question, 2 the closing, 3 the new message, 4 the reopening it causes.
    assert message["seq"] == 3
    assert await next_of_type(staff, "status") == {"type": "status", "status": "open", "seq": 4}
    await sync_to_async(inquiry.refresh_from_db)()
    assert inquiry.status == Status.OPEN and inquiry.closed_at is None


async def test_after_a_reconnection_the_page_gets_what_it_missed(
    world: World, inquiry: Conversation
):
    first = await sync_to_async(lambda: Message.objects.get(text=FIRST_QUESTION).pk)()
    for text in ("Antwort eins", "Antwort zwei"):
        await sync_to_async(services.post_message)(
            author=world.staff, conversation=inquiry, text=text
        )
    member, hello = await connect_as(world.member, inquiry)
    assert hello["last_id"] > first
    await send_json(member, {"type": "sync", "after": first})
    missed = [await next_of_type(member, "message") for _ in range(2)]
    assert [event["text"] for event in missed] == ["Antwort eins", "Antwort zwei"]
    await send_json(member, {"type": "sync", "after": hello["last_id"]})
    assert await nothing_more(member)


async def test_ping_keeps_the_socket_and_answers_pong(world: World, inquiry: Conversation):
    member, _ = await connect_as(world.member, inquiry)
    await send_json(member, {"type": "ping"})
    # With the newest event's number: a page whose last event was lost notices it here.
    assert await receive_json(member) == {"type": "pong", "seq": 1}


# --- refused frames -----------------------------------------------------------------------------

BROKEN_FRAMES = [
    pytest.param("not json", id="not-json"),
    pytest.param("[1, 2]", id="not-an-object"),
    pytest.param(json.dumps({"type": "shout", "text": "x"}), id="unknown-type"),
    pytest.param(json.dumps({"type": "send", "text": "x"}), id="missing-ref"),
    pytest.param(json.dumps({"type": "send", "text": "x", "ref": "r", "to": 5}), id="extra-field"),
    pytest.param(json.dumps({"type": "send", "text": 5, "ref": "r"}), id="text-not-a-string"),
    pytest.param(json.dumps({"type": "send", "text": "x", "ref": "r" * 65}), id="ref-too-long"),
    pytest.param(json.dumps({"type": "send", "text": "x" * 5001, "ref": "r"}), id="text-too-long"),
    pytest.param(json.dumps({"type": "read", "up_to": "7"}), id="read-not-an-int"),
    pytest.param(json.dumps({"type": "read", "up_to": -1}), id="read-negative"),
    pytest.param(json.dumps({"type": "read", "up_to": True}), id="read-bool"),
    pytest.param(json.dumps({"type": "sync", "after": 1.5}), id="sync-float"),
    pytest.param(json.dumps({"type": "ping", "x": "y" * 40_000}), id="frame-too-large"),
]


@pytest.mark.parametrize("frame", BROKEN_FRAMES)
async def test_broken_frames_get_an_error_and_write_nothing(
    world: World, inquiry: Conversation, frame: str
):
    member, _ = await connect_as(world.member, inquiry)
    before = await sync_to_async(Message.objects.count)()
    await member.send_to(text_data=frame)
    error = await receive_json(member)
    assert error["type"] == "error" and error["code"] == "invalid_frame"
    assert await sync_to_async(Message.objects.count)() == before
    # The socket stays usable.
    await send_json(member, {"type": "ping"})
    assert (await receive_json(member))["type"] == "pong"


async def test_binary_frames_are_refused(world: World, inquiry: Conversation):
    member, _ = await connect_as(world.member, inquiry)
    await member.send_to(bytes_data=b"\x00\x01")
    assert (await receive_json(member))["code"] == "invalid_frame"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("   \n\t ", "empty", id="only-blank"),
        pytest.param("", "empty", id="empty"),
    ],
)
async def test_an_empty_message_is_refused_with_a_clear_reason(
    world: World, inquiry: Conversation, text: str, code: str
):
    member, _ = await connect_as(world.member, inquiry)
    before = await sync_to_async(Message.objects.count)()
    await send_json(member, {"type": "send", "text": text, "ref": "e1"})
    error = await next_of_type(member, "error")
    assert error["code"] == code and error["ref"] == "e1" and error["message"]
    assert await sync_to_async(Message.objects.count)() == before


async def test_too_many_messages_too_fast_are_refused_and_not_stored(
    world: World, inquiry: Conversation, settings: Any
):
    settings.MESSAGES_PER_MINUTE = 3
    member, _ = await connect_as(world.member, inquiry)
    before = await sync_to_async(Message.objects.filter(author=world.member).count)()
    for number in range(4):
        await send_json(
            member, {"type": "send", "text": f"Nachricht {number}", "ref": f"n{number}"}
        )
    # The first question counts too: 3 per minute in all, so the third one here is refused.
    refused = await next_of_type(member, "error", skip=12)
    assert refused["code"] == "too_fast" and refused["ref"] == "n2" and refused["message"]
    assert before == 1
    assert await sync_to_async(Message.objects.filter(author=world.member).count)() == 3


async def test_a_flood_of_frames_closes_the_socket(world: World, inquiry: Conversation):
    member, _ = await connect_as(world.member, inquiry)
    for _ in range(61):
        await send_json(member, {"type": "ping"})
    codes = []
    for _ in range(62):
        output = await member.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            codes.append(output["code"])
            break
    assert codes == [4408]


async def test_a_person_removed_from_the_team_cannot_write_over_an_open_socket(
    world: World, inquiry: Conversation
):
    colleague = await sync_to_async(StaffFactory)(organization=world.org)
    staff, _ = await connect_as(colleague, inquiry)
    colleague.is_active = False
    await sync_to_async(colleague.save)()
    await send_json(staff, {"type": "send", "text": "noch da?", "ref": "z"})
    error = await next_of_type(staff, "error")
    assert error["code"] == "not_allowed" and error["message"]
    assert not await sync_to_async(Message.objects.filter(text="noch da?").exists)()


# --- the unread count on the event stream -------------------------------------------------------


async def test_the_member_hears_the_new_unread_count_and_a_content_free_notice(
    world: World, inquiry: Conversation
):
    stream = await events_stream(world.member)
    await sync_to_async(services.post_message)(
        author=world.staff, conversation=inquiry, text="Vertrauliche Antwort"
    )
    events = [await receive_json(stream, timeout=3) for _ in range(2)]
    by_type = {event["type"]: event for event in events}
    assert by_type["unread"] == {"type": "unread", "count": 1}
    assert by_type["messages.new"] == {
        "type": "messages.new",
        "url": inquiry.get_absolute_url(),
        "seq": 1,
    }
    assert "Vertrauliche" not in json.dumps(events)

    member, _ = await connect_as(world.member, inquiry)
    newest = await sync_to_async(lambda: Message.objects.latest("pk").pk)()
    await send_json(member, {"type": "read", "up_to": newest})
    assert await next_of_type(stream, "unread") == {"type": "unread", "count": 0}


async def test_a_members_message_raises_the_count_of_the_team_but_not_of_other_organizations(
    world: World, inquiry: Conversation
):
    await sync_to_async(services.mark_read)(user=world.staff, conversation=inquiry)
    await sync_to_async(services.mark_read)(user=world.org_admin, conversation=inquiry)
    staff_stream = await events_stream(world.staff)
    admin_stream = await events_stream(world.org_admin)
    foreign_stream = await events_stream(world.other_staff)
    await sync_to_async(services.post_message)(
        author=world.member, conversation=inquiry, text="Noch eine Frage"
    )
    assert await next_of_type(staff_stream, "unread") == {"type": "unread", "count": 1}
    assert await next_of_type(admin_stream, "unread") == {"type": "unread", "count": 1}
    assert await foreign_stream.receive_nothing(timeout=1)


async def test_many_changes_in_a_row_give_one_recount(world: World, inquiry: Conversation):
    stream = await events_stream(world.staff)

    def five_parts() -> None:
        # One transaction, so the five changes reach the page together, however slow the
        # machine is.
        with transaction.atomic():
            for number in range(5):
                services.post_message(
                    author=world.member, conversation=inquiry, text=f"Teil {number}"
                )

    await sync_to_async(five_parts)()
    assert await next_of_type(stream, "unread") == {"type": "unread", "count": 1}
    assert await stream.receive_nothing(timeout=1)


async def test_the_event_stream_starts_with_the_current_count(world: World, inquiry: Conversation):
    # After a reconnection the page may have missed changes: it gets the count as of now.
    await events_stream(world.staff, expect_count=1)
    await events_stream(world.member, expect_count=0)
    await events_stream(world.other_staff, expect_count=0)


async def test_the_event_stream_still_refuses_unknown_frames(world: World):
    stream = await events_stream(world.member)
    await send_json(stream, {"type": "send", "text": "x", "ref": "r"})
    assert (await receive_json(stream))["code"] == "invalid_frame"


async def test_an_idle_page_still_hears_new_messages_after_a_quiet_while(
    world: World, inquiry: Conversation
):
    # With Redis, channels_redis listens with 5 s blocking reads; a read timeout of the same
    # length used to kill the listener of an idle socket (settings.CHANNEL_LAYERS).
    member, _ = await connect_as(world.member, inquiry)
    assert await member.receive_nothing(timeout=7)
    await sync_to_async(services.post_message)(
        author=world.staff, conversation=inquiry, text="Nach einer Pause"
    )
    event = await next_of_type(member, "message")
    assert event["text"] == "Nach einer Pause"


@pytest.mark.parametrize("change", ["deactivated", "moved_to_other_organization"])
async def test_someone_who_lost_their_rights_since_connecting_can_no_longer_write(
    world: World, inquiry: Conversation, change: str
):
    staff, _ = await connect_as(world.staff, inquiry)

    def take_rights_away() -> None:
        if change == "deactivated":
            User.objects.filter(pk=world.staff.pk).update(is_active=False)
        else:
            User.objects.filter(pk=world.staff.pk).update(organization=world.other_org)

    await sync_to_async(take_rights_away)()
    before = await sync_to_async(Message.objects.count)()
    await send_json(staff, {"type": "send", "text": "Noch eine Antwort", "ref": "late"})
    error = await next_of_type(staff, "error")
    assert error["ref"] == "late" and error["code"] == "not_allowed"
    assert await sync_to_async(Message.objects.count)() == before
