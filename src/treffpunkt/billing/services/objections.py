"""Objections to invoice items and the itemized record (P-BILL-3; § 8 (VII), § 9 of the terms,
§ 67 TKG).

The rules as built:

- **The objection period** (§ 9 (I)): an objection must reach the operator within eight weeks of
  the invoice's receipt. The receipt is an event, so its day does not count (§ 187 (1) BGB);
  the period ends on the same weekday eight weeks later (§ 188 (2) BGB, ``add_weeks``). Objecting
  is a declaration, so § 193 BGB moves a last day on a Saturday, Sunday or nationwide holiday to
  the next working day. An objection received later is recorded as late: it counts as approval
  (it disputes nothing for dunning), but stays visible and is answered like any other. An
  invoice not yet sent has no receipt: the period has not begun, so an objection is on time.
- **The itemized record** (§ 9 (II)): within the objection period the customer may demand the
  itemized record (Entgeltnachweis) and the results of the technical check. The operator
  delivers "within eight weeks of the objection": the clock runs from the objection's receipt
  (``add_weeks``), as the terms say, not from a later demand; being the operator's own deadline
  it is never moved forward by § 193 BGB (``contracts.deadlines``).
- **Dunning** (§ 8 (VII)): while an on-time objection is open, the gross amount of its disputed
  lines is not dunned (``disputed_open``). If a demanded record is delivered after its due day
  (or is still missing after it), the operator's default claims on that invoice lapse
  (``default_claims_lapsed``) and the disputed amount falls due only with the delivery
  (``disputed_due_on``).
- **The end** of an objection: a credit note (``settle_with_credit_note``) or a written
  rejection (``reject_objection``). A rejection waits for a demanded record: the customer gets
  the record before the answer.

The itemized record lists each call of the customer's organizations in the billed usage period
(the minute lines' periods; the invoice's period when it has none), as ``minutes_used`` counts
them: date and start in Berlin time, duration, billed minutes, and the participants as short
pseudonyms (four characters of an HMAC of the user id). Never names or e-mail addresses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing.models import (
    ApprovalState,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Objection,
    ObjectionState,
    UnitCode,
)
from treffpunkt.billing.services._common import require_billing
from treffpunkt.billing.services.approval import request_credit_note
from treffpunkt.billing.services.issuing import LineDraft
from treffpunkt.billing.services.sending import send_invoice
from treffpunkt.calls.models import CallSession
from treffpunkt.contracts.deadlines import add_weeks, next_working_day
from treffpunkt.contracts.models import Channel
from treffpunkt.contracts.services.letters import customer_language, long_date, send_letter
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.money import TaxableLine, format_money, vat_totals
from treffpunkt.customers.models import CustomerContact, CustomerOrganization
from treffpunkt.documents.rendering import LineTable

# § 9 (I) and (II) of the terms.
OBJECTION_WEEKS = 8
RECORD_WEEKS = 8
# Characters of a participant's pseudonym in the itemized record.
PSEUDONYM_LENGTH = 4
_PSEUDONYM_SALT = "treffpunkt.billing.itemized-record"


# --- the dates ----------------------------------------------------------------------------------


def objection_deadline(invoice: Invoice) -> date | None:
    """Last day an objection to ``invoice`` is on time (§ 9 (I), §§ 187 (1), 188 (2), 193 BGB);
    ``None`` while the invoice has not been received (the period has not begun)."""
    if invoice.received_on is None:
        return None
    return next_working_day(add_weeks(invoice.received_on, OBJECTION_WEEKS))


def is_on_time(invoice: Invoice, received_on: date) -> bool:
    deadline = objection_deadline(invoice)
    return deadline is None or received_on <= deadline


def record_due(objection_received_on: date) -> date:
    """Last day for the itemized record: eight weeks after the objection (§ 9 (II), § 8 (VII)).
    The operator's own deadline: not moved to a later working day."""
    return add_weeks(objection_received_on, RECORD_WEEKS)


def record_lapsed(objection: Objection, on: date) -> bool:
    """Whether the demanded record came (or, not delivered, comes) too late as of ``on``:
    then the default claims on the invoice lapse (§ 8 (VII))."""
    if objection.record_demanded_on is None or objection.record_due_on is None:
        return False
    if objection.record_delivered_on is not None:
        return objection.record_delivered_on > objection.record_due_on
    if (
        objection.state != ObjectionState.OPEN
        and objection.closed_on is not None
        and objection.closed_on <= objection.record_due_on
    ):
        return False  # settled by a credit note before the clock ran out
    return on > objection.record_due_on


