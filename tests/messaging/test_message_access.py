"""Every message page and action checks who may use it, for each role (P-MSG-1).

A conversation's participants are its member and the team (staff, org admin) of its
organization. Everybody else gets "not found" for anything about one conversation; team-only and
org-admin-only pages refuse the wrong role with 403; anonymous visitors are sent to the login.
A refused request writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from tests.accounts.test_access_by_role import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    ROLES,
    Expect,
    check,
    logged_in,
    redirect,
)
from tests.booking.test_booking_access import ADMINS_ONLY, MEMBERS_ONLY, TEAM_ONLY
from tests.conftest import World, client_for
from tests.factories import MemberFactory
from tests.messaging.conftest import FIRST_QUESTION, pdf_bytes, upload
from treffpunkt.core.models import AuditEntry
from treffpunkt.messaging import services, urls
from treffpunkt.messaging.models import (
    Attachment,
    Conversation,
    InquiryTopic,
    Message,
    MessagingPolicy,
    StaffDigest,
)

pytestmark = pytest.mark.django_db

MESSAGE_URL_NAMES = {
    "messaging:list",
    "messaging:new",
    "messaging:inbox",
    "messaging:digest",
    "messaging:topics",
    "messaging:edit_topic",
    "messaging:conversation",
    "messaging:assign",
    "messaging:close",
    "messaging:reopen",
    "messaging:attachment",
}

METHOD_NOT_ALLOWED = Expect(405)
INBOX = "/nachrichten/posteingang/"
TOPICS = "/nachrichten/themen/"
ANSWER = "Bringen Sie bitte den Bescheid mit."


# --- the objects the table talks about ----------------------------------------------------------


@dataclass
class Things:
    world: World
    topic: InquiryTopic
    other_topic: InquiryTopic  # offered by world.other_org
    conversation: Conversation  # world.member's inquiry: open, nobody assigned, one attachment
    closed: Conversation  # another inquiry of world.member, closed by the staff member
    attachment: Attachment
    other_conversation: Conversation  # world.other_member's inquiry (same organization)
    foreign_conversation: Conversation  # a member's inquiry in world.other_org


@pytest.fixture
def things(world: World, topic: InquiryTopic, inquiry: Conversation) -> Things:
    posted = services.post_message(
        author=world.member,
        conversation=inquiry,
        text="Der Befund anbei.",
        uploads=[upload("befund.pdf", pdf_bytes())],
    )
    closed = services.start_inquiry(member=world.member, topic=topic, text="Noch eine Frage.")
    services.close(actor=world.staff, conversation=closed)
    other_topic = services.add_topic(admin=world.other_admin, name="Beiträge")
    foreign_member = MemberFactory(organization=world.other_org, display_name="Selma Süd")
    return Things(
        world=world,
        topic=topic,
        other_topic=other_topic,
        conversation=inquiry,
        closed=closed,
        attachment=posted.attachments[0],
        other_conversation=services.start_inquiry(
            member=world.other_member, topic=topic, text="Max fragt etwas."
        ),
        foreign_conversation=services.start_inquiry(
            member=foreign_member, topic=other_topic, text="Selma fragt etwas."
        ),
    )


def conversation_url(
    name: str, conversation: Callable[[Things], Conversation]
) -> Callable[[Things], str]:
    return lambda t: reverse(f"messaging:{name}", args=[conversation(t).pk])


def to_conversation(t: Things) -> Expect:
    return redirect(t.conversation.get_absolute_url())


def to_closed(t: Things) -> Expect:
    return redirect(t.closed.get_absolute_url())


def to_newest_conversation(t: Things) -> Expect:
    """Evaluated after the request: the conversation it has just opened."""
    return redirect(Conversation.objects.latest("pk").get_absolute_url())


ExpectOrLater = Expect | Callable[[Things], Expect]


@dataclass(frozen=True)
class Action:
    name: str
    url_name: str
    url: Callable[[Things], str]
    expect: Mapping[str, ExpectOrLater]
    method: str = "get"
    data: Callable[[Things], dict[str, Any]] | None = None


# Anything about one conversation: only its participants; everybody else is told it does not
# exist (another member, the other organization's team, the operator).
PARTICIPANTS = logged_in(NOT_FOUND, member=OK, staff=OK, org_admin=OK)
# Team-only actions on one conversation: the wrong role is refused by the decorator (403), the
# other organization's team learns nothing (404).
TEAM_ACTION = logged_in(
    FORBIDDEN,
    staff=to_conversation,
    org_admin=to_conversation,
    other_staff=NOT_FOUND,
    other_admin=NOT_FOUND,
)
# POST-only views: a GET passes the role check and is then refused for its method.
TEAM_POST_ONLY = logged_in(
    FORBIDDEN,
    staff=METHOD_NOT_ALLOWED,
    org_admin=METHOD_NOT_ALLOWED,
    other_staff=METHOD_NOT_ALLOWED,
    other_admin=METHOD_NOT_ALLOWED,
)

ACTIONS = [
    Action(
        "list",
        "messaging:list",
        lambda t: reverse("messaging:list"),
        logged_in(redirect(INBOX), member=OK, other_member=OK, operator=FORBIDDEN),
    ),
    Action("new", "messaging:new", lambda t: reverse("messaging:new"), MEMBERS_ONLY),
    Action(
        "new-post",
        "messaging:new",
        lambda t: reverse("messaging:new"),
        logged_in(FORBIDDEN, member=to_newest_conversation, other_member=to_newest_conversation),
        method="post",
        data=lambda t: {"topic": t.topic.pk, "text": "Wie lange dauert der Antrag?"},
    ),
    Action("inbox", "messaging:inbox", lambda t: reverse("messaging:inbox"), TEAM_ONLY),
    Action("digest", "messaging:digest", lambda t: reverse("messaging:digest"), TEAM_POST_ONLY),
    Action(
        "digest-post",
        "messaging:digest",
        lambda t: reverse("messaging:digest"),
        logged_in(
            FORBIDDEN,
            staff=redirect(INBOX),
            org_admin=redirect(INBOX),
            other_staff=redirect(INBOX),
            other_admin=redirect(INBOX),
        ),
        method="post",
        data=lambda t: {"enabled": "on"},
    ),
    Action("topics", "messaging:topics", lambda t: reverse("messaging:topics"), ADMINS_ONLY),
    Action(
        "topics-post",
        "messaging:topics",
        lambda t: reverse("messaging:topics"),
        logged_in(FORBIDDEN, org_admin=redirect(TOPICS), other_admin=redirect(TOPICS)),
        method="post",
        data=lambda t: {"add_topic": "1", "name": "Pflege zu Hause", "is_active": "on"},
    ),
    Action(
        "edit-topic",
        "messaging:edit_topic",
        lambda t: reverse("messaging:edit_topic", args=[t.topic.pk]),
        logged_in(FORBIDDEN, org_admin=METHOD_NOT_ALLOWED, other_admin=METHOD_NOT_ALLOWED),
    ),
    Action(
        "edit-topic-post",
        "messaging:edit_topic",
        lambda t: reverse("messaging:edit_topic", args=[t.topic.pk]),
        logged_in(FORBIDDEN, org_admin=redirect(TOPICS), other_admin=NOT_FOUND),
        method="post",
        data=lambda t: {"name": "Leistungen"},  # renamed and no longer offered
    ),
    Action(
        "edit-topic-of-other-org-post",
        "messaging:edit_topic",
        lambda t: reverse("messaging:edit_topic", args=[t.other_topic.pk]),
        logged_in(FORBIDDEN, org_admin=NOT_FOUND, other_admin=redirect(TOPICS)),
        method="post",
        data=lambda t: {"name": "Beiträge und Zahlungen", "is_active": "on"},
    ),
    Action(
        "conversation",
        "messaging:conversation",
        conversation_url("conversation", lambda t: t.conversation),
        PARTICIPANTS,
    ),
    Action(
        "conversation-post",
        "messaging:conversation",
        conversation_url("conversation", lambda t: t.conversation),
        logged_in(
            NOT_FOUND, member=to_conversation, staff=to_conversation, org_admin=to_conversation
        ),
        method="post",
        data=lambda t: {"text": ANSWER},
    ),
    Action(
        "assign",
        "messaging:assign",
        conversation_url("assign", lambda t: t.conversation),
        TEAM_POST_ONLY,
    ),
    Action(
        "assign-post",
        "messaging:assign",
        conversation_url("assign", lambda t: t.conversation),
        TEAM_ACTION,
        method="post",
        data=lambda t: {"staff": t.world.staff.pk},
    ),
    Action(
        "assign-to-me-post",
        "messaging:assign",
        conversation_url("assign", lambda t: t.conversation),
        TEAM_ACTION,
        method="post",
        data=lambda t: {"staff": "", "to_me": "1"},
    ),
    Action(
        "close",
        "messaging:close",
        conversation_url("close", lambda t: t.conversation),
        TEAM_POST_ONLY,
    ),
    Action(
        "close-post",
        "messaging:close",
        conversation_url("close", lambda t: t.conversation),
        TEAM_ACTION,
        method="post",
    ),
    Action(
        "reopen",
        "messaging:reopen",
        conversation_url("reopen", lambda t: t.closed),
        TEAM_POST_ONLY,
    ),
    Action(
        "reopen-post",
        "messaging:reopen",
        conversation_url("reopen", lambda t: t.closed),
        logged_in(
            FORBIDDEN,
            staff=to_closed,
            org_admin=to_closed,
            other_staff=NOT_FOUND,
            other_admin=NOT_FOUND,
        ),
        method="post",
    ),
    Action(
        "attachment",
        "messaging:attachment",
        lambda t: reverse("messaging:attachment", args=[t.conversation.pk, t.attachment.pk]),
        PARTICIPANTS,
    ),
]

CASES = [
    pytest.param(action, role, id=f"{action.name}/{role}") for action in ACTIONS for role in ROLES
]


# --- what a request may change ------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    conversations: int
    messages: int
    attachments: int
    audit: int
    digests_enabled: int
    topics: tuple[tuple[int, str, bool], ...]
    retention: tuple[tuple[int, int], ...]
    open_one: tuple[int | None, str]
    closed_one: tuple[int | None, str]
    private_files: frozenset[str]


def private_files() -> frozenset[str]:
    root = Path(settings.PRIVATE_FILES_DIR)
    return frozenset(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def state(t: Things) -> State:
    def handling(conversation: Conversation) -> tuple[int | None, str]:
        fresh = Conversation.objects.get(pk=conversation.pk)
        return fresh.assigned_to_id, fresh.status

    return State(
        conversations=Conversation.objects.count(),
        messages=Message.objects.count(),
        attachments=Attachment.objects.count(),
        audit=AuditEntry.objects.count(),
        digests_enabled=StaffDigest.objects.filter(enabled=True).count(),
        topics=tuple(InquiryTopic.objects.order_by("pk").values_list("pk", "name", "is_active")),
        retention=tuple(
            MessagingPolicy.objects.order_by("pk").values_list("pk", "retention_months")
        ),
        open_one=handling(t.conversation),
        closed_one=handling(t.closed),
        private_files=private_files(),
    )


def send(action: Action, t: Things, role: str) -> HttpResponse:
    user = None if role == "anonymous" else t.world.people[role]
    client = client_for(user)
    url = action.url(t)
    if action.method == "post":
        return client.post(url, action.data(t) if action.data else {})
    return client.get(url)


def refused(expected: Expect) -> bool:
    return expected.status >= 400 or expected.to == LOGIN


@pytest.mark.parametrize(("action", "role"), CASES)
def test_each_role_gets_exactly_the_message_access_it_should(
    things: Things, action: Action, role: str
):
    before = state(things)

    response = send(action, things, role)

    value = action.expect[role]
    expected = value(things) if callable(value) else value
    check(response, expected, path=action.url(things))
    if refused(expected):
        # A refused request leaves no trace: no conversation, message, file, assignment,
        # status, topic, digest or audit entry.
        assert state(things) == before
    elif action.method == "post":
        # Counter-check: the data is valid, so the refusals above are refusals of the role.
        assert state(things) != before


def test_every_message_url_is_in_the_table():
    """A new message view must get a row; the project-wide check subtracts these names."""
    assert {f"messaging:{p.name}" for p in urls.urlpatterns} == MESSAGE_URL_NAMES
    assert {action.url_name for action in ACTIONS} == MESSAGE_URL_NAMES
    conversation_specific = {
        name for name in MESSAGE_URL_NAMES if "conversation_id" in reverse_kwargs(name)
    }
    # Each conversation-specific view is asked both by GET and with its POST (where it has one).
    assert conversation_specific == {
        "messaging:conversation",
        "messaging:assign",
        "messaging:close",
        "messaging:reopen",
        "messaging:attachment",
    }


def reverse_kwargs(name: str) -> set[str]:
    pattern = next(p for p in urls.urlpatterns if f"messaging:{p.name}" == name)
    return set(pattern.pattern.converters)


# --- another organization learns nothing --------------------------------------------------------


def _normalized(response: HttpResponse, path: str) -> str:
    """The page without what differs on every response (CSRF token, CSP nonce) and without
    the asked path itself (the language switch comes back to it)."""
    page = response.content.decode().replace(path, "<path>")
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return re.sub(r'nonce="[^"]*"', "", page)


def _missing_conversation_id() -> int:
    highest = Conversation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return highest + 1000


OUTSIDERS = ("other_member", "other_staff", "other_admin", "operator")
PROBES: list[tuple[str, str, Callable[[Things], dict[str, Any]] | None]] = [
    ("conversation", "get", None),
    ("conversation", "post", lambda t: {"text": ANSWER}),
    ("assign", "post", lambda t: {"staff": "", "to_me": "1"}),
    ("close", "post", None),
    ("reopen", "post", None),
    ("attachment", "get", None),
]


@pytest.mark.parametrize("role", OUTSIDERS)
@pytest.mark.parametrize(
    ("name", "method", "data"),
    [pytest.param(*probe, id=f"{probe[0]}-{probe[1]}") for probe in PROBES],
)
def test_outsiders_get_the_same_answer_as_for_a_conversation_that_does_not_exist(
    things: Things,
    role: str,
    name: str,
    method: str,
    data: Callable[[Things], dict[str, Any]] | None,
):
    client = client_for(things.world.people[role])
    target = things.closed if name == "reopen" else things.conversation

    def ask(conversation_id: int) -> tuple[HttpResponse, str]:
        args: list[int] = [conversation_id]
        if name == "attachment":
            args.append(things.attachment.pk)
        url = reverse(f"messaging:{name}", args=args)
        if method == "post":
            return client.post(url, data(things) if data else {}), url
        return client.get(url), url

    before = state(things)
    existing, existing_path = ask(target.pk)
    missing, missing_path = ask(_missing_conversation_id())

    # Members and the operator are refused team actions by their role (403) before any
    # lookup; everything else is the plain "not found".
    by_role = name in {"assign", "close", "reopen"} and role in {"other_member", "operator"}
    assert existing.status_code == (403 if by_role else 404)
    assert missing.status_code == existing.status_code
    assert _normalized(existing, existing_path) == _normalized(missing, missing_path)
    page = existing.content.decode()
    assert things.world.member.display_name not in page
    assert FIRST_QUESTION not in page
    assert state(things) == before


# --- e-mail addresses never show --------------------------------------------------------------


def _messaging_pages(t: Things) -> list[str]:
    conversation = t.conversation.get_absolute_url()
    return [
        reverse("messaging:list"),
        reverse("messaging:new"),
        *(
            f"{reverse('messaging:inbox')}?ansicht={view}"
            for view in ("offen", "ohne-zuweisung", "meine", "geschlossen")
        ),
        reverse("messaging:topics"),
        conversation,
        t.closed.get_absolute_url(),
        t.other_conversation.get_absolute_url(),
        t.foreign_conversation.get_absolute_url(),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_no_messaging_page_shows_an_email_address_to_anybody(things: Things, role: str):
    world = things.world
    # Both sides have written; the conversation is assigned, so names of both sides show.
    services.post_message(author=world.staff, conversation=things.conversation, text=ANSWER)
    services.assign(actor=world.org_admin, conversation=things.conversation, staff=world.org_admin)
    services.post_message(author=world.org_admin, conversation=things.closed, text=ANSWER)
    addresses = [
        person.email.lower()
        for person in [*world.people.values(), things.foreign_conversation.member]
    ]
    client = client_for(None if role == "anonymous" else world.people[role])
    shown = 0
    for url in _messaging_pages(things):
        response = client.get(url, follow=True)
        page = response.content.decode().lower()
        for address in addresses:
            assert address not in page, (url, address)
        # The e-mail's local part alone would give it away as well.
        for address in addresses:
            assert f"{address.split('@')[0]}@" not in page, (url, address)
        shown += response.status_code == 200
    # The pages were really rendered (the operator has none: 403 and 404 pages only).
    assert shown > 0 or role == "operator"


def test_the_staff_pages_name_people_by_their_display_name(things: Things):
    """Counter-check for the test above: the pages do show the people, by name."""
    world = things.world
    inbox = client_for(world.staff).get(reverse("messaging:inbox")).content.decode()
    assert world.member.display_name in inbox
    page = client_for(world.staff).get(things.conversation.get_absolute_url()).content.decode()
    assert world.member.display_name in page
    assert world.org_admin.display_name in page  # in the choice of whom to assign


# --- a forged conversation id writes nothing ---------------------------------------------------


@dataclass(frozen=True)
class Forgery:
    name: str
    role: str
    url_name: str
    target: Callable[[Things], int]
    data: Callable[[Things], dict[str, Any]]


def _with_file(text: str) -> dict[str, Any]:
    return {"text": text, "attachments": [upload("befund.pdf", pdf_bytes())]}


FORGERIES = [
    Forgery(
        "member-writes-into-another-members-conversation",
        "member",
        "conversation",
        lambda t: t.other_conversation.pk,
        lambda t: _with_file("Ich lese mit."),
    ),
    Forgery(
        "staff-writes-into-another-organizations-conversation",
        "staff",
        "conversation",
        lambda t: t.foreign_conversation.pk,
        lambda t: _with_file(ANSWER),
    ),
    Forgery(
        "staff-assigns-another-organizations-conversation",
        "staff",
        "assign",
        lambda t: t.foreign_conversation.pk,
        lambda t: {"staff": t.world.staff.pk},
    ),
    Forgery(
        "staff-closes-another-organizations-conversation",
        "staff",
        "close",
        lambda t: t.foreign_conversation.pk,
        lambda t: {},
    ),
    Forgery(
        "other-staff-writes-into-this-conversation",
        "other_staff",
        "conversation",
        lambda t: t.conversation.pk,
        lambda t: _with_file(ANSWER),
    ),
    Forgery(
        "other-admin-assigns-this-conversation-to-themselves",
        "other_admin",
        "assign",
        lambda t: t.conversation.pk,
        lambda t: {"staff": t.world.other_admin.pk},
    ),
    Forgery(
        "other-staff-closes-this-conversation",
        "other_staff",
        "close",
        lambda t: t.conversation.pk,
        lambda t: {},
    ),
    Forgery(
        "other-staff-reopens-this-closed-conversation",
        "other_staff",
        "reopen",
        lambda t: t.closed.pk,
        lambda t: {},
    ),
    Forgery(
        "member-writes-into-a-conversation-that-does-not-exist",
        "member",
        "conversation",
        lambda t: _missing_conversation_id(),
        lambda t: _with_file("Hallo?"),
    ),
    Forgery(
        "staff-closes-a-conversation-that-does-not-exist",
        "staff",
        "close",
        lambda t: _missing_conversation_id(),
        lambda t: {},
    ),
]


def _foreign_state(t: Things) -> tuple[int | None, str, int]:
    foreign = Conversation.objects.get(pk=t.foreign_conversation.pk)
    other = Conversation.objects.get(pk=t.other_conversation.pk)
    return foreign.assigned_to_id, foreign.status, other.last_member_message_id


@pytest.mark.parametrize("forgery", [pytest.param(f, id=f.name) for f in FORGERIES])
def test_a_forged_conversation_id_in_a_post_writes_nothing(things: Things, forgery: Forgery):
    before, foreign_before = state(things), _foreign_state(things)
    client = client_for(things.world.people[forgery.role])

    response = client.post(
        reverse(f"messaging:{forgery.url_name}", args=[forgery.target(things)]),
        forgery.data(things),
    )

    assert response.status_code == 404
    assert state(things) == before
    assert _foreign_state(things) == foreign_before
