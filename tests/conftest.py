"""Shared fixtures: organizations with every role, the mail outbox, a real SMTP server, and the
ASGI application served by uvicorn for browser tests."""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.contrib.sessions.backends.base import SessionBase
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.factories import (
    MemberFactory,
    OperatorFactory,
    OrgAdminFactory,
    OrganizationFactory,
    StaffFactory,
    TermsVersionFactory,
)
from treffpunkt.accounts.models import Organization, TermsKind, User
from treffpunkt.notifications.services import send_due_mail


@pytest.fixture(scope="session", autouse=True)
def _private_files_removed_after_the_run() -> Iterator[None]:
    """Attachments written by tests go to a directory of this run, removed afterwards."""
    import shutil

    from django.conf import settings

    yield
    shutil.rmtree(settings.PRIVATE_FILES_DIR, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _sync_thread_connection_closed_before_the_database_is_dropped(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """Async tests run their database work in asgiref's one shared sync thread, whose
    connection outlives them; PostgreSQL would refuse to drop the test database while it is
    open (torn down before ``django_db_setup``, which this fixture depends on)."""
    yield
    with django_db_blocker.unblock():
        _close_connections_left_by_the_server_thread()


@pytest.fixture(autouse=True)
def _no_page_uses_an_id_twice() -> Iterator[None]:
    """Fail the test when any HTML page it received had an id twice (tests/html_checks.py)."""
    from tests.html_checks import FOUND

    FOUND.clear()
    yield
    found, FOUND[:] = list(FOUND), []
    if found:
        pytest.fail(
            "Pages had an id more than once (labels and descriptions break):\n  "
            + "\n  ".join(found),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _default_language_for_each_test() -> None:
    """Each test starts in the default language. A request by a signed-in user activates that
    user's language in the thread (accounts' middleware) and nothing resets it afterwards, so
    an English user's request in one test left the next test of that worker in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets its own channel layer object. The Redis layer binds its receiving to the
    event loop that received first; every test (and every live server) runs its own loop, and a
    layer carried over from an earlier test would refuse the new one."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture
async def sockets_closed_at_the_end() -> AsyncIterator[None]:
    """For socket tests: close the sockets the test opened on its own loop (see
    ``tests.sockets.close_opened_sockets``)."""
    from tests.sockets import close_opened_sockets

    yield
    await close_opened_sockets()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class World:
    """Two organizations with every role, the terms of the first accepted by its member."""

    org: Organization
    other_org: Organization
    member: User
    other_member: User
    staff: User
    org_admin: User
    other_staff: User
    other_admin: User
    operator: User
    people: dict[str, User] = field(default_factory=dict)


@pytest.fixture
def world(db: None) -> World:
    from treffpunkt.accounts.models import TermsAcceptance

    org = OrganizationFactory(name="Kasse Nord", slug="kasse-nord")
    other_org = OrganizationFactory(name="Kasse Süd", slug="kasse-sued")
    admin = OrgAdminFactory(organization=org, display_name="Anke Admin")
    other_admin = OrgAdminFactory(organization=other_org, display_name="Sven Süd-Admin")
    terms = TermsVersionFactory(organization=org, kind=TermsKind.TERMS, published_by=admin)
    privacy = TermsVersionFactory(organization=org, kind=TermsKind.PRIVACY, published_by=admin)
    member = MemberFactory(organization=org, display_name="Mia Mitglied")
    other_member = MemberFactory(organization=org, display_name="Max Mitglied")
    for user in (member, other_member):
        for version in (terms, privacy):
            TermsAcceptance.objects.create(user=user, version=version)
    people = {
        "member": member,
        "other_member": other_member,
        "staff": StaffFactory(organization=org, display_name="Bernd Berater"),
        "org_admin": admin,
        "other_staff": StaffFactory(organization=other_org, display_name="Sara Süd"),
        "other_admin": other_admin,
        "operator": OperatorFactory(display_name="Olga Betrieb"),
    }
    return World(org=org, other_org=other_org, people=people, **people)


def client_for(user: User | None) -> Client:
    """A client logged in as ``user``, fully: with the second factor proved where the user has
    one or must have one (operators get an app device for it if they have none)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        session = client.session
        if second_factor_proved(user, session):
            session.save()
    return client


def second_factor_proved(user: User, session: SessionBase) -> bool:
    """Mark ``session`` as having proved the user's second factor, as the verify page does, if
    the user has one or needs one (operators); a missing one is made for them. True if the
    session changed."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from treffpunkt.accounts.second_factor import second_factor_required

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and second_factor_required(user):
        device = TOTPDevice.objects.create(user=user, name="test app", confirmed=True)
    if device is None:
        return False
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    return True


@pytest.fixture
def outbox(db: None) -> list[mail.EmailMessage]:
    """Django's in-memory mailbox, after sending everything the outbox holds."""
    send_due_mail()
    return mail.outbox


def deliver_outbox() -> list[mail.EmailMessage]:
    """Send every due mail now (what the worker does after commit) and return what was sent."""
    send_due_mail()
    return mail.outbox


# --- a real SMTP server ------------------------------------------------------------------------


class CollectingHandler:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append(message_from_bytes(content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: CollectingHandler
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages


@pytest.fixture
def smtp_server(settings: SettingsWrapper) -> Iterator[SmtpServer]:
    """aiosmtpd on a free local port; Django's SMTP backend points at it."""
    server = SmtpServer(host="127.0.0.1", port=free_port(), handler=CollectingHandler())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


# --- the ASGI app served by uvicorn, for browser tests ---------------------------------------


@dataclass
class LiveApp:
    url: str


@pytest.fixture
def _document_triggers_after_flush(django_db_blocker: Any) -> Iterator[None]:
    """Put the SQLite triggers that refuse deleting documents back after the flush.

    A transactional test is cleaned up by ``flush``, which on SQLite deletes row by row, and
    the trigger refuses exactly that (PostgreSQL truncates, which fires no row trigger). So
    ``live_app`` drops the triggers just before the flush and this fixture, torn down after
    it, makes them again for the tests that follow."""
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for triggers in _refusing_triggers():
            for statement in triggers.SQLITE_DROP + triggers.SQLITE_CREATE:
                cursor.execute(statement)


# Migrations whose SQLite triggers refuse deleting issued documents and invoices.
REFUSING_TRIGGERS = (
    "treffpunkt.documents.migrations.0002_refuse_change_triggers",
    "treffpunkt.billing.migrations.0002_refuse_change_triggers",
)


def _refusing_triggers() -> list[Any]:
    return [importlib.import_module(name) for name in REFUSING_TRIGGERS]


def _allow_the_flush_to_delete_documents() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for triggers in _refusing_triggers():
            for statement in triggers.SQLITE_DROP:
                cursor.execute(statement)


@pytest.fixture
def live_app(
    _document_triggers_after_flush: None, transactional_db: None, settings: SettingsWrapper
) -> Iterator[LiveApp]:
    """Serve treffpunkt.asgi (HTTP and WebSocket) with uvicorn in a thread on a free port."""
    import uvicorn

    from treffpunkt.asgi import application

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings.SITE_URL = url
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # as ``manage.py serve`` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.02)
    yield LiveApp(url=url)
    server.should_exit = True
    thread.join(timeout=10)
    _close_connections_left_by_the_server_thread()
    _allow_the_flush_to_delete_documents()


def _close_connections_left_by_the_server_thread() -> None:
    """Django's sync views ran in asgiref's single "thread-sensitive" executor thread, which
    outlives the server and keeps its database connection; PostgreSQL would then refuse to drop
    the test database. Close the connections in the thread that owns them."""
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
