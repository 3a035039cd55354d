"""Invoices and credit notes (P-BILL-1, P-OP-3). Written only by ``billing.services``.

An issued invoice never changes: the query set and ``save`` refuse it, and on PostgreSQL and
SQLite a trigger refuses it below the ORM (migration 0002). Only the sending fields are set,
once. A correction is a credit note (type 381) that names the original.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import IntegrityError, models
from django.utils.translation import gettext_lazy as _

from treffpunkt.billing import retention
from treffpunkt.contracts.models import Contract
from treffpunkt.core import clock
from treffpunkt.core.money import VatKind
from treffpunkt.customers.models import Customer
from treffpunkt.documents.models import Document

# Set once when the invoice goes out; everything else is fixed at issue.
# The PDF is rendered right after the issuing transaction (outside the number lock, so that
# issuers do not queue behind each other's rendering) and linked once.
SET_ONCE: frozenset[str] = frozenset({"document", "sent_at", "received_on", "due_on"})


def money_field(verbose_name: Any = None, **options: Any) -> models.DecimalField[Any, Any]:
    """An amount in euros, as ``core.money`` holds them (decision 0005)."""
    return models.DecimalField(verbose_name, max_digits=15, decimal_places=2, **options)


class InvoiceImmutable(IntegrityError):
    """Someone tried to change or delete an issued invoice."""


class InvoiceKind(models.TextChoices):
    # UNTDID 1001 document type codes (BT-3).
    INVOICE = "380", _("Invoice")
    CREDIT_NOTE = "381", _("Credit note")


NUMBER_PREFIXES = {InvoiceKind.INVOICE: "RE", InvoiceKind.CREDIT_NOTE: "GS"}


class EInvoiceFormat(models.TextChoices):
    # Companies get ZUGFeRD/Factur-X EN 16931; public bodies XRechnung 3.0 (CII).
    ZUGFERD = "zugferd", _("ZUGFeRD (EN 16931)")
    XRECHNUNG = "xrechnung", _("XRechnung 3.0")


class InvoiceSequence(models.Model):
    """The last number given per prefix and year. Read under a row lock in the issuing
    transaction, so two issuers never share or skip a number: a rolled-back issue rolls the
    counter back with it."""

    prefix = models.CharField(max_length=4)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="one_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class InvoiceQuerySet(models.QuerySet["Invoice"]):
    def in_everyday_use(self) -> InvoiceQuerySet:
        """Those still within their ten-year retention period (``billing.retention``); older
        ones are blocked from everyday access."""
        return self.filter(issue_date__gte=retention.first_day_in_use(clock.operator_today()))

    def update(self, **kwargs: Any) -> int:
        changing = set(kwargs) - SET_ONCE
        if changing:
            raise InvoiceImmutable(f"issued invoices never change ({', '.join(sorted(changing))})")
        return super().update(**kwargs)

    # Django's own marker (templates never call it); mypy cannot type attributes set on a
    # function, as on the documents' query set.
    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        raise InvoiceImmutable("issued invoices are never deleted")

    delete.alters_data = True  # type: ignore[attr-defined]  # the same marker, as above
    delete.queryset_only = True  # type: ignore[attr-defined]  # Django's marker, as above


class Invoice(models.Model):
    """An issued invoice or credit note with everything § 14 (4) UStG asks for, the parties
    copied onto it as they were on the day of issue."""

    kind = models.CharField(_("kind"), max_length=3, choices=InvoiceKind.choices)
    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    # A credit note names the invoice it corrects (BT-25).
    original = models.ForeignKey(
        "self",
        verbose_name=_("corrects invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
    )
    # "contract:<id>:<first day of the period>" for the billing run: one invoice per contract
    # and period, whoever runs it how often.
    billing_key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    issue_date = models.DateField(_("issue date"))
    supply_start = models.DateField(_("supply from"))
    supply_end = models.DateField(_("supply until"))
    seller = models.JSONField(_("seller"))
    buyer = models.JSONField(_("buyer"))
    e_invoice_format = models.CharField(
        _("e-invoice format"), max_length=20, choices=EInvoiceFormat.choices
    )
    note = models.TextField(_("note"), blank=True)
    net_total = money_field(_("net"))
    vat_total = money_field(_("VAT"))
    gross_total = money_field(_("gross"))
    # The CII XML exactly as embedded in the PDF (and sent alone for XRechnung).
    xml = models.TextField(_("e-invoice XML"))
    # Empty only between the issuing transaction and the rendering right after it; a run that
    # died in between renders it on its next pass (``services.render_missing_pdfs``).
    document = models.OneToOneField(
        Document,
        verbose_name=_("PDF"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("issued"))
    # Set once, when it goes out: the due date and every deadline count from the receipt.
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True, db_index=True)

    objects: ClassVar[InvoiceQuerySet] = InvoiceQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-number"]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            super().save(*args, **kwargs)
            return
        fields = set(kwargs.get("update_fields") or ())
        if not fields or fields - SET_ONCE:
            raise InvoiceImmutable("issued invoices never change; write a credit note")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise InvoiceImmutable("issued invoices are never deleted")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class UnitCode(models.TextChoices):
    # UN/ECE Recommendation 20 codes (BT-130).
    MONTH = "MON", _("month")
    MINUTE = "MIN", _("minute")
    PIECE = "C62", _("piece")


class InvoiceLine(models.Model):
    """One line (BG-25): what was supplied, how much, at what net price and VAT rate."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=15, decimal_places=4)
    unit = models.CharField(max_length=3, choices=UnitCode.choices)
    unit_price = models.DecimalField(max_digits=15, decimal_places=4)
    net = money_field()
    vat_kind = models.CharField(max_length=20, choices=VatKind.choices)
    vat_percent = models.DecimalField(max_digits=5, decimal_places=2)
    supply_start = models.DateField()
    supply_end = models.DateField()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="one_line_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.position}"


