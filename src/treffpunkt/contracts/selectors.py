"""Reading contracts: the operator's deadline dashboard, a customer's contracts and documents,
a contract's timeline. A customer's contact reads only their own customer's (others: 404)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.http import Http404
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from treffpunkt.contracts.models import (
    LIVE_STATES,
    Block,
    Cancellation,
    ChangeNotice,
    Contract,
    ContractEvent,
    ContractState,
    CustomerDocument,
    Order,
    OrderState,
    ProductKind,
    RunRecord,
    Transfer,
)
from treffpunkt.contracts.services._common import today
from treffpunkt.customers.models import Customer

ASKING_STATES = (ContractState.ACTIVE, ContractState.WAITING)
# Rows per kind of deadline: the dashboard shows the earliest ones and says how many more.
PER_KIND = 200


@dataclass(frozen=True)
class Deadline:
    due: date
    what: str | Promise
    customer_number: str | None
    customer_name: str
    reference: str | None
    action: str | Promise
    url: str
    overdue: bool


def contract_url(contract_id: int) -> str:
    return reverse("backoffice:contracts:contract", args=[contract_id])


def order_url(order_id: int) -> str:
    return reverse("backoffice:contracts:order", args=[order_id])


def deadlines_ahead(*, on: date | None = None, days: int | None = None) -> list[Deadline]:
    """Every deadline up to ``days`` ahead (default ``CONTRACTS_DASHBOARD_DAYS``), overdue ones
    first, then by day. Each query uses an index and fetches only the columns shown."""
    day = on or today()
    horizon = day + timedelta(days=days if days is not None else settings.CONTRACTS_DASHBOARD_DAYS)
    found: list[Deadline] = []
    for source in SOURCES:
        found.extend(source(day, horizon))
    return sorted(found, key=lambda item: (not item.overdue, item.due, item.reference))


def _orders(day: date, horizon: date) -> Iterable[Deadline]:
    rows = (
        Order.objects.filter(state=OrderState.RECEIVED, accept_by__lte=horizon)
        .order_by("accept_by", "pk")
        .values_list(
            "pk", "number", "accept_by", "customer__customer_number", "customer__legal_name"
        )
    )[:PER_KIND]
    for pk, number, due, customer_number, name in rows:
        yield Deadline(
            due,
            _("Accept the order (two weeks from receipt)"),
            customer_number,
            name,
            number,
            _("Accept or decline"),
            order_url(pk),
            due < day,
        )


def _contract_rows(query: models.QuerySet[Contract], due_field: str) -> Iterable[tuple[Any, ...]]:
    return query.order_by(due_field, "pk").values_list(
        "pk", "number", due_field, "customer__customer_number", "customer__legal_name"
    )[:PER_KIND]


def _consent_requests(day: date, horizon: date) -> Iterable[Deadline]:
    query = Contract.objects.filter(
        state__in=ASKING_STATES,
        consent_due__lte=horizon,
        consent_requested_on__isnull=True,
        consent_given_on__isnull=True,
        kind=ProductKind.TELEPHONY,
    )
    for pk, number, due, customer_number, name in _contract_rows(query, "consent_due"):
        yield Deadline(
            due,
            _("Send the consent request (six weeks before the end)"),
            customer_number,
            name,
            number,
            _("Open the contract"),
            contract_url(pk),
            due < day,
        )


def _consents_pending(day: date, horizon: date) -> Iterable[Deadline]:
    query = Contract.objects.filter(
        state__in=ASKING_STATES,
        term_end__lte=horizon,
        term_end__gte=day,
        consent_requested_on__isnull=False,
        consent_given_on__isnull=True,
        kind=ProductKind.TELEPHONY,
    )
    for pk, number, due, customer_number, name in _contract_rows(query, "term_end"):
        yield Deadline(
            due,
            _("Ends without the customer's consent"),
            customer_number,
            name,
            number,
            _("Record a consent"),
            contract_url(pk),
            False,
        )


def _notice_deadlines(day: date, horizon: date) -> Iterable[Deadline]:
    query = Contract.objects.filter(
        state__in=ASKING_STATES, notice_deadline__gte=day, notice_deadline__lte=horizon
    )
    for pk, number, due, customer_number, name in _contract_rows(query, "notice_deadline"):
        yield Deadline(
            due,
            _("Last day for the customer's notice (three months before the end)"),
            customer_number,
            name,
            number,
            _("Open the contract"),
            contract_url(pk),
            False,
        )


def _changes(day: date, horizon: date) -> Iterable[Deadline]:
    rows = (
        ChangeNotice.objects.filter(in_effect=False, effective_on__lte=horizon)
        .order_by("effective_on", "pk")
        .values_list(
            "contract_id",
            "contract__number",
            "effective_on",
            "contract__customer__customer_number",
            "contract__customer__legal_name",
        )
    )[:PER_KIND]
    for pk, number, due, customer_number, name in rows:
        yield Deadline(
            due,
            _("Announced change takes effect"),
            customer_number,
            name,
            number,
            _("Open the contract"),
            contract_url(pk),
            False,
        )
    rights = (
        ChangeNotice.objects.filter(special_right_until__gte=day, special_right_until__lte=horizon)
        .order_by("special_right_until", "pk")
        .values_list(
            "contract_id",
            "contract__number",
            "special_right_until",
            "contract__customer__customer_number",
            "contract__customer__legal_name",
        )
    )[:PER_KIND]
    for pk, number, right_until, customer_number, name in rights:
        assert right_until is not None  # noqa: S101  # filtered on it above
        yield Deadline(
            right_until,
            _("Special cancellation right ends"),
            customer_number,
            name,
            number,
            _("Open the contract"),
            contract_url(pk),
            False,
        )


def _transfers(day: date, horizon: date) -> Iterable[Deadline]:
    fields = (
        "contract_id",
        "contract__number",
        "contract__customer__customer_number",
        "contract__customer__legal_name",
    )
    for due_field, what in (
        ("objection_until", _("Objection period for the transfer ends")),
        ("special_right_until", _("Special cancellation right after the transfer ends")),
        ("effective_on", _("Transfer takes effect")),
    ):
        query = Transfer.objects.filter(
            **{f"{due_field}__gte": day, f"{due_field}__lte": horizon}, in_effect=False
        )
        rows = query.order_by(due_field, "pk").values_list(due_field, *fields)[:PER_KIND]
        for due, pk, number, customer_number, name in rows:
            yield Deadline(
                due,
                what,
                customer_number,
                name,
                number,
                _("Open the contract"),
                contract_url(pk),
                False,
            )


def _cancellations_in_doubt(day: date, horizon: date) -> Iterable[Deadline]:
    rows = (
        Cancellation.objects.filter(in_doubt=True, contract__state=ContractState.ENDING)
        .order_by("received_on", "pk")
        .values_list(
            "contract_id",
            "contract__number",
            "received_on",
            "contract__customer__customer_number",
            "contract__customer__legal_name",
        )
    )[:PER_KIND]
    for pk, number, received, customer_number, name in rows:
        yield Deadline(
            received,
            _("Check a cancellation one day late (month-end rule)"),
            customer_number,
            name,
            number,
            _("Open the contract"),
            contract_url(pk),
            True,
        )


SOURCES: tuple[Callable[[date, date], Iterable[Deadline]], ...] = (
    _orders,
    _consent_requests,
    _consents_pending,
    _notice_deadlines,
    _changes,
    _transfers,
    _cancellations_in_doubt,
)


def last_run() -> RunRecord | None:
    return RunRecord.objects.order_by("-day").first()


# --- one customer --------------------------------------------------------------------------


def contracts_of(customer: Customer) -> models.QuerySet[Contract]:
    return (
        Contract.objects.filter(customer=customer)
        .select_related("product")
        .order_by("state", "-start", "-pk")
    )


def contract_of(customer: Customer, pk: int) -> Contract:
    try:
        return contracts_of(customer).get(pk=pk)
    except Contract.DoesNotExist as missing:
        raise Http404 from missing


def timeline(contract: Contract) -> models.QuerySet[ContractEvent]:
    return (
        ContractEvent.objects.filter(contract=contract)
        .select_related("document")
        .order_by("-on", "-pk")
    )


def documents_of(customer: Customer) -> models.QuerySet[CustomerDocument]:
    return (
        CustomerDocument.objects.filter(customer=customer)
        .select_related("document", "contract", "order")
        .order_by("-document__created_at", "-pk")
    )


def document_of(customer: Customer, reference: str) -> CustomerDocument:
    try:
        return documents_of(customer).get(document__reference=reference)
    except (CustomerDocument.DoesNotExist, ValueError) as missing:
        raise Http404 from missing


def orders_of(customer: Customer) -> models.QuerySet[Order]:
    return Order.objects.filter(customer=customer).prefetch_related("lines__product")


def active_blocks(customer: Customer) -> models.QuerySet[Block]:
    return Block.objects.filter(customer=customer, lifted_at__isnull=True)


def live_contracts(customer: Customer) -> models.QuerySet[Contract]:
    return contracts_of(customer).filter(state__in=LIVE_STATES)
