"""The platform's own checks of its main functions (P-SLA-1: "the operator's server data").

Each check is small, bounded by a timeout and answers (ok, detail). The probe runs every minute
in the task worker and records one result per check; a check that does not apply (no TURN server
configured) is left out rather than recorded as working."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.urls import reverse

from treffpunkt.availability.models import Check
from treffpunkt.core import clock

TIMEOUT_S = 5.0
# The outbox and the task queue count as working while nothing waits longer than this.
BACKLOG_LIMIT = timedelta(minutes=10)


@dataclass(frozen=True)
class CheckResult:
    function: Check
    ok: bool
    duration_ms: int
    detail: str = ""


def _timed(function: Check, check: Callable[[], str]) -> CheckResult:
    """Run ``check``; an exception is a failure with its message as the detail."""
    began = time.perf_counter()
    try:
        detail, ok = check(), True
    except Exception as error:  # any failure of a check is what it measures
        detail, ok = f"{type(error).__name__}: {error}"[:300], False
    return CheckResult(function, ok, round((time.perf_counter() - began) * 1000), detail[:300])


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return ""


def _get(path: str) -> bytes:
    url = settings.PROBE_BASE_URL.rstrip("/") + path
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"PROBE_BASE_URL must be http(s): {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "treffpunkt-probe"})  # noqa: S310  # http(s) checked above
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310  # as above
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        body: bytes = response.read(200_000)
        return body


def check_pages() -> str:
    """The start page answers over HTTP, as a browser would ask for it."""
    _get(reverse("home"))
    return ""


def check_login() -> str:
    """Signing in works: with a probe account (``PROBE_LOGIN_EMAIL``/``PROBE_LOGIN_PASSWORD``,
    a member without a second factor) the probe signs in as a browser would, form and session
    cookie included; without one it can only check that the sign-in form answers, and says so."""
    path = reverse("accounts:login")
    if not (settings.PROBE_LOGIN_EMAIL and settings.PROBE_LOGIN_PASSWORD):
        body = _get(path)
        if b'name="csrfmiddlewaretoken"' not in body:
            raise RuntimeError("the sign-in page has no form")
        return "form only: no probe account configured"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = settings.PROBE_BASE_URL.rstrip("/") + path
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"PROBE_BASE_URL must be http(s): {url}")
    with opener.open(url, timeout=TIMEOUT_S) as page:  # http(s) checked above
        body = page.read(200_000).decode("utf-8", "replace")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if token is None:
        raise RuntimeError("the sign-in page has no form")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": settings.PROBE_LOGIN_EMAIL,
            "password": settings.PROBE_LOGIN_PASSWORD,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310  # the same checked address
        url, data=form, headers={"Referer": url, "User-Agent": "treffpunkt-probe"}
    )
    with opener.open(request, timeout=TIMEOUT_S) as answer:
        landed = answer.geturl()
    if urlsplit(landed).path == path or not any(
        c.name == settings.SESSION_COOKIE_NAME for c in jar
    ):
        raise RuntimeError("the probe account could not sign in")
    return ""


def check_tasks() -> str:
    """Nothing waits in the task queue longer than ``BACKLOG_LIMIT`` (the worker keeps up)."""
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        return "not a database queue"
    from django_tasks_db.models import DBTaskResult

    oldest = DBTaskResult.objects.ready().order_by("enqueued_at").first()
    if oldest is not None and clock.now() - oldest.enqueued_at > BACKLOG_LIMIT:
        raise RuntimeError(f"a task waits since {oldest.enqueued_at:%H:%M}")
    return ""


def check_websocket() -> str:
    """The WebSocket endpoint of the live events (the same server path call signalling uses)
    answers a handshake. The probe has no session, so the server may refuse it (403) or close
    at once: either is an answer; no connection, or none in time, is the failure."""
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    base = urlsplit(settings.PROBE_BASE_URL)
    if base.scheme not in ("http", "https"):
        raise ValueError(f"PROBE_BASE_URL must be http(s): {settings.PROBE_BASE_URL}")
    scheme = "wss" if base.scheme == "https" else "ws"
    url = f"{scheme}://{base.netloc}/ws/ereignisse/"
    try:
        with connect(url, open_timeout=TIMEOUT_S, close_timeout=1) as socket_:
            socket_.close()
    except InvalidStatus as refused:
        if refused.response.status_code >= 500:
            raise RuntimeError(f"status {refused.response.status_code}") from refused
        return f"refused without a session ({refused.response.status_code})"
    except WebSocketException as closed:
        return f"closed without a session ({type(closed).__name__})"
    return ""


def check_signalling() -> str:
    """The channel layer that carries call signalling delivers a message to a channel, and
    the WebSocket endpoint answers."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer")

    async def round_trip() -> None:
        import asyncio

        channel = await layer.new_channel("probe.")
        await layer.send(channel, {"type": "probe.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=TIMEOUT_S)
        if message.get("type") != "probe.ping":
            raise RuntimeError("the layer returned another message")

    async_to_sync(round_trip)()
    return check_websocket()


def check_mail() -> str:
    """No mail waits in the outbox longer than ``BACKLOG_LIMIT``."""
    from treffpunkt.notifications.models import MailStatus, OutboxMail

    oldest = OutboxMail.objects.filter(status=MailStatus.PENDING).order_by("created_at").first()
    if oldest is not None and clock.now() - oldest.created_at > BACKLOG_LIMIT:
        raise RuntimeError(f"a mail waits since {oldest.created_at:%H:%M}")
    return ""


STUN_MAGIC = 0x2112A442


def check_turn() -> str:
    """The first TURN (or STUN) server answers a STUN binding request over UDP (RFC 5389)."""
    host, port = _turn_address()
    transaction_id = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, STUN_MAGIC) + transaction_id
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(TIMEOUT_S)
        udp.sendto(request, (host, port))
        answer, _sender = udp.recvfrom(2048)
    kind, _length, magic = struct.unpack("!HHI", answer[:8])
    if kind != 0x0101 or magic != STUN_MAGIC or answer[8:20] != transaction_id:
        raise RuntimeError("no binding success from the TURN server")
    return ""


def _turn_address() -> tuple[str, int]:
    url = (list(settings.CALL_TURN_URLS) or list(settings.CALL_STUN_URLS))[0]
    # turn:host:port?transport=udp or stun:host:port
    rest = url.split(":", 1)[1].split("?", 1)[0]
    host, _, port = rest.rpartition(":")
    return (host or rest), int(port or 3478)


def checks() -> list[tuple[Check, Callable[[], str]]]:
    """The checks that apply to this installation."""
    found: list[tuple[Check, Callable[[], str]]] = [
        (Check.DATABASE, check_database),
        (Check.PAGES, check_pages),
        (Check.LOGIN, check_login),
        (Check.TASKS, check_tasks),
        (Check.SIGNALLING, check_signalling),
        (Check.MAIL, check_mail),
    ]
    if settings.CALL_TURN_URLS or settings.CALL_STUN_URLS:
        found.append((Check.TURN, check_turn))
    return found


def run_checks() -> list[CheckResult]:
    return [_timed(function, check) for function, check in checks()]
