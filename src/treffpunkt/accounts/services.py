"""Every change to accounts, organizations and terms goes through these functions.

Each one is atomic, writes an audit entry and queues its mails in the same transaction, so
a failure leaves nothing half-done and a mail is sent only for a change that happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import (
    EmailConfirmation,
    Invitation,
    Organization,
    Role,
    TermsAcceptance,
    TermsKind,
    TermsVersion,
    User,
)
from treffpunkt.accounts.selectors import terms_awaiting_acceptance
from treffpunkt.accounts.tokens import new_token, token_hash
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.notifications.services import queue_mail


def normalize_email(email: str) -> str:
    address = email.strip().lower()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise DomainError(_("Please enter a valid e-mail address."), code="email") from exc
    return address


def _check_password(password: str, *, user: User | None = None) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="password") from exc


# --- registration (P-ACC-1) -------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationReceipt:
    """What the registration page may tell: nothing that reveals whether an account existed."""

    email: str


def register_member(
    *,
    organization: Organization,
    email: str,
    password: str,
    display_name: str,
    language: str,
) -> RegistrationReceipt:
    """Create an unconfirmed member and mail a confirmation link.

    If the address is already registered, nothing is created and the owner of the address
    gets a mail saying so; the caller sees the same receipt either way (no enumeration).
    """
    address = normalize_email(email)
    name = display_name.strip()
    if not name:
        raise DomainError(_("Please enter the name others should see."), code="display_name")
    _check_password(password, user=User(email=address, display_name=name))
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email__iexact=address).first()
        if existing is not None:
            _answer_repeated_registration(existing)
            return RegistrationReceipt(email=address)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    address,
                    password,
                    display_name=name,
                    organization=organization,
                    role=Role.MEMBER,
                    preferred_language=language,
                )
        except IntegrityError:
            # Someone registered the same address a moment ago: treat it like an existing one.
            return RegistrationReceipt(email=address)
        audit.record("accounts.user.registered", actor=user, target=user, organization=organization)
        _send_confirmation(user)
    return RegistrationReceipt(email=address)


def _answer_repeated_registration(user: User) -> None:
    if user.email_confirmed_at is None and user.is_member:
        _send_confirmation(user)
        return
    queue_mail(
        template="accounts/already_registered",
        recipient=user,
        context={
            "login_url": settings.SITE_URL + reverse("accounts:login"),
            "reset_url": settings.SITE_URL + reverse("accounts:password_reset"),
        },
    )


def _send_confirmation(user: User) -> None:
    token, digest = new_token()
    EmailConfirmation.objects.create(
        user=user,
        token_hash=digest,
        expires_at=clock.now() + timedelta(hours=settings.EMAIL_CONFIRMATION_HOURS),
    )
    queue_mail(
        template="accounts/confirm_email",
        recipient=user,
        context={
            "confirm_url": settings.SITE_URL
            + reverse("accounts:confirm_email", kwargs={"token": token}),
            "hours": settings.EMAIL_CONFIRMATION_HOURS,
        },
    )


def confirm_email(*, token: str) -> User:
    """Mark the address as confirmed. A link works once and only until it expires."""
    with transaction.atomic():
        confirmation = (
            EmailConfirmation.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if confirmation is None:
            raise DomainError(_("This confirmation link is not valid."), code="invalid_link")
        if confirmation.used_at is not None:
            raise DomainError(
                _("This confirmation link was already used. You can log in."), code="used_link"
            )
        if confirmation.expires_at <= clock.now():
            raise DomainError(
                _("This confirmation link has expired. Register again to get a new one."),
                code="expired_link",
            )
        now = clock.now()
        confirmation.used_at = now
        confirmation.save(update_fields=["used_at"])
        user = confirmation.user
        if user.email_confirmed_at is None:
            user.email_confirmed_at = now
            user.save(update_fields=["email_confirmed_at"])
            audit.record(
                "accounts.user.email_confirmed",
                actor=user,
                target=user,
                organization=user.organization,
            )
        return user


# --- profile ----------------------------------------------------------------------------------


def update_profile(
    *, user: User, display_name: str, language: str, time_zone: str | None = None
) -> User:
    name = display_name.strip()
    if not name:
        raise DomainError(_("Please enter the name others should see."), code="display_name")
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Please choose one of the offered languages."), code="language")
    with transaction.atomic():
        wanted = {"display_name": name, "preferred_language": language}
        if time_zone is not None:
            if time_zone not in available_timezones():
                raise DomainError(_("Please choose one of the offered time zones."), code="zone")
            wanted["time_zone"] = time_zone
        changed = {field: value for field, value in wanted.items() if getattr(user, field) != value}
        if not changed:
            return user
        for field, value in changed.items():
            setattr(user, field, value)
        user.save(update_fields=list(changed))
        audit.record(
            "accounts.user.profile_changed",
            actor=user,
            target=user,
            organization=user.organization,
            data={"fields": sorted(changed)},
        )
    return user


def record_password_changed(*, user: User, by_reset: bool) -> None:
    with transaction.atomic():
        audit.record(
            "accounts.user.password_reset" if by_reset else "accounts.user.password_changed",
            actor=user,
            target=user,
            organization=user.organization,
        )


# --- invitations ------------------------------------------------------------------------------


def invite_team_member(
    *, admin: User, email: str, display_name: str, role: str = Role.STAFF
) -> Invitation:
    """An org admin invites a staff member or another admin by a one-time, expiring link."""
    if not admin.is_org_admin or admin.organization is None:
        raise NotAllowed(_("Only an organization admin can invite staff."))
    if role not in (Role.STAFF, Role.ORG_ADMIN):
        raise DomainError(_("Please choose staff member or organization admin."), code="role")
    address = normalize_email(email)
    name = display_name.strip()
    if not name:
        raise DomainError(_("Please enter the name others should see."), code="display_name")
    token, digest = new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organization=admin.organization,
            email=address,
            display_name=name,
            role=role,
            token_hash=digest,
            invited_by=admin,
            expires_at=clock.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        audit.record(
            "accounts.invitation.sent",
            actor=admin,
            target=invitation,
            organization=admin.organization,
            data={"role": role},
        )
        queue_mail(
            template="accounts/invitation",
            to_address=address,
            language=admin.preferred_language,
            context={
                "organization": admin.organization,
                "role_label": Role(role).label,
                "accept_url": settings.SITE_URL
                + reverse("accounts:accept_invitation", kwargs={"token": token}),
                "days": settings.INVITATION_DAYS,
            },
        )
    return invitation


def invitation_for_token(token: str) -> Invitation:
    """The open invitation behind a link, or a clear error why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise DomainError(_("This invitation link is not valid."), code="invalid_link")
    if invitation.accepted_at is not None:
        raise DomainError(_("This invitation was already used. You can log in."), code="used_link")
    if invitation.expires_at <= clock.now():
        raise DomainError(
            _("This invitation has expired. Please ask your organization for a new one."),
            code="expired_link",
        )
    return invitation


