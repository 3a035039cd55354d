"""Dunning and default (P-BILL-2; § 8 (V), (VI) of the terms).

The daily job ``run_dunning``:

1. sends payment reminders for overdue invoices on ``DUNNING_SCHEDULE_DAYS`` (days after the
   due date per level; default (7, 21)): a letter per invoice and level, once. The customer is
   in default from the day after the due date without any reminder (§ 8 (V)); the reminders
   only remind. The amount dunned is the open amount less the disputed amount of open
   objections; an invoice with nothing left to dun gets no reminder;
2. evaluates the two termination triggers of § 8 (VI) per live service contract
   (``billing.default_rules``) and opens a ``DefaultFinding`` per trigger met, with the
   invoices behind it, or resolves an open one that no longer holds.

Run twice on a day, it sends and opens nothing twice.

``terminate_for_default`` is the operator's decision on a finding: the contract ends at once
(``contracts.services.lifecycle.end_for_default``), the flat damages of one quarter of the
remaining fees are claimed by an invoice (VAT by default: the CJEU holds such pre-set amounts
for the early end of a contract with a minimum term to be consideration for the service,
C-295/17 MEO, C-43/19 Vodafone Portugal; ``DEFAULT_DAMAGES_VAT = False`` for the tax adviser
to decide otherwise: the e-invoice knows only standard-rated lines, so the claim is then made
in the termination letter alone, without an invoice), the termination letter goes out, and a
``DefaultTermination`` records it all.

Settings (read with defaults; none is required):

- ``DUNNING_SCHEDULE_DAYS`` = (7, 21): days after the due date for reminder levels 1, 2, …
- ``DEFAULT_NOT_INSIGNIFICANT_SHARE`` = Decimal("1"): trigger (a) holds when two consecutive
  months' arrears together exceed this share of one monthly fee (§ 569 (3) no. 1 BGB reading).
- ``DEFAULT_DAMAGES_VAT`` = True: the damages claim carries VAT.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing import default_rules
from treffpunkt.billing.default_rules import InvoiceState, Trigger
from treffpunkt.billing.models import (
    DefaultFinding,
    DefaultRule,
    DefaultTermination,
    Invoice,
    InvoiceKind,
    Objection,
    ObjectionState,
    Reminder,
    UnitCode,
)
from treffpunkt.billing.selectors import open_amounts
from treffpunkt.billing.services._common import require_billing
from treffpunkt.billing.services.issuing import LineDraft, issue_invoice
from treffpunkt.billing.services.sending import send_invoice
from treffpunkt.contracts.models import LIVE_STATES, Contract, ProductKind
from treffpunkt.contracts.services import letters, price_on
from treffpunkt.contracts.services.lifecycle import end_for_default
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import ZERO, VatKind, format_money, round_money, vat_rate
from treffpunkt.documents.rendering import LineTable

FEE_KEY_PREFIX = "contract:"
CLAIM_KEY_PREFIX = "default:"


# --- settings ---------------------------------------------------------------------------------


def schedule_days() -> tuple[int, ...]:
    days = tuple(int(d) for d in getattr(settings, "DUNNING_SCHEDULE_DAYS", (7, 21)))
    if any(d < 0 for d in days) or list(days) != sorted(days):
        raise ValueError("DUNNING_SCHEDULE_DAYS are ascending days after the due date")
    return days


def not_insignificant_share() -> Decimal:
    return Decimal(
        str(
            getattr(
                settings,
                "DEFAULT_NOT_INSIGNIFICANT_SHARE",
                default_rules.DEFAULT_NOT_INSIGNIFICANT_SHARE,
            )
        )
    )


def damages_carry_vat() -> bool:
    return bool(getattr(settings, "DEFAULT_DAMAGES_VAT", True))


# --- reading ----------------------------------------------------------------------------------


def disputed_amounts(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """The amounts open objections dispute, per invoice."""
    rows = (
        Objection.objects.filter(invoice_id__in=list(invoice_ids), state=ObjectionState.OPEN)
        .values("invoice_id")
        .annotate(total=Sum("disputed_amount"))
        .values_list("invoice_id", "total")
    )
    return {pk: total or ZERO for pk, total in rows}


def dunnable_amounts(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """What may be dunned per invoice: open amount less open objections' disputed amounts."""
    ids = list(invoice_ids)
    opened = open_amounts(ids)
    disputed = disputed_amounts(ids)
    return {
        pk: default_rules.dunnable(amount, disputed.get(pk, ZERO)) for pk, amount in opened.items()
    }


