"""The daily contract run (Berlin morning): lets unaccepted orders lapse, brings announced
changes and transfers into effect, asks for and reminds of telephony consents, renews and ends
contracts at the end of their terms. Each step re-checks its condition under a row lock, so a
second run on the same day, or a run after one that was killed halfway, changes nothing that
was done already."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from treffpunkt.contracts.models import (
    LIVE_STATES,
    Contract,
    ContractState,
    EventKind,
    Order,
    OrderState,
    ProductKind,
    RunRecord,
)
from treffpunkt.contracts.services import letters
from treffpunkt.contracts.services._common import add_event, iso, today
from treffpunkt.contracts.services.lifecycle import close_locked_term
from treffpunkt.contracts.services.notices import bring_into_effect
from treffpunkt.contracts.services.orders import lapse_order
from treffpunkt.core import audit, clock
from treffpunkt.customers.models import CustomerContact
from treffpunkt.notifications.services import queue_mail

ASKING_STATES = (ContractState.ACTIVE, ContractState.WAITING)
# Contracts locked and handled in one transaction: fewer commits than one per contract, and a
# run killed halfway loses at most one batch, which the next run does again.
BATCH = 100


def run_contracts_day(*, on: date | None = None) -> dict[str, int]:
    """Everything the terms make due on ``on`` (default: today in Berlin). Returns counts."""
    day = on or today()
    counts: Counter[str] = Counter()
    for order in Order.objects.filter(state=OrderState.RECEIVED, accept_by__lt=day):
        counts["orders_lapsed"] += lapse_order(order, on=day)
    counts["changes_in_effect"] = bring_into_effect(on=day)
    for contract in _in_batches(_consent_requests_due(day)):
        counts["consents_requested"] += _ask_locked(contract, on=day, reminder=False)
    for contract in _in_batches(_consent_reminders_due(day)):
        counts["consents_reminded"] += _ask_locked(contract, on=day, reminder=True)
    due = Contract.objects.filter(Q(term_end__lt=day) | Q(ends_on__lt=day), state__in=LIVE_STATES)
    for contract in _in_batches(due):
        outcome = close_locked_term(contract, on=day)
        if outcome:
            counts[f"contracts_{outcome}"] += 1
    result = dict(counts)
    with transaction.atomic():
        record, created = RunRecord.objects.get_or_create(
            day=day, defaults={"finished_at": clock.now(), "counts": result}
        )
        if not created:
            RunRecord.objects.filter(pk=record.pk).update(finished_at=clock.now())
        audit.record("contracts.run.finished", actor=None, data={"day": day.isoformat(), **result})
    return result


def _in_batches(query: QuerySet[Contract]) -> Iterator[Contract]:
    """The contracts of ``query``, ``BATCH`` at a time, each batch read under row locks in a
    transaction that stays open while the caller handles it. Each contract's condition is
    checked again on the locked row, so what another process changed meanwhile is seen."""
    ids = list(query.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            locked = (
                Contract.objects.select_for_update()
                .filter(pk__in=ids[start : start + BATCH])
                .select_related("customer", "product")
                .order_by("pk")
            )
            yield from locked


def _consent_requests_due(day: date) -> QuerySet[Contract]:
    lead = timedelta(days=settings.CONTRACTS_CONSENT_LEAD_DAYS)
    return Contract.objects.filter(
        kind=ProductKind.TELEPHONY,
        state__in=ASKING_STATES,
        consent_requested_on__isnull=True,
        consent_given_on__isnull=True,
        consent_due__lte=day + lead,
        term_end__gte=day,
    )


def _consent_reminders_due(day: date) -> QuerySet[Contract]:
    after = timedelta(days=settings.CONTRACTS_CONSENT_REMINDER_DAYS)
    return Contract.objects.filter(
        kind=ProductKind.TELEPHONY,
        state__in=ASKING_STATES,
        consent_requested_on__lte=day - after,
        consent_reminded_on__isnull=True,
        consent_given_on__isnull=True,
        term_end__gte=day,
    )


def ask_for_consent(contract: Contract, *, on: date) -> bool:
    """Point out the coming end of a telephony contract and ask for consent to renew it
    (§ 20 (I) of the terms: at the latest six weeks before the end)."""
    with transaction.atomic():
        locked = Contract.objects.select_for_update().select_related("customer", "product")
        return _ask_locked(locked.get(pk=contract.pk), on=on, reminder=False)


def remind_of_consent(contract: Contract, *, on: date) -> bool:
    with transaction.atomic():
        locked = Contract.objects.select_for_update().select_related("customer", "product")
        return _ask_locked(locked.get(pk=contract.pk), on=on, reminder=True)


def _ask_locked(locked: Contract, *, on: date, reminder: bool) -> bool:
    """The request (or reminder) by e-mail to every contact of the customer, with a link to
    consent in the customer area. § 20 (I) sets no form; the mail stays in the outbox and the
    contract's timeline records it."""
    field = "consent_reminded_on" if reminder else "consent_requested_on"
    if getattr(locked, field) is not None or locked.consent_given_on is not None:
        return False
    if locked.state not in ASKING_STATES or locked.term_end < on:
        return False
    setattr(locked, field, on)
    locked.save(update_fields=[field])
    url = settings.SITE_URL + reverse("customer_area:contracts:contract", args=[locked.pk])
    for contact in CustomerContact.objects.filter(customer=locked.customer).select_related("user"):
        queue_mail(
            template="contracts/consent_request",
            context={
                "contract": locked,
                "contact_name": contact.name,
                "reminder": reminder,
                "contract_url": url,
            },
            recipient=contact.user,
            to_address=contact.email,
            language=contact.user.preferred_language if contact.user else None,
        )
    add_event(
        locked,
        kind=EventKind.CONSENT_REMINDED if reminder else EventKind.CONSENT_REQUESTED,
        on=on,
        summary=(
            _("Reminder of the consent request sent by e-mail.")
            if reminder
            else _(
                "Consent to a renewal requested by e-mail; without it the contract ends on %(end)s."
            )
            % {"end": letters.long_date(locked.term_end)}
        ),
    )
    audit.record(
        "contracts.consent.reminded" if reminder else "contracts.consent.requested",
        actor=None,
        target=locked,
        data={"on": on.isoformat(), "due": iso(locked.consent_due)},
    )
    return True
