"""Operators sign in with a second factor (an authenticator app, recovery codes when the phone
is gone); anyone else may switch it on, and then every new session has to prove it too."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import CommandError, call_command
from django.http import HttpRequest, HttpResponse
from django.test import AsyncRequestFactory, Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World, client_for
from tests.factories import PASSWORD, MemberFactory, OperatorFactory
from treffpunkt.accounts.demo import DEMO_SECOND_FACTOR_SECRET
from treffpunkt.accounts.middleware import SecondFactorMiddleware, SecondFactorSocketMiddleware
from treffpunkt.accounts.models import User
from treffpunkt.accounts.second_factor import (
    enable_second_factor,
    key_from_secret,
    new_secret,
    second_factor_required,
)
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db

SETUP = "/konto/zweiter-faktor/einrichten/"
VERIFY = "/konto/zweiter-faktor/pruefen/"
MANAGE = "/konto/zweiter-faktor/"
CODES = "/konto/zweiter-faktor/wiederherstellungscodes/"
RENEW = "/konto/zweiter-faktor/neue-codes/"
REMOVE = "/konto/zweiter-faktor/ausschalten/"
BACK_OFFICE = ("/betrieb/protokoll/", "/betrieb/admin/", "/betrieb/admin/accounts/user/")

# For tests/accounts/test_access_by_role.py: the pages of this module, tested here.
SECOND_FACTOR_URL_NAMES = {
    "accounts:second_factor",
    "accounts:second_factor_setup",
    "accounts:second_factor_verify",
    "accounts:recovery_codes",
    "accounts:renew_recovery_codes",
    "accounts:remove_second_factor",
}


# --- helpers ------------------------------------------------------------------------------------


def log_in(user: User) -> Client:
    """A new session through the login form: password only, nothing proved yet."""
    client = Client()
    response = client.post("/konto/anmelden/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def app_code(user: User) -> str:
    """The code the user's app shows now, or the next one if the device already took the
    current one (each code works once)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    ahead = max(0, device.last_t + 1 - now.t())
    assert ahead <= device.tolerance, "no unused code within the tolerance; test too fast"
    return f"{TOTP(device.bin_key, drift=device.drift + ahead).token():06d}"


def wrong_code_for(key: bytes) -> str:
    """Six digits that are none of the codes accepted now."""
    accepted = {TOTP(key, drift=d).token() for d in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(123456, 999999) if n not in accepted)


def switched_on(user: User) -> list[str]:
    """Switch the second factor on through the service; returns the recovery codes."""
    key = new_secret()
    _device, codes = enable_second_factor(
        user=user, key=key, code=f"{totp(bytes.fromhex(key)):06d}"
    )
    return codes


def wait_out_the_throttling(user: User) -> None:
    """As if the wait after a wrong code were over (the first wait is a second)."""
    long_ago = timezone.now() - timedelta(minutes=5)
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=long_ago)


def secret_on_page(html: str) -> str:
    match = re.search(r'<code class="verification-code">([A-Z2-7 ]+)</code>', html)
    assert match, "the key for manual entry is on the page"
    return match.group(1)


def redirected_to(response: HttpResponse, path: str, *, next_path: str | None = None) -> bool:
    if response.status_code != 302:
        return False
    target = urlsplit(response["Location"])
    if target.path != path:
        return False
    return next_path is None or parse_qs(target.query).get("next") == [next_path]


def errors(response: HttpResponse) -> str:
    return " ".join(re.findall(r'<p class="error"[^>]*>([^<]*)</p>', response.content.decode()))


# --- operators must have it ---------------------------------------------------------------------


@pytest.mark.parametrize("path", BACK_OFFICE)
def test_operator_without_a_second_factor_is_sent_to_set_it_up(world: World, path: str):
    client = log_in(world.operator)
    response = client.get(path)
    assert redirected_to(response, SETUP, next_path=path)
    # The home page and the profile too: nothing works before it is set up.
    for other in ("/", "/konto/profil/"):
        assert redirected_to(client.get(other), SETUP, next_path=other)