@dataclass(frozen=True)
class OverdueInvoice:
    invoice: Invoice
    dunnable: Decimal
    disputed: Decimal
    reminders: tuple[Reminder, ...]


def overdue_invoices(*, on: date) -> list[OverdueInvoice]:
    """Invoices past their due date with something left to dun, oldest due first."""
    invoices = list(
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, due_on__lt=on)
        .select_related("customer", "contract")
        .prefetch_related("reminders")
        .order_by("due_on", "number")
    )
    ids = [i.pk for i in invoices]
    amounts = dunnable_amounts(ids)
    disputed = disputed_amounts(ids)
    return [
        OverdueInvoice(
            invoice=invoice,
            dunnable=amounts.get(invoice.pk, ZERO),
            disputed=disputed.get(invoice.pk, ZERO),
            reminders=tuple(sorted(invoice.reminders.all(), key=lambda r: r.level)),
        )
        for invoice in invoices
        if amounts.get(invoice.pk, ZERO) > 0
    ]


def billing_month(invoice: Invoice) -> date:
    """The month an invoice of the fees is for: its run key's month, else its period's end."""
    key = invoice.billing_key or ""
    if key.startswith(FEE_KEY_PREFIX):
        year, month = key.rsplit(":", 1)[1].split("-")
        return date(int(year), int(month), 1)
    return invoice.supply_end.replace(day=1)


def invoice_states(contract: Contract, *, on: date) -> list[InvoiceState]:
    """The contract's overdue fee invoices, as the rules read them."""
    invoices = list(
        Invoice.objects.filter(
            contract=contract,
            kind=InvoiceKind.INVOICE,
            due_on__lt=on,
            billing_key__startswith=FEE_KEY_PREFIX,
        )
    )
    amounts = dunnable_amounts(i.pk for i in invoices)
    return [
        InvoiceState(
            number=invoice.number,
            month=billing_month(invoice),
            due_on=invoice.due_on or on,
            unpaid=amounts.get(invoice.pk, ZERO),
        )
        for invoice in invoices
    ]


def monthly_fee_net(contract: Contract, *, on: date) -> tuple[Decimal, str]:
    """The contract's regular monthly fee (net, times its quantity) on ``on``, and its VAT kind."""
    price = price_on(contract.product, on)
    if price is None or price.monthly_fee is None:
        return ZERO, VatKind.STANDARD
    return round_money(price.monthly_fee * contract.quantity), price.vat_kind


def monthly_fee_gross(contract: Contract, *, on: date) -> Decimal:
    net, kind = monthly_fee_net(contract, on=on)
    return round_money(net * (100 + vat_rate(VatKind(kind), on=on)) / 100)


def contract_triggers(contract: Contract, *, on: date) -> list[Trigger]:
    return default_rules.triggers(
        invoice_states(contract, on=on),
        on=on,
        monthly_fee=monthly_fee_gross(contract, on=on),
        share=not_insignificant_share(),
    )


def regular_end(contract: Contract) -> date:
    """The end of the contract's regular time: the current term's end, or an earlier agreed end."""
    if contract.ends_on is not None and contract.ends_on < contract.term_end:
        return contract.ends_on
    return contract.term_end


@dataclass(frozen=True)
class DamagesPreview:
    terminated_on: date
    regular_end: date
    monthly_fee: Decimal  # net
    months: tuple[default_rules.RemainingMonth, ...]
    remaining_fees: Decimal  # net
    damages: Decimal  # net
    vat: bool
    vat_percent: Decimal
    vat_kind: str

    @property
    def vat_amount(self) -> Decimal:
        return round_money(self.damages * self.vat_percent / 100) if self.vat else ZERO

    @property
    def gross(self) -> Decimal:
        return self.damages + self.vat_amount


def damages_preview(contract: Contract, *, on: date) -> DamagesPreview:
    """The flat damages if the contract were terminated for default on ``on``."""
    fee, kind = monthly_fee_net(contract, on=on)
    end = regular_end(contract)
    months = default_rules.remaining_months(terminated_on=on, regular_end=end, monthly_fee=fee)
    remaining = sum((m.fee for m in months), ZERO)
    return DamagesPreview(
        terminated_on=on,
        regular_end=end,
        monthly_fee=fee,
        months=tuple(months),
        remaining_fees=remaining,
        damages=default_rules.flat_damages(remaining),
        vat=damages_carry_vat(),
        vat_percent=vat_rate(VatKind(kind), on=on),
        vat_kind=kind,
    )


def open_findings() -> list[DefaultFinding]:
    return list(
        DefaultFinding.objects.filter(resolved_on__isnull=True)
        .select_related("contract", "contract__customer", "contract__product")
        .order_by("found_on", "pk")
    )


