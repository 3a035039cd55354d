"""Demo data for a newcomer's first start. Idempotent: a second run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction

from treffpunkt.accounts.models import (
    Organization,
    Role,
    TermsAcceptance,
    TermsKind,
    TermsVersion,
    User,
)
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core import clock

DEMO_PASSWORD = "Treffpunkt-Demo-2026"
DEMO_ORGANIZATION = {"slug": "kasse-nord", "name": "Gesundheitskasse Nord (Demo)"}
# The demo operator's authenticator key, printed at start so that anyone trying the demo can
# add it to an app. Public, like the password: only ever for this demo account.
DEMO_SECOND_FACTOR_SECRET = "TREF FPUN KTDE MOBE TRIE BNUR DEMO 2345"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    display_name: str
    email: str


DEMO_PEOPLE = [
    DemoLogin(Role.OPERATOR, "Olga Betrieb", "betrieb@example.org"),
    DemoLogin(Role.ORG_ADMIN, "Anke Admin", "admin@kasse-nord.example.org"),
    DemoLogin(Role.STAFF, "Bernd Berater", "berater1@kasse-nord.example.org"),
    DemoLogin(Role.STAFF, "Clara Beraterin", "berater2@kasse-nord.example.org"),
    DemoLogin(Role.MEMBER, "Mia Mitglied", "mitglied1@example.org"),
    DemoLogin(Role.MEMBER, "Max Mitglied", "mitglied2@example.org"),
]

TERMS_TEXT = """Nutzungsbedingungen (Demo)

1. Der Dienst ist für Mitglieder kostenlos.
2. Ein Termin entsteht erst, wenn die Kasse die Anfrage bestätigt.
3. Gespräche werden Ende-zu-Ende verschlüsselt und nicht aufgezeichnet.
"""
PRIVACY_TEXT = """Datenschutzhinweise (Demo)

Wir verarbeiten Ihre Daten nur, um Termine, Gespräche und Nachrichten mit Ihnen zu führen.
Ihre E-Mail-Adresse sieht niemand außer Ihnen.
"""


def load_accounts_demo() -> None:
    """The demo organization, one person per role, the terms; the operator holds every
    capability (no superuser) and the printed demo key as its second factor."""
    with transaction.atomic():
        organization = demo_organization()
        users = {person.email: _demo_user(person, organization) for person in DEMO_PEOPLE}
        operator = next(users[p.email] for p in DEMO_PEOPLE if p.role == Role.OPERATOR)
        _every_capability(operator)
        _demo_second_factor(operator)
        admin = users["admin@kasse-nord.example.org"]
        versions = [
            _demo_terms(organization, admin, TermsKind.TERMS, TERMS_TEXT),
            _demo_terms(organization, admin, TermsKind.PRIVACY, PRIVACY_TEXT),
        ]
        # The first member has accepted already and lands on the home page; the second has
        # not, so a newcomer sees the consent page (P-ACC-2).
        for version in versions:
            TermsAcceptance.objects.get_or_create(
                user=users["mitglied1@example.org"], version=version
            )


def demo_organization() -> Organization:
    organization, _ = Organization.objects.get_or_create(
        slug=DEMO_ORGANIZATION["slug"], defaults={"name": DEMO_ORGANIZATION["name"]}
    )
    return organization


def demo_people() -> dict[str, User]:
    """The demo's people by e-mail address (for the other apps' demo loaders)."""
    emails = [person.email for person in DEMO_PEOPLE]
    return {user.email: user for user in User.objects.filter(email__in=emails)}


def describe_accounts_demo() -> list[str]:
    operator = next(p for p in DEMO_PEOPLE if p.role == Role.OPERATOR)
    compact = DEMO_SECOND_FACTOR_SECRET.replace(" ", "")
    return [
        f"Demo logins, all with the password: {DEMO_PASSWORD}",
        *(f"  {p.role:<16} {p.email:<36} {p.display_name}" for p in DEMO_PEOPLE),
        f"The operator {operator.email} holds every back-office capability and also needs a "
        "code from an authenticator app (second factor). Add this key to an app (time-based, "
        f"6 digits): {DEMO_SECOND_FACTOR_SECRET} - or run: oathtool --totp -b {compact}. It is "
        "a public demo key, printed for everybody: never use it for a real account.",
    ]


def _demo_user(person: DemoLogin, organization: Organization) -> User:
    existing = User.objects.filter(email__iexact=person.email).first()
    if existing is not None:
        return existing
    is_operator = person.role == Role.OPERATOR
    return User.objects.create_user(
        person.email,
        DEMO_PASSWORD,
        display_name=person.display_name,
        role=person.role,
        organization=None if is_operator else organization,
        email_confirmed_at=clock.now(),
        # Staff so the operator reaches the administration; no superuser, so it sees what its
        # group grants (viewing) and nothing bypasses a permission check.
        is_staff=is_operator,
        is_superuser=False,
    )


def _every_capability(operator: User) -> None:
    """The demo shows the whole back office: its operator holds every capability."""
    # Demo data loaded by an earlier version made the operator a superuser; take that back.
    if operator.is_superuser:
        operator.is_superuser = False
        operator.save(update_fields=["is_superuser"])
    groups = Group.objects.filter(name__in=[c.group_name for c in Capability])
    operator.groups.add(*groups)


def _demo_second_factor(operator: User) -> None:
    """Operators must have a second factor; the demo one gets the printed demo key. A device
    someone set up themselves in the demo is left alone."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from treffpunkt.accounts.second_factor import APP_DEVICE_NAME, key_from_secret

    if not TOTPDevice.objects.filter(user=operator, confirmed=True).exists():
        TOTPDevice.objects.create(
            user=operator,
            name=APP_DEVICE_NAME,
            key=key_from_secret(DEMO_SECOND_FACTOR_SECRET),
            confirmed=True,
        )


def _demo_terms(organization: Organization, admin: User, kind: str, text: str) -> TermsVersion:
    version = TermsVersion.objects.filter(organization=organization, kind=kind).first()
    if version is not None:
        return version
    return TermsVersion.objects.create(
        organization=organization,
        kind=kind,
        number=1,
        label="2026-01",
        text=text,
        effective_at=clock.now() - timedelta(days=30),
        published_by=admin,
    )
