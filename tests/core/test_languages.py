"""German by default, English complete; visitors switch by a control, users by their profile."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def test_pages_are_german_by_default():
    response = Client().get("/konto/anmelden/")
    page = response.content.decode()
    assert '<html lang="de">' in page
    assert "Passwort" in page


def test_a_visitor_switches_to_english_with_the_control():
    client = Client()
    response = client.post("/sprache/", {"language": "en", "next": "/konto/anmelden/"})
    assert response["Location"] == "/konto/anmelden/"
    page = client.get("/konto/anmelden/").content.decode()
    assert '<html lang="en">' in page
    assert "Password" in page


def test_the_language_switch_ignores_foreign_redirects_and_unknown_languages():
    client = Client()
    response = client.post("/sprache/", {"language": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert '<html lang="de">' in client.get("/").content.decode()


def test_a_logged_in_user_sees_the_language_of_their_profile(world: World):
    world.member.preferred_language = "en"
    world.member.save()
    client = client_for(world.member)
    assert '<html lang="en">' in client.get("/").content.decode()
    client.post(
        "/konto/profil/",
        {"display_name": "Mia Mitglied", "language": "de", "time_zone": "Europe/Berlin"},
    )
    world.member.refresh_from_db()
    assert world.member.preferred_language == "de"
    assert '<html lang="de">' in client.get("/").content.decode()


def test_the_switch_control_also_changes_a_users_profile(world: World):
    client = client_for(world.staff)
    client.post("/sprache/", {"language": "en", "next": "/"})
    world.staff.refresh_from_db()
    assert world.staff.preferred_language == "en"
