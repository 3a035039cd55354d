"""P-ACC-3: e-mail addresses are never visible to any other user; members and staff see display
names only. The one exception by design is an org admin who states (and thereby logs) a reason.

The main test logs in as each role, crawls every page it can reach and checks that no response
contains the address of anybody else. Registration and password reset must not tell a visitor
whether an address has an account.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.contrib import admin
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.conftest import World, client_for, deliver_outbox, free_port
from tests.factories import PASSWORD, MemberFactory, TermsVersionFactory
from treffpunkt.accounts import services
from treffpunkt.accounts.models import Invitation, Role, TermsKind, TermsVersion, User
from treffpunkt.core import clock
from treffpunkt.core.models import AuditEntry
from treffpunkt.notifications.models import MailStatus, OutboxMail
from treffpunkt.notifications.services import send_due_mail

pytestmark = pytest.mark.django_db

SITE_HOST = "testserver"
CRAWL_LIMIT = 300
LOGGED_IN_ROLES = [
    "member",
    "other_member",
    "staff",
    "org_admin",
    "other_staff",
    "other_admin",
    "operator",
]


# --- crawling ---------------------------------------------------------------------------------


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(response: HttpResponse) -> list[str]:
    if "html" not in response.get("Content-Type", ""):
        return []
    parser = _LinkParser()
    parser.feed(response.content.decode("utf-8", "replace"))
    return parser.hrefs


def _skipped_paths() -> set[str]:
    # Leaving would end the crawl's session; both logouts are POST-only anyway.
    return {reverse("accounts:logout"), reverse("admin:logout")}


def _same_site(base: str, href: str) -> str | None:
    """The path (with query) of a link on this site, or None for other sites and skipped links."""
    absolute = urljoin(f"http://{SITE_HOST}{base}", href.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in {"http", "https"} or parts.netloc != SITE_HOST:
        return None
    if parts.path in _skipped_paths() or parts.path.startswith("/static/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Visit:
    url: str
    status: int
    text: str  # body and headers, lower-cased


@dataclass
class Crawl:
    visits: dict[str, Visit]
    from_root: int  # pages reached from "/" by following links (and redirects) only

    def status(self, url: str) -> int | None:
        visit = self.visits.get(url)
        return visit.status if visit else None

    def reached_from_root(self, url: str) -> bool:
        return url in list(self.visits)[: self.from_root]


def crawl(client: Client, *, fixed: Iterable[str], limit: int = CRAWL_LIMIT) -> Crawl:
    """Breadth-first GET of every same-site link from "/" (at most ``limit`` pages); then every
    page in ``fixed`` and, again up to ``limit``, the pages linked from those.

    Redirects are not followed automatically: their target is queued like a link.
    """
    visits: dict[str, Visit] = {}
    queued: set[str] = set()

    def walk(seeds: list[str], *, budget_for_seeds: bool) -> None:
        queue = deque((url, budget_for_seeds) for url in seeds if url not in queued)
        queued.update(seeds)
        spent = 0
        while queue:
            url, counts = queue.popleft()
            if counts:
                if spent >= limit:
                    continue
                spent += 1
            response = client.get(url)
            headers = "\n".join(f"{key}: {value}" for key, value in response.headers.items())
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode("utf-8", "replace")
            text = f"{headers}\n{body}".lower()
            visits[url] = Visit(url=url, status=response.status_code, text=text)
            found = _links(response)
            if response.status_code in {301, 302, 303, 307, 308}:
                found.append(response["Location"])
            for href in found:
                target = _same_site(url, href)
                if target is not None and target not in queued:
                    queued.add(target)
                    queue.append((target, True))

    walk(["/"], budget_for_seeds=True)
    from_root = len(visits)
    walk(list(dict.fromkeys(fixed)), budget_for_seeds=False)
    return Crawl(visits=visits, from_root=from_root)


def _address_forms(address: str) -> set[str]:
    """An address as it could appear in a page: as is, or percent-encoded in a link."""
    address = address.lower()
    return {address, quote(address, safe="").lower(), quote(address).lower()}


def leaks_in(crawl_result: Crawl, *, users: Iterable[User]) -> list[str]:
    """One line per page (query strings folded together) and address that page shows."""
    forms = {user: _address_forms(user.email) for user in users}
    found: dict[tuple[str, str], list[Visit]] = {}
    for visit in crawl_result.visits.values():
        for user, variants in forms.items():
            if any(variant in visit.text for variant in variants):
                who = f"{user.email} ({user.display_name}, {user.role})"
                found.setdefault((urlsplit(visit.url).path, who), []).append(visit)
    return [
        f"{path} (HTTP {visits[0].status}, {len(visits)} URL(s)) shows {who}"
        for (path, who), visits in found.items()
    ]


# --- activity, so that lists, logs and the admin have rows --------------------------------------


class _RejectingHandler:
    """An SMTP server that refuses one mailbox, as a real one does for an unknown user."""

    def __init__(self, refused: str) -> None:
        self.refused = refused

    async def handle_RCPT(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() == self.refused.lower():
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        return "250 Message accepted for delivery"


def _invitation_token(invitation: Invitation) -> str:
    mail = OutboxMail.objects.filter(
        template="accounts/invitation", to_address=invitation.email
    ).latest("pk")
    match = re.search(r"/einladung/([^/\s\"<]+)/", mail.body_text)
    assert match, mail.body_text
    return match.group(1)


def create_activity(world: World, settings: SettingsWrapper) -> None:
    """What a few days of use leave behind: invitations, registrations, record views, revealed
    addresses, logins (good and bad), password resets, sent mails and one mail that bounced."""
    # A member of the other organization, so that its member list and records have content.
    MemberFactory(organization=world.other_org, display_name="Selma Süd-Mitglied")
    # Terms of the other organization: one version in force, one that comes into force later.
    TermsVersionFactory(
        organization=world.other_org, kind=TermsKind.TERMS, published_by=world.other_admin
    )
    services.publish_terms_version(
        admin=world.other_admin,
        kind=TermsKind.TERMS,
        label="2027",
        text="Neue Nutzungsbedingungen",
        effective_at=clock.now() + timedelta(days=30),
    )

    # An open invitation, and one that was accepted and so became a user.
    services.invite_team_member(
        admin=world.org_admin, email="nina.neu@example.org", display_name="Nina Neu"
    )
    accepted = services.invite_team_member(
        admin=world.other_admin,
        email="paul.sued@example.org",
        display_name="Paul Süd",
        role=Role.STAFF,
    )
    services.accept_invitation(
        token=_invitation_token(accepted),
        password=PASSWORD,
        display_name="Paul Süd-Berater",
        language="de",
    )
    revoked = services.invite_team_member(
        admin=world.org_admin, email="rolf.rueckzug@example.org", display_name="Rolf Rückzug"
    )
    services.revoke_invitation(admin=world.org_admin, invitation_id=revoked.pk)

    # A new, still unconfirmed member; and someone registering an address that exists.
    services.register_member(
        organization=world.org,
        email="Neu.Mitglied@Example.org",
        password=PASSWORD,
        display_name="Nora Neumitglied",
        language="de",
    )
    services.register_member(
        organization=world.org,
        email=world.other_member.email,
        password=PASSWORD,
        display_name="Jemand Anderes",
        language="de",
    )

    # Staff open a record; the admin reveals an address with a reason; a member edits a profile.
    assert client_for(world.staff).get(f"/team/mitglieder/{world.member.pk}/").status_code == 200
    services.reveal_member_email(
        admin=world.org_admin, member=world.other_member, reason="Rückruf wegen Erstattung"
    )
    services.update_profile(user=world.member, display_name="Mia M.", language="en")

    # A real login with the form, and a failed one.
    login = reverse("accounts:login")
    response = Client().post(login, {"username": world.member.email, "password": PASSWORD})
    assert response.status_code == 302, "the member could not log in with the form"
    response = Client().post(login, {"username": world.staff.email, "password": "falsch-falsch"})
    assert response.status_code == 200
    # A password reset, and everything mailed.
    response = Client().post(reverse("accounts:password_reset"), {"email": world.other_staff.email})
    assert response.status_code == 302
    assert deliver_outbox(), "the activity should have sent mail"

    # One mail bounces: the mail server refuses the mailbox of the other admin.
    handler = _RejectingHandler(refused=world.other_admin.email)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = controller.hostname
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 5
        response = Client().post(
            reverse("accounts:password_reset"), {"email": world.other_admin.email}
        )
        assert response.status_code == 302
        assert send_due_mail() == 0
    finally:
        controller.stop()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    bounced = OutboxMail.objects.get(recipient=world.other_admin)
    assert bounced.status == MailStatus.PENDING
    assert bounced.last_error, "the refused mail should have recorded the server's answer"


# --- pages that may not be linked ---------------------------------------------------------------


def _admin_pages() -> list[str]:
    """Every admin list, and the change, history and delete (confirmation) page of every row."""
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(reverse("admin:app_list", kwargs={"app_label": opts.app_label}))
        pages.append(reverse(f"{prefix}_changelist"))
        pages.append(reverse(f"{prefix}_changelist") + "?q=example")
        for pk in model._default_manager.values_list("pk", flat=True)[:100]:
            for view in ("change", "history", "delete"):
                pages.append(reverse(f"{prefix}_{view}", args=[pk]))
    return pages


def fixed_pages(world: World) -> list[str]:
    pages = ["/", reverse("accounts:profile"), reverse("accounts:password_change")]
    everyone = User.objects.values_list("pk", flat=True)
    # Every member record of both organizations, and the record address of every other user.
    pages += [reverse("accounts:member_record", args=[pk]) for pk in everyone]
    pages += [reverse("accounts:member_list"), reverse("accounts:member_list") + "?q=example"]
    pages += [reverse("accounts:member_list") + "?q=%40"]
    for org in (world.org, world.other_org):
        for kind in TermsKind.values:
            pages.append(reverse("accounts:terms_current", args=[org.slug, kind]))
        for version in TermsVersion.objects.filter(organization=org):
            pages.append(version.get_absolute_url())
        pages.append(reverse("accounts:register", args=[org.slug]))
    pages += [
        reverse("accounts:team"),
        reverse("accounts:terms_admin"),
        reverse("accounts:accept_terms"),
        reverse("audit_log"),
        reverse("audit_log") + "?code=accounts.member.email_revealed",
        reverse("audit_log") + "?code=accounts.invitation",
        reverse("audit_log") + "?actor=a",
        reverse("accounts:login"),
        reverse("accounts:password_reset"),
        reverse("accounts:password_reset_done"),
        reverse("accounts:registered"),
    ]
    return pages + _admin_pages()


# --- the promise ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", LOGGED_IN_ROLES)
def test_no_page_shows_another_users_email_address(
    world: World, settings: SettingsWrapper, role: str
):
    create_activity(world, settings)
    me = world.people[role]
    me.refresh_from_db()
    assert AuditEntry.objects.filter(code="accounts.member.viewed").exists()
    assert OutboxMail.objects.filter(status=MailStatus.SENT).count() >= 4

    result = crawl(client_for(me), fixed=fixed_pages(world))

    # The crawl really walked the site as this user.
    assert result.from_root > 3, f"{role} reached only {sorted(result.visits)}"
    assert result.status("/") == 200
    assert result.reached_from_root(reverse("accounts:profile"))
    assert result.status(reverse("accounts:profile")) == 200
    if me.is_team:
        assert result.reached_from_root(reverse("accounts:member_list"))
        assert result.status(reverse("accounts:member_list")) == 200
        assert result.status(f"/team/mitglieder/{world.member.pk}/") in {200, 404}
    if me.is_operator:
        assert result.reached_from_root(reverse("admin:notifications_outboxmail_changelist"))
        assert result.status(reverse("audit_log")) == 200
        assert result.status(reverse("admin:notifications_outboxmail_changelist")) == 200
        assert result.status(reverse("admin:accounts_user_changelist")) == 200
        outbox_row = OutboxMail.objects.filter(status=MailStatus.PENDING).first()
        assert outbox_row is not None
        change = reverse("admin:notifications_outboxmail_change", args=[outbox_row.pk])
        assert result.status(change) == 200

    others = list(User.objects.exclude(pk=me.pk))
    assert len(others) >= 9
    leaks = leaks_in(result, users=others)
    assert not leaks, f"{role} sees other users' e-mail addresses:\n" + "\n".join(leaks)


def test_anonymous_visitor_sees_no_email_address(world: World, settings: SettingsWrapper):
    create_activity(world, settings)
    result = crawl(client_for(None), fixed=fixed_pages(world))
    assert result.from_root > 3
    leaks = leaks_in(result, users=User.objects.all())
    assert not leaks, "an anonymous visitor sees e-mail addresses:\n" + "\n".join(leaks)


def test_the_crawler_would_notice_an_address_on_a_page(world: World):
    """Guard for the check itself: an address placed in a display name must be found."""
    world.other_member.display_name = world.member.email.upper()
    world.other_member.save(update_fields=["display_name"])
    result = crawl(client_for(world.staff), fixed=[])
    leaks = leaks_in(result, users=[world.member])
    assert any(reverse("accounts:member_list") in leak for leak in leaks), leaks


# --- the exception by design: an org admin with a logged reason --------------------------------


def _revealed(member: User) -> AuditEntry | None:
    return AuditEntry.objects.filter(
        code="accounts.member.email_revealed", target_id=str(member.pk)
    ).first()


def test_admin_sees_member_address_only_with_a_logged_reason(world: World):
    url = reverse("accounts:reveal_member_email", args=[world.member.pk])
    address = world.member.email.lower()
    admin_client = client_for(world.org_admin)

    record = admin_client.get(reverse("accounts:member_record", args=[world.member.pk]))
    assert record.status_code == 200
    assert address not in record.content.decode().lower()

    for data in ({}, {"reason": ""}, {"reason": "kurz"}, {"reason": "         x"}):
        response = admin_client.post(url, data)
        assert response.status_code == 400, data
        assert address not in response.content.decode().lower(), data
        assert _revealed(world.member) is None, data

    reason = "Mitglied bittet um Rückruf per E-Mail"
    response = admin_client.post(url, {"reason": reason})
    assert response.status_code == 200
    assert address in response.content.decode().lower()
    entry = _revealed(world.member)
    assert entry is not None
    assert entry.actor == world.org_admin
    assert entry.organization == world.org
    assert entry.data["reason"] == reason
    # Only this member's address is shown, nobody else's.
    body = response.content.decode().lower()
    others = User.objects.exclude(pk__in=[world.member.pk, world.org_admin.pk])
    assert not [u.email for u in others if u.email.lower() in body]

    for role, status in (("staff", 403), ("other_staff", 403), ("other_admin", 404)):
        response = client_for(world.people[role]).post(url, {"reason": reason + " " + role})
        assert response.status_code == status, role
        assert address not in response.content.decode().lower(), role
    for role in ("member", "other_member", "operator"):
        response = client_for(world.people[role]).post(url, {"reason": reason})
        assert response.status_code == 403, role
        assert address not in response.content.decode().lower(), role
    assert AuditEntry.objects.filter(code="accounts.member.email_revealed").count() == 1


# --- no enumeration ---------------------------------------------------------------------------

_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _page_after(client: Client, response: HttpResponse) -> tuple[int, str]:
    assert response.status_code == 302
    page = client.get(response["Location"])
    return page.status_code, _CSRF_VALUE.sub("", page.content.decode())


def _register(address: str) -> tuple[Client, HttpResponse]:
    client = Client()
    response = client.post(
        reverse("accounts:register", args=["kasse-nord"]),
        {
            "display_name": "Irgendwer",
            "email": address,
            "password": "Sehr-geheimes-Passwort-1",
            "password_repeat": "Sehr-geheimes-Passwort-1",
        },
    )
    return client, response


def test_registration_does_not_reveal_whether_an_address_exists(world: World):
    existing = world.member.email
    users_before = User.objects.count()

    known_client, known = _register(existing.upper())
    unknown_client, unknown = _register("niemand.bisher@example.org")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:registered")
    assert _page_after(known_client, known) == _page_after(unknown_client, unknown)
    # The existing address got no second account; the unknown one got exactly one.
    assert User.objects.filter(email__iexact=existing).count() == 1
    assert User.objects.count() == users_before + 1
    assert User.objects.get(email="niemand.bisher@example.org").email_confirmed_at is None

    sent = deliver_outbox()
    to_owner = [m for m in sent if m.to == [existing]]
    assert len(to_owner) == 1
    mail_row = OutboxMail.objects.get(to_address=existing)
    assert mail_row.template == "accounts/already_registered"
    assert mail_row.recipient == world.member
    assert [m.to for m in sent if m is not to_owner[0]] == [["niemand.bisher@example.org"]]
    # The warning does not hand out a way in: no confirmation link for the existing account.
    assert "/konto/bestaetigen/" not in to_owner[0].body


def test_password_reset_does_not_reveal_whether_an_address_exists(world: World):
    url = reverse("accounts:password_reset")
    known_client, unknown_client = Client(), Client()
    known = known_client.post(url, {"email": world.staff.email})
    unknown = unknown_client.post(url, {"email": "niemand.bisher@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_done")
    assert _page_after(known_client, known) == _page_after(unknown_client, unknown)

    sent = deliver_outbox()
    assert [m.to for m in sent] == [[world.staff.email]]
    assert OutboxMail.objects.get().template == "accounts/password_reset"
