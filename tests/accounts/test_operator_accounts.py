"""The operator opens organizations and adds operator staff through services with audit
entries (the Django admin is read-only): from the command line today, from the back office's
customer pages next. Operator staff are never superusers and hold exactly their capabilities."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import World, deliver_outbox
from tests.factories import OperatorFactory
from treffpunkt.accounts.models import Invitation, Organization, Role, User
from treffpunkt.accounts.operator_services import add_operator, open_organization
from treffpunkt.accounts.permissions import Capability, capabilities_of
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_opening_an_organization_invites_its_first_admin_by_mail(world: World) -> None:
    out = StringIO()
    call_command(
        "open_organization",
        "BKK Süd-West",
        "--admin-email=Leitung@bkk-sw.example.org",
        "--admin-name=Lea Leitung",
        stdout=out,
    )
    organization = Organization.objects.get(slug="bkk-sud-west")
    invitation = Invitation.objects.get(organization=organization)
    assert invitation.role == Role.ORG_ADMIN
    assert invitation.email == "leitung@bkk-sw.example.org"
    [message] = [m for m in deliver_outbox() if m.to == ["leitung@bkk-sw.example.org"]]
    assert "/konto/einladung/" in message.body or "einladung" in message.body.lower()
    assert AuditEntry.objects.filter(
        code="accounts.organization.opened", organization=organization
    ).exists()


def test_a_second_organization_with_the_same_short_name_is_refused_and_nothing_written(
    world: World,
) -> None:
    before = (Organization.objects.count(), Invitation.objects.count(), len(mail.outbox))
    with pytest.raises(CommandError, match=r"existiert bereits|exists already"):
        call_command(
            "open_organization",
            "Kasse Nord",
            "--slug=kasse-nord",
            "--admin-email=x@example.org",
            "--admin-name=X",
            stdout=StringIO(),
        )
    deliver_outbox()
    assert (Organization.objects.count(), Invitation.objects.count(), len(mail.outbox)) == before


def test_only_the_customers_capability_opens_organizations(world: World) -> None:
    billing_only = OperatorFactory(capabilities=[Capability.BILLING])
    with pytest.raises(NotAllowed):
        open_organization(
            actor=billing_only, name="Neu", admin_email="a@example.org", admin_name="A"
        )
    organization, _ = open_organization(
        actor=OperatorFactory(capabilities=[Capability.CUSTOMERS]),
        name="Neu",
        admin_email="a@example.org",
        admin_name="A",
    )
    assert organization.slug == "neu"


def test_added_operator_staff_hold_exactly_their_capabilities_and_are_no_superusers(
    world: World,
) -> None:
    out = StringIO()
    call_command(
        "add_operator",
        "Rita@Betrieb.example.org",
        "Rita Rechnung",
        "--capability=billing",
        "--capability=auditor",
        stdout=out,
    )
    user = User.objects.get(email="rita@betrieb.example.org")
    assert user.is_operator and not user.is_superuser and not user.has_usable_password()
    assert set(capabilities_of(user)) == {Capability.BILLING, Capability.AUDITOR}
    link = out.getvalue().split("(one use): ")[1].strip()
    path = link.removeprefix("http://testserver")
    response = Client().get(path, follow=True)
    assert response.status_code == 200
    assert b"password" in response.content.lower() or b"passwort" in response.content.lower()
    assert AuditEntry.objects.filter(
        code="accounts.operator.added", target_id=str(user.pk)
    ).exists()


def test_adding_operator_staff_needs_a_capability_a_new_address_and_platform_administration(
    world: World,
) -> None:
    with pytest.raises(DomainError):
        add_operator(actor=None, email="n@example.org", display_name="N", capabilities=[])
    with pytest.raises(DomainError):
        add_operator(
            actor=None,
            email=world.operator.email,
            display_name="Doppelt",
            capabilities=[Capability.SUPPORT],
        )
    with pytest.raises(NotAllowed):
        add_operator(
            actor=OperatorFactory(capabilities=[Capability.CUSTOMERS]),
            email="n@example.org",
            display_name="N",
            capabilities=[Capability.SUPPORT],
        )
    assert not User.objects.filter(email="n@example.org").exists()