# --- the daily job ----------------------------------------------------------------------------


def run_dunning(*, on: date | None = None) -> dict[str, int]:
    """Reminders due on ``on`` (default: today) and the termination triggers of every live
    service contract. Idempotent per day."""
    day = on or clock.operator_today()
    counts: Counter[str] = Counter()
    schedule = schedule_days()
    for overdue in overdue_invoices(on=day):
        if send_reminder_if_due(overdue.invoice, on=day, schedule=schedule):
            counts["reminders_sent"] += 1
    counts.update(evaluate_defaults(on=day))
    result = dict(counts)
    audit.record("billing.dunning.finished", actor=None, data={"day": day.isoformat(), **result})
    return result


def send_reminder_if_due(invoice: Invoice, *, on: date, schedule: Sequence[int]) -> bool:
    """Send the reminder level due for ``invoice`` on ``on``, once. Whether one was sent."""
    if invoice.due_on is None:
        return False
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        sent = list(Reminder.objects.filter(invoice=locked).values_list("level", flat=True))
        assert locked.due_on is not None  # noqa: S101  # checked above; never unset
        level = default_rules.reminder_level_due(locked.due_on, on=on, schedule=schedule, sent=sent)
        if level is None:
            return False
        amount = dunnable_amounts([locked.pk]).get(locked.pk, ZERO)
        if amount <= 0:
            return False
        letter = reminder_letter(invoice, level=level, amount=amount, on=on)
        reminder = Reminder.objects.create(
            invoice=locked, level=level, sent_on=on, open_amount=amount, letter=letter
        )
        audit.record(
            "billing.reminder.sent",
            actor=None,
            target=locked,
            data={"level": level, "open_amount": str(amount), "reminder": reminder.pk},
        )
    return True


def reminder_letter(invoice: Invoice, *, level: int, amount: Decimal, on: date) -> Any:
    customer = invoice.customer
    with letters.in_language_of(customer) as language:
        assert invoice.due_on is not None  # noqa: S101  # only overdue invoices are dunned
        money = format_money(amount, language)
        paragraphs = [
            _(
                "Our invoice %(number)s of %(issued)s was due on %(due)s. We have not yet "
                "received %(amount)s of it. Since the due date you are in default without a "
                "reminder (§ 8 (V) of our terms)."
            )
            % {
                "number": invoice.number,
                "issued": letters.long_date(invoice.issue_date),
                "due": letters.long_date(invoice.due_on),
                "amount": money,
            },
            _(
                "Please transfer %(amount)s at once to the account stated on the invoice, "
                "quoting the invoice number. If you have paid in the meantime, please ignore "
                "this letter."
            )
            % {"amount": money},
        ]
        if level > 1:
            paragraphs.append(
                _(
                    "Please note: while payments are in default in a not insignificant amount we "
                    "may block the service, the fees remaining due (§ 8 (V)). If two "
                    "consecutive months, or two monthly fees over more than two months, remain "
                    "unpaid, we may terminate the contract without notice and claim flat "
                    "damages of one quarter of the fees until its regular end (§ 8 (VI))."
                )
            )
        paragraphs.append(
            _(
                "If you have objected to items of this invoice, the disputed amount is not "
                "included here while we examine your objection."
            )
        )
        subject = reminder_subject(invoice, level=level)
    return letters.send_letter(
        customer=customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        contract=invoice.contract,
        actor=None,
    )


def reminder_subject(invoice: Invoice, *, level: int) -> str:
    """The first reminder is a friendly "Zahlungserinnerung"; from the second on each is a
    numbered "Mahnung" (the second reminder is the first Mahnung), as German practice names
    them, so the customer sees at once how far the dunning has gone."""
    if level <= 1:
        return _("Payment reminder: invoice %(number)s") % {"number": invoice.number}
    return _("Dunning notice no. %(notice)s: invoice %(number)s") % {
        "notice": level - 1,
        "number": invoice.number,
    }