def default_claims_lapsed(invoice: Invoice, on: date | None = None) -> bool:
    """§ 8 (VII): the operator's claims from default on ``invoice`` have lapsed, because a
    demanded itemized record was not delivered within eight weeks of the objection."""
    day = on or clock.operator_today()
    demanded = Objection.objects.filter(invoice=invoice, record_demanded_on__isnull=False)
    return any(record_lapsed(objection, day) for objection in demanded)


def disputed_due_on(objection: Objection, on: date | None = None) -> date | None:
    """When a late record makes the disputed amount due: the day of delivery (§ 8 (VII)
    sentence 2). ``None`` when the record was not late, or is late and still missing."""
    if not record_lapsed(objection, on or clock.operator_today()):
        return None
    return objection.record_delivered_on


def gross_of(lines: Iterable[InvoiceLine]) -> Decimal:
    """The gross amount of some lines, VAT computed per rate as the invoice does."""
    return vat_totals(TaxableLine(line.net, line.vat_percent) for line in lines).gross


def disputed_open(invoice: Invoice) -> Decimal:
    """The gross amount of ``invoice`` that open, on-time objections dispute: not to be dunned
    (a line disputed twice counts once). A late objection disputes nothing: it counts as
    approval."""
    positions: set[int] = set()
    for disputed in Objection.objects.filter(
        invoice=invoice, state=ObjectionState.OPEN, on_time=True
    ).values_list("positions", flat=True):
        positions.update(int(p) for p in disputed)
    if not positions:
        return Decimal("0.00")
    gross: Decimal = invoice.gross_total
    return min(gross_of(invoice.lines.filter(position__in=positions)), gross)


def open_objections() -> models.QuerySet[Objection]:
    return Objection.objects.filter(state=ObjectionState.OPEN)


def records_due() -> models.QuerySet[Objection]:
    """Open objections whose demanded record has not been delivered: the operator's clock."""
    return open_objections().filter(
        record_demanded_on__isnull=False, record_delivered_on__isnull=True
    )


# --- who may act --------------------------------------------------------------------------------


def _contact_of(user: User | None, invoice: Invoice) -> CustomerContact:
    if user is None or not user.is_authenticated or not user.is_customer_contact:
        raise NotAllowed
    contact = CustomerContact.objects.filter(user=user, customer_id=invoice.customer_id).first()
    if contact is None:
        raise NotAllowed
    return contact


# --- objecting ----------------------------------------------------------------------------------


def object_in_customer_area(
    *, actor: User | None, invoice: Invoice, positions: Sequence[int], text: str
) -> Objection:
    """A contact of the invoice's customer objects in the customer area: received today, in
    text form (§ 24 (VI) of the terms)."""
    contact = _contact_of(actor, invoice)
    return _record(
        actor=actor,
        invoice=invoice,
        received_on=clock.operator_today(),
        channel=Channel.CUSTOMER_AREA,
        sender=contact.name,
        positions=positions,
        text=text,
    )


def record_objection(
    *,
    actor: User | None,
    invoice: Invoice,
    received_on: date,
    channel: str,
    sender: str,
    positions: Sequence[int],
    text: str,
) -> Objection:
    """An objection that reached the operator by letter, fax or e-mail, recorded with the day it
    arrived (``Capability.BILLING``)."""
    operator = require_billing(actor)
    if not sender.strip():
        raise DomainError(_("Say who sent the objection."), code="sender")
    if received_on > clock.operator_today():
        raise DomainError(_("An objection cannot arrive in the future."), code="received_on")
    return _record(
        actor=operator,
        invoice=invoice,
        received_on=received_on,
        channel=Channel(channel),
        sender=sender.strip(),
        positions=positions,
        text=text,
    )


