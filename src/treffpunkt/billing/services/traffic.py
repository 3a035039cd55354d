"""Call traffic data once billing no longer needs it (P-DATA-2, P-CALL-7).

A month's call minutes are billed on the next month's invoice; the customer may object within
eight weeks of its receipt and demand the itemized record. So the calls of a customer's
organizations are kept until the start of the third month after the month they ended in (the
invoice is issued on the first days of the next month, the objection window closes about two
months later), and longer while an objection of that customer is open. Calls of organizations
that belong to no customer are never billed: they are anonymized as soon as they ended. What
stays is the load statistic per organization and day, without any person's id."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from treffpunkt.billing.models import Objection, ObjectionState
from treffpunkt.calls.models import CallSession
from treffpunkt.calls.services import anonymize_calls
from treffpunkt.core import audit, clock
from treffpunkt.customers.models import CustomerOrganization


def kept_from(today: date) -> date:
    """Calls that ended on or after this day are still needed for billing."""
    month = today.month - 3
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def anonymize_call_traffic(*, today: date | None = None) -> dict[str, int]:
    day = today or clock.operator_today()
    billed = dict(CustomerOrganization.objects.values_list("organization_id", "customer_id"))
    disputed = set(
        Objection.objects.filter(state=ObjectionState.OPEN).values_list(
            "invoice__customer_id", flat=True
        )
    )
    cutoff = kept_from(day)
    due = []
    for pk, organization_id, ended in CallSession.objects.filter(
        ended_at__isnull=False
    ).values_list("pk", "appointment__organization_id", "ended_at"):
        customer = billed.get(organization_id)
        if customer is None:
            due.append(pk)  # never billed
        elif customer not in disputed and timezone.localdate(ended) < cutoff:
            due.append(pk)
    with transaction.atomic():
        counts = anonymize_calls(due) if due else {"calls": 0, "participations": 0}
        audit.record(
            "billing.call_traffic.anonymized",
            actor=None,
            data={**counts, "kept_from": cutoff.isoformat()},
        )
    return counts
