"""Security baseline: CSP without inline scripts, CSRF, production settings that pass
`check --deploy`, error pages in the product's design, no third-party requests."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client

from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "treffpunkt"


def test_pages_send_a_content_security_policy_without_inline_script(world: World):
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip()
    )
    assert "'self'" in directives["script-src"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_contain_no_inline_script_or_handler():
    offenders = []
    for template in SRC.rglob("templates/**/*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son\w+=\"", text):
            offenders.append(str(template.relative_to(SRC)))
    assert offenders == []


def test_no_page_or_stylesheet_names_a_third_party_host():
    """Pages load nothing from other hosts (member IP addresses must not leak)."""
    pattern = re.compile(r"""(?:src|href|url\()\s*=?\s*["']?(?:https?:)?//""", re.IGNORECASE)
    offenders = []
    for path in [*SRC.rglob("templates/**/*.html"), *SRC.rglob("static/**/*.*")]:
        if "templates/mail/" in str(path):
            continue  # links in mails point to the site itself via SITE_URL
        if pattern.search(path.read_text(errors="ignore")):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_every_form_post_needs_a_csrf_token(world: World):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member)
    response = client.post("/konto/profil/", {"display_name": "Gekapert", "language": "en"})
    assert response.status_code == 403
    assert "Treffpunkt" in response.content.decode()  # the product's page, not Django's
    world.member.refresh_from_db()
    assert world.member.display_name == "Mia Mitglied"


def test_not_found_and_forbidden_pages_use_the_product_design(world: World):
    missing = Client().get("/gibt-es-nicht/")
    assert missing.status_code == 404
    assert 'class="site-header"' in missing.content.decode()
    forbidden = client_for(world.member).get("/verwaltung/team/")
    assert forbidden.status_code == 403
    assert 'class="site-header"' in forbidden.content.decode()


def test_server_error_page_renders_without_any_context():
    page = render_to_string("500.html")
    assert "Etwas ist schiefgegangen" in page and "Something went wrong" in page


def test_server_error_answers_with_the_designed_page(world: World, settings):
    from django.urls import path

    def broken(request: object) -> None:
        raise RuntimeError("boom")

    from treffpunkt import urls

    settings.ROOT_URLCONF = type(
        "BrokenUrls", (), {"urlpatterns": [path("kaputt/", broken), *urls.urlpatterns]}
    )
    client = Client(raise_request_exception=False)
    response = client.get("/kaputt/")
    assert response.status_code == 500
    assert "Etwas ist schiefgegangen" in response.content.decode()


def _production_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    env.update(
        {
            "TREFFPUNKT_MODE": "production",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "treffpunkt.example.org",
            "DJANGO_SETTINGS_MODULE": "treffpunkt.settings",
        }
    )
    return env


def test_production_settings_pass_the_deployment_check():
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    env.pop("SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
