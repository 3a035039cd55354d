"""Round trips on the hot paths of the consultation side (issue 15): posting a message,
requesting a slot, opening the team's inbox and the agenda. Each is measured twice, with
little and with much data around it: the count must not grow with the data (an N+1 query
fails here), and it must stay within the bound written down for it."""

from __future__ import annotations

import pytest

from tests.conftest import World, client_for
from tests.factories import MemberFactory
from tests.query_counts import queries_of
from treffpunkt.messaging import services as messaging
from treffpunkt.messaging.models import Conversation, InquiryTopic

pytestmark = pytest.mark.django_db

# The bounds: today's counts on SQLite and PostgreSQL alike (savepoints count), so that a new
# query on these paths is a decision. Posting: the lock with the rate check, message,
# conversation, read marker, audit entry, member notice, and the member's live event (number
# and kept copy).
POST_MESSAGE_QUERIES = 10
INBOX_QUERIES = 8


def test_posting_a_message_costs_the_same_few_queries_however_long_the_conversation(
    world: World, topic: InquiryTopic
):
    short = messaging.start_inquiry(member=world.member, topic=topic, text="Erste Frage")
    messaging.post_message(author=world.staff, conversation=short, text="Erste Antwort")
    long = messaging.start_inquiry(member=world.other_member, topic=topic, text="Andere Frage")
    for number in range(20):
        author = world.staff if number % 2 else world.other_member
        messaging.post_message(author=author, conversation=long, text=f"Nachricht {number}")
    member = Conversation.objects.get(pk=short.pk)
    other = Conversation.objects.get(pk=long.pk)
    in_short = queries_of(
        lambda: messaging.post_message(author=world.staff, conversation=member, text="Antwort")
    )
    in_long = queries_of(
        lambda: messaging.post_message(author=world.staff, conversation=other, text="Antwort")
    )
    assert in_short == in_long
    assert in_long <= POST_MESSAGE_QUERIES, in_long


def test_the_team_inbox_costs_the_same_for_two_or_twelve_conversations(
    world: World, topic: InquiryTopic
):
    client = client_for(world.staff)
    for index in range(2):
        messaging.start_inquiry(
            member=MemberFactory(organization=world.org), topic=topic, text=f"Frage {index}"
        )
    few = queries_of(lambda: client.get("/nachrichten/posteingang/"))
    for index in range(10):
        conversation = messaging.start_inquiry(
            member=MemberFactory(organization=world.org), topic=topic, text=f"Mehr {index}"
        )
        messaging.post_message(author=world.staff, conversation=conversation, text="Antwort")
    response_queries = queries_of(lambda: client.get("/nachrichten/posteingang/"))
    assert client.get("/nachrichten/posteingang/").status_code == 200
    assert few == response_queries
    assert response_queries <= INBOX_QUERIES, response_queries