def _record(
    *,
    actor: User | None,
    invoice: Invoice,
    received_on: date,
    channel: str,
    sender: str,
    positions: Sequence[int],
    text: str,
) -> Objection:
    if invoice.kind != InvoiceKind.INVOICE:
        raise DomainError(_("Only an invoice's items can be objected to."), code="invoice")
    if not text.strip():
        raise DomainError(_("Say what is wrong with the items."), code="text")
    chosen = sorted({int(p) for p in positions})
    if not chosen:
        raise DomainError(_("Choose at least one item."), code="positions")
    lines = list(invoice.lines.filter(position__in=chosen))
    if len(lines) != len(chosen):
        raise DomainError(_("The invoice has no such item."), code="positions")
    if received_on < invoice.issue_date:
        raise DomainError(
            _("An objection cannot arrive before the invoice was issued."), code="received_on"
        )
    on_time = is_on_time(invoice, received_on)
    with transaction.atomic():
        objection = Objection.objects.create(
            invoice=invoice,
            received_on=received_on,
            channel=channel,
            sender=sender[:200],
            positions=chosen,
            text=text.strip(),
            disputed_amount=gross_of(lines),
            on_time=on_time,
            created_by=actor,
        )
        audit.record(
            "billing.objection.recorded",
            actor=actor,
            target=objection,
            data={
                "invoice": invoice.number,
                "received_on": received_on.isoformat(),
                "channel": str(channel),
                "positions": chosen,
                "disputed": str(objection.disputed_amount),
                "on_time": on_time,
            },
        )
    return objection


# --- the itemized record ------------------------------------------------------------------------


def demand_itemized_record(
    *, actor: User | None, objection: Objection, demanded_on: date | None = None
) -> Objection:
    """The customer demands the itemized record and the technical check's results: in the
    customer area (a contact; today) or by a letter the operator records (its day)."""
    if actor is not None and actor.is_authenticated and actor.is_customer_contact:
        _contact_of(actor, objection.invoice)
        day = clock.operator_today()
    else:
        require_billing(actor)
        day = demanded_on or clock.operator_today()
    if day > clock.operator_today():
        raise DomainError(_("A demand cannot arrive in the future."), code="demanded_on")
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.state != ObjectionState.OPEN:
            raise DomainError(_("This objection has been answered."), code="state")
        if locked.record_demanded_on is not None:
            raise DomainError(_("The itemized record has already been demanded."), code="state")
        if day < locked.received_on:
            raise DomainError(
                _("The demand cannot arrive before the objection."), code="demanded_on"
            )
        deadline = objection_deadline(objection.invoice)
        if not locked.on_time or (deadline is not None and day > deadline):
            raise DomainError(
                _(
                    "The itemized record can only be demanded within the objection period "
                    "(eight weeks from the invoice's receipt)."
                ),
                code="demanded_on",
            )
        locked.record_demanded_on = day
        locked.record_due_on = record_due(locked.received_on)
        locked.save(update_fields=["record_demanded_on", "record_due_on"])
        audit.record(
            "billing.objection.record_demanded",
            actor=actor,
            target=locked,
            data={"demanded_on": day.isoformat(), "due_on": locked.record_due_on.isoformat()},
        )
    return locked


def pseudonym(user_id: int) -> str:
    """A participant as the record shows them: four characters of an HMAC of their id. The same
    person reads the same in every record; nobody learns who it is from it."""
    return salted_hmac(_PSEUDONYM_SALT, str(user_id)).hexdigest()[:PSEUDONYM_LENGTH]


@dataclass(frozen=True)
class CallRow:
    started: datetime  # Berlin time
    seconds: int
    minutes: int
    participants: tuple[str, ...]


def billed_periods(invoice: Invoice) -> list[tuple[date, date]]:
    """The usage periods the invoice bills (its minute lines), else its period of supply."""
    minute_lines = invoice.lines.filter(unit=UnitCode.MINUTE).order_by("position")
    periods = [(line.supply_start, line.supply_end) for line in minute_lines]
    return periods or [(invoice.supply_start, invoice.supply_end)]


