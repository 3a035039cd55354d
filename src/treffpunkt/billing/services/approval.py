"""Four eyes for large credit notes.

A credit note whose gross is at most ``CREDIT_NOTE_FOUR_EYES_GROSS`` (setting, default
€500.00) is issued at once. Above it, ``request_credit_note`` records a pending
``CreditNoteRequest`` (checked as issuing would check it) and issues nothing; a second operator
holding the billing capability then approves it, which issues the credit note, or refuses it
with a note. The requester can never approve their own request. Approving checks everything
again: if the invoice has meanwhile been credited so far that the request no longer fits, the
approval is refused and the request stays pending (to be refused).

The request keeps its lines as plain data (``lines_as_stored``), not as a credit note, so the
same approval can later carry a write-off (there is no write-off yet): it would add its own
kind of request, or a kind field here, and reuse ``_decidable`` / the four-eyes check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing.models import (
    ApprovalState,
    CreditNoteRequest,
    Invoice,
    InvoiceKind,
    Objection,
)
from treffpunkt.billing.services._common import require_billing
from treffpunkt.billing.services.issuing import (
    LineDraft,
    _check_credit_within,
    _checked_lines,
    issue_credit_note,
)
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import TaxableLine, vat_totals

DEFAULT_FOUR_EYES_GROSS = Decimal("500.00")


def four_eyes_gross() -> Decimal:
    """Credit notes above this gross need a second operator's approval."""
    return Decimal(str(getattr(settings, "CREDIT_NOTE_FOUR_EYES_GROSS", DEFAULT_FOUR_EYES_GROSS)))


def credit_gross(lines: Sequence[LineDraft]) -> Decimal:
    """The gross of a credit note with these lines, computed as issuing computes it."""
    checked = _checked_lines(lines)
    return vat_totals(TaxableLine(line.net, line.vat_percent) for line in checked).gross


def lines_as_stored(lines: Sequence[LineDraft]) -> list[dict[str, str]]:
    return [
        {
            "description": line.description.strip(),
            "quantity": str(line.quantity),
            "unit": str(line.unit),
            "unit_price": str(line.unit_price),
            "vat_kind": str(line.vat_kind),
            "supply_start": line.supply_start.isoformat(),
            "supply_end": line.supply_end.isoformat(),
        }
        for line in lines
    ]


def lines_from_stored(stored: list[dict[str, Any]]) -> list[LineDraft]:
    return [
        LineDraft(
            description=row["description"],
            quantity=Decimal(row["quantity"]),
            unit=row["unit"],
            unit_price=Decimal(row["unit_price"]),
            supply_start=date.fromisoformat(row["supply_start"]),
            supply_end=date.fromisoformat(row["supply_end"]),
            vat_kind=row["vat_kind"],
        )
        for row in stored
    ]


def request_credit_note(
    *,
    actor: User | None,
    original: Invoice,
    lines: Sequence[LineDraft],
    reason: str,
    objection: Objection | None = None,
) -> Invoice | CreditNoteRequest:
    """Issue the credit note at once when its gross is at most the four-eyes amount; above it,
    record a pending request for a second operator and issue nothing."""
    operator = require_billing(actor)
    gross = credit_gross(lines)
    if gross <= four_eyes_gross():
        return issue_credit_note(actor=operator, original=original, lines=lines, reason=reason)
    if original.kind != InvoiceKind.INVOICE:
        raise DomainError(_("Only an invoice can be corrected by a credit note."), code="kind")
    if not reason.strip():
        raise DomainError(_("Say why the invoice is corrected."), code="reason")
    with transaction.atomic():
        # Checked now against the credit notes issued so far, and again on approval.
        _check_credit_within(original, gross)
        request = CreditNoteRequest.objects.create(
            original=original,
            lines=lines_as_stored(lines),
            reason=reason.strip(),
            gross=gross,
            objection=objection,
            requested_by=operator,
            requested_at=clock.now(),
        )
        audit.record(
            "billing.credit_note.requested",
            actor=operator,
            target=request,
            data={
                "original": original.number,
                "gross": str(gross),
                "objection": objection.pk if objection else None,
            },
        )
    return request


def _decidable(
    request: CreditNoteRequest, operator: User, *, own_allowed: bool = False
) -> CreditNoteRequest:
    """The request locked and pending; not the operator's own unless ``own_allowed``."""
    locked = CreditNoteRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != ApprovalState.PENDING:
        raise DomainError(_("This request has already been decided."), code="state")
    if not own_allowed and locked.requested_by_id == operator.pk:
        raise DomainError(
            _(
                "You asked for this credit note yourself: a second operator has to approve or "
                "refuse it (four eyes)."
            ),
            code="four_eyes",
        )
    return locked


def approve(*, actor: User | None, request: CreditNoteRequest) -> CreditNoteRequest:
    """A second operator approves: the credit note is issued now, checked again against the
    invoice (another credit note may have come meanwhile). A request for an objection settles
    it as well."""
    operator = require_billing(actor)
    with transaction.atomic():
        locked = _decidable(request, operator)
        original = Invoice.objects.get(pk=locked.original_id)
        note = issue_credit_note(
            actor=operator,
            original=original,
            lines=lines_from_stored(locked.lines),
            reason=locked.reason,
        )
        locked.state = ApprovalState.APPROVED
        locked.decided_by = operator
        locked.decided_at = clock.now()
        locked.credit_note = note
        locked.save(update_fields=["state", "decided_by", "decided_at", "credit_note"])
        audit.record(
            "billing.credit_note.approved",
            actor=operator,
            target=locked,
            data={
                "credit_note": note.number,
                "gross": str(note.gross_total),
                "requested_by": locked.requested_by_id,
            },
        )
        if locked.objection_id is not None:
            from treffpunkt.billing.services.objections import close_credited

            close_credited(
                operator=operator,
                objection=Objection.objects.get(pk=locked.objection_id),
                note=note,
            )
    return locked


def refuse(*, actor: User | None, request: CreditNoteRequest, note: str) -> CreditNoteRequest:
    """Refuse the request with a note; nothing is issued. An objection it was for stays open.
    The requester may withdraw their own request this way: refusing issues nothing, so it
    needs no second pair of eyes."""
    operator = require_billing(actor)
    if not note.strip():
        raise DomainError(_("Say why the credit note is refused."), code="note")
    with transaction.atomic():
        locked = _decidable(request, operator, own_allowed=True)
        locked.state = ApprovalState.REFUSED
        locked.decided_by = operator
        locked.decided_at = clock.now()
        locked.decision_note = note.strip()
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit.record(
            "billing.credit_note.refused",
            actor=operator,
            target=locked,
            data={"gross": str(locked.gross), "requested_by": locked.requested_by_id},
        )
    return locked


def pending_requests() -> Any:
    return CreditNoteRequest.objects.filter(state=ApprovalState.PENDING).select_related(
        "original", "original__customer", "requested_by", "objection"
    )
