"""The daily contract run (Berlin morning): lets unaccepted orders lapse, brings announced
changes and transfers into effect, asks for and reminds of telephony consents, renews and ends
contracts at the end of their terms. Each step re-checks its condition under a row lock, so a
second run on the same day, or a run after one that was killed halfway, changes nothing that
was done already."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
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
from treffpunkt.contracts.services._common import add_event, today
from treffpunkt.contracts.services.lifecycle import close_term
from treffpunkt.contracts.services.notices import bring_into_effect
from treffpunkt.contracts.services.orders import lapse_order
from treffpunkt.core import audit, clock

ASKING_STATES = (ContractState.ACTIVE, ContractState.WAITING)


def run_contracts_day(*, on: date | None = None) -> dict[str, int]:
    """Everything the terms make due on ``on`` (default: today in Berlin). Returns counts."""
    day = on or today()
    counts: Counter[str] = Counter()
    for order in Order.objects.filter(state=OrderState.RECEIVED, accept_by__lt=day):
        counts["orders_lapsed"] += lapse_order(order, on=day)
    counts["changes_in_effect"] = bring_into_effect(on=day)
    for contract in _consent_requests_due(day):
        counts["consents_requested"] += ask_for_consent(contract, on=day)
    for contract in _consent_reminders_due(day):
        counts["consents_reminded"] += remind_of_consent(contract, on=day)
    for contract in Contract.objects.filter(
        Q(term_end__lt=day) | Q(ends_on__lt=day), state__in=LIVE_STATES
    ).select_related("customer", "product"):
        outcome = close_term(contract, on=day)
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


def _consent_requests_due(day: date):  # type: ignore[no-untyped-def]  # a QuerySet
    lead = timedelta(days=settings.CONTRACTS_CONSENT_LEAD_DAYS)
    return Contract.objects.filter(
        kind=ProductKind.TELEPHONY,
        state__in=ASKING_STATES,
        consent_requested_on__isnull=True,
        consent_given_on__isnull=True,
        consent_due__lte=day + lead,
        term_end__gte=day,
    ).select_related("customer", "product")


def _consent_reminders_due(day: date):  # type: ignore[no-untyped-def]  # a QuerySet
    after = timedelta(days=settings.CONTRACTS_CONSENT_REMINDER_DAYS)
    return Contract.objects.filter(
        kind=ProductKind.TELEPHONY,
        state__in=ASKING_STATES,
        consent_requested_on__lte=day - after,
        consent_reminded_on__isnull=True,
        consent_given_on__isnull=True,
        term_end__gte=day,
    ).select_related("customer", "product")


def ask_for_consent(contract: Contract, *, on: date) -> bool:
    """Point out the coming end of a telephony contract and ask for consent to renew it
    (§ 20 (I) of the terms: at the latest six weeks before the end)."""
    return _write_to_customer(contract, on=on, reminder=False)


def remind_of_consent(contract: Contract, *, on: date) -> bool:
    return _write_to_customer(contract, on=on, reminder=True)


def _write_to_customer(contract: Contract, *, on: date, reminder: bool) -> bool:
    field = "consent_reminded_on" if reminder else "consent_requested_on"
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if getattr(locked, field) is not None or locked.consent_given_on is not None:
            return False
        if locked.state not in ASKING_STATES:
            return False
        setattr(locked, field, on)
        locked.save(update_fields=[field])
        with letters.in_language_of(contract.customer) as language:
            letter = letters.send_letter(
                customer=contract.customer,
                language=language,
                subject=(
                    _("Reminder: your contract %(contract)s ends on %(end)s")
                    if reminder
                    else _("Your contract %(contract)s ends on %(end)s")
                )
                % {"contract": contract.number, "end": letters.long_date(contract.term_end)},
                paragraphs=[
                    _(
                        "Your contract %(contract)s (%(product)s) ends on %(end)s. It renews by "
                        "one year only with your express consent (§ 20 (I) of our terms)."
                    )
                    % {
                        "contract": contract.number,
                        "product": contract.product.name,
                        "end": letters.long_date(contract.term_end),
                    },
                    _(
                        "If you want to keep the service, please give your consent before that "
                        "day: in the customer area with one click, or by letter, fax or e-mail. "
                        "Without your consent the contract ends on %(end)s."
                    )
                    % {"end": letters.long_date(contract.term_end)},
                ],
                contract=contract,
                actor=None,
            )
        add_event(
            locked,
            kind=EventKind.CONSENT_REMINDED if reminder else EventKind.CONSENT_REQUESTED,
            on=on,
            summary=(
                _("Reminder of the consent request sent.")
                if reminder
                else _("Consent to a renewal requested; without it the contract ends on %(end)s.")
                % {"end": letters.long_date(locked.term_end)}
            ),
            document=letter,
        )
        audit.record(
            "contracts.consent.reminded" if reminder else "contracts.consent.requested",
            actor=None,
            target=locked,
            data={
                "on": on.isoformat(),
                "due": locked.consent_due.isoformat() if locked.consent_due else None,
            },
        )
    return True
