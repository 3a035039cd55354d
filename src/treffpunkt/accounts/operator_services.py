"""What the operator does with accounts: open an organization with its first admin, and add
operator staff with their capabilities. The only write path for both (the Django admin is
read-only); each writes an audit entry. Used by management commands today and by the back
office's customer pages next (a customer's organization is opened in the same flow)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import Invitation, Organization, Role, ServiceHold, User
from treffpunkt.accounts.permissions import Capability, has_capability
from treffpunkt.accounts.services import normalize_email
from treffpunkt.accounts.tokens import new_token
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.notifications.services import queue_mail


def open_organization(
    *,
    actor: User | None,
    name: str,
    slug: str = "",
    admin_email: str,
    admin_name: str,
) -> tuple[Organization, Invitation]:
    """A new organization of the consultation platform and the invitation of its first
    organization admin (a one-time link by mail). ``actor`` is an operator holding the
    customers capability, or ``None`` for the command line (the server's own operator)."""
    if actor is not None and not has_capability(actor, Capability.CUSTOMERS):
        raise NotAllowed
    name = name.strip()
    if not name:
        raise DomainError(_("Please enter the organization's name."), code="name")
    slug = slugify(slug or name)[:50]
    if not slug:
        raise DomainError(_("Please enter a short name made of letters and digits."), code="slug")
    address = normalize_email(admin_email)
    admin_name = admin_name.strip()
    if not admin_name:
        raise DomainError(_("Please enter the name others should see."), code="display_name")
    token, digest = new_token()
    try:
        with transaction.atomic():
            organization = Organization.objects.create(name=name, slug=slug)
            inviter = actor or _server_operator()
            invitation = Invitation.objects.create(
                organization=organization,
                email=address,
                display_name=admin_name,
                role=Role.ORG_ADMIN,
                token_hash=digest,
                invited_by=inviter,
                expires_at=clock.now() + timedelta(days=settings.INVITATION_DAYS),
            )
            audit.record(
                "accounts.organization.opened",
                actor=actor,
                target=organization,
                organization=organization,
            )
            queue_mail(
                template="accounts/invitation",
                to_address=address,
                language=settings.LANGUAGE_CODE,
                context={
                    "organization": organization,
                    "role_label": Role.ORG_ADMIN.label,
                    "accept_url": settings.SITE_URL
                    + reverse("accounts:accept_invitation", kwargs={"token": token}),
                    "days": settings.INVITATION_DAYS,
                },
            )
    except IntegrityError as exc:
        raise DomainError(
            _("An organization with this short name exists already."), code="slug"
        ) from exc
    return organization, invitation


def _server_operator() -> User:
    """Invitations name who sent them; from the command line that is the first operator."""
    operator = User.objects.filter(role=Role.OPERATOR, is_active=True).order_by("pk").first()
    if operator is None:
        raise DomainError(_("Add an operator first (manage.py add_operator)."), code="operator")
    return operator


def add_operator(
    *,
    actor: User | None,
    email: str,
    display_name: str,
    capabilities: Iterable[Capability],
) -> tuple[User, str]:
    """A new member of the operator's staff with the given capabilities (never a superuser).
    Returns the user and a one-time link to choose a password; at the first sign-in they set
    up their second factor. ``actor`` holds platform administration, or is ``None`` for the
    command line."""
    if actor is not None and not has_capability(actor, Capability.PLATFORM):
        raise NotAllowed
    wanted = sorted(set(capabilities), key=lambda c: c.value)
    if not wanted:
        raise DomainError(_("Please choose at least one capability."), code="capabilities")
    address = normalize_email(email)
    name = display_name.strip()
    if not name:
        raise DomainError(_("Please enter the name others should see."), code="display_name")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                address,
                None,
                display_name=name,
                role=Role.OPERATOR,
                is_staff=True,
                email_confirmed_at=clock.now(),
            )
            user.groups.add(*Group.objects.filter(name__in=[c.group_name for c in wanted]))
            audit.record(
                "accounts.operator.added",
                actor=actor,
                target=user,
                data={"capabilities": [c.value for c in wanted]},
            )
    except IntegrityError as exc:
        raise DomainError(_("This address has an account already."), code="email") from exc
    link = settings.SITE_URL + reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return user, link


def set_service_hold(*, organization: Organization, hold: str, actor: User | None) -> bool:
    """Hold back (or release) an organization's service: not yet switched on or blocked by the
    operator (P-OP-3, P-SLA-3). Called by the back office, which decides; returns whether
    anything changed. Members and staff then see a notice instead of booking or calls."""
    hold = ServiceHold(hold)
    with transaction.atomic():
        changed = (
            Organization.objects.filter(pk=organization.pk)
            .exclude(service_hold=hold)
            .update(service_hold=hold)
        )
        if changed:
            audit.record(
                "accounts.organization.service_hold",
                actor=actor,
                target=organization,
                organization=organization,
                data={"hold": str(hold)},
            )
    organization.service_hold = hold
    return bool(changed)
