"""Demo data for a newcomer's first start. Idempotent: a second run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.contrib.admin import site as admin_site
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model

from treffpunkt.accounts.models import (
    Organization,
    Role,
    TermsAcceptance,
    TermsKind,
    TermsVersion,
    User,
)
from treffpunkt.core import clock

DEMO_PASSWORD = "Treffpunkt-Demo-2026"
DEMO_ORGANIZATION = {"slug": "kasse-nord", "name": "Gesundheitskasse Nord (Demo)"}
OPERATOR_VIEW_GROUP = "Betrieb: Verwaltung ansehen"


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


def load_demo() -> list[DemoLogin]:
    with transaction.atomic():
        organization, _ = Organization.objects.get_or_create(
            slug=DEMO_ORGANIZATION["slug"], defaults={"name": DEMO_ORGANIZATION["name"]}
        )
        users = {person.email: _demo_user(person, organization) for person in DEMO_PEOPLE}
        operator = next(users[p.email] for p in DEMO_PEOPLE if p.role == Role.OPERATOR)
        _may_only_view_the_administration(operator)
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
    # Booking builds on accounts; its demo is loaded here so one command fills everything.
    from treffpunkt.booking.demo import load_booking_demo

    load_booking_demo(organization=organization, people=users)
    from treffpunkt.messaging.demo import load_messaging_demo

    load_messaging_demo(organization=organization, people=users)
    return DEMO_PEOPLE


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


def _may_only_view_the_administration(operator: User) -> None:
    # Demo data loaded by an earlier version made the operator a superuser; take that back.
    if operator.is_superuser:
        operator.is_superuser = False
        operator.save(update_fields=["is_superuser"])
    operator.groups.add(operator_view_group())


def operator_view_group() -> Group:
    """A group with the view permission of every model the administration shows (and of the
    rows shown under them): what an operator who is no superuser needs to browse it. Nothing
    to add, change or delete: the administration does not write (treffpunkt.core.admin)."""
    group, _ = Group.objects.get_or_create(name=OPERATOR_VIEW_GROUP)
    shown: set[type[Model]] = set()
    for model in apps.get_models():
        if admin_site.is_registered(model):
            shown.add(model)
            inlines = admin_site.get_model_admin(model).inlines
            shown.update(inline.model for inline in inlines)
    permissions = [
        Permission.objects.get(
            content_type=ContentType.objects.get_for_model(model),
            codename=get_permission_codename("view", model._meta),
        )
        for model in shown
    ]
    group.permissions.set(permissions)
    return group


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
