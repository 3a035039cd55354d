"""The monthly billing run (P-BILL-1): on ``BILLING_RUN_DAY`` of a month (Berlin time) every
live contract gets one invoice for that month: its monthly fee in advance (pro rata for a
partial first or last month) and, for video conferencing, the minutes beyond those included in
the month before (from the call records, P-CALL-7).

Idempotent: each invoice carries the key "contract:<id>:<YYYY-MM>", unique in the database.
Run twice, or killed halfway and run again, every contract and month is invoiced exactly once;
an invoice whose PDF or mail did not happen yet gets them on the next pass."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from treffpunkt.billing.models import Invoice, UnitCode
from treffpunkt.billing.services.issuing import AlreadyBilled, LineDraft, issue_invoice, render_pdf
from treffpunkt.billing.services.sending import send_invoice
from treffpunkt.calls.models import CallSession
from treffpunkt.contracts.deadlines import last_day_of_month
from treffpunkt.contracts.models import LIVE_STATES, Contract, ProductKind
from treffpunkt.contracts.services import price_on
from treffpunkt.contracts.services.letters import customer_language
from treffpunkt.core import audit, clock
from treffpunkt.customers.models import Customer, CustomerOrganization

FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @classmethod
    def of(cls, day: date) -> Month:
        first = day.replace(day=1)
        return cls(first, last_day_of_month(first.year, first.month))

    def before(self) -> Month:
        return Month.of(self.first - timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def key(self) -> str:
        return f"{self.first:%Y-%m}"


def billing_key(contract: Contract, month: Month) -> str:
    return f"contract:{contract.pk}:{month.key}"


def run_billing(*, month: date | None = None) -> dict[str, int]:
    """Invoice every live contract for the month of ``month`` (default: this month)."""
    period = Month.of(month or clock.operator_today())
    counts: Counter[str] = Counter()
    billed = set(
        Invoice.objects.filter(
            billing_key__startswith="contract:", billing_key__endswith=f":{period.key}"
        ).values_list("contract_id", flat=True)
    )
    for contract in billable_contracts(period):
        if contract.pk in billed:
            counts["already_invoiced"] += 1
            continue
        language = customer_language(contract.customer)
        lines = contract_lines(contract, period, language=language)
        if not lines:
            counts["nothing_to_invoice"] += 1
            continue
        try:
            invoice = issue_invoice(
                actor=None,
                customer=contract.customer,
                lines=lines,
                contract=contract,
                billing_key=billing_key(contract, period),
                issue_date=clock.operator_today(),
                language=language,
            )
        except AlreadyBilled:
            counts["already_invoiced"] += 1
            continue
        counts["invoices_issued"] += 1
        counts["invoices_sent"] += _send_if_possible(invoice)
    counts.update(finish_unfinished(period))
    result = dict(counts)
    audit.record("billing.run.finished", actor=None, data={"month": period.key, **result})
    return result


def billable_contracts(period: Month) -> list[Contract]:
    return list(
        Contract.objects.filter(state__in=LIVE_STATES, start__lte=period.last)
        .exclude(kind=ProductKind.HARDWARE)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period.first))
        .select_related("customer", "product")
        .order_by("pk")
    )


def finish_unfinished(period: Month) -> Counter[str]:
    """PDFs and mails of this month's run invoices that a killed run left undone."""
    counts: Counter[str] = Counter()
    run_invoices = Invoice.objects.filter(billing_key__endswith=f":{period.key}")
    for invoice in run_invoices.filter(document__isnull=True):
        render_pdf(invoice, actor=None)
        counts["pdfs_rendered_late"] += 1
    for invoice in run_invoices.filter(sent_at__isnull=True, document__isnull=False):
        counts["invoices_sent_late"] += _send_if_possible(invoice)
    return counts


def _send_if_possible(invoice: Invoice) -> int:
    if not invoice.customer.contacts.exists():
        return 0  # the operator sends it by hand once there is a contact
    send_invoice(actor=None, invoice=invoice)
    return 1


def contract_lines(
    contract: Contract, period: Month, *, language: str | None = None
) -> list[LineDraft]:
    """The fee for ``period`` (pro rata) and the extra minutes of the month before, described
    in the customer's language."""
    with translation.override(language or customer_language(contract.customer)):
        lines = [*fee_lines(contract, period), *usage_lines(contract, period.before())]
    return lines


def fee_lines(contract: Contract, period: Month) -> list[LineDraft]:
    start = max(contract.start, period.first)
    end = min(contract.ends_on or period.last, period.last)
    if end < start:
        return []
    price = price_on(contract.product, start)
    if price is None or price.monthly_fee is None:
        return []
    days = (end - start).days + 1
    share = (Decimal(days) / Decimal(period.days)).quantize(FOUR_PLACES, ROUND_HALF_UP)
    description = _("%(product)s, monthly fee %(start)s – %(end)s") % {
        "product": contract.product.name,
        "start": start.strftime("%d.%m.%Y"),
        "end": end.strftime("%d.%m.%Y"),
    }
    if days != period.days:
        description += " " + _("(%(days)s of %(month_days)s days)") % {
            "days": days,
            "month_days": period.days,
        }
    return [
        LineDraft(
            description=description,
            quantity=share * contract.quantity,
            unit=UnitCode.MONTH,
            unit_price=price.monthly_fee,
            supply_start=start,
            supply_end=end,
            vat_kind=price.vat_kind,
        )
    ]


def usage_lines(contract: Contract, month: Month) -> list[LineDraft]:
    """Minutes beyond those included, in ``month`` (the month before the invoiced one)."""
    if contract.kind != ProductKind.VIDEO or contract.start > month.last:
        return []
    if _usage_contract(contract.customer) != contract.pk:
        return []  # a customer's usage is billed once, on its first video contract
    price = price_on(contract.product, month.last)
    if price is None or price.per_minute is None or price.included_minutes is None:
        return []
    used = minutes_used(contract.customer, month)
    beyond = used - price.included_minutes * contract.quantity
    if beyond <= 0:
        return []
    return [
        LineDraft(
            description=_("Minutes beyond the %(included)s included, %(month)s")
            % {
                "included": price.included_minutes * contract.quantity,
                "month": month.first.strftime("%m/%Y"),
            },
            quantity=Decimal(beyond),
            unit=UnitCode.MINUTE,
            unit_price=price.per_minute,
            supply_start=month.first,
            supply_end=month.last,
            vat_kind=price.vat_kind,
        )
    ]


def _usage_contract(customer: Customer) -> int | None:
    return (
        Contract.objects.filter(customer=customer, kind=ProductKind.VIDEO, state__in=LIVE_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def minutes_used(customer: Customer, month: Month) -> int:
    """Call minutes of the customer's organizations that ended in ``month`` (Berlin days),
    each call rounded up to the started minute."""
    organizations = CustomerOrganization.objects.filter(customer=customer).values_list(
        "organization_id", flat=True
    )
    # ``__date`` compares in the current time zone, settings.TIME_ZONE (Berlin).
    calls = CallSession.objects.filter(
        appointment__organization_id__in=list(organizations),
        ended_at__isnull=False,
        ended_at__date__gte=month.first,
        ended_at__date__lte=month.last,
    ).values_list("started_at", "ended_at")
    minutes = 0
    for started, ended in calls:
        if ended is not None:
            minutes += math.ceil(max((ended - started).total_seconds(), 0) / 60)
    return minutes