# --- payments from the bank (camt.053) -------------------------------------------------------


class BankStatement(models.Model):
    """One imported camt.053 file. The same file is never imported twice (its SHA-256)."""

    sha256 = models.CharField(max_length=64, unique=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    account_iban = models.CharField(_("account"), max_length=34, blank=True)
    statement_id = models.CharField(_("statement"), max_length=255, blank=True)
    message_id = models.CharField(max_length=35, blank=True)
    camt_version = models.CharField(max_length=2)
    opening_balance = models.DecimalField(null=True, blank=True, max_digits=15, decimal_places=2)
    closing_balance = models.DecimalField(null=True, blank=True, max_digits=15, decimal_places=2)
    imported_at = models.DateTimeField(_("imported"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.statement_id or self.filename or self.sha256[:12]


class EntryState(models.TextChoices):
    MATCHED = "matched", _("matched")  # all of the entry is allocated to invoices
    PARTLY = "partly", _("partly matched")  # some of it; the rest is the customer's credit
    UNMATCHED = "unmatched", _("unmatched")  # for the accountant to allocate by hand
    IGNORED = "ignored", _("ignored")  # debits, reversals, other currencies


class EntryNote(models.TextChoices):
    """Why an entry is in its state, for the accountant."""

    NONE = "", _("—")
    NO_NUMBER = "no_number", _("no invoice number in the text")
    UNKNOWN_NUMBER = "unknown_number", _("the invoice number belongs to no invoice")
    ALREADY_PAID = "already_paid", _("the invoices named are already paid")
    PARTIAL = "partial", _("less than the open amount: invoice partly paid")
    OVERPAID = "overpaid", _("more than the open amount: the rest is the customer's credit")
    BY_HAND = "by_hand", _("allocated by hand")
    DEBIT = "debit", _("debit")
    REVERSAL = "reversal", _("reversal")
    CURRENCY = "currency", _("not in euros")


class BankEntry(models.Model):
    """One booked payment of a statement (a batched entry is split into its transactions).
    ``reference`` is the bank's AcctSvcrRef (or a hash of the content when there is none):
    unique, so importing the same entries again books nothing twice."""

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="entries")
    reference = models.CharField(_("bank reference"), max_length=100, unique=True)
    booking_date = models.DateField(_("booked on"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=15, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    credit = models.BooleanField(_("credit"))
    debtor_name = models.CharField(_("payer"), max_length=140, blank=True)
    debtor_iban = models.CharField(_("payer's IBAN"), max_length=34, blank=True)
    debtor_bic = models.CharField(max_length=11, blank=True)
    end_to_end_id = models.CharField(max_length=35, blank=True)
    remittance = models.TextField(_("remittance text"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=EntryState.choices, db_index=True)
    note = models.CharField(max_length=20, choices=EntryNote.choices, blank=True)
    # Whose money it is, once an allocation says so (an overpayment stays their credit).
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_entries"
    )

    class Meta:
        verbose_name = _("bank entry")
        verbose_name_plural = _("bank entries")
        ordering = ["-booking_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="bank_entry_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_date} {'+' if self.credit else '-'}{self.amount} {self.reference}"


class PaymentAllocation(models.Model):
    """Part (or all) of a credit entry that pays an invoice."""

    entry = models.ForeignKey(BankEntry, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payment_allocations"
    )
    amount = models.DecimalField(_("amount"), max_digits=15, decimal_places=2)
    by_hand = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_allocation_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.invoice_id}"


# --- dunning and default (P-BILL-2; § 8 (V), § 10 of the terms) ---------------------------------


class Reminder(models.Model):
    """A payment reminder for an overdue invoice. The customer is in default from the due
    date without any reminder (§ 8 (V)); reminders follow on ``DUNNING_SCHEDULE_DAYS``."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="reminders"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    sent_on = models.DateField(_("sent on"))
    open_amount = money_field(_("open amount"))
    letter = models.ForeignKey(
        Document, verbose_name=_("letter"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment reminder")
        verbose_name_plural = _("payment reminders")
        ordering = ["invoice", "level"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="one_reminder_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.level}"


class DefaultRule(models.TextChoices):
    # § 10 of the terms: (a) two consecutive months with the fees or a not insignificant part
    # unpaid; (b) over more than two months an unpaid amount reaching two monthly fees.
    TWO_CONSECUTIVE_MONTHS = "two_months", _("Two consecutive months unpaid")
    TWO_MONTHLY_FEES = "two_fees", _("Two monthly fees unpaid over more than two months")


class DefaultFinding(models.Model):
    """A termination trigger found met for a contract on a day, with the invoices behind it.
    Resolved when it no longer holds (paid) or when the operator terminated."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="default_findings",
    )
    rule = models.CharField(_("rule"), max_length=20, choices=DefaultRule.choices)
    found_on = models.DateField(_("found on"))
    # The invoice numbers and their open amounts at the time, as shown to the operator.
    invoices = models.JSONField(_("invoices"), default=list)
    unpaid = money_field(_("unpaid"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("default finding")
        verbose_name_plural = _("default findings")
        ordering = ["-found_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "rule"],
                condition=models.Q(resolved_on__isnull=True),
                name="one_open_finding_per_rule",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.rule}"


class DefaultTermination(models.Model):
    """The operator's termination without notice for default, with the flat damages of one
    quarter of the fees remaining until the regular end (§ 10 of the terms)."""

    contract = models.OneToOneField(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="default_termination",
    )
    finding = models.ForeignKey(
        DefaultFinding, verbose_name=_("finding"), on_delete=models.PROTECT, related_name="+"
    )
    terminated_on = models.DateField(_("terminated on"))
    regular_end = models.DateField(_("regular end"))
    remaining_fees = money_field(_("fees until the regular end"))
    damages = money_field(_("flat damages"))
    # The claim as an invoice (VAT by default: CJEU C-295/17, C-43/19; setting
    # DEFAULT_DAMAGES_VAT), and the termination letter.
    claim = models.OneToOneField(
        Invoice, verbose_name=_("claim"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    letter = models.ForeignKey(
        Document, verbose_name=_("letter"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("termination for default")
        verbose_name_plural = _("terminations for default")

    def __str__(self) -> str:
        return str(self.contract)


# --- objections and itemized records (P-BILL-3; § 8 (VII), § 9 of the terms, § 67 TKG) --------


class ObjectionState(models.TextChoices):
    OPEN = "open", _("Open")
    CREDITED = "credited", _("Settled by a credit note")
    REJECTED = "rejected", _("Rejected in writing")


class Objection(models.Model):
    """A customer's objection to items of an invoice. On time within eight weeks of the
    invoice's receipt; a late one counts as approval but stays visible."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="objections"
    )
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("received by"), max_length=20)
    sender = models.CharField(_("sent by"), max_length=200)
    # The disputed line positions and the customer's words.
    positions = models.JSONField(_("disputed lines"), default=list)
    text = models.TextField(_("objection"))
    disputed_amount = money_field(_("disputed amount"))
    on_time = models.BooleanField(_("on time"))
    record_demanded_on = models.DateField(_("itemized record demanded on"), null=True, blank=True)
    # The operator must deliver the itemized record within eight weeks of the demand.
    record_due_on = models.DateField(
        _("itemized record due on"), null=True, blank=True, db_index=True
    )
    record_delivered_on = models.DateField(_("itemized record delivered on"), null=True, blank=True)
    record = models.ForeignKey(
        Document,
        verbose_name=_("itemized record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ObjectionState.choices, default=ObjectionState.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    credit_note = models.ForeignKey(
        Invoice,
        verbose_name=_("credit note"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answer = models.ForeignKey(
        Document,
        verbose_name=_("answer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.invoice} {self.received_on}"


# --- hardware (P-BILL-4; §§ 25–30 of the terms) -------------------------------------------------


class HardwareDelivery(models.Model):
    """The hardware of one order line: when it is to be delivered, when it was, every delay
    told to the customer, the invoice for it; retention of title until every claim of the
    order is paid; warranty one year from delivery."""

    order_line = models.OneToOneField(
        "contracts.OrderLine",
        verbose_name=_("order line"),
        on_delete=models.PROTECT,
        related_name="delivery",
    )
    planned_on = models.DateField(_("delivery date"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    # Every change of the delivery date, as told to the customer: [{"from", "to", "told_on"}].
    delays = models.JSONField(_("delays"), default=list)
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("hardware delivery")
        verbose_name_plural = _("hardware deliveries")
        ordering = ["planned_on", "pk"]

    def __str__(self) -> str:
        return str(self.order_line)


# --- four eyes for large credit notes -----------------------------------------------------------


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class CreditNoteRequest(models.Model):
    """A credit note above the four-eyes amount, as asked for by one operator and not issued
    until a second one approves it (``billing.services.approval``). The lines are kept as
    the issuing service takes them, amounts as strings: [{"description", "quantity", "unit",
    "unit_price", "vat_kind", "supply_start", "supply_end"}]. ``gross`` is computed as the
    credit note would be."""

    original = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        related_name="credit_note_requests",
    )
    lines = models.JSONField(_("lines"), default=list)
    reason = models.TextField(_("reason"))
    gross = money_field(_("gross"))
    # Set when the request settles an objection: approving it settles the objection too.
    objection = models.ForeignKey(
        Objection,
        verbose_name=_("objection"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_note_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ApprovalState.choices,
        default=ApprovalState.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    credit_note = models.ForeignKey(
        Invoice,
        verbose_name=_("credit note"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("credit note request")
        verbose_name_plural = _("credit note requests")
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"{self.original} {self.gross}"
