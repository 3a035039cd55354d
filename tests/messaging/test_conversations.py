"""Conversations (P-MSG-1), unread state and the staff inbox (P-MSG-3), bad input, the org
admin's setup, and the demo data."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.calls.conftest import confirmed_call
from tests.conftest import World, client_for
from treffpunkt.accounts.models import User
from treffpunkt.booking import services as booking
from treffpunkt.booking.models import Appointment, ConsultationType
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.messaging import selectors, services
from treffpunkt.messaging.models import Conversation, InquiryTopic, Message, Status

pytestmark = pytest.mark.django_db


def badge(client: Client, path: str = "/") -> int:
    """The unread count the navigation shows on a page (0 when the badge is hidden)."""
    html = client.get(path).content.decode()
    found = re.search(r"data-unread-badge[^>]*?( hidden)?>(\d+)<", html)
    assert found, "no unread badge in the navigation"
    return 0 if found.group(1) else int(found.group(2))


# --- conversations and who takes part -----------------------------------------------------------


def test_an_appointment_request_opens_its_conversation_with_the_appointments_adviser(
    world: World,
):
    ctype = ConsultationType.objects.create(
        organization=world.org, name="Beratung", duration_minutes=30
    )
    ctype.staff.add(world.staff)
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    appointment = booking.book_for_member(
        actor=world.staff,
        member=world.member,
        consultation_type=ctype,
        staff=world.staff,
        start=start,
    )
    conversation = Conversation.objects.get(appointment=appointment)
    assert conversation.member == world.member
    assert conversation.organization == world.org
    assert conversation.assigned_to == world.staff
    assert conversation.topic is None
    page = client_for(world.member).get(appointment.get_absolute_url()).content.decode()
    assert conversation.get_absolute_url() in page


def test_an_appointment_has_exactly_one_conversation(world: World):
    appointment = confirmed_call(member=world.member, staff=world.staff)
    first = services.open_for_appointment(appointment=appointment)
    assert services.open_for_appointment(appointment=appointment) == first
    opened = AuditEntry.objects.filter(code="messaging.conversation.opened")
    assert opened.filter(target_id=str(first.pk)).count() == 1


def test_members_start_questions_only_on_topics_their_organization_offers(
    world: World, topic: InquiryTopic
):
    foreign = services.add_topic(admin=world.other_admin, name="Fremd")
    with pytest.raises(NotAllowed):
        services.start_inquiry(member=world.member, topic=foreign, text="Hallo")
    services.change_topic(admin=world.org_admin, topic=topic, name=topic.name, is_active=False)
    with pytest.raises(DomainError):
        services.start_inquiry(member=world.member, topic=topic, text="Hallo")
    with pytest.raises(NotAllowed):
        services.start_inquiry(member=world.staff, topic=topic, text="Hallo")
    assert not Conversation.objects.exists()


def test_a_question_whose_first_message_is_refused_leaves_no_empty_conversation(
    world: World, topic: InquiryTopic
):
    with pytest.raises(DomainError):
        services.start_inquiry(member=world.member, topic=topic, text="   ")
    with pytest.raises(DomainError):
        services.start_inquiry(member=world.member, topic=topic, text="x" * 5001)
    assert not Conversation.objects.exists()
    assert not AuditEntry.objects.filter(code__startswith="messaging.conversation").exists()


@pytest.mark.parametrize("role", ["other_member", "other_staff", "other_admin", "operator"])
def test_nobody_outside_the_member_and_their_team_can_write_or_read(
    world: World, inquiry: Conversation, role: str
):
    outsider = world.people[role]
    with pytest.raises(NotAllowed):
        services.post_message(author=outsider, conversation=inquiry, text="Hallo")
    with pytest.raises(NotAllowed):
        services.mark_read(user=outsider, conversation=inquiry)
    with pytest.raises(selectors.ConversationNotFound):
        selectors.conversation_for(outsider, inquiry.pk)
    assert inquiry.messages.count() == 1


def test_the_organizations_whole_team_can_answer(world: World, inquiry: Conversation):
    services.post_message(author=world.org_admin, conversation=inquiry, text="Ich übernehme.")
    inquiry.refresh_from_db()
    assert inquiry.assigned_to == world.org_admin
    services.post_message(author=world.staff, conversation=inquiry, text="Ich ergänze.")
    inquiry.refresh_from_db()
    # The first to answer keeps it; a colleague's answer does not take it away.
    assert inquiry.assigned_to == world.org_admin


# --- unread state ---------------------------------------------------------------------------------


def test_unread_is_per_person_and_opening_the_conversation_marks_it_read(
    world: World, inquiry: Conversation
):
    member, staff, admin = (client_for(u) for u in (world.member, world.staff, world.org_admin))
    assert badge(member) == 0
    assert badge(staff) == 1 and badge(admin) == 1  # the question is unread for the team

    assert staff.get(inquiry.get_absolute_url()).status_code == 200
    assert badge(staff) == 0
    assert badge(admin) == 1  # what a colleague read stays unread for me

    services.post_message(author=world.staff, conversation=inquiry, text="Antwort")
    assert badge(member) == 1
    member.get(inquiry.get_absolute_url())
    assert badge(member) == 0


def test_staff_count_only_what_is_theirs_or_nobodys_and_open(
    world: World, inquiry: Conversation, topic: InquiryTopic
):
    second = services.start_inquiry(member=world.member, topic=topic, text="Zweite Frage")
    assert selectors.unread_count(world.staff) == 2
    services.assign(actor=world.org_admin, conversation=second, staff=world.org_admin)
    assert selectors.unread_count(world.staff) == 1
    assert selectors.unread_count(world.org_admin) == 2
    services.close(actor=world.org_admin, conversation=inquiry)
    assert selectors.unread_count(world.staff) == 0
    assert selectors.unread_count(world.other_staff) == 0


def test_the_member_sees_read_marks_under_their_own_messages(world: World, inquiry: Conversation):
    page = client_for(world.member).get(inquiry.get_absolute_url()).content.decode()
    assert re.search(r'class="message-read muted" hidden', page)
    client_for(world.staff).get(inquiry.get_absolute_url())
    page = client_for(world.member).get(inquiry.get_absolute_url()).content.decode()
    assert re.search(r'class="message-read muted">', page)


# --- the staff inbox --------------------------------------------------------------------------


def inbox_titles(user: User, view: str) -> list[str]:
    html = client_for(user).get(f"/nachrichten/posteingang/?ansicht={view}").content.decode()
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return re.findall(r'<a href="/nachrichten/\d+/">([^<]+)</a>', body)


def test_the_inbox_filters_unassigned_mine_and_closed(world: World, topic: InquiryTopic):
    titles = {}
    for name in ("Alpha", "Beta", "Gamma"):
        subject = services.add_topic(admin=world.org_admin, name=name)
        titles[name] = services.start_inquiry(member=world.member, topic=subject, text=name)
    services.assign(actor=world.staff, conversation=titles["Beta"], staff=world.staff)
    services.close(actor=world.staff, conversation=titles["Gamma"])

    assert sorted(inbox_titles(world.staff, "offen")) == ["Alpha", "Beta"]
    assert inbox_titles(world.staff, "ohne-zuweisung") == ["Alpha"]
    assert inbox_titles(world.staff, "meine") == ["Beta"]
    assert inbox_titles(world.staff, "geschlossen") == ["Gamma"]
    assert inbox_titles(world.other_staff, "offen") == []
    # An unknown view falls back to the open ones.
    assert sorted(inbox_titles(world.staff, "alles")) == ["Alpha", "Beta"]


def test_assigning_works_only_within_the_organizations_team_and_is_recorded(
    world: World, inquiry: Conversation
):
    with pytest.raises(DomainError):
        services.assign(actor=world.staff, conversation=inquiry, staff=world.other_staff)
    with pytest.raises(DomainError):
        services.assign(actor=world.staff, conversation=inquiry, staff=world.member)
    with pytest.raises(NotAllowed):
        services.assign(actor=world.other_staff, conversation=inquiry, staff=world.other_staff)
    services.assign(actor=world.staff, conversation=inquiry, staff=world.org_admin)
    inquiry.refresh_from_db()
    assert inquiry.assigned_to == world.org_admin
    entry = AuditEntry.objects.get(code="messaging.conversation.assigned")
    assert entry.actor == world.staff and entry.data == {"to": world.org_admin.pk}
    # Nobody again, through the page.
    response = client_for(world.staff).post(f"/nachrichten/{inquiry.pk}/zuweisen/", {"staff": ""})
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.assigned_to is None


def test_assign_to_me_button_takes_the_conversation(world: World, inquiry: Conversation):
    client_for(world.staff).post(
        f"/nachrichten/{inquiry.pk}/zuweisen/", {"staff": "", "to_me": "1"}
    )
    inquiry.refresh_from_db()
    assert inquiry.assigned_to == world.staff


def test_closing_and_reopening_are_recorded_and_happen_once(world: World, inquiry: Conversation):
    services.close(actor=world.staff, conversation=inquiry)
    services.close(actor=world.staff, conversation=inquiry)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED and inquiry.closed_at is not None
    services.reopen(actor=world.org_admin, conversation=inquiry)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.OPEN and inquiry.closed_at is None
    codes = list(
        AuditEntry.objects.filter(target_id=str(inquiry.pk), code__contains="conversation.")
        .order_by("pk")
        .values_list("code", flat=True)
    )
    assert codes == [
        "messaging.conversation.opened",
        "messaging.conversation.closed",
        "messaging.conversation.reopened",
    ]
    with pytest.raises(NotAllowed):
        services.close(actor=world.member, conversation=inquiry)


# --- bad input ---------------------------------------------------------------------------------


def post_text(user: User, conversation: Conversation, text: str) -> tuple[int, str]:
    response = client_for(user).post(conversation.get_absolute_url(), {"text": text})
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("", "Please write a message or attach a file.", id="empty"),
        pytest.param(" \n \t ", "Please write a message or attach a file.", id="blank"),
        pytest.param("x" * 5001, "at most 5000 are possible", id="too-long"),
    ],
)
def test_bad_messages_get_a_clear_error_and_write_nothing(
    world: World, inquiry: Conversation, text: str, says: str
):
    world.member.preferred_language = "en"
    world.member.save()
    before = (Message.objects.count(), AuditEntry.objects.count())
    status, html = post_text(world.member, inquiry, text)
    assert status == 400
    assert says in html
    assert (Message.objects.count(), AuditEntry.objects.count()) == before


def test_a_message_of_exactly_the_limit_is_taken(world: World, inquiry: Conversation):
    status, _ = post_text(world.member, inquiry, "x" * 5000)
    assert status == 302
    assert Message.objects.filter(text="x" * 5000).exists()


def test_script_in_a_message_is_shown_as_text(world: World, inquiry: Conversation):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    status, _ = post_text(world.member, inquiry, attack)
    assert status == 302
    assert Message.objects.filter(text=attack).exists()  # kept as typed
    html = client_for(world.staff).get(inquiry.get_absolute_url()).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x" in html


def test_control_characters_are_dropped_and_line_breaks_kept(world: World, inquiry: Conversation):
    posted = services.post_message(
        author=world.member, conversation=inquiry, text="  Zeile 1\r\nZeile\x00 2\x1b  "
    )
    assert posted.message.text == "Zeile 1\nZeile 2"


def test_too_many_messages_too_fast_over_the_form_are_refused(
    world: World, inquiry: Conversation, settings: SettingsWrapper
):
    settings.MESSAGES_PER_MINUTE = 2
    assert post_text(world.member, inquiry, "zwei")[0] == 302
    status, html = post_text(world.member, inquiry, "drei")
    assert status == 400
    assert "Bitte warten Sie" in html or "Please wait a minute" in html
    assert not Message.objects.filter(text="drei").exists()


# --- the org admin's setup ----------------------------------------------------------------------


def test_admins_add_rename_and_withdraw_topics(world: World):
    admin = client_for(world.org_admin)
    assert (
        admin.post(
            "/nachrichten/themen/", {"add_topic": "1", "name": "Beiträge", "is_active": "on"}
        ).status_code
        == 302
    )
    topic = InquiryTopic.objects.get(name="Beiträge")
    assert topic.organization == world.org and topic.is_active
    # The same name twice is refused with a message, nothing changes.
    admin.post("/nachrichten/themen/", {"add_topic": "1", "name": "Beiträge"})
    assert InquiryTopic.objects.filter(name="Beiträge").count() == 1
    admin.post(f"/nachrichten/themen/{topic.pk}/", {"name": "Beiträge und Zahlungen"})
    topic.refresh_from_db()
    assert topic.name == "Beiträge und Zahlungen" and not topic.is_active
    assert not selectors.offered_topics(world.org).exists()
    codes = set(AuditEntry.objects.values_list("code", flat=True))
    assert {"messaging.topic.added", "messaging.topic.changed"} <= codes


def test_admins_set_the_retention_time_within_bounds(world: World):
    admin = client_for(world.org_admin)
    assert (
        admin.post(
            "/nachrichten/themen/", {"save_retention": "1", "retention_months": "0"}
        ).status_code
        == 400
    )
    assert (
        admin.post(
            "/nachrichten/themen/", {"save_retention": "1", "retention_months": "6"}
        ).status_code
        == 302
    )
    assert selectors.policy_for(world.org).retention_months == 6
    assert AuditEntry.objects.filter(code="messaging.retention.changed").exists()


def test_without_topics_members_are_told_where_to_write_instead(world: World):
    page = client_for(world.member).get("/nachrichten/neu/").content.decode()
    assert 'name="topic"' not in page
    assert "/nachrichten/" in page  # the way back to their conversations


# --- demo --------------------------------------------------------------------------------------


def test_the_demo_has_a_conversation_with_unread_messages(db: None):
    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())  # idempotent
    mia = User.objects.get(email="mitglied1@example.org")
    assert selectors.unread_count(mia) == 1
    unread = selectors.only_unread(selectors.visible_conversations(mia), mia).get()
    assert unread.messages.filter(from_member=False).count() == 2
    staff = User.objects.get(email="berater1@kasse-nord.example.org")
    assert selectors.unread_count(staff) == 1  # the second member's question, unassigned
    assert Conversation.objects.filter(topic__isnull=False).count() == 2
    assert not Appointment.objects.filter(conversation__isnull=True).exists()