def itemized_calls(invoice: Invoice) -> list[CallRow]:
    """Each call of the customer's organizations in the billed periods, as ``minutes_used``
    counts them (by the Berlin day it ended), oldest first."""
    organizations = list(
        CustomerOrganization.objects.filter(customer_id=invoice.customer_id).values_list(
            "organization_id", flat=True
        )
    )
    period = models.Q()
    for first, last in billed_periods(invoice):
        period |= models.Q(ended_at__date__gte=first, ended_at__date__lte=last)
    calls = (
        CallSession.objects.filter(
            period, appointment__organization_id__in=organizations, ended_at__isnull=False
        )
        .select_related("appointment")
        .order_by("started_at", "pk")
    )
    rows = []
    for call in calls:
        assert call.ended_at is not None  # noqa: S101  # filtered above
        seconds = max(int((call.ended_at - call.started_at).total_seconds()), 0)
        rows.append(
            CallRow(
                started=timezone.localtime(call.started_at),
                seconds=seconds,
                minutes=math.ceil(seconds / 60),
                participants=(
                    pseudonym(call.appointment.member_id),
                    pseudonym(call.appointment.staff_id),
                ),
            )
        )
    return rows


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def record_table(calls: Sequence[CallRow]) -> LineTable:
    return {
        "columns": [
            _("Date"),
            _("Start"),
            _("Duration"),
            _("Billed minutes"),
            _("Participants"),
        ],
        "rows": [
            [
                long_date(call.started.date()),
                f"{call.started:%H:%M}",
                _duration(call.seconds),
                str(call.minutes),
                ", ".join(call.participants),
            ]
            for call in calls
        ],
        "align": ["left", "left", "right", "right", "left"],
        "totals": [
            [
                _("Total"),
                "",
                _duration(sum(call.seconds for call in calls)),
                str(sum(call.minutes for call in calls)),
                "",
            ]
        ],
    }


def deliver_itemized_record(
    *, actor: User | None, objection: Objection, technical_check: str = ""
) -> Objection:
    """Send the itemized record with the technical check's results as a letter and note the
    day; delivered after the due day, the default claims on the invoice lapse."""
    operator = require_billing(actor)
    invoice = objection.invoice
    today = clock.operator_today()
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.record_demanded_on is None:
            raise DomainError(_("The itemized record has not been demanded."), code="state")
        if locked.record_delivered_on is not None:
            raise DomainError(_("The itemized record has already been delivered."), code="state")
        language = customer_language(invoice.customer)
        with translation.override(language):
            calls = itemized_calls(invoice)
            periods = "; ".join(
                f"{long_date(first)} – {long_date(last)}" for first, last in billed_periods(invoice)
            )
            paragraphs = [
                _(
                    "As you demanded on %(demanded)s with your objection to invoice %(number)s "
                    "of %(issued)s, here is the itemized record of the billed calls of your "
                    "organizations (%(periods)s): each call with its date, start (German time), "
                    "duration and the billed minutes, each started minute counted. Participants "
                    "are shown by short pseudonyms, never by name."
                )
                % {
                    "demanded": long_date(locked.record_demanded_on),
                    "number": invoice.number,
                    "issued": long_date(invoice.issue_date),
                    "periods": periods,
                },
                _("Result of the technical check: %(result)s")
                % {"result": technical_check.strip() or _("no technical fault was found.")},
            ]
            if not calls:
                paragraphs.append(_("No calls were billed in this period."))
            subject = _("Itemized record for invoice %(number)s") % {"number": invoice.number}
            table = record_table(calls)
        document = send_letter(
            customer=invoice.customer,
            language=language,
            subject=subject,
            paragraphs=paragraphs,
            actor=operator,
            table=table,
            contract=invoice.contract,
        )
        locked.record = document
        locked.record_delivered_on = today
        locked.save(update_fields=["record", "record_delivered_on"])
        audit.record(
            "billing.objection.record_delivered",
            actor=operator,
            target=locked,
            data={
                "delivered_on": today.isoformat(),
                "due_on": locked.record_due_on.isoformat() if locked.record_due_on else None,
                "late": record_lapsed(locked, today),
                "calls": len(calls),
            },
        )
    return locked


# --- the answer ---------------------------------------------------------------------------------


def _open_locked(objection: Objection) -> Objection:
    locked = Objection.objects.select_for_update().get(pk=objection.pk)
    if locked.state != ObjectionState.OPEN:
        raise DomainError(_("This objection has already been answered."), code="state")
    return locked


