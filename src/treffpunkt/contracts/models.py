"""The operator's catalogue, its customers' orders and contracts, and everything that happens to
a contract under the terms: cancellations, change notices, transfers, consent requests, blocks
(P-OP-2 … P-OP-7, P-SLA-3). Written only by ``contracts.services``.

The deadlines a contract must keep are stored on it (``notice_deadline``, ``consent_due``) so
that the operator's dashboard finds every coming one with an index, and they are computed only
by ``contracts.deadlines``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from treffpunkt.core.money import VatKind
from treffpunkt.customers.models import Customer
from treffpunkt.documents.models import Document


class ProductKind(models.TextChoices):
    VIDEO = "video", _("Video conferencing service")
    TELEPHONY = "telephony", _("Telephony service")
    HARDWARE = "hardware", _("Hardware")


SERVICE_KINDS = frozenset({ProductKind.VIDEO, ProductKind.TELEPHONY})


class Product(models.Model):
    """One entry of the catalogue. Its prices are dated (``Price``)."""

    code = models.SlugField(_("product code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    orderable = models.BooleanField(_("can be ordered"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_service(self) -> bool:
        return self.kind in SERVICE_KINDS


class Price(models.Model):
    """A product's price from ``valid_from`` on, until the next price's ``valid_from``.

    Services: a monthly fee, optionally minutes included and a price per minute beyond them.
    Hardware: a unit price ex warehouse including packaging; VAT on top, shipping, customs and
    fees at cost (charged on the invoice, not here). Amounts are net, in euros."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="prices"
    )
    valid_from = models.DateField(_("valid from"))
    monthly_fee = models.DecimalField(
        _("monthly fee"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    included_minutes = models.PositiveIntegerField(_("minutes included"), null=True, blank=True)
    per_minute = models.DecimalField(
        _("price per further minute"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # The rate in percent follows the day of supply (``core.money.vat_rate``).
    vat_kind = models.CharField(
        _("VAT"), max_length=20, choices=VatKind.choices, default=VatKind.STANDARD
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["product", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["product", "valid_from"], name="one_price_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.valid_from})"


class Channel(models.TextChoices):
    """How a declaration reached the operator (§ 24 (VI) of the terms: written or text form)."""

    LETTER = "letter", _("Letter")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-mail")
    CUSTOMER_AREA = "customer_area", _("Customer area")


class OrderState(models.TextChoices):
    RECEIVED = "received", _("Waiting for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Lapsed")


class Order(models.Model):
    """A customer's order: an offer the operator accepts within two weeks (§ 2 (II), (III))."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    # "A-00001", made from the primary key in the creating transaction.
    number = models.CharField(  # noqa: DJ001  # NULL until numbered: unique without clashes
        _("order number"), max_length=20, unique=True, null=True
    )
    # The form's one-time key: a second submission of the same form finds the first order.
    submission_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    received_on = models.DateField(_("received on"))
    accept_by = models.DateField(_("accept by"), db_index=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_start = models.DateField(_("requested start"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=OrderState.choices, default=OrderState.RECEIVED
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_start = models.DateField(_("contract start"), null=True, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["state", "accept_by"], name="order_state_accept_by")]

    def __str__(self) -> str:
        return self.number or "–"

    @property
    def has_hardware(self) -> bool:
        return any(line.product.kind == ProductKind.HARDWARE for line in self.lines.all())


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="lines"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"


class ContractState(models.TextChoices):
    # Accepted, not yet switched on: the service goes on when its first invoice is issued
    # (P-OP-3; the billing calls ``services.switch_on``).
    WAITING = "waiting", _("Waiting for the first invoice")
    ACTIVE = "active", _("Running")
    # Cancelled or not renewed: runs until ``ends_on``.
    ENDING = "ending", _("Running until its end")
    ENDED = "ended", _("Ended")


LIVE_STATES = (ContractState.WAITING, ContractState.ACTIVE, ContractState.ENDING)


class EndReason(models.TextChoices):
    CANCELLED = "cancelled", _("Cancelled by the customer")
    GOOD_CAUSE = "good_cause", _("Cancelled for good cause")
    SPECIAL = "special", _("Special cancellation after a change")
    NO_CONSENT = "no_consent", _("No consent to a renewal")
    TRANSFER = "transfer", _("Cancelled after a transfer")
    PROVIDER_SWITCH = "provider_switch", _("Switched to another provider")


class Contract(models.Model):
    """A contract for a service (video conferencing or telephony), one year from the start in
    the order confirmation (§ 20 (I), § 22 (I) of the terms), renewed by a year at a time."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    # Copied from the product: the rules of the terms depend on it and must not change later.
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # "V-00001", made from the primary key in the creating transaction.
    number = models.CharField(  # noqa: DJ001  # NULL until numbered: unique without clashes
        _("contract number"), max_length=20, unique=True, null=True
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ContractState.choices, default=ContractState.WAITING
    )
    start = models.DateField(_("start"))
    term_start = models.DateField(_("current term from"))
    term_end = models.DateField(_("current term until"))
    # Video: the last day a cancellation must arrive to end the contract at ``term_end``.
    notice_deadline = models.DateField(_("notice deadline"), null=True, blank=True)
    # Telephony: the day the consent request must have reached the customer, and what came of it.
    consent_due = models.DateField(_("consent request due"), null=True, blank=True)
    consent_requested_on = models.DateField(_("consent requested"), null=True, blank=True)
    consent_reminded_on = models.DateField(_("consent reminder sent"), null=True, blank=True)
    consent_given_on = models.DateField(_("consent given"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    end_reason = models.CharField(
        _("reason for the end"), max_length=20, choices=EndReason.choices, blank=True
    )
    switched_on_at = models.DateTimeField(_("service switched on"), null=True, blank=True)
    # The invoice that switched it on (the billing's number, e.g. "RE-2027-00001").
    switched_on_by_invoice = models.CharField(_("first invoice"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start", "-pk"]
        indexes = [
            models.Index(fields=["state", "notice_deadline"], name="contract_notice_deadline"),
            models.Index(fields=["state", "consent_due"], name="contract_consent_due"),
            models.Index(fields=["state", "term_end"], name="contract_term_end"),
        ]

    def __str__(self) -> str:
        return f"{self.number or '–'} {self.product}"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


class EventKind(models.TextChoices):
    CREATED = "created", _("Contract concluded")
    SWITCHED_ON = "switched_on", _("Service switched on")
    RENEWED = "renewed", _("Renewed")
    CANCELLATION = "cancellation", _("Cancellation received")
    CONSENT_REQUESTED = "consent_requested", _("Consent to a renewal requested")
    CONSENT_REMINDED = "consent_reminded", _("Reminder of the consent request")
    CONSENT_GIVEN = "consent_given", _("Consent to a renewal given")
    CHANGE_NOTICE = "change_notice", _("Change announced")
    CHANGE_EFFECTIVE = "change_effective", _("Change in effect")
    TRANSFER_NOTICE = "transfer_notice", _("Transfer announced")
    TRANSFER_OBJECTION = "transfer_objection", _("Objection to the transfer")
    TRANSFER_EFFECTIVE = "transfer_effective", _("Transfer in effect")
    BLOCKED = "blocked", _("Service blocked")
    UNBLOCKED = "unblocked", _("Block lifted")
    ENDED = "ended", _("Contract ended")
    SWITCH_AGREED = "switch_agreed", _("Provider switch agreed")


class ContractEvent(models.Model):
    """One entry of a contract's timeline. Never changed; written with the change it records."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    on = models.DateField(_("date"))
    # A sentence in the operator's language at the time (shown as written).
    summary = models.TextField(_("summary"))
    document = models.ForeignKey(
        Document,
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract event")
        verbose_name_plural = _("contract events")
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.on} {self.get_kind_display()}"


class CancellationKind(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary cancellation")
    GOOD_CAUSE = "good_cause", _("For good cause")
    SPECIAL = "special", _("Special cancellation right after a change")
    TRANSFER = "transfer", _("After a transfer of the contract")


class Cancellation(models.Model):
    """A cancellation as received (P-OP-6): when, how, from whom, and when it takes effect."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="cancellations",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CancellationKind.choices)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    sender = models.CharField(_("sent by"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    # The last day of the contract.
    effective_on = models.DateField(_("takes effect at the end of"))
    late = models.BooleanField(_("received too late for the next end"), default=False)
    # The late-by-a-day month-end cases in which readings of the BGB differ (decision 0011).
    in_doubt = models.BooleanField(_("timeliness in doubt"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmation = models.ForeignKey(
        Document,
        verbose_name=_("confirmation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("cancellation")
        verbose_name_plural = _("cancellations")
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.contract} {self.received_on}"


class ChangeClass(models.TextChoices):
    BENEFIT = "benefit", _("Only to the customer's benefit")
    ADMINISTRATIVE = "administrative", _("Purely administrative, no disadvantage")
    LAW = "law", _("Required by law")
    VAT_ONLY = "vat_only", _("Price increase caused only by VAT")
    OTHER = "other", _("Other change")


# § 20 (III) of the terms: these changes give no special cancellation right.
WITHOUT_SPECIAL_RIGHT = frozenset(
    {ChangeClass.BENEFIT, ChangeClass.ADMINISTRATIVE, ChangeClass.LAW, ChangeClass.VAT_ONLY}
)


class ChangeSubject(models.TextChoices):
    TERMS = "terms", _("Terms and conditions")
    SERVICE = "service", _("Service description")
    PRICES = "prices", _("Prices")


class ChangeNotice(models.Model):
    """A change of terms, service description or prices announced for one contract (§ 11 (IV))."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="change_notices",
    )
    subject = models.CharField(_("what changes"), max_length=20, choices=ChangeSubject.choices)
    classification = models.CharField(_("kind of change"), max_length=20, choices=ChangeClass)
    description = models.TextField(_("the change"))
    received_on = models.DateField(_("reaches the customer on"))
    effective_on = models.DateField(_("takes effect on"))
    special_right_until = models.DateField(
        _("special cancellation right until"), null=True, blank=True, db_index=True
    )
    in_effect = models.BooleanField(_("in effect"), default=False)
    letter = models.ForeignKey(
        Document, verbose_name=_("letter"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("change notice")
        verbose_name_plural = _("change notices")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["in_effect", "effective_on"], name="change_due")]

    def __str__(self) -> str:
        return f"{self.contract} {self.effective_on}"

    @property
    def gives_special_right(self) -> bool:
        return self.classification not in WITHOUT_SPECIAL_RIGHT


class Transfer(models.Model):
    """The operator's transfer of a contract to a third party (§ 21 (I), § 23 (I))."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="transfers"
    )
    transferee = models.CharField(_("new contract partner"), max_length=200)
    received_on = models.DateField(_("announcement reaches the customer on"))
    effective_on = models.DateField(_("takes effect on"))
    # Video: the customer may object until then (§ 23 (I)).
    objection_until = models.DateField(_("objection until"), null=True, blank=True, db_index=True)
    # Telephony: the special cancellation right of § 20 (III) lasts until then (§ 21 (I)).
    special_right_until = models.DateField(
        _("special cancellation right until"), null=True, blank=True, db_index=True
    )
    objected_on = models.DateField(_("objection received"), null=True, blank=True)
    in_effect = models.BooleanField(_("in effect"), default=False)
    letter = models.ForeignKey(
        Document, verbose_name=_("letter"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["in_effect", "effective_on"], name="transfer_due")]

    def __str__(self) -> str:
        return f"{self.contract} → {self.transferee}"


class BlockScope(models.TextChoices):
    ALL = "all", _("The whole service")
    BOOKING = "booking", _("Booking only")
    CALLS = "calls", _("Calls only")


class BlockReason(models.TextChoices):
    ABUSE = "abuse", _("Abuse")
    LEGAL = "legal", _("Legal reasons")
    DEFAULT = "default", _("Payment default")


class Block(models.Model):
    """A block of a customer's service (P-SLA-3): who, why, from when, until when. Nothing is
    deleted while a block lasts and the fees stay due."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="blocks"
    )
    scope = models.CharField(_("what is blocked"), max_length=20, choices=BlockScope.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=BlockReason.choices)
    explanation = models.TextField(_("explanation"))
    started_at = models.DateTimeField(_("blocked since"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_note = models.TextField(_("note on lifting"), blank=True)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_scope_display()}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class CustomerDocument(models.Model):
    """A document sent to a customer (order confirmation, letter), listed in the customer area."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="documents"
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("customer's document")
        verbose_name_plural = _("customers' documents")
        ordering = ["-document__created_at", "-pk"]

    def __str__(self) -> str:
        return str(self.document)


class RunRecord(models.Model):
    """The daily contract run's last completed day, shown to the operator."""

    day = models.DateField(_("day"), unique=True)
    finished_at = models.DateTimeField(_("finished"))
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        verbose_name = _("contract run")
        verbose_name_plural = _("contract runs")
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)


class SwitchDirection(models.TextChoices):
    IN = "in", _("coming from another provider")
    OUT = "out", _("leaving for another provider")


class ProviderSwitch(models.Model):
    """A provider switch (P-OP-9; § 5 (II), § 19 (I) of the terms). Coming in: the service goes
    on on the agreed day within the agreed time frame. Going out: the service stays on until the
    new provider's is active; then the contract ends."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="switches"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=SwitchDirection.choices)
    other_provider = models.CharField(_("other provider"), max_length=200)
    agreed_on = models.DateField(_("agreed day"))
    window_from = models.TimeField(_("time frame from"), null=True, blank=True)
    window_until = models.TimeField(_("time frame until"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_in_time = models.BooleanField(_("within the agreed time frame"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider switch")
        verbose_name_plural = _("provider switches")
        ordering = ["agreed_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(done_at__isnull=True),
                name="one_open_switch_per_contract",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.direction} {self.agreed_on}"
