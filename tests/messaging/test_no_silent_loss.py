"""No live event is lost without the page being able to tell (issue 15): every event of a
conversation carries the next number of its stream, and a page that sees a number skipped, or
comes back, fetches what it missed from the database and gets the conversation's state.

A lost delivery is made here as it happens between processes: the event is committed but its
group send never arrives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, transaction

from tests.conftest import World
from tests.messaging.conftest import FIRST_QUESTION
from tests.messaging.test_conversation_socket import connect_as, nothing_more
from tests.sockets import next_of_type, receive_json, send_json
from treffpunkt.accounts.models import User
from treffpunkt.messaging import realtime, services
from treffpunkt.messaging.models import Conversation, InquiryTopic, Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sockets_closed_at_the_end"),
]


@pytest.fixture
async def inquiry(world: World, topic: InquiryTopic) -> Conversation:
    return await sync_to_async(services.start_inquiry)(
        member=world.member, topic=topic, text=FIRST_QUESTION
    )


@contextmanager
def deliveries_lost(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Events of conversations made inside are committed but never reach any page."""
    with monkeypatch.context() as patch:
        patch.setattr(realtime, "send_to_group_after_commit", lambda group, message: None)
        yield


def post(author: User, conversation: Conversation, text: str) -> None:
    services.post_message(author=author, conversation=conversation, text=text)


async def test_a_page_that_sees_a_number_skipped_fetches_the_missed_message_in_order(
    world: World, inquiry: Conversation, monkeypatch: pytest.MonkeyPatch
):
    member, hello = await connect_as(world.member, inquiry)
    assert hello["seq"] == 1
    await sync_to_async(post)(world.staff, inquiry, "eins")  # 2, and 3: the assignment
    assert (await next_of_type(member, "message"))["seq"] == 2
    assert (await next_of_type(member, "assigned"))["seq"] == 3
    with deliveries_lost(monkeypatch):
        await sync_to_async(post)(world.staff, inquiry, "zwei")  # 4, lost
    await sync_to_async(post)(world.staff, inquiry, "drei")  # 5
    arrived = await next_of_type(member, "message")
    assert (arrived["seq"], arrived["text"]) == (5, "drei")  # the page sees 4 is missing

    await send_json(member, {"type": "sync", "after_seq": 3})
    fetched = [await receive_json(member) for _ in range(3)]
    assert [(event["type"], event.get("text"), event["seq"]) for event in fetched] == [
        ("message", "zwei", 4),
        ("message", "drei", 5),  # again: the page places messages by id, once
        ("state", None, 5),
    ]
    question = await sync_to_async(lambda: Message.objects.get(text=FIRST_QUESTION).pk)()
    assert fetched[2] == {
        "type": "state",
        "seq": 5,
        "status": "open",
        "assignee": world.staff.display_name,
        # Writing marks read for the writer: the member up to the question, staff up to "drei".
        "read": {"member": question, "staff": fetched[1]["id"]},
    }
    assert await nothing_more(member)


async def test_a_lost_last_event_shows_in_the_next_pong(
    world: World, inquiry: Conversation, monkeypatch: pytest.MonkeyPatch
):
    """Nothing follows the lost event, so no gap is seen: the pong's number tells."""
    member, _ = await connect_as(world.member, inquiry)
    with deliveries_lost(monkeypatch):
        await sync_to_async(services.close)(actor=world.staff, conversation=inquiry)
    await send_json(member, {"type": "ping"})
    assert await receive_json(member) == {"type": "pong", "seq": 2}
    await send_json(member, {"type": "sync", "after_seq": 1})
    state = await receive_json(member)
    assert state["type"] == "state" and state["seq"] == 2 and state["status"] == "closed"


async def test_a_page_coming_back_gets_what_happened_while_it_was_away(
    world: World, inquiry: Conversation
):
    member, _ = await connect_as(world.member, inquiry)
    await member.disconnect()
    await sync_to_async(post)(world.staff, inquiry, "Während Sie weg waren")
    await sync_to_async(services.close)(actor=world.staff, conversation=inquiry)
    member, hello = await connect_as(world.member, inquiry)
    assert hello["seq"] == 4  # message 2, assignment 3, closing 4
    await send_json(member, {"type": "sync", "after_seq": 1})
    message, state = await receive_json(member), await receive_json(member)
    assert message["text"] == "Während Sie weg waren" and message["seq"] == 2
    assert state["seq"] == 4 and state["status"] == "closed"
    # Writing a message marks it read for its author.
    assert state["read"]["staff"] == message["id"]


async def test_an_event_of_a_rolled_back_change_takes_no_number(
    world: World, inquiry: Conversation
):
    def post_then_fail() -> None:
        with transaction.atomic():
            post(world.staff, inquiry, "nie gespeichert")
            raise RuntimeError("later step failed")

    with pytest.raises(RuntimeError):
        await sync_to_async(post_then_fail)()
    await sync_to_async(post)(world.member, inquiry, "gespeichert")
    seqs = await sync_to_async(
        lambda: list(Message.objects.filter(conversation=inquiry).values_list("seq", flat=True))
    )()
    assert seqs == [1, 2]


def test_numbers_stay_unique_and_without_gaps_when_several_people_post_at_once(
    world: World, inquiry: Conversation
):
    authors = [world.member, world.staff, world.org_admin]
    failures: list[BaseException] = []

    def write(author: User) -> None:
        try:
            for number in range(8):
                post(author, inquiry, f"{author.pk}-{number}")
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(author,)) for author in authors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    inquiry.refresh_from_db()
    messages = list(Message.objects.filter(conversation=inquiry).order_by("seq"))
    assert len(messages) == 25
    # Messages, the first answer's assignment: every number once, none skipped, and the
    # conversation's counter at the last one.
    numbers = [message.seq for message in messages]
    assert len(set(numbers)) == 25
    assert inquiry.event_seq == 26 and set(numbers) <= set(range(1, 27))
    # Numbers follow the order in which the messages were written.
    assert [message.pk for message in messages] == sorted(message.pk for message in messages)