def settle_with_credit_note(
    *, actor: User | None, objection: Objection, amount: Decimal, reason: str
) -> Objection:
    """End the objection by a credit note of ``amount`` (net, at the disputed lines' VAT),
    sent to the customer's contacts. Above the four-eyes amount (``services.approval``) only
    a request is recorded and the objection is returned still open, without a credit note."""
    operator = require_billing(actor)
    if not reason.strip():
        raise DomainError(_("Say why the amount is credited."), code="reason")
    invoice = objection.invoice
    lines = list(invoice.lines.filter(position__in=objection.positions).order_by("position"))
    disputed_net = sum((line.net for line in lines), Decimal("0"))
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."), code="amount")
    if amount > disputed_net:
        raise DomainError(
            _("At most the disputed items' net amount (%(net)s) can be credited.")
            % {"net": format_money(disputed_net, translation.get_language() or "de")},
            code="amount",
        )
    with transaction.atomic():
        locked = _open_locked(objection)
        if locked.credit_note_requests.filter(state=ApprovalState.PENDING).exists():
            raise DomainError(
                _("A credit note for this objection is already awaiting approval."),
                code="pending",
            )
        items = ", ".join(str(p) for p in locked.positions)
        with translation.override(customer_language(invoice.customer)):
            description = _("Credit for your objection of %(day)s (items %(items)s)") % {
                "day": long_date(locked.received_on),
                "items": items,
            }
        # Above the four-eyes amount this only records a request: the objection stays open
        # until a second operator approves it (which settles it, ``close_credited``).
        note = request_credit_note(
            actor=operator,
            original=invoice,
            lines=[
                LineDraft(
                    description=description,
                    quantity=Decimal("1"),
                    unit=UnitCode.PIECE,
                    unit_price=amount,
                    supply_start=min(line.supply_start for line in lines),
                    supply_end=max(line.supply_end for line in lines),
                    vat_kind=lines[0].vat_kind,
                )
            ],
            reason=reason,
            objection=locked,
        )
        if isinstance(note, Invoice):
            locked = close_credited(operator=operator, objection=locked, note=note)
    return locked


def close_credited(*, operator: User, objection: Objection, note: Invoice) -> Objection:
    """Settle the open objection by the issued credit note ``note``, sent to the customer's
    contacts."""
    locked = _open_locked(objection)
    if CustomerContact.objects.filter(customer_id=note.customer_id).exists():
        note = send_invoice(actor=operator, invoice=note)
    locked.state = ObjectionState.CREDITED
    locked.closed_on = clock.operator_today()
    locked.credit_note = note
    locked.save(update_fields=["state", "closed_on", "credit_note"])
    audit.record(
        "billing.objection.credited",
        actor=operator,
        target=locked,
        data={"credit_note": note.number, "gross": str(note.gross_total)},
    )
    return locked


def reject_objection(*, actor: User | None, objection: Objection, reason: str) -> Objection:
    """End the objection by a written rejection: a letter with the reasons."""
    operator = require_billing(actor)
    if not reason.strip():
        raise DomainError(_("Give the reasons for the rejection."), code="reason")
    invoice = objection.invoice
    with transaction.atomic():
        locked = _open_locked(objection)
        if locked.record_demanded_on is not None and locked.record_delivered_on is None:
            raise DomainError(
                _("Deliver the demanded itemized record before answering the objection."),
                code="state",
            )
        language = customer_language(invoice.customer)
        with translation.override(language):
            subject = _("Your objection to invoice %(number)s") % {"number": invoice.number}
            paragraphs = [
                _(
                    "We have examined your objection of %(day)s to items %(items)s of invoice "
                    "%(number)s of %(issued)s and must reject it."
                )
                % {
                    "day": long_date(locked.received_on),
                    "items": ", ".join(str(p) for p in locked.positions),
                    "number": invoice.number,
                    "issued": long_date(invoice.issue_date),
                },
                _("Our reasons: %(reason)s") % {"reason": reason.strip()},
            ]
            if not locked.on_time:
                paragraphs.append(
                    _(
                        "Your objection reached us after the eight weeks from the invoice's "
                        "receipt: under § 9 (I) of our terms the invoice counts as approved. "
                        "Your statutory claims remain unaffected."
                    )
                )
            else:
                paragraphs.append(
                    _("The disputed amount of %(amount)s is now due.")
                    % {"amount": format_money(locked.disputed_amount, language)}
                )
        letter = send_letter(
            customer=invoice.customer,
            language=language,
            subject=subject,
            paragraphs=paragraphs,
            actor=operator,
            contract=invoice.contract,
        )
        locked.state = ObjectionState.REJECTED
        locked.closed_on = clock.operator_today()
        locked.answer = letter
        locked.save(update_fields=["state", "closed_on", "answer"])
        audit.record(
            "billing.objection.rejected", actor=operator, target=locked, data={"letter": True}
        )
    return locked