def test_setup_with_a_wrong_code_fails_clearly_and_switches_nothing_on(world: World):
    client = log_in(world.operator)
    page = client.get(SETUP)
    secret = secret_on_page(page.content.decode())
    key = bytes.fromhex(key_from_secret(secret))

    response = client.post(SETUP, {"code": wrong_code_for(key)})

    assert response.status_code == 200
    assert "Dieser Code passt nicht" in errors(response)
    assert not TOTPDevice.objects.filter(user=world.operator, confirmed=True).exists()
    assert not AuditEntry.objects.filter(code="accounts.second_factor.enabled").exists()
    # Still the same key: the app the person already scanned stays right.
    assert secret_on_page(client.get(SETUP).content.decode()) == secret
    assert redirected_to(client.get("/betrieb/protokoll/"), SETUP)


def test_setup_with_the_right_code_switches_it_on_and_shows_recovery_codes_once(world: World):
    client = log_in(world.operator)
    client.get("/betrieb/protokoll/")
    page = client.get(SETUP, {"next": "/betrieb/protokoll/"})
    html = page.content.decode()
    assert "<svg" in html and "QR" in html
    key = key_from_secret(secret_on_page(html))

    response = client.post(
        SETUP, {"code": f"{totp(bytes.fromhex(key)):06d}", "next": "/betrieb/protokoll/"}
    )

    assert redirected_to(response, CODES)
    device = TOTPDevice.objects.get(user=world.operator, confirmed=True)
    assert device.key == key
    shown = client.get(CODES)
    codes = re.findall(
        r'<code class="verification-code">([a-z2-7]{4}-[a-z2-7]{4})</code>', shown.content.decode()
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "nur dieses eine Mal" in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert 'href="/betrieb/protokoll/"' in shown.content.decode()
    # Shown once: a second visit has no codes.
    again = client.get(CODES).content.decode()
    assert not any(code in again for code in codes)
    stored = set(
        StaticToken.objects.filter(device__user=world.operator).values_list("token", flat=True)
    )
    assert stored == {code.replace("-", "") for code in codes}
    # The session that set it up has proved it.
    assert client.get("/betrieb/protokoll/").status_code == 200
    [entry] = AuditEntry.objects.filter(code="accounts.second_factor.enabled")
    assert entry.actor == world.operator and entry.target_id == str(world.operator.pk)


def test_a_new_session_must_prove_the_second_factor_before_the_back_office_works(world: World):
    switched_on(world.operator)
    client = log_in(world.operator)

    for path in BACK_OFFICE:
        assert redirected_to(client.get(path), VERIFY, next_path=path)
    page = client.get(VERIFY, {"next": "/betrieb/admin/"})
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    response = client.post(VERIFY, {"code": app_code(world.operator), "next": "/betrieb/admin/"})

    assert response.status_code == 302 and response["Location"] == "/betrieb/admin/"
    for path in BACK_OFFICE:
        assert client.get(path).status_code == 200, path
    assert client.session[DEVICE_ID_SESSION_KEY].startswith("otp_totp.totpdevice/")


def test_verifying_gives_the_session_a_new_key(world: World):
    switched_on(world.operator)
    client = log_in(world.operator)
    before = client.session.session_key
    client.post(VERIFY, {"code": app_code(world.operator)})
    assert client.session.session_key != before
    assert client.get("/betrieb/protokoll/").status_code == 200


def test_next_may_not_lead_to_another_site(world: World):
    switched_on(world.operator)
    client = log_in(world.operator)
    response = client.post(
        VERIFY, {"code": app_code(world.operator), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_recovery_code_works_once_only(world: World):
    codes = switched_on(world.operator)
    first = log_in(world.operator)

    response = first.post(VERIFY, {"code": codes[3].upper(), "next": "/betrieb/protokoll/"})

    assert response["Location"] == "/betrieb/protokoll/"
    assert first.get("/betrieb/protokoll/").status_code == 200
    [entry] = AuditEntry.objects.filter(code="accounts.second_factor.recovery_code_used")
    assert entry.data == {"codes_left": 9}

    second = log_in(world.operator)
    again = second.post(VERIFY, {"code": codes[3], "next": "/betrieb/protokoll/"})
    assert again.status_code == 200
    assert "Dieser Code stimmt nicht" in errors(again)
    assert redirected_to(second.get("/betrieb/protokoll/"), VERIFY)


def test_using_a_recovery_code_says_how_many_are_left(world: World):
    codes = switched_on(world.operator)
    client = log_in(world.operator)
    page = client.post(VERIFY, {"code": codes[0]}, follow=True).content.decode()
    assert "Sie haben noch 9 Wiederherstellungscodes." in page


def test_wrong_codes_are_throttled_with_a_clear_message(world: World):
    switched_on(world.operator)
    client = log_in(world.operator)
    device = TOTPDevice.objects.get(user=world.operator)
    wrong = wrong_code_for(device.bin_key)

    first = client.post(VERIFY, {"code": wrong})
    assert first.status_code == 200 and "Dieser Code stimmt nicht" in errors(first)
    second = client.post(VERIFY, {"code": wrong})
    assert second.status_code == 429
    assert "Zu viele falsche Codes" in errors(second)
    # While the wait lasts, even the right code is refused.
    right = client.post(VERIFY, {"code": app_code(world.operator)})
    assert right.status_code == 429 and "Bitte warten Sie" in errors(right)
    assert redirected_to(client.get("/betrieb/protokoll/"), VERIFY)

    # After the wait the right code works.
    wait_out_the_throttling(world.operator)
    assert client.post(VERIFY, {"code": app_code(world.operator)}).status_code == 302
    assert client.get("/betrieb/protokoll/").status_code == 200


def test_wrong_recovery_codes_are_throttled_too(world: World):
    switched_on(world.operator)
    client = log_in(world.operator)
    client.post(VERIFY, {"code": "aaaa-aaaa"})
    response = client.post(VERIFY, {"code": "bbbb-bbbb"})
    assert response.status_code == 429 and "Zu viele falsche Codes" in errors(response)
    assert StaticDevice.objects.get(user=world.operator).throttling_failure_count == 1


# --- everybody else ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "staff", "org_admin"])
def test_people_without_a_second_factor_are_not_bothered(world: World, role: str):
    user = world.people[role]
    assert not second_factor_required(user)
    client = log_in(user)
    assert client.get("/").status_code == 200
    assert client.get("/konto/profil/").status_code == 200
    # The verify page has nothing to ask them.
    assert client.get(VERIFY).status_code == 302


def test_a_member_who_switches_it_on_must_prove_it_in_the_next_session(world: World):
    client = log_in(world.member)
    profile = client.get("/konto/profil/").content.decode()
    assert SETUP in profile
    key = key_from_secret(secret_on_page(client.get(SETUP).content.decode()))
    response = client.post(SETUP, {"code": f"{totp(bytes.fromhex(key)):06d}"})
    assert redirected_to(response, CODES)
    assert client.get("/termine/").status_code == 200  # this session proved it

    later = log_in(world.member)
    for path in ("/", "/termine/", "/nachrichten/", "/konto/profil/", MANAGE):
        assert redirected_to(later.get(path), VERIFY, next_path=path), path
    later.post(VERIFY, {"code": app_code(world.member)})
    assert later.get("/termine/").status_code == 200


def test_a_member_can_switch_it_off_with_a_current_code(world: World):
    switched_on(world.member)
    client = client_for(world.member)
    refused = client.post(REMOVE, {"remove-code": "000000"})
    assert TOTPDevice.objects.filter(user=world.member).exists()
    assert refused.status_code == 200 and "Dieser Code stimmt nicht" in errors(refused)
    wait_out_the_throttling(world.member)
    response = client.post(REMOVE, {"remove-code": app_code(world.member)})
    assert response["Location"] == "/konto/profil/"
    assert not TOTPDevice.objects.filter(user=world.member).exists()
    assert not StaticDevice.objects.filter(user=world.member).exists()
    assert AuditEntry.objects.filter(code="accounts.second_factor.removed").count() == 1
    assert log_in(world.member).get("/termine/").status_code == 200


def test_an_operator_who_starts_again_is_led_to_set_up_the_new_app(world: World):
    switched_on(world.operator)
    client = client_for(world.operator)
    response = client.post(REMOVE, {"remove-code": app_code(world.operator)})
    assert response["Location"] == SETUP
    assert redirected_to(client.get("/betrieb/protokoll/"), SETUP)


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(world: World):
    old = switched_on(world.operator)
    client = client_for(world.operator)
    assert "10" in client.get(MANAGE).content.decode()

    refused = client.post(RENEW, {"renew-code": "999999"})
    assert refused.status_code == 200 and errors(refused)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(old)
    wait_out_the_throttling(world.operator)

    response = client.post(RENEW, {"renew-code": app_code(world.operator)})
    assert redirected_to(response, CODES)
    page = client.get(CODES).content.decode()
    new = set(StaticToken.objects.values_list("token", flat=True))
    assert len(new) == 10 and not new & set(old)
    assert all(f"{c[:4]}-{c[4:]}" in page for c in new)
    assert AuditEntry.objects.filter(code="accounts.second_factor.recovery_codes_renewed").exists()
    # An old code no longer works.
    later = log_in(world.operator)
    assert "Dieser Code stimmt nicht" in errors(later.post(VERIFY, {"code": old[0]}))


def test_the_setup_page_is_not_offered_twice(world: World):
    switched_on(world.member)
    client = client_for(world.member)
    assert client.get(SETUP)["Location"] == MANAGE
    unproved = log_in(world.member)
    assert redirected_to(unproved.get(SETUP), VERIFY)


# --- who may open which page -------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_as_before():
    client = Client()
    for path in (SETUP, VERIFY, MANAGE, CODES, "/betrieb/protokoll/"):
        response = client.get(path)
        assert redirected_to(response, "/konto/anmelden/", next_path=path), path
    assert redirected_to(client.post(RENEW), "/konto/anmelden/")
    assert redirected_to(client.post(REMOVE), "/konto/anmelden/")
    admin = client.get("/betrieb/admin/")
    assert redirected_to(admin, "/betrieb/admin/login/", next_path="/betrieb/admin/")


def test_an_unproved_session_may_still_log_out_and_switch_language(world: World):
    switched_on(world.member)
    client = log_in(world.member)
    assert client.post("/sprache/", {"language": "en", "next": VERIFY})["Location"] == VERIFY
    assert "Confirm with your second factor" in client.get(VERIFY).content.decode()
    client.post("/konto/abmelden/")
    assert "_auth_user_id" not in client.session


# What each role gets on each page when fully logged in (operators with their second factor
# proved; the others have none): a status, or the path of a redirect.
PAGE_ACCESS = {
    MANAGE: {"anonymous": "login", "operator": 200, "others": 200},
    SETUP: {"anonymous": "login", "operator": MANAGE, "others": 200},
    VERIFY: {"anonymous": "login", "operator": "/", "others": "/"},
    CODES: {"anonymous": "login", "operator": 200, "others": 200},
    # POST only.
    RENEW: {"anonymous": "login", "operator": 405, "others": 405},
    REMOVE: {"anonymous": "login", "operator": 405, "others": 405},
}


@pytest.mark.parametrize("role", ["anonymous", "member", "staff", "org_admin", "operator"])
@pytest.mark.parametrize("path", list(PAGE_ACCESS))
def test_each_role_gets_the_pages_it_should(world: World, role: str, path: str):
    expected = PAGE_ACCESS[path][role if role in {"anonymous", "operator"} else "others"]
    client = client_for(None if role == "anonymous" else world.people[role])
    response = client.get(path)
    if expected == "login":
        assert redirected_to(response, "/konto/anmelden/", next_path=path)
    elif isinstance(expected, str):
        assert response.status_code == 302 and urlsplit(response["Location"]).path == expected
    else:
        assert response.status_code == expected


def test_the_url_names_listed_for_the_access_table_are_these_pages():
    assert {urlsplit(reverse(name)).path for name in SECOND_FACTOR_URL_NAMES} == set(PAGE_ACCESS)


def test_the_setup_page_asks_no_other_host(world: World):
    """The QR code is drawn on the server as inline SVG; the page loads nothing from elsewhere
    (no CDN, no chart service that would learn the key)."""
    client = log_in(world.operator)
    html = client.get(SETUP).content.decode()
    foreign = [
        url
        for url in re.findall(r"https?://[^\s\"'<>]+", html)
        if urlsplit(url).hostname not in {"testserver", None}
    ]
    assert foreign == []
    assert "<img" not in html
    assert re.search(r"<svg[^>]*>.*<path", html, re.S)


# --- the operator's reset, the demo, sockets and the async path ---------------------------------


def test_an_operator_can_reset_a_lost_second_factor_by_command(world: World):
    switched_on(world.staff)
    out = StringIO()
    call_command(
        "reset_second_factor", world.staff.email.upper(), "--reason", "Telefon verloren", stdout=out
    )
    assert "removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=world.staff).exists()
    assert not StaticDevice.objects.filter(user=world.staff).exists()
    [entry] = AuditEntry.objects.filter(code="accounts.second_factor.reset")
    assert entry.actor is None and entry.target_id == str(world.staff.pk)
    assert entry.data == {"reason": "Telefon verloren", "had_second_factor": True}
    assert log_in(world.staff).get("/").status_code == 200
    with pytest.raises(CommandError):
        call_command("reset_second_factor", "niemand@example.org", stdout=StringIO())


def test_the_demo_operator_signs_in_with_the_printed_demo_key():
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert DEMO_SECOND_FACTOR_SECRET in out.getvalue()
    assert "demo" in out.getvalue().lower()
    operator = User.objects.get(email="betrieb@example.org")
    client = Client()
    client.post(
        "/konto/anmelden/", {"username": operator.email, "password": "Treffpunkt-Demo-2026"}
    )
    code = f"{totp(bytes.fromhex(key_from_secret(DEMO_SECOND_FACTOR_SECRET))):06d}"
    assert redirected_to(client.get("/konto/profil/"), VERIFY)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    assert client.get("/konto/profil/").status_code == 200
    call_command("load_demo", stdout=StringIO())
    assert TOTPDevice.objects.filter(user=operator).count() == 1


def test_the_django_admin_does_not_show_second_factor_keys():
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)


def _cookie(user: User, *, proved: bool) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if proved:
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sockets_closed_at_the_end")
async def test_an_unproved_session_counts_as_logged_out_on_websockets():
    from treffpunkt.routing import websocket_urlpatterns

    application = AuthMiddlewareStack(
        SecondFactorSocketMiddleware(URLRouter(websocket_urlpatterns))
    )
    member = await sync_to_async(MemberFactory)()
    plain = await sync_to_async(MemberFactory)(organization=member.organization)
    await sync_to_async(switched_on)(member)

    async def opens(cookie: str) -> bool:
        communicator = WebsocketCommunicator(
            application, "/ws/ereignisse/", headers=[(b"cookie", cookie.encode())]
        )
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return bool(connected)

    assert not await opens(await sync_to_async(_cookie)(member, proved=False))
    assert await opens(await sync_to_async(_cookie)(member, proved=True))
    assert await opens(await sync_to_async(_cookie)(plain, proved=False))


@pytest.mark.django_db(transaction=True)
async def test_the_middleware_works_the_same_in_async_mode():
    operator = await sync_to_async(OperatorFactory)()
    member = await sync_to_async(MemberFactory)()

    async def page(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    middleware = SecondFactorMiddleware(page)

    async def visit(user: User, device: object = None) -> HttpResponse:
        request = AsyncRequestFactory().get("/betrieb/protokoll/")

        async def auser() -> User:
            user.otp_device = device  # type: ignore[attr-defined]  # as OTPMiddleware does
            return user

        request.auser = auser  # type: ignore[attr-defined]
        response = await middleware(request)
        assert isinstance(response, HttpResponse)
        return response

    assert redirected_to(await visit(operator), SETUP, next_path="/betrieb/protokoll/")
    assert (await visit(member)).status_code == 200
    await sync_to_async(switched_on)(operator)
    assert redirected_to(await visit(operator), VERIFY, next_path="/betrieb/protokoll/")
    device = await TOTPDevice.objects.aget(user=operator)
    assert (await visit(operator, device)).status_code == 200
