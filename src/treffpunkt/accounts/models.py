from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ServiceHold(models.TextChoices):
    """What of an organization's service is held back: not yet switched on, or blocked by the
    operator (P-OP-3, P-SLA-3). Set only by the back office, through
    ``accounts.operator_services.set_service_hold``; read by booking and calls."""

    NONE = "", _("Available")
    ALL = "all", _("The whole service")
    BOOKING = "booking", _("Booking")
    CALLS = "calls", _("Calls")


class Organization(models.Model):
    """A customer of the operator that offers consultations to its members (e.g. a health fund)."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=60, default="Europe/Berlin")
    # Members and staff see a notice instead of booking or calls while this holds; nothing is
    # deleted (P-SLA-3).
    service_hold = models.CharField(
        _("service held back"), max_length=20, choices=ServiceHold.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    def holds(self, part: str) -> bool:
        """Whether ``part`` ("booking" or "calls") is held back for this organization."""
        return self.service_hold in (ServiceHold.ALL, part)


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    STAFF = "staff", _("Staff member")
    ORG_ADMIN = "org_admin", _("Organization admin")
    OPERATOR = "operator", _("Operator")
    # A person at a business customer of the operator (invoices, contracts, availability, fault
    # tickets). Belongs to no organization of the consultation platform; the customers app
    # links the person to the customer.
    CUSTOMER_CONTACT = "customer_contact", _("Business customer's contact")


# Roles outside any organization of the consultation platform.
PLATFORM_ROLES = frozenset({Role.OPERATOR, Role.CUSTOMER_CONTACT})
ORGANIZATION_ROLES = frozenset({Role.MEMBER, Role.STAFF, Role.ORG_ADMIN})
TEAM_ROLES = frozenset({Role.STAFF, Role.ORG_ADMIN})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail addresses are matched without regard to case: Anna@… and anna@… are one person.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.OPERATOR)
        extra.setdefault("display_name", "Operator")
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in. E-mail is the login and is never shown to other users (P-ACC-3).

    ``is_staff`` is Django's flag for the admin site (operators only); it has nothing to do with
    the product's "staff" role (Berater), which is ``role == Role.STAFF``.
    """

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    display_name = models.CharField(_("display name"), max_length=80)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="de"
    )
    time_zone = models.CharField(_("time zone"), max_length=60, default="Europe/Berlin")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the admin site"), default=False)
    date_joined = models.DateTimeField(_("joined"), auto_now_add=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="unique_email_ignoring_case"),
            models.CheckConstraint(
                condition=(
                    models.Q(role__in=["operator", "customer_contact"], organization__isnull=True)
                    | (
                        ~models.Q(role__in=["operator", "customer_contact"])
                        & models.Q(organization__isnull=False)
                    )
                ),
                name="organization_matches_role",
            ),
        ]
        # The operator's capabilities (treffpunkt.accounts.permissions.Capability): Django
        # permissions, handed out through one group per capability.
        permissions = [
            ("capability_customers", "Capability: customers and contracts"),
            ("capability_billing", "Capability: billing"),
            ("capability_support", "Capability: support"),
            ("capability_availability", "Capability: availability"),
            ("capability_auditor", "Capability: read-only auditor"),
            ("capability_platform", "Capability: platform administration"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_member(self) -> bool:
        return self.role == Role.MEMBER

    @property
    def is_team(self) -> bool:
        """Staff or org admin: people who work for the organization."""
        return self.role in TEAM_ROLES

    @property
    def is_org_admin(self) -> bool:
        return self.role == Role.ORG_ADMIN

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def is_customer_contact(self) -> bool:
        return self.role == Role.CUSTOMER_CONTACT


class EmailConfirmation(models.Model):
    """A one-time link that proves a new member owns the address (P-ACC-1).

    Only a hash of the token is stored, so a database dump does not contain usable links.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_confirmations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail confirmation")
        verbose_name_plural = _("e-mail confirmations")

    def __str__(self) -> str:
        return f"confirmation for user {self.user_id}"


class Invitation(models.Model):
    """An org admin's one-time, expiring invitation for a new staff member or admin."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    display_name = models.CharField(_("display name"), max_length=80)
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=[(Role.STAFF, Role.STAFF.label), (Role.ORG_ADMIN, Role.ORG_ADMIN.label)],
        default=Role.STAFF,
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.organization}"


class TermsKind(models.TextChoices):
    TERMS = "terms", _("Terms of use")
    PRIVACY = "privacy", _("Privacy notice")


class TermsVersion(models.Model):
    """One published version of an organization's terms of use or privacy notice (P-ACC-2).

    Versions are never edited after publishing; a change is a new version.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="terms_versions"
    )
    kind = models.CharField(_("document"), max_length=20, choices=TermsKind.choices)
    number = models.PositiveIntegerField(_("number"))
    label = models.CharField(_("version label"), max_length=60)
    text = models.TextField(_("text"))
    effective_at = models.DateTimeField(_("in force from"))
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["organization", "kind", "-number"]
        verbose_name = _("terms version")
        verbose_name_plural = _("terms versions")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "number"], name="one_number_per_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse(
            "accounts:terms_version",
            kwargs={"org": self.organization.slug, "kind": self.kind, "number": self.number},
        )


class TermsAcceptance(models.Model):
    """Proof that a user accepted one version: who, which version, when (P-ACC-2)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="terms_acceptances")
    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(_("accepted"), auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at"]
        verbose_name = _("terms acceptance")
        verbose_name_plural = _("terms acceptances")
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="accept_a_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.version_id}"
