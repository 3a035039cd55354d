"""Notification mails (P-MSG-2, P-MSG-3): a member with unread messages who is not on the page
gets one mail per conversation and batching window, saying only that something waits and where;
nothing if they read meanwhile. Staff may opt into a similar digest."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.conftest import SmtpServer, World, deliver_outbox
from tests.messaging.conftest import FIRST_QUESTION, pdf_bytes, upload
from treffpunkt.core import clock
from treffpunkt.messaging import services
from treffpunkt.messaging.models import Conversation, ConversationPresence, InquiryTopic
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

ANSWERS = ("Die Bescheinigung reicht aus.", "Bitte senden Sie sie bis Freitag.")
FILE_NAME = "Bescheinigung-Haushaltshilfe.pdf"


class Moment:
    """The services' clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> Moment:
    state = Moment(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(clock, "now", lambda: state.now)
    return state


@pytest.fixture
def conversation(world: World, topic: InquiryTopic, moment: Moment) -> Conversation:
    return services.start_inquiry(member=world.member, topic=topic, text=FIRST_QUESTION)


def staff_answers(world: World, conversation: Conversation, moment: Moment) -> None:
    for text in ANSWERS:
        services.post_message(author=world.staff, conversation=conversation, text=text)
        moment.advance(minutes=2)
    services.post_message(
        author=world.staff,
        conversation=conversation,
        text="",
        uploads=[upload(FILE_NAME, pdf_bytes())],
    )


def notices_to(user_email: str) -> list[OutboxMail]:
    return list(OutboxMail.objects.filter(to_address=user_email, template="messaging/new_message"))


def assert_content_free(body: str, world: World, conversation: Conversation) -> None:
    for secret in (*ANSWERS, FIRST_QUESTION, FILE_NAME, world.staff.display_name):
        assert secret not in body
    assert conversation.topic is not None
    assert conversation.topic.name not in body


def test_one_mail_for_several_messages_over_a_real_smtp_server_without_their_text(
    world: World, conversation: Conversation, moment: Moment, smtp_server: SmtpServer
):
    staff_answers(world, conversation, moment)
    # Within the window: nothing yet, however many messages.
    assert services.send_member_notices() == 0

    moment.advance(minutes=15)
    assert services.send_member_notices() == 1
    assert services.send_member_notices() == 0
    deliver_outbox()

    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sent["To"] == world.member.email
    raw = sent.as_string()
    assert_content_free(raw, world, conversation)
    body = "\n".join(
        part.get_payload(decode=True).decode()
        for part in sent.walk()
        if part.get_content_type() in {"text/plain", "text/html"}
    )
    assert_content_free(body, world, conversation)
    assert f"http://testserver/nachrichten/{conversation.pk}/" in body
    assert_content_free(sent["Subject"], world, conversation)


def test_no_mail_when_the_member_read_the_messages_in_the_meantime(
    world: World, conversation: Conversation, moment: Moment
):
    staff_answers(world, conversation, moment)
    conversation.refresh_from_db()
    services.mark_read(user=world.member, conversation=conversation)
    moment.advance(minutes=20)
    assert services.send_member_notices() == 0
    assert notices_to(world.member.email) == []


def test_no_mail_while_the_member_has_the_conversation_open_but_one_after_leaving(
    world: World, conversation: Conversation, moment: Moment
):
    staff_answers(world, conversation, moment)
    services.enter_page(user=world.member, conversation_id=conversation.pk, channel_name="tab-1")
    moment.advance(minutes=16)
    services.still_on_page(channel_name="tab-1")
    assert services.send_member_notices() == 0
    services.leave_page(channel_name="tab-1")
    moment.advance(minutes=1)
    assert services.send_member_notices() == 1


def test_a_page_that_stopped_answering_does_not_hold_back_the_mail(
    world: World, conversation: Conversation, moment: Moment
):
    staff_answers(world, conversation, moment)
    services.enter_page(user=world.member, conversation_id=conversation.pk, channel_name="gone")
    moment.advance(minutes=16)
    # The browser vanished without closing its socket: its presence is stale.
    assert ConversationPresence.objects.filter(channel_name="gone").exists()
    assert services.send_member_notices() == 1


def test_at_most_one_mail_per_conversation_within_the_window(
    world: World, conversation: Conversation, moment: Moment
):
    services.post_message(author=world.staff, conversation=conversation, text=ANSWERS[0])
    moment.advance(minutes=15)
    assert services.send_member_notices() == 1
    # A new answer right after the mail waits for a full window again.
    moment.advance(minutes=1)
    services.post_message(author=world.staff, conversation=conversation, text=ANSWERS[1])
    moment.advance(minutes=10)
    assert services.send_member_notices() == 0
    moment.advance(minutes=6)
    assert services.send_member_notices() == 1
    sent_at = [notice.created_at for notice in notices_to(world.member.email)]
    assert len(sent_at) == 2


def test_each_conversation_has_its_own_window(
    world: World, conversation: Conversation, topic: InquiryTopic, moment: Moment
):
    second = services.start_inquiry(member=world.member, topic=topic, text="Zweite Frage")
    services.post_message(author=world.staff, conversation=conversation, text=ANSWERS[0])
    services.post_message(author=world.staff, conversation=second, text=ANSWERS[1])
    moment.advance(minutes=15)
    assert services.send_member_notices() == 2
    links = sorted(mail.body_text for mail in notices_to(world.member.email))
    assert any(f"/nachrichten/{conversation.pk}/" in body for body in links)
    assert any(f"/nachrichten/{second.pk}/" in body for body in links)


def test_the_members_own_messages_cause_no_mail_to_the_member(
    world: World, conversation: Conversation, moment: Moment
):
    services.post_message(author=world.member, conversation=conversation, text="Noch etwas")
    moment.advance(minutes=20)
    assert services.send_member_notices() == 0
    assert notices_to(world.member.email) == []


def test_a_deactivated_member_gets_no_mail(
    world: World, conversation: Conversation, moment: Moment
):
    services.post_message(author=world.staff, conversation=conversation, text=ANSWERS[0])
    world.member.is_active = False
    world.member.save()
    moment.advance(minutes=20)
    assert services.send_member_notices() == 0


def test_the_mail_is_in_the_members_language(
    world: World, conversation: Conversation, moment: Moment
):
    world.member.preferred_language = "en"
    world.member.save()
    services.post_message(author=world.staff, conversation=conversation, text=ANSWERS[0])
    moment.advance(minutes=15)
    services.send_member_notices()
    (notice,) = notices_to(world.member.email)
    assert notice.subject == "A new message is waiting for you"


# --- the staff digest --------------------------------------------------------------------------


def digests_to(user_email: str) -> list[OutboxMail]:
    return list(OutboxMail.objects.filter(to_address=user_email, template="messaging/staff_digest"))


def test_staff_get_no_digest_unless_they_ask_for_it(
    world: World, conversation: Conversation, moment: Moment
):
    moment.advance(minutes=30)
    assert services.send_staff_digests() == 0
    assert digests_to(world.staff.email) == []


def test_the_opt_in_digest_counts_conversations_and_says_nothing_of_them(
    world: World, topic: InquiryTopic, moment: Moment
):
    services.set_digest(user=world.staff, enabled=True)
    first = services.start_inquiry(member=world.member, topic=topic, text=FIRST_QUESTION)
    services.start_inquiry(member=world.member, topic=topic, text="Noch eine Frage")
    assert services.send_staff_digests() == 0  # the window has not passed
    moment.advance(minutes=15)
    assert services.send_staff_digests() == 1
    (digest,) = digests_to(world.staff.email)
    assert re.search(r"(^|\s)2\s", digest.body_text), digest.body_text  # two conversations
    assert "/nachrichten/posteingang/" in digest.body_text
    assert FIRST_QUESTION not in digest.body_text and topic.name not in digest.body_text
    assert world.member.display_name not in digest.body_text
    # Nothing new: no second digest, even after the window.
    moment.advance(minutes=30)
    assert services.send_staff_digests() == 0
    # Something new: one more, after a window.
    services.post_message(author=world.member, conversation=first, text="Und noch etwas")
    moment.advance(minutes=15)
    assert services.send_staff_digests() == 1


def test_a_digest_leaves_out_conversations_assigned_to_colleagues_and_read_ones(
    world: World, conversation: Conversation, moment: Moment
):
    services.set_digest(user=world.staff, enabled=True)
    services.post_message(author=world.member, conversation=conversation, text="Nachtrag")
    services.assign(actor=world.org_admin, conversation=conversation, staff=world.org_admin)
    moment.advance(minutes=20)
    assert services.send_staff_digests() == 0


def test_switching_the_digest_is_recorded_and_only_for_the_team(world: World):
    from treffpunkt.core.errors import NotAllowed
    from treffpunkt.core.models import AuditEntry

    services.set_digest(user=world.staff, enabled=True)
    assert AuditEntry.objects.filter(code="messaging.digest.changed", actor=world.staff).exists()
    with pytest.raises(NotAllowed):
        services.set_digest(user=world.member, enabled=True)
