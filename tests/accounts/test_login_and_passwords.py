"""P-ACC-1: login throttling, password reset and change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import World, client_for, deliver_outbox
from tests.factories import PASSWORD
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str) -> Any:
    return client.post("/konto/anmelden/", {"username": email, "password": password})


def test_login_and_logout_with_email_and_password(world: World):
    client = Client()
    assert _login(client, world.member.email, PASSWORD).status_code == 302
    assert client.get("/").context["user"] == world.member
    client.post("/konto/abmelden/")
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_gets_a_message_that_does_not_say_which_part_was_wrong(world: World):
    response = _login(Client(), world.member.email, "falsch-falsch-falsch")
    unknown = _login(Client(), "niemand@example.org", "falsch-falsch-falsch")
    assert response.status_code == unknown.status_code == 200
    assert response.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_login_is_paused_after_repeated_failures(world: World, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        _login(client, world.member.email, "falsch-falsch-falsch")
    # Even the right password is refused while the pause lasts.
    locked = _login(client, world.member.email, PASSWORD)
    assert locked.status_code == 429
    assert not client.get("/").context["user"].is_authenticated


def test_password_reset_link_sets_a_new_password_once(world: World):
    client = Client()
    response = client.post("/konto/passwort-vergessen/", {"email": world.member.email})
    assert response["Location"] == "/konto/passwort-vergessen/gesendet/"
    [message] = deliver_outbox()
    link = re.search(r"http://testserver(/konto/passwort-neu/\S+/)", message.body)
    assert link
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    new_password = "Ganz-neues-Passwort-42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert _login(Client(), world.member.email, new_password).status_code == 302
    # The same link cannot be used a second time.
    reused = Client().get(link.group(1), follow=True)
    assert reused.context["validlink"] is False
    assert AuditEntry.objects.filter(code="accounts.user.password_reset").exists()


def test_password_reset_for_unknown_address_looks_the_same_and_sends_nothing(world: World):
    known = Client().post("/konto/passwort-vergessen/", {"email": world.member.email})
    unknown = Client().post("/konto/passwort-vergessen/", {"email": "niemand@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in deliver_outbox()] == [[world.member.email]]


def test_password_change_needs_the_old_password(world: World):
    client = client_for(world.member)
    wrong = client.post(
        "/konto/passwort-aendern/",
        {
            "old_password": "nicht-das-alte",
            "new_password1": "Ganz-neues-Passwort-42",
            "new_password2": "Ganz-neues-Passwort-42",
        },
    )
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["old_password"]
    right = client.post(
        "/konto/passwort-aendern/",
        {
            "old_password": PASSWORD,
            "new_password1": "Ganz-neues-Passwort-42",
            "new_password2": "Ganz-neues-Passwort-42",
        },
    )
    assert right.status_code == 302
    assert AuditEntry.objects.filter(code="accounts.user.password_changed").exists()