def evaluate_defaults(*, on: date) -> Counter[str]:
    """Open a finding per trigger met on a live service contract; resolve those no longer met."""
    counts: Counter[str] = Counter()
    overdue_contracts = set(
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            due_on__lt=on,
            billing_key__startswith=FEE_KEY_PREFIX,
            contract__isnull=False,
        ).values_list("contract_id", flat=True)
    )
    open_by_contract: dict[int, dict[str, DefaultFinding]] = {}
    for finding in DefaultFinding.objects.filter(resolved_on__isnull=True):
        open_by_contract.setdefault(finding.contract_id, {})[finding.rule] = finding
    contracts = (
        Contract.objects.filter(
            Q(pk__in=overdue_contracts) | Q(pk__in=list(open_by_contract)),
        )
        .select_related("customer", "product")
        .order_by("pk")
    )
    for contract in contracts:
        met: dict[str, Trigger] = {}
        live = (
            contract.state in LIVE_STATES
            and contract.kind != ProductKind.HARDWARE
            and not DefaultTermination.objects.filter(contract=contract).exists()
        )
        if live:
            met = {t.rule: t for t in contract_triggers(contract, on=on)}
        existing = open_by_contract.get(contract.pk, {})
        for rule, trigger in met.items():
            counts[_open_or_update(contract, trigger, existing.get(rule), on=on)] += 1
        for rule, finding in existing.items():
            if rule not in met:
                _resolve(finding, on=on)
                counts["findings_resolved"] += 1
    return counts


def _invoice_rows(numbers: Iterable[str]) -> list[dict[str, str]]:
    invoices = list(Invoice.objects.filter(number__in=list(numbers)).order_by("due_on", "number"))
    amounts = dunnable_amounts(i.pk for i in invoices)
    return [
        {
            "number": i.number,
            "month": f"{billing_month(i):%Y-%m}",
            "due_on": i.due_on.isoformat() if i.due_on else "",
            "gross": str(i.gross_total),
            "unpaid": str(amounts.get(i.pk, ZERO)),
        }
        for i in invoices
    ]


def _open_or_update(
    contract: Contract, trigger: Trigger, finding: DefaultFinding | None, *, on: date
) -> str:
    rows = _invoice_rows(trigger.invoices)
    if finding is not None:
        if finding.invoices != rows or finding.unpaid != trigger.unpaid:
            finding.invoices, finding.unpaid = rows, trigger.unpaid
            finding.save(update_fields=["invoices", "unpaid"])
            return "findings_updated"
        return "findings_unchanged"
    with transaction.atomic():
        finding = DefaultFinding.objects.create(
            contract=contract,
            rule=DefaultRule(trigger.rule),
            found_on=on,
            invoices=rows,
            unpaid=trigger.unpaid,
        )
        audit.record(
            "billing.default.found",
            actor=None,
            target=contract,
            data={
                "finding": finding.pk,
                "rule": trigger.rule,
                "months": [f"{m:%Y-%m}" for m in trigger.months],
                "invoices": list(trigger.invoices),
                "unpaid": str(trigger.unpaid),
            },
        )
    return "findings_opened"


def _resolve(finding: DefaultFinding, *, on: date, terminated: bool = False) -> None:
    finding.resolved_on = on
    finding.save(update_fields=["resolved_on"])
    if not terminated:
        audit.record(
            "billing.default.resolved",
            actor=None,
            target=finding.contract,
            data={"finding": finding.pk, "rule": finding.rule},
        )


# --- the operator's termination ---------------------------------------------------------------


def terminate_for_default(*, actor: User | None, finding: DefaultFinding) -> DefaultTermination:
    """Terminate the finding's contract without notice today (§ 8 (VI)): end it, claim the flat
    damages, write the termination letter, record it. All or nothing."""
    operator = require_billing(actor)
    today = clock.operator_today()
    with transaction.atomic():
        locked = DefaultFinding.objects.select_for_update().get(pk=finding.pk)
        if locked.resolved_on is not None:
            raise DomainError(
                _("This finding is resolved; the trigger no longer holds."), code="resolved"
            )
        contract = Contract.objects.select_related("customer", "product").get(pk=locked.contract_id)
        if DefaultTermination.objects.filter(contract=contract).exists():
            raise DomainError(
                _("This contract has already been terminated for default."), code="terminated"
            )
        if not any(t.rule == locked.rule for t in contract_triggers(contract, on=today)):
            raise DomainError(
                _("The trigger no longer holds today; the finding will be resolved."),
                code="resolved",
            )
        preview = damages_preview(contract, on=today)
        end_for_default(contract=contract, on=today, actor=operator)
        claim = None
        if preview.vat and preview.damages > 0:
            claim = _claim_invoice(contract, preview, actor=operator)
        letter = _termination_letter(contract, locked, preview, claim=claim, actor=operator)
        termination = DefaultTermination.objects.create(
            contract=contract,
            finding=locked,
            terminated_on=today,
            regular_end=preview.regular_end,
            remaining_fees=preview.remaining_fees,
            damages=preview.damages,
            claim=claim,
            letter=letter,
            created_by=operator,
        )
        for other in DefaultFinding.objects.filter(contract=contract, resolved_on__isnull=True):
            _resolve(other, on=today, terminated=True)
        audit.record(
            "billing.default.terminated",
            actor=operator,
            target=contract,
            data={
                "finding": locked.pk,
                "rule": locked.rule,
                "regular_end": preview.regular_end.isoformat(),
                "remaining_fees": str(preview.remaining_fees),
                "damages": str(preview.damages),
                "vat": preview.vat,
                "claim": claim.number if claim else None,
            },
        )
    if claim is not None and claim.customer.contacts.exists():
        termination.claim = send_invoice(actor=operator, invoice=claim)
    return termination


