"""The customer's master data after the business ended (P-DATA-1; § 16 of the terms).

At the end of the calendar year after a customer's last contract ended, the people at the
customer go: the contacts (names, e-mail addresses, phone numbers) are deleted and their logins
closed and emptied. The company's own record (name, address, VAT id) stays, blocked in effect:
invoices must be kept ten years and name it; no contact, no login, nothing sent any more."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Max, Q

from treffpunkt.accounts.services import erase_login
from treffpunkt.contracts.models import LIVE_STATES, Contract
from treffpunkt.core import audit, clock
from treffpunkt.customers.models import Customer, CustomerContact


def customers_past_retention(today: date) -> list[Customer]:
    """Customers with no live contract whose last contract ended before last year began."""
    last_year = date(today.year - 1, 1, 1)
    return list(
        Customer.objects.annotate(last_end=Max("contracts__ends_on"))
        .filter(contracts__isnull=False, last_end__lt=last_year)
        .exclude(
            pk__in=Contract.objects.filter(
                Q(state__in=LIVE_STATES) | Q(ends_on__isnull=True)
            ).values("customer_id")
        )
        .distinct()
    )


def erase_contacts_of_former_customers(*, today: date | None = None) -> dict[str, int]:
    day = today or clock.operator_today()
    counts = {"customers": 0, "contacts": 0, "logins": 0}
    with transaction.atomic():
        for customer in customers_past_retention(day):
            contacts = list(
                CustomerContact.objects.filter(customer=customer).select_related("user")
            )
            if not contacts:
                continue
            counts["customers"] += 1
            for contact in contacts:
                user = contact.user
                contact.delete()
                counts["contacts"] += 1
                if user is not None:
                    erase_login(user=user)
                    counts["logins"] += 1
        audit.record("contracts.master_data.erased", actor=None, data=counts)
    return counts
