"""The operator's business customers (P-OP-1): only companies and public bodies.

The link to the consultation platform's organizations lives here (``CustomerOrganization``),
so that ``accounts`` never depends on the back office (decision 0010)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import Organization


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PUBLIC_BODY = "public_body", _("Public body")


class Customer(models.Model):
    """A contract partner of the operator. Written only by ``customers.services``."""

    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices)
    # "K-00001": made from the primary key in the transaction that creates the customer
    # (unique without a lock; gaps are allowed). Empty only inside that transaction.
    customer_number = models.CharField(
        _("customer number"), max_length=20, unique=True, null=True, blank=True
    )
    legal_name = models.CharField(_("legal name"), max_length=200)
    legal_form = models.CharField(_("legal form"), max_length=100, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="DE")
    # The billing address, when invoices go elsewhere; empty: the main address.
    billing_name = models.CharField(_("billing recipient"), max_length=200, blank=True)
    billing_street = models.CharField(_("billing street and number"), max_length=200, blank=True)
    billing_postal_code = models.CharField(_("billing postal code"), max_length=20, blank=True)
    billing_city = models.CharField(_("billing city"), max_length=100, blank=True)
    billing_country = models.CharField(_("billing country"), max_length=2, blank=True)
    # Stored compact ("DE136695976"); required for companies.
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    # Required for public bodies (routing of their e-invoices).
    leitweg_id = models.CharField(_("Leitweg-ID"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["customer_number"]

    def __str__(self) -> str:
        return f"{self.customer_number or '–'} {self.legal_name}"

    @property
    def has_billing_address(self) -> bool:
        return bool(self.billing_street)


class CustomerContact(models.Model):
    """A person at the customer. With a ``user`` (role customer contact) they log in to the
    customer area; one user is the contact of one customer only. The e-mail address is shown
    to the operator only."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contacts"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customer_contact",
    )
    name = models.CharField(_("name"), max_length=200)
    function = models.CharField(_("function"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail address"), max_length=254)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer contact")
        verbose_name_plural = _("customer contacts")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class CustomerOrganization(models.Model):
    """An organization of the consultation platform that belongs to the customer."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="organization_links",
    )
    organization = models.OneToOneField(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="customer_link",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer's organization")
        verbose_name_plural = _("customers' organizations")
        ordering = ["organization__name", "pk"]

    def __str__(self) -> str:
        return str(self.organization)


class FixedId(models.Model):
    """An individual, fixed H.323 ID with its SIP URI for a customer's room systems (P-OP-8).
    Numbers come from the configured range, in order, and are never handed out again: a
    released ID keeps its row (``released_at``). Written only by ``customers.services``."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="fixed_ids"
    )
    number = models.PositiveIntegerField(_("number"), unique=True)
    h323_id = models.CharField(_("H.323 ID"), max_length=50, unique=True)
    sip_uri = models.CharField(_("SIP URI"), max_length=300, unique=True)
    allocated_at = models.DateTimeField(_("allocated"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        verbose_name = _("fixed H.323 ID")
        verbose_name_plural = _("fixed H.323 IDs")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.h323_id

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class AdvertisingConsent(models.Model):
    """A contact's consent to advice and advertising by e-mail (P-DATA-4; § 16 (I) b/c, § 17 (I)
    of the terms, § 7 (2) UWG). Kept with the wording agreed to, as the proof; revoked at any
    time, or ended at once by an objection (the one-click link in every such mail)."""

    contact = models.ForeignKey(
        CustomerContact, on_delete=models.CASCADE, related_name="advertising_consents"
    )
    wording = models.TextField(_("wording agreed to"))
    given_at = models.DateTimeField(_("given at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by_objection = models.BooleanField(_("ended by an objection"), default=False)

    class Meta:
        verbose_name = _("advertising consent")
        verbose_name_plural = _("advertising consents")
        ordering = ["-given_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_standing_consent_per_contact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.given_at:%Y-%m-%d}"
