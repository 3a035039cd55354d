"""Staff are invited by an org admin with a one-time, expiring link (P-ACC-1)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World, client_for, deliver_outbox
from treffpunkt.accounts.models import Invitation, Role, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Neues-Team-Passwort-9"


def _invite(world: World, *, role: str = Role.STAFF) -> str:
    response = client_for(world.org_admin).post(
        "/verwaltung/team/",
        {"display_name": "Tim Team", "email": "tim@kasse-nord.example.org", "role": role},
    )
    assert response.status_code == 302
    [message] = deliver_outbox()
    assert message.to == ["tim@kasse-nord.example.org"]
    found = re.search(r"http://testserver(/einladung/[^/\s]+/)", message.body)
    assert found
    return found.group(1)


def _accept(client: Client, path: str) -> Any:
    return client.post(
        path,
        {
            "display_name": "Tim Team",
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    )


def test_org_admin_invites_staff_who_joins_the_same_organization(world: World):
    path = _invite(world)
    client = Client()
    assert client.get(path).status_code == 200
    response = _accept(client, path)
    assert response["Location"] == "/konto/anmelden/"
    tim = User.objects.get(email="tim@kasse-nord.example.org")
    assert tim.role == Role.STAFF
    assert tim.organization == world.org
    assert tim.email_confirmed_at is not None
    assert (
        client.post(
            "/konto/anmelden/", {"username": tim.email, "password": NEW_PASSWORD}
        ).status_code
        == 302
    )


def test_org_admin_can_invite_another_admin(world: World):
    path = _invite(world, role=Role.ORG_ADMIN)
    _accept(Client(), path)
    assert User.objects.get(email="tim@kasse-nord.example.org").role == Role.ORG_ADMIN


def test_invitation_link_works_only_once(world: World):
    path = _invite(world)
    _accept(Client(), path)
    again = _accept(Client(), path)
    assert again.status_code == 400
    assert User.objects.filter(email="tim@kasse-nord.example.org").count() == 1


def test_expired_invitation_is_refused_and_creates_nothing(world: World):
    path = _invite(world)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(path).status_code == 400
    assert _accept(Client(), path).status_code == 400
    assert not User.objects.filter(email="tim@kasse-nord.example.org").exists()


def test_withdrawn_invitation_is_refused(world: World):
    path = _invite(world)
    invitation = Invitation.objects.get()
    client_for(world.org_admin).post(f"/verwaltung/einladungen/{invitation.pk}/widerrufen/")
    assert _accept(Client(), path).status_code == 400
    assert not User.objects.filter(email="tim@kasse-nord.example.org").exists()


def test_weak_password_on_invitation_is_refused_and_the_link_stays_usable(world: World):
    path = _invite(world)
    weak = Client().post(
        path, {"display_name": "Tim", "password": "12345", "password_repeat": "12345"}
    )
    assert weak.status_code == 200
    assert weak.context["form"].errors
    assert not User.objects.filter(email="tim@kasse-nord.example.org").exists()
    assert _accept(Client(), path)["Location"] == "/konto/anmelden/"


@pytest.mark.parametrize("role", ["member", "staff", "other_admin", "operator"])
def test_only_the_org_admin_can_invite(world: World, role: str):
    response = client_for(world.people[role]).post(
        "/verwaltung/team/",
        {"display_name": "X", "email": "x@example.org", "role": Role.STAFF},
    )
    if role == "other_admin":
        # An admin of another organization invites into their own organization only.
        assert Invitation.objects.get().organization == world.other_org
    else:
        assert response.status_code == 403
        assert not Invitation.objects.exists()


def test_admin_cannot_withdraw_another_organizations_invitation(world: World):
    _invite(world)
    invitation = Invitation.objects.get()
    response = client_for(world.other_admin).post(
        f"/verwaltung/einladungen/{invitation.pk}/widerrufen/"
    )
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
