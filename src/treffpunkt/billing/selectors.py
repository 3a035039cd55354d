"""Reading billing data: what is open on an invoice, what a bank entry has left."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q, Sum

from treffpunkt.billing import retention
from treffpunkt.billing.models import (
    BankEntry,
    EntryState,
    Invoice,
    InvoiceKind,
    PaymentAllocation,
)
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer

ZERO = Decimal("0.00")
_CHUNK = 2000


def open_amounts(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """What is still to be paid per invoice: gross − its credit notes' gross − allocated
    payments. Three queries per 2,000 invoices."""
    ids = list(dict.fromkeys(invoice_ids))
    found: dict[int, Decimal] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for pk, gross in Invoice.objects.filter(pk__in=chunk).values_list("pk", "gross_total"):
            found[pk] = gross
        credited = (
            Invoice.objects.filter(original_id__in=chunk, kind=InvoiceKind.CREDIT_NOTE)
            .values("original_id")
            .annotate(total=Sum("gross_total"))
            .values_list("original_id", "total")
        )
        for pk, total in credited:
            found[pk] -= total or ZERO
        paid = (
            PaymentAllocation.objects.filter(invoice_id__in=chunk)
            .values("invoice_id")
            .annotate(total=Sum("amount"))
            .values_list("invoice_id", "total")
        )
        for pk, total in paid:
            found[pk] -= total or ZERO
    return found


def open_amount(invoice: Invoice) -> Decimal:
    """What is still to be paid on ``invoice`` (zero for a credit note)."""
    if invoice.kind != InvoiceKind.INVOICE:
        return ZERO
    return open_amounts([invoice.pk]).get(invoice.pk, ZERO)


def allocated_of_entry(entry: BankEntry) -> Decimal:
    total = entry.allocations.aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def unallocated_of_entry(entry: BankEntry) -> Decimal:
    """What of a credit entry is not allocated to any invoice (zero for debits)."""
    if not entry.credit:
        return ZERO
    return entry.amount - allocated_of_entry(entry)


def unmatched_entries() -> list[BankEntry]:
    """Credit entries for the accountant: nothing allocated yet, newest first."""
    kept_from = retention.first_day_in_use(clock.operator_today())
    return list(
        BankEntry.objects.filter(
            state=EntryState.UNMATCHED, booking_date__gte=kept_from
        ).select_related("statement")
    )


def customer_credit(customer: Customer) -> Decimal:
    """Money of ``customer`` received but not allocated to an invoice (overpayments)."""
    entries = BankEntry.objects.filter(customer=customer, credit=True).exclude(
        state=EntryState.IGNORED
    )
    received = entries.aggregate(total=Sum("amount"))["total"] or ZERO
    allocated = (
        PaymentAllocation.objects.filter(Q(entry__in=entries)).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    return received - allocated