def accept_invitation(*, token: str, password: str, display_name: str, language: str) -> User:
    name = display_name.strip()
    if not name:
        raise DomainError(_("Please enter the name others should see."), code="display_name")
    with transaction.atomic():
        invitation = invitation_for_token(token)
        # Lock the row so that two clicks on the same link cannot both create an account.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise DomainError(
                _("This invitation was already used. You can log in."), code="used_link"
            )
        _check_password(password, user=User(email=invitation.email, display_name=name))
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise DomainError(
                _("An account for this invitation exists already. Please log in."),
                code="exists",
            )
        user = User.objects.create_user(
            invitation.email,
            password,
            display_name=name,
            organization=invitation.organization,
            role=invitation.role,
            preferred_language=language,
            # The invitation went to this address, so following its link confirms it.
            email_confirmed_at=clock.now(),
        )
        invitation.accepted_at = clock.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            "accounts.invitation.accepted",
            actor=user,
            target=invitation,
            organization=invitation.organization,
            data={"role": invitation.role},
        )
    return user


def revoke_invitation(*, admin: User, invitation_id: int) -> Invitation:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation_id, organization=admin.organization)
            .first()
        )
        if invitation is None or not admin.is_org_admin:
            raise NotAllowed()
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = clock.now()
            invitation.save(update_fields=["revoked_at"])
            audit.record(
                "accounts.invitation.revoked",
                actor=admin,
                target=invitation,
                organization=admin.organization,
            )
    return invitation


