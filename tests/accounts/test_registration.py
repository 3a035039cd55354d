"""P-ACC-1: members register with an e-mail address and a password, confirm the address,
log in and out. Bad input gets a clear message and writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.conftest import World, deliver_outbox
from treffpunkt.accounts.models import EmailConfirmation, User
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db

STRONG = "Sehr-geheimes-Passwort-1"


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "display_name": "Nora Neu",
        "email": "nora@example.org",
        "password": STRONG,
        "password_repeat": STRONG,
    }
    data.update(overrides)
    return data


def _confirmation_path(message: mail.EmailMessage) -> str:
    found = re.search(r"http://testserver(/konto/bestaetigen/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_member_registers_confirms_address_and_logs_in(world: World):
    client = Client()
    response = client.post(f"/o/{world.org.slug}/registrieren/", _form())
    assert response.status_code == 302
    assert response["Location"] == "/konto/registriert/"
    user = User.objects.get(email="nora@example.org")
    assert user.organization == world.org
    assert user.is_member and user.email_confirmed_at is None

    # Not confirmed yet: the login says why.
    refused = client.post("/konto/anmelden/", {"username": "nora@example.org", "password": STRONG})
    assert refused.status_code == 200
    assert not refused.wsgi_request.user.is_authenticated

    [message] = deliver_outbox()
    assert message.to == ["nora@example.org"]
    path = _confirmation_path(message)
    assert client.get(path).status_code == 200  # shows a button; a mail scanner's GET does nothing
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    confirmed = client.post(path)
    assert confirmed["Location"] == "/konto/anmelden/"
    user.refresh_from_db()
    assert user.email_confirmed_at is not None

    logged_in = client.post(
        "/konto/anmelden/", {"username": "Nora@Example.org", "password": STRONG}
    )
    assert logged_in.status_code == 302
    assert client.get("/konto/profil/").status_code in (200, 302)
    logged_out = client.post("/konto/abmelden/")
    assert logged_out.status_code == 302
    assert client.get("/konto/profil/")["Location"].startswith("/konto/anmelden/")
    codes = set(AuditEntry.objects.filter(target_id=str(user.pk)).values_list("code", flat=True))
    assert {"accounts.user.registered", "accounts.user.email_confirmed"} <= codes


def test_confirmation_link_works_only_once(world: World):
    client = Client()
    client.post(f"/o/{world.org.slug}/registrieren/", _form())
    path = _confirmation_path(deliver_outbox()[0])
    assert client.post(path).status_code == 302
    again = client.post(path)
    assert again.status_code == 400
    assert "bereits" in again.content.decode() or "already" in again.content.decode()


def test_expired_confirmation_link_is_refused_and_confirms_nothing(world: World):
    client = Client()
    client.post(f"/o/{world.org.slug}/registrieren/", _form())
    path = _confirmation_path(deliver_outbox()[0])
    EmailConfirmation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(path)
    assert response.status_code == 400
    assert User.objects.get(email="nora@example.org").email_confirmed_at is None


def test_forged_confirmation_link_is_refused(world: World):
    response = Client().post("/konto/bestaetigen/not-a-real-token/")
    assert response.status_code == 400


def test_registering_a_known_address_looks_the_same_and_creates_nothing(world: World):
    client = Client()
    before = User.objects.count()
    response = client.post(
        f"/o/{world.org.slug}/registrieren/", _form(email=world.member.email.upper())
    )
    assert response.status_code == 302
    assert response["Location"] == "/konto/registriert/"
    assert User.objects.count() == before
    [message] = deliver_outbox()
    assert message.to == [world.member.email]
    assert "/konto/passwort-vergessen/" in message.body  # tells the owner how to get back in


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "kurz", "password_repeat": "kurz"}, "password"),
        ({"password": "1234567890123", "password_repeat": "1234567890123"}, "password"),
        ({"password": "password123", "password_repeat": "password123"}, "password"),
        ({"password_repeat": "Etwas-anderes-99"}, "password_repeat"),
        ({"email": "nora-at-example.org"}, "email"),
        ({"email": ""}, "email"),
        ({"display_name": "   "}, "display_name"),
    ],
    ids=["too-short", "only-digits", "common", "repeat-differs", "malformed", "empty", "no-name"],
)
def test_bad_registration_input_gets_a_clear_message_and_writes_nothing(
    world: World, overrides: dict[str, str], field: str
):
    users_before = User.objects.count()
    audit_before = AuditEntry.objects.count()
    response = Client().post(f"/o/{world.org.slug}/registrieren/", _form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert 'class="error"' in response.content.decode()
    assert User.objects.count() == users_before
    assert AuditEntry.objects.count() == audit_before
    assert deliver_outbox() == []


def test_tampered_registration_form_without_csrf_token_is_refused(world: World):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/o/{world.org.slug}/registrieren/", _form())
    assert response.status_code == 403
    assert not User.objects.filter(email="nora@example.org").exists()


def test_registration_for_an_unknown_organization_is_not_found(world: World):
    assert Client().get("/o/gibt-es-nicht/registrieren/").status_code == 404


def test_passwords_are_hashed_with_argon2_in_the_real_settings():
    import treffpunkt.settings as real_settings

    assert real_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
