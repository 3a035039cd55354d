"""Issuing invoices and credit notes (P-BILL-1, P-OP-3).

One transaction takes the number, computes the lines and VAT, builds the e-invoice XML and
stores the invoice with its parties copied onto it; the contract's service goes on in the same
transaction when this is its first invoice. The PDF/A-3 (the XML inside) is rendered right after
the commit, outside the number lock, and linked to the invoice once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing.einvoice import build_cii
from treffpunkt.billing.invoice_data import InvoiceData, Line
from treffpunkt.billing.invoice_pdf import invoice_document
from treffpunkt.billing.models import EInvoiceFormat, Invoice, InvoiceKind, InvoiceLine, UnitCode
from treffpunkt.billing.numbers import next_number
from treffpunkt.billing.services._common import (
    buyer_party,
    operator_payment,
    party_as_stored,
    party_from_stored,
    require_billing,
    seller_party,
)
from treffpunkt.contracts.models import Contract
from treffpunkt.contracts.services import switch_on
from treffpunkt.contracts.services.letters import customer_language
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import (
    TaxableLine,
    VatKind,
    format_money,
    round_money,
    vat_rate,
    vat_totals,
)
from treffpunkt.customers.models import Customer, CustomerKind

MAX_LINES = 200


@dataclass(frozen=True)
class LineDraft:
    """A line as the caller knows it; the net amount and the rate are computed here."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    supply_start: date
    supply_end: date
    vat_kind: str = VatKind.STANDARD


class AlreadyBilled(DomainError):
    """This contract and period already has its invoice (the billing run's key)."""


def issue_invoice(
    *,
    actor: User | None,
    customer: Customer,
    lines: Sequence[LineDraft],
    contract: Contract | None = None,
    billing_key: str | None = None,
    issue_date: date | None = None,
    language: str | None = None,
) -> Invoice:
    """Issue an invoice. ``actor`` is an operator holding the billing capability, or ``None``
    for the billing run. The first invoice of a waiting contract switches its service on.
    ``language`` is the customer's (looked up when not given)."""
    if actor is not None:
        require_billing(actor)
    invoice, data = _issue(
        kind=InvoiceKind.INVOICE,
        customer=customer,
        lines=lines,
        contract=contract,
        original=None,
        billing_key=billing_key,
        issue_date=issue_date or clock.operator_today(),
        actor=actor,
        language=language,
    )
    render_pdf(invoice, actor=actor, data=data)
    return invoice


def issue_credit_note(
    *, actor: User | None, original: Invoice, lines: Sequence[LineDraft], reason: str
) -> Invoice:
    """Correct ``original`` by a credit note (type 381) that names it. Its amounts are stated
    positive; together the credit notes of an invoice never exceed it."""
    operator = require_billing(actor)
    if original.kind != InvoiceKind.INVOICE:
        raise DomainError(_("Only an invoice can be corrected by a credit note."), code="kind")
    if not reason.strip():
        raise DomainError(_("Say why the invoice is corrected."), code="reason")
    invoice, data = _issue(
        kind=InvoiceKind.CREDIT_NOTE,
        customer=original.customer,
        lines=lines,
        contract=original.contract,
        original=original,
        billing_key=None,
        issue_date=clock.operator_today(),
        actor=operator,
        reason=reason.strip(),
    )
    render_pdf(invoice, actor=operator, data=data)
    return invoice


def _checked_lines(lines: Sequence[LineDraft]) -> list[Line]:
    if not lines:
        raise DomainError(_("An invoice needs at least one line."), code="lines")
    if len(lines) > MAX_LINES:
        raise DomainError(_("An invoice has at most 200 lines."), code="lines")
    checked = []
    for position, draft in enumerate(lines, start=1):
        if not draft.description.strip():
            raise DomainError(_("Every line needs a description."), code="lines")
        if draft.quantity <= 0 or draft.unit_price < 0:
            raise DomainError(
                _(
                    "Quantities are positive and prices not negative (a correction is a "
                    "credit note)."
                ),
                code="lines",
            )
        if draft.supply_end < draft.supply_start:
            raise DomainError(_("A line's period cannot end before it starts."), code="lines")
        checked.append(
            Line(
                position=position,
                description=draft.description.strip(),
                quantity=draft.quantity,
                unit=UnitCode(draft.unit),
                unit_price=draft.unit_price,
                net=round_money(draft.quantity * draft.unit_price),
                # § 27 (1) UStG: the rate of the day the supply ends.
                vat_percent=vat_rate(VatKind(draft.vat_kind), on=draft.supply_end),
                supply_start=draft.supply_start,
                supply_end=draft.supply_end,
            )
        )
    return checked


