"""Every view checks who may do what, tested for each role: member, other member (same
organization), staff, org admin, staff and admin of another organization, operator, anonymous.

Wrong role → 403; another organization's object → 404 (it does not exist for the viewer);
anonymous → the login page; the Django admin sends everyone but operators to its own login.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.hashers import check_password
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tests.conftest import World, client_for
from tests.factories import PASSWORD, MemberFactory, TermsVersionFactory
from treffpunkt.accounts import selectors, services
from treffpunkt.accounts.models import (
    Invitation,
    TermsAcceptance,
    TermsKind,
    TermsVersion,
    User,
)
from treffpunkt.core import clock
from treffpunkt.core.models import AuditEntry
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "member",
    "other_member",
    "staff",
    "org_admin",
    "other_staff",
    "other_admin",
    "operator",
)
REASON = "Mitglied bittet um Rückruf per E-Mail"


# --- expected outcomes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    to: str | None = None  # for redirects: the path, or LOGIN / ADMIN_LOGIN

    @property
    def label(self) -> str:
        if self.to == LOGIN:
            return "login"
        if self.to == ADMIN_LOGIN:
            return "admin-login"
        return str(self.status)


LOGIN = "<login>"
ADMIN_LOGIN = "<admin-login>"
OK = Expect(200)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
TO_LOGIN = Expect(302, LOGIN)
TO_ADMIN_LOGIN = Expect(302, ADMIN_LOGIN)


def redirect(path: str) -> Expect:
    return Expect(302, path)


def check(response: HttpResponse, expected: Expect, *, path: str) -> None:
    """Assert the status; for a redirect also where it leads (and that login comes back here)."""
    assert response.status_code == expected.status, (
        f"expected {expected.status}, got {response.status_code}"
        + (f" → {response['Location']}" if response.has_header("Location") else "")
    )
    if expected.to is None:
        return
    target = urlsplit(response["Location"])
    if expected.to in {LOGIN, ADMIN_LOGIN}:
        login = reverse("accounts:login") if expected.to == LOGIN else reverse("admin:login")
        assert target.path == login
        assert parse_qs(target.query).get("next") == [path]
    else:
        assert target.path == expected.to


# --- the objects the table talks about ----------------------------------------------------------


@dataclass
class Objects:
    world: World
    invitation: Invitation  # an open invitation of world.org
    other_invitation: Invitation  # an open invitation of world.other_org
    other_org_member: User


@pytest.fixture
def objects(world: World) -> Objects:
    return Objects(
        world=world,
        invitation=services.invite_team_member(
            admin=world.org_admin, email="nina.neu@example.org", display_name="Nina Neu"
        ),
        other_invitation=services.invite_team_member(
            admin=world.other_admin, email="otto.ost@example.org", display_name="Otto Ost"
        ),
        other_org_member=MemberFactory(
            organization=world.other_org, display_name="Selma Süd-Mitglied"
        ),
    )


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[Objects], str]
    expect: dict[str, Expect]
    method: str = "get"
    data: Callable[[Objects], dict[str, str]] | None = None


def everyone(expect: Expect, **overrides: Expect) -> dict[str, Expect]:
    return {role: overrides.get(role, expect) for role in ROLES}


def logged_in(expect: Expect, **overrides: Expect) -> dict[str, Expect]:
    return everyone(expect, anonymous=TO_LOGIN, **overrides)


def _record(member: Callable[[Objects], User]) -> Callable[[Objects], str]:
    return lambda o: reverse("accounts:member_record", args=[member(o).pk])


PAGES = [
    Page("home", lambda o: "/", everyone(OK)),
    Page(
        "member-list",
        lambda o: reverse("accounts:member_list"),
        logged_in(FORBIDDEN, staff=OK, org_admin=OK, other_staff=OK, other_admin=OK),
    ),
    Page(
        "member-record",
        _record(lambda o: o.world.member),
        logged_in(FORBIDDEN, staff=OK, org_admin=OK, other_staff=NOT_FOUND, other_admin=NOT_FOUND),
    ),
    Page(
        "member-record-of-other-org",
        _record(lambda o: o.other_org_member),
        logged_in(FORBIDDEN, staff=NOT_FOUND, org_admin=NOT_FOUND, other_staff=OK, other_admin=OK),
    ),
    Page(
        # A colleague is not a member: there is no member record of staff.
        "member-record-of-staff",
        _record(lambda o: o.world.staff),
        logged_in(
            FORBIDDEN,
            staff=NOT_FOUND,
            org_admin=NOT_FOUND,
            other_staff=NOT_FOUND,
            other_admin=NOT_FOUND,
        ),
    ),
    Page(
        "reveal-email",
        lambda o: reverse("accounts:reveal_member_email", args=[o.world.member.pk]),
        logged_in(FORBIDDEN, org_admin=OK, other_admin=NOT_FOUND),
        method="post",
        data=lambda o: {"reason": REASON},
    ),
    Page(
        "team",
        lambda o: reverse("accounts:team"),
        logged_in(FORBIDDEN, org_admin=OK, other_admin=OK),
    ),
    Page(
        "revoke-invitation",
        lambda o: reverse("accounts:revoke_invitation", args=[o.invitation.pk]),
        logged_in(FORBIDDEN, org_admin=redirect("/verwaltung/team/"), other_admin=NOT_FOUND),
        method="post",
    ),
    Page(
        "revoke-other-org-invitation",
        lambda o: reverse("accounts:revoke_invitation", args=[o.other_invitation.pk]),
        logged_in(FORBIDDEN, org_admin=NOT_FOUND, other_admin=redirect("/verwaltung/team/")),
        method="post",
    ),
    Page(
        "terms-admin",
        lambda o: reverse("accounts:terms_admin"),
        logged_in(FORBIDDEN, org_admin=OK, other_admin=OK),
    ),
    Page(
        "audit-log",
        lambda o: reverse("audit_log"),
        logged_in(FORBIDDEN, operator=OK),
    ),
    Page("admin", lambda o: reverse("admin:index"), everyone(TO_ADMIN_LOGIN, operator=OK)),
    Page(
        "admin-users",
        lambda o: reverse("admin:accounts_user_changelist"),
        everyone(TO_ADMIN_LOGIN, operator=OK),
    ),
    Page(
        "admin-outbox",
        lambda o: reverse("admin:notifications_outboxmail_changelist"),
        everyone(TO_ADMIN_LOGIN, operator=OK),
    ),
    Page("profile", lambda o: reverse("accounts:profile"), logged_in(OK)),
    Page(
        # Members who accepted everything are sent home; others have nothing to accept here.
        "accept-terms",
        lambda o: reverse("accounts:accept_terms"),
        logged_in(FORBIDDEN, member=redirect("/"), other_member=redirect("/")),
    ),
    Page("password-change", lambda o: reverse("accounts:password_change"), logged_in(OK)),
    Page(
        "terms-of-other-org",
        lambda o: reverse("accounts:terms_current", args=["kasse-sued", TermsKind.TERMS]),
        everyone(OK),
    ),
    Page(
        "register",
        lambda o: reverse("accounts:register", args=["kasse-nord"]),
        everyone(redirect("/"), anonymous=OK),
    ),
    Page("login", lambda o: reverse("accounts:login"), everyone(redirect("/"), anonymous=OK)),
]

CASES = [
    pytest.param(page, role, id=f"{page.name}/{role}->{page.expect[role].label}")
    for page in PAGES
    for role in ROLES
]

# Audit codes that only an allowed request may write.
GUARDED_CODES = (
    "accounts.member.viewed",
    "accounts.member.email_revealed",
    "accounts.invitation.revoked",
)


def _guarded_entries() -> int:
    return AuditEntry.objects.filter(code__in=GUARDED_CODES).count()


def _open_invitations() -> int:
    return Invitation.objects.filter(revoked_at__isnull=True).count()


@pytest.mark.parametrize(("page", "role"), CASES)
def test_each_role_gets_exactly_the_access_it_should(objects: Objects, page: Page, role: str):
    expected = page.expect[role]
    user = None if role == "anonymous" else objects.world.people[role]
    path = page.url(objects)
    entries, invitations = _guarded_entries(), _open_invitations()

    client = client_for(user)
    if page.method == "post":
        response = client.post(path, page.data(objects) if page.data else {})
    else:
        response = client.get(path)

    check(response, expected, path=path)
    if expected.status >= 400 or expected.to in {LOGIN, ADMIN_LOGIN}:
        # A refused request leaves no trace: nothing logged as viewed, revealed or revoked.
        assert _guarded_entries() == entries
        assert _open_invitations() == invitations
        assert objects.world.member.email.lower() not in response.content.decode().lower()


def test_the_table_covers_every_url_name_of_the_project():
    """A new view must get a row here (or in the list of views tested elsewhere)."""
    from django.urls import get_resolver

    def names(resolver: object, prefix: str = "") -> set[str]:
        found = set()
        for pattern in getattr(resolver, "url_patterns", []):
            if hasattr(pattern, "url_patterns"):
                namespace = getattr(pattern, "namespace", None)
                found |= names(pattern, f"{prefix}{namespace}:" if namespace else prefix)
            elif pattern.name:
                found.add(prefix + pattern.name)
        return found

    project = {n for n in names(get_resolver()) if not n.startswith("admin:")}
    in_table = {
        "home",
        "accounts:member_list",
        "accounts:member_record",
        "accounts:reveal_member_email",
        "accounts:team",
        "accounts:revoke_invitation",
        "accounts:terms_admin",
        "audit_log",
        "accounts:profile",
        "accounts:accept_terms",
        "accounts:password_change",
        "accounts:terms_current",
        "accounts:register",
        "accounts:login",
    }
    # Open to everybody by design (links from mails, public documents, language, logout),
    # or tested below (POST-only views).
    public_or_elsewhere = {
        "set_language",
        "accounts:logout",
        "accounts:registered",
        "accounts:confirm_email",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:accept_invitation",
        "accounts:terms_version",
        # A token, not a role: tests/availability/test_reports.py.
        "metrics",
    }
    from tests.accounts.test_second_factor import SECOND_FACTOR_URL_NAMES
    from tests.availability.test_reports import (
        AVAILABILITY_BACKOFFICE_URL_NAMES,
        AVAILABILITY_CUSTOMER_URL_NAMES,
    )
    from tests.backoffice.test_access import BACKOFFICE_URL_NAMES
    from tests.billing.test_pages import BILLING_BACKOFFICE_URL_NAMES, CUSTOMER_BILLING_URL_NAMES
    from tests.booking.test_booking_access import BOOKING_URL_NAMES
    from tests.calls.test_call_page import CALL_URL_NAMES
    from tests.contracts.test_backoffice_pages import CONTRACT_BACKOFFICE_URL_NAMES
    from tests.contracts.test_customer_area import CUSTOMER_CONTRACT_URL_NAMES
    from tests.customers.test_access import CUSTOMER_URL_NAMES
    from tests.customers.test_advertising import ADVERTISING_URL_NAMES
    from tests.messaging.test_message_access import MESSAGE_URL_NAMES
    from tests.portability.test_export import PORTABILITY_CUSTOMER_URL_NAMES
    from tests.portability.test_member import MEMBER_DATA_URL_NAMES
    from tests.support.test_tickets import SUPPORT_BACKOFFICE_URL_NAMES, SUPPORT_CUSTOMER_URL_NAMES

    assert (
        project
        - in_table
        - public_or_elsewhere
        - BOOKING_URL_NAMES
        - SECOND_FACTOR_URL_NAMES
        - BACKOFFICE_URL_NAMES
        - CALL_URL_NAMES
        - MESSAGE_URL_NAMES
        - CUSTOMER_URL_NAMES
        - CONTRACT_BACKOFFICE_URL_NAMES
        - CUSTOMER_CONTRACT_URL_NAMES
        - BILLING_BACKOFFICE_URL_NAMES
        - CUSTOMER_BILLING_URL_NAMES
        - SUPPORT_BACKOFFICE_URL_NAMES
        - SUPPORT_CUSTOMER_URL_NAMES
        - AVAILABILITY_BACKOFFICE_URL_NAMES
        - AVAILABILITY_CUSTOMER_URL_NAMES
        - PORTABILITY_CUSTOMER_URL_NAMES
        - ADVERTISING_URL_NAMES
        - MEMBER_DATA_URL_NAMES
        == set()
    )


# --- organizations are isolated ----------------------------------------------------------------


def test_staff_of_another_organization_get_404_not_403_for_a_member_record(world: World):
    for member in (world.member, world.other_member):
        url = reverse("accounts:member_record", args=[member.pk])
        for role in ("other_staff", "other_admin"):
            response = client_for(world.people[role]).get(url)
            assert response.status_code == 404, (role, member)
            assert member.display_name not in response.content.decode()
    # The same answer as for an id that does not exist at all: nothing to learn from it.
    highest = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    missing = highest + 1000
    response = client_for(world.other_staff).get(reverse("accounts:member_record", args=[missing]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(code="accounts.member.viewed").exists()


def _listed_names(response: HttpResponse) -> list[str]:
    """The names in the member table (not the header or footer, which name the viewer)."""
    body = response.content.decode()
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    return [
        unescape(name) for name in re.findall(r'<a href="/team/mitglieder/\d+/">([^<]*)</a>', table)
    ]


def test_member_list_of_staff_shows_only_their_own_organizations_members(objects: Objects):
    world = objects.world
    own = sorted([world.member.display_name, world.other_member.display_name])
    foreign = [objects.other_org_member.display_name]

    for role, visible in (
        ("staff", own),
        ("org_admin", own),
        ("other_staff", foreign),
        ("other_admin", foreign),
    ):
        for query in ("", "?q=Mitglied", "?q=M"):
            response = client_for(world.people[role]).get(reverse("accounts:member_list") + query)
            assert response.status_code == 200
            # Exactly their own organization's members; colleagues are not members either.
            assert sorted(_listed_names(response)) == visible, (role, query)


# --- POST-only views and CSRF -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role", "url"),
    [
        pytest.param(
            "reveal-email",
            "org_admin",
            lambda o: reverse("accounts:reveal_member_email", args=[o.world.member.pk]),
            id="reveal-email",
        ),
        pytest.param(
            "revoke-invitation",
            "org_admin",
            lambda o: reverse("accounts:revoke_invitation", args=[o.invitation.pk]),
            id="revoke-invitation",
        ),
        pytest.param("set-language", "member", lambda o: reverse("set_language"), id="language"),
        pytest.param("logout", "member", lambda o: reverse("accounts:logout"), id="logout"),
    ],
)
def test_post_only_views_refuse_get(
    objects: Objects, name: str, role: str, url: Callable[[Objects], str]
):
    client = client_for(objects.world.people[role])
    entries, invitations = _guarded_entries(), _open_invitations()
    response = client.get(url(objects))
    assert response.status_code == 405, name
    assert _guarded_entries() == entries
    assert _open_invitations() == invitations
    assert objects.world.member.email.lower() not in response.content.decode().lower()
    # Still logged in: a GET does not log out either.
    assert client.get(reverse("accounts:profile")).status_code == 200


def _csrf_client(user: User | None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


@dataclass
class Snapshot:
    audit: int
    invitations: int
    open_invitations: int
    terms: int
    acceptances: int
    users: int
    outbox: int
    member: tuple[str, str, str]


def _snapshot(world: World) -> Snapshot:
    member = User.objects.get(pk=world.member.pk)
    return Snapshot(
        audit=AuditEntry.objects.count(),
        invitations=Invitation.objects.count(),
        open_invitations=_open_invitations(),
        terms=TermsVersion.objects.count(),
        acceptances=TermsAcceptance.objects.count(),
        users=User.objects.count(),
        outbox=OutboxMail.objects.count(),
        member=(member.display_name, member.preferred_language, member.password),
    )


NEW_PASSWORD = "Ganz-neues-Passwort-42"

CSRF_CASES = [
    (
        "reveal-email",
        "org_admin",
        lambda o: reverse("accounts:reveal_member_email", args=[o.world.member.pk]),
        lambda o: {"reason": REASON},
    ),
    (
        "revoke-invitation",
        "org_admin",
        lambda o: reverse("accounts:revoke_invitation", args=[o.invitation.pk]),
        lambda o: {},
    ),
    (
        "invite",
        "org_admin",
        lambda o: reverse("accounts:team"),
        lambda o: {"display_name": "Eva Neu", "email": "eva.neu@example.org", "role": "staff"},
    ),
    (
        "publish-terms",
        "org_admin",
        lambda o: reverse("accounts:terms_admin"),
        lambda o: {
            "kind": TermsKind.TERMS,
            "label": "2099",
            "text": "Neu",
            "effective_at": (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    ),
    (
        "profile",
        "member",
        lambda o: reverse("accounts:profile"),
        lambda o: {"display_name": "Gekapert", "language": "en", "time_zone": "Europe/Vienna"},
    ),
    (
        "accept-terms",
        "member",
        lambda o: reverse("accounts:accept_terms"),
        lambda o: {
            "version_ids": ",".join(
                str(v.pk) for v in selectors.terms_awaiting_acceptance(o.world.member)
            ),
            "agree": "on",
        },
    ),
    (
        "password-change",
        "member",
        lambda o: reverse("accounts:password_change"),
        lambda o: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    (
        "set-language",
        "member",
        lambda o: reverse("set_language"),
        lambda o: {"language": "en", "next": "/"},
    ),
    ("logout", "member", lambda o: reverse("accounts:logout"), lambda o: {}),
    (
        "register",
        "anonymous",
        lambda o: reverse("accounts:register", args=["kasse-nord"]),
        lambda o: {
            "display_name": "Eva Neu",
            "email": "eva.neu@example.org",
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    ),
    (
        "password-reset",
        "anonymous",
        lambda o: reverse("accounts:password_reset"),
        lambda o: {"email": o.world.member.email},
    ),
]


@pytest.mark.parametrize(
    ("name", "role", "url", "data"),
    [pytest.param(*case, id=f"{case[0]}/{case[1]}") for case in CSRF_CASES],
)
def test_post_without_csrf_token_is_refused_and_writes_nothing(
    objects: Objects,
    name: str,
    role: str,
    url: Callable[[Objects], str],
    data: Callable[[Objects], dict[str, str]],
):
    world = objects.world
    if name == "accept-terms":
        # Give the member something to accept, so the POST would otherwise succeed.
        TermsVersionFactory(
            organization=world.org, kind=TermsKind.TERMS, published_by=world.org_admin
        )
    user = None if role == "anonymous" else world.people[role]
    payload = data(objects)
    before = _snapshot(world)

    client = _csrf_client(user)
    response = client.post(url(objects), payload)

    assert response.status_code == 403, name
    assert "403_csrf.html" in [t.name for t in response.templates]
    assert _snapshot(world) == before
    assert world.member.email.lower() not in response.content.decode().lower()
    member = User.objects.get(pk=world.member.pk)
    assert check_password(PASSWORD, member.password)
    if user is not None:
        # The session survived (the refused logout did not log out).
        assert client.get(reverse("accounts:profile")).status_code in {200, 302}
        assert "_auth_user_id" in client.session


@pytest.mark.parametrize(
    ("name", "role", "url", "data"),
    [pytest.param(*case, id=f"{case[0]}/{case[1]}") for case in CSRF_CASES],
)
def test_the_same_post_with_a_csrf_token_is_accepted(
    objects: Objects,
    name: str,
    role: str,
    url: Callable[[Objects], str],
    data: Callable[[Objects], dict[str, str]],
):
    """Counter-check: the CSRF refusals above are not refusals of bad data."""
    world = objects.world
    if name == "accept-terms":
        TermsVersionFactory(
            organization=world.org, kind=TermsKind.TERMS, published_by=world.org_admin
        )
    user = None if role == "anonymous" else world.people[role]
    client = _csrf_client(user)
    # A page that renders a form for everybody, also for a member who must accept terms first.
    client.get(reverse("accounts:terms_current", args=["kasse-nord", TermsKind.TERMS]))
    token = client.cookies["csrftoken"].value
    payload = {**data(objects), "csrfmiddlewaretoken": token}

    response = client.post(url(objects), payload)

    assert response.status_code in {200, 302}, name
    if name == "reveal-email":
        assert response.status_code == 200
    else:
        assert response.status_code == 302, name