# --- terms and privacy (P-ACC-2) --------------------------------------------------------------


def publish_terms_version(
    *, admin: User, kind: str, label: str, text: str, effective_at: datetime
) -> TermsVersion:
    """Publish a new version. It is never edited afterwards; members must accept it once it is
    in force before they use the service again."""
    if not admin.is_org_admin or admin.organization is None:
        raise NotAllowed(_("Only an organization admin can publish terms."))
    if kind not in TermsKind.values:
        raise DomainError(_("Please choose terms of use or privacy notice."), code="kind")
    if not label.strip() or not text.strip():
        raise DomainError(_("A version needs a label and a text."), code="empty")
    if effective_at < clock.now() - timedelta(minutes=5):
        raise DomainError(
            _("A new version cannot come into force in the past."), code="effective_at"
        )
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=admin.organization.pk)
        last = TermsVersion.objects.filter(organization=organization, kind=kind).first()
        version = TermsVersion.objects.create(
            organization=organization,
            kind=kind,
            number=(last.number + 1) if last else 1,
            label=label.strip(),
            text=text.strip(),
            effective_at=effective_at,
            published_by=admin,
        )
        audit.record(
            "accounts.terms.published",
            actor=admin,
            target=version,
            organization=organization,
            data={"kind": kind, "number": version.number, "label": version.label},
        )
    return version


def accept_terms_in_force(*, user: User, version_ids: list[int]) -> list[TermsAcceptance]:
    """Record that the member accepted exactly the versions shown to them.

    The page sends the ids it showed; if a newer version came into force meanwhile, the
    member must read that one first.
    """
    with transaction.atomic():
        awaiting = terms_awaiting_acceptance(user)
        if sorted(v.pk for v in awaiting) != sorted(version_ids):
            raise DomainError(
                _("The terms changed while you were reading. Please read the current version."),
                code="stale",
            )
        acceptances = []
        for version in awaiting:
            acceptance, created = TermsAcceptance.objects.get_or_create(user=user, version=version)
            acceptances.append(acceptance)
            if created:
                audit.record(
                    "accounts.terms.accepted",
                    actor=user,
                    target=version,
                    organization=user.organization,
                    data={"kind": version.kind, "number": version.number},
                )
    return acceptances


# --- access to member records (P-ACC-3, P-ACC-4) ----------------------------------------------


def record_member_record_viewed(*, viewer: User, member: User) -> None:
    with transaction.atomic():
        audit.record(
            "accounts.member.viewed", actor=viewer, target=member, organization=member.organization
        )


def reveal_member_email(*, admin: User, member: User, reason: str) -> str:
    """An org admin may see a member's address only with a stated need, which is logged."""
    if not admin.is_org_admin or member.organization_id != admin.organization_id:
        raise NotAllowed()
    if len(reason.strip()) < 10:
        raise DomainError(
            _("Please describe why you need the address (at least 10 characters)."),
            code="reason",
        )
    with transaction.atomic():
        audit.record(
            "accounts.member.email_revealed",
            actor=admin,
            target=member,
            organization=member.organization,
            data={"reason": reason.strip()[:500]},
        )
    return member.email


def erase_login(*, user: User) -> None:
    """Close a login for good and take the person out of it (P-DATA-1): no e-mail address, no
    name, no password; the row stays only where records that must be kept point to it. Call
    inside the caller's transaction (the caller writes the audit entry with its counts)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.is_active = False
    user.email = f"geloescht-{user.pk}@invalid.example"
    user.display_name = "—"
    user.set_unusable_password()
    user.save(update_fields=["is_active", "email", "display_name", "password"])
