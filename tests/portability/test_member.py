"""A member downloads their own data (appointments, messages, files, consents) and can delete
their account: the login and coming appointments go at once, past appointments, conversations
and consents are kept but blocked, and the member sees which is which before confirming."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.calls.conftest import confirmed_call
from tests.conftest import World, client_for
from tests.messaging.conftest import png_bytes, upload
from treffpunkt.booking.models import AppointmentStatus
from treffpunkt.core.models import AuditEntry
from treffpunkt.messaging import services as messaging
from treffpunkt.messaging.models import Conversation, Message, Status
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

MEMBER_DATA_URL_NAMES = frozenset({"member_data", "member_data_download"})
PASSWORD = "ein-langes-Passwort-2027"


@pytest.fixture
def conversation(world: World) -> Conversation:
    topic = messaging.add_topic(admin=world.org_admin, name="Leistungen")
    started = messaging.start_inquiry(
        member=world.member,
        topic=topic,
        text="Welche Unterlagen brauche ich?",
        uploads=[upload("bescheid.png", png_bytes(), "image/png")],
    )
    messaging.post_message(author=world.staff, conversation=started, text="Den Bescheid bitte.")
    return started


def test_a_member_downloads_appointments_messages_files_and_consents(
    world: World, conversation: Conversation
):
    confirmed_call(member=world.member, staff=world.staff, starts_in=timedelta(days=2))
    response = client_for(world.member).get(reverse("member_data_download"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"profil.json", "termine.json", "nachrichten.json", "zustimmungen.json"} <= names
    assert json.loads(archive.read("profil.json"))["email"] == world.member.email
    assert len(json.loads(archive.read("termine.json"))) == 1
    talk = json.loads(archive.read("nachrichten.json"))[0]
    assert [m["text"] for m in talk["messages"]] == [
        "Welche Unterlagen brauche ich?",
        "Den Bescheid bitte.",
    ]
    (file_name,) = talk["messages"][0]["files"]
    assert archive.read(file_name) == png_bytes()
    assert AuditEntry.objects.filter(code="portability.member.exported").count() == 1


def test_deleting_the_account_deletes_the_login_cancels_what_comes_and_blocks_the_rest(
    world: World, conversation: Conversation
):
    world.member.set_password(PASSWORD)
    world.member.save()
    coming = confirmed_call(member=world.member, staff=world.staff, starts_in=timedelta(hours=1))
    email = world.member.email
    client = client_for(world.member)
    page = client.get(reverse("member_data")).content.decode()
    with translation.override(world.member.preferred_language):
        kept = gettext("Kept, but blocked")
        gone = gettext("Deleted")
    assert kept in page and gone in page

    wrong = client.post(reverse("member_data"), {"password": "falsch"})
    assert wrong.status_code == 400
    world.member.refresh_from_db()
    assert world.member.is_active

    done = client.post(reverse("member_data"), {"password": PASSWORD})
    assert done.status_code == 302
    world.member.refresh_from_db()
    assert not world.member.is_active and world.member.email != email
    assert not world.member.has_usable_password()
    coming.refresh_from_db()
    assert coming.status == AppointmentStatus.CANCELLED  # within the cut-off, too
    conversation.refresh_from_db()
    assert conversation.status == Status.CLOSED and conversation.closed_at is not None
    assert Message.objects.filter(conversation=conversation).count() == 2  # kept, blocked
    assert OutboxMail.objects.filter(to_address=email, template="portability/account_deleted")
    assert (
        AuditEntry.objects.get(code="portability.member.deleted").data["appointments_cancelled"]
        == 1
    )
    # Nobody signs in with it any more, and the old session is gone.
    assert client.get(reverse("member_data")).status_code == 302


@pytest.mark.parametrize("who", ["staff", "org_admin", "operator", "other_staff"])
def test_only_members_have_this_page(world: World, who: str):
    client = client_for(world.people[who])
    for name in MEMBER_DATA_URL_NAMES:
        assert client.get(reverse(name)).status_code == 403, (name, who)


def test_anonymous_people_are_sent_to_sign_in():
    for name in MEMBER_DATA_URL_NAMES:
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