def _issue(
    *,
    kind: InvoiceKind,
    customer: Customer,
    lines: Sequence[LineDraft],
    contract: Contract | None,
    original: Invoice | None,
    billing_key: str | None,
    issue_date: date,
    actor: User | None,
    reason: str = "",
    language: str | None = None,
) -> tuple[Invoice, InvoiceData]:
    checked = _checked_lines(lines)
    totals = vat_totals(TaxableLine(line.net, line.vat_percent) for line in checked)
    language = language or customer_language(customer)
    with transaction.atomic():
        if billing_key is not None and Invoice.objects.filter(billing_key=billing_key).exists():
            raise AlreadyBilled(_("This period is already invoiced."), code="already_billed")
        if original is not None:
            _check_credit_within(original, totals.gross)
        number = next_number(kind, issue_date.year)
        seller, buyer = seller_party(), buyer_party(customer)
        xrechnung = customer.kind == CustomerKind.PUBLIC_BODY
        with translation.override(language):
            data = InvoiceData(
                kind=str(kind),
                number=number,
                issue_date=issue_date,
                supply_start=min(line.supply_start for line in checked),
                supply_end=max(line.supply_end for line in checked),
                seller=seller,
                buyer=buyer,
                lines=tuple(checked),
                totals=totals,
                xrechnung=xrechnung,
                payment=operator_payment(),
                payment_terms=payment_terms(),
                language=language,
                original_number=original.number if original else "",
                original_issue_date=original.issue_date if original else None,
                notes=invoice_notes(kind, reason=reason),
            )
        invoice = Invoice.objects.create(
            kind=kind,
            number=number,
            customer=customer,
            contract=contract,
            original=original,
            billing_key=billing_key,
            issue_date=issue_date,
            supply_start=data.supply_start,
            supply_end=data.supply_end,
            seller=party_as_stored(seller),
            buyer=party_as_stored(buyer),
            e_invoice_format=EInvoiceFormat.XRECHNUNG if xrechnung else EInvoiceFormat.ZUGFERD,
            note="\n".join(data.notes),
            net_total=totals.net,
            vat_total=totals.vat,
            gross_total=totals.gross,
            xml=build_cii(data).decode("utf-8"),
            issued_by=actor,
            created_at=clock.now(),
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                net=line.net,
                vat_kind=draft.vat_kind,
                vat_percent=line.vat_percent,
                supply_start=line.supply_start,
                supply_end=line.supply_end,
            )
            for line, draft in zip(checked, lines, strict=True)
        )
        audit.record(
            "billing.credit_note.issued" if original else "billing.invoice.issued",
            actor=actor,
            target=invoice,
            data={
                "number": number,
                "customer": customer.pk,
                "contract": contract.pk if contract else None,
                "original": original.number if original else None,
                "gross": str(totals.gross),
            },
        )
        if contract is not None and kind == InvoiceKind.INVOICE and not contract.switched_on_at:
            # P-OP-3: the service goes on right after the invoice for it is issued (once: a
            # contract that is on stays on, so the lock and the check are spared).
            switch_on(contract=contract, invoice_number=number, actor=actor)
    return invoice, data


def _check_credit_within(original: Invoice, gross: Decimal) -> None:
    credited = sum(
        (note.gross_total for note in Invoice.objects.filter(original=original)), Decimal("0")
    )
    if credited + gross > original.gross_total:
        raise DomainError(
            _("The credit notes of an invoice cannot exceed it (%(open)s left to credit).")
            % {
                "open": format_money(
                    original.gross_total - credited, translation.get_language() or "de"
                )
            },
            code="credit_too_high",
        )


def payment_terms() -> str:
    return _(
        "Payable without deduction by the %(days)sth day after receipt of this invoice "
        "(§ 8 of our terms)."
    ) % {"days": settings.INVOICE_DUE_DAYS}


def invoice_notes(kind: InvoiceKind, *, reason: str = "") -> tuple[str, ...]:
    """What every invoice states about objections and the itemized record (§ 8 (VII), § 9 (I)
    of the terms, § 67 TKG)."""
    notes = []
    if reason:
        notes.append(_("Reason for the correction: %(reason)s") % {"reason": reason})
    if kind == InvoiceKind.INVOICE:
        notes += [
            _(
                "Objections to this invoice must reach us within eight weeks of its receipt. "
                "An objection received later counts as approval; we will point this out again "
                "if you object late."
            ),
            _(
                "An objection means that you dispute one or more items of this invoice; while "
                "it is being examined the disputed amount is not dunned. Within the objection "
                "period you may demand an itemized record of the billed connections "
                "(Entgeltnachweis) and the results of our technical check."
            ),
        ]
    return tuple(notes)


def render_pdf(invoice: Invoice, *, actor: User | None, data: InvoiceData | None = None) -> Invoice:
    """Render the PDF/A-3 of an issued invoice (its XML inside) and link it, once. ``data`` is
    the invoice's data as issued, when the caller still has it (else read back)."""
    if invoice.document_id is not None:
        return invoice
    if data is None:
        data = invoice_data_of(invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.document_id is not None:
            return locked
        document = invoice_document(
            data=data, xml=invoice.xml.encode("utf-8"), actor=actor, language=data.language
        )
        locked.document = document
        locked.save(update_fields=["document"])
    invoice.document = document
    return invoice


def invoice_data_of(invoice: Invoice) -> InvoiceData:
    """The plain data of a stored invoice, exactly as it was issued."""
    lines = tuple(
        Line(
            position=line.position,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            net=line.net,
            vat_percent=line.vat_percent,
            supply_start=line.supply_start,
            supply_end=line.supply_end,
        )
        for line in invoice.lines.order_by("position")
    )
    totals = vat_totals(TaxableLine(line.net, line.vat_percent) for line in lines)
    language = customer_language(invoice.customer)
    return InvoiceData(
        kind=invoice.kind,
        number=invoice.number,
        issue_date=invoice.issue_date,
        supply_start=invoice.supply_start,
        supply_end=invoice.supply_end,
        seller=party_from_stored(invoice.seller),
        buyer=party_from_stored(invoice.buyer),
        lines=lines,
        totals=totals,
        xrechnung=invoice.e_invoice_format == EInvoiceFormat.XRECHNUNG,
        payment=operator_payment(),
        payment_terms=_payment_terms_in(language),
        language=language,
        due_date=invoice.due_on,
        original_number=invoice.original.number if invoice.original else "",
        original_issue_date=invoice.original.issue_date if invoice.original else None,
        notes=tuple(invoice.note.splitlines()) if invoice.note else (),
    )


def _payment_terms_in(language: str) -> str:
    with translation.override(language):
        return payment_terms()