def _claim_invoice(contract: Contract, preview: DamagesPreview, *, actor: User) -> Invoice:
    with letters.in_language_of(contract.customer) as language:
        description = _(
            "Flat damages for the early end of contract %(contract)s (§ 8 (VI) of our terms): "
            "one quarter of the fees of %(remaining)s from %(start)s until %(end)s"
        ) % {
            "contract": contract.number,
            "remaining": format_money(preview.remaining_fees, language),
            "start": preview.months[0].first.strftime("%d.%m.%Y") if preview.months else "",
            "end": preview.regular_end.strftime("%d.%m.%Y"),
        }
    return issue_invoice(
        actor=actor,
        customer=contract.customer,
        contract=contract,
        billing_key=f"{CLAIM_KEY_PREFIX}{contract.pk}",
        lines=[
            LineDraft(
                description=description,
                quantity=Decimal(1),
                unit=UnitCode.PIECE,
                unit_price=preview.damages,
                supply_start=preview.terminated_on,
                supply_end=preview.terminated_on,
                vat_kind=preview.vat_kind,
            )
        ],
    )


def _termination_letter(
    contract: Contract,
    finding: DefaultFinding,
    preview: DamagesPreview,
    *,
    claim: Invoice | None,
    actor: User,
) -> Any:
    with letters.in_language_of(contract.customer) as language:
        reason = {
            DefaultRule.TWO_CONSECUTIVE_MONTHS: _(
                "you have been in default for two consecutive months with the fees or a not "
                "insignificant part of them (§ 8 (VI) (a) of our terms)"
            ),
            DefaultRule.TWO_MONTHLY_FEES: _(
                "over a period of more than two months you have been in default with fees "
                "reaching two monthly fees (§ 8 (VI) (b) of our terms)"
            ),
        }[DefaultRule(finding.rule)]
        paragraphs = [
            _(
                "We terminate contract %(contract)s (%(product)s) without notice, effective at "
                "the end of %(day)s, because %(reason)s. The unpaid invoices are listed below."
            )
            % {
                "contract": contract.number,
                "product": contract.product.name,
                "day": letters.long_date(preview.terminated_on),
                "reason": reason,
            },
            _(
                "Under § 8 (VI) of our terms we claim flat damages of one quarter of the fees "
                "that would have been payable until the regular end of the contract on "
                "%(end)s: a quarter of %(remaining)s, that is %(damages)s (net)."
            )
            % {
                "end": letters.long_date(preview.regular_end),
                "remaining": format_money(preview.remaining_fees, language),
                "damages": format_money(preview.damages, language),
            },
        ]
        if claim is not None:
            paragraphs.append(
                _("We charge it with invoice %(number)s over %(gross)s including VAT, due at once.")
                % {"number": claim.number, "gross": format_money(claim.gross_total, language)}
            )
        else:
            paragraphs.append(
                _("The amount of %(damages)s is due at once, in one sum, without VAT.")
                % {"damages": format_money(preview.damages, language)}
            )
        paragraphs += [
            _(
                "The damages are higher if we prove a higher damage, and lower or none if you "
                "prove that a substantially lower damage or none has arisen (§ 8 (VI) (c))."
            ),
            _("The unpaid fees remain due in full."),
        ]
        table: LineTable = {
            "columns": [_("Invoice"), _("Due on"), _("Unpaid")],
            "rows": [
                [
                    row.get("number", ""),
                    letters.long_date(date.fromisoformat(row["due_on"]))
                    if row.get("due_on")
                    else "",
                    format_money(Decimal(row.get("unpaid", "0")), language),
                ]
                for row in finding.invoices
            ],
            "align": ["left", "left", "right"],
        }
        subject = _("Termination without notice of contract %(contract)s") % {
            "contract": contract.number
        }
    return letters.send_letter(
        customer=contract.customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        table=table,
        contract=contract,
        actor=actor,
    )
