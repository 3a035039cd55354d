"""Reading contracts: the operator's deadline dashboard, a customer's contracts and documents,
a contract's timeline. A customer's contact reads only their own customer's (others: 404)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
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
    ProviderSwitch,
    RunRecord,
    SwitchDirection,
    Transfer,
)
from treffpunkt.contracts.services._common import today
from treffpunkt.core.registries import registry
from treffpunkt.customers.models import Customer

ASKING_STATES = (ContractState.ACTIVE, ContractState.WAITING)
# Rows per page of the dashboard.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Deadline:
    due: date
    what: str | Promise
    customer_number: str | None
    customer_name: str
    reference: str | None
    action: str | Promise
    link: Callable[[int], str]
    target: int
    overdue: bool

    @property
    def url(self) -> str:
        # Made only for the rows a page shows, not for every row fetched to sort them.
        return self.link(self.target)


@dataclass(frozen=True)
class DeadlinePage:
    rows: list[Deadline]
    total: int
    overdue: int
    page: int
    pages: int


def contract_url(contract_id: int) -> str:
    return reverse("backoffice:contracts:contract", args=[contract_id])


def order_url(order_id: int) -> str:
    return reverse("backoffice:contracts:order", args=[order_id])


@dataclass(frozen=True)
class Source:
    """One kind of deadline: the rows it covers between ``day`` and ``horizon`` (a query that
    an index answers), the field holding the due day, and how a row reads and links."""

    what: Promise
    action: Promise
    query: Callable[[date, date], models.QuerySet[Any]]
    due: str
    # The values that make a row: the id the link takes, the reference, customer number, name.
    fields: tuple[str, str, str, str]
    url: Callable[[int], str]
    # What waits for a person's decision is overdue from the start.
    always_overdue: bool = False

    def is_overdue(self, due: date, day: date) -> bool:
        return self.always_overdue or due < day

    def rows(self, day: date, horizon: date, *, take: int) -> list[Deadline]:
        query = self.query(day, horizon).order_by(self.due, "pk")
        return [
            Deadline(
                due,
                self.what,
                number,
                name,
                reference,
                self.action,
                self.url,
                pk,
                self.is_overdue(due, day),
            )
            for due, pk, reference, number, name in query.values_list(self.due, *self.fields)[:take]
        ]

    def counts(self, day: date, horizon: date) -> tuple[int, int]:
        """How many rows, and how many of them overdue, in one query and without fetching."""
        late = (
            Count("pk")
            if self.always_overdue
            else Count("pk", filter=Q(**{f"{self.due}__lt": day}))
        )
        found = self.query(day, horizon).aggregate(total=Count("pk"), overdue=late)
        return found["total"], found["overdue"]


CONTRACT_FIELDS = ("pk", "number", "customer__customer_number", "customer__legal_name")
VIA_CONTRACT = (
    "contract_id",
    "contract__number",
    "contract__customer__customer_number",
    "contract__customer__legal_name",
)

SOURCES: tuple[Source, ...] = (
    Source(
        _("Accept the order (two weeks from receipt)"),
        _("Accept or decline"),
        lambda day, horizon: Order.objects.filter(
            state=OrderState.RECEIVED, accept_by__lte=horizon
        ),
        "accept_by",
        CONTRACT_FIELDS,
        order_url,
    ),
    Source(
        _("Send the consent request (six weeks before the end)"),
        _("Open the contract"),
        lambda day, horizon: Contract.objects.filter(
            state__in=ASKING_STATES,
            consent_due__lte=horizon,
            consent_requested_on__isnull=True,
            consent_given_on__isnull=True,
            kind=ProductKind.TELEPHONY,
        ),
        "consent_due",
        CONTRACT_FIELDS,
        contract_url,
    ),
    Source(
        _("Ends without the customer's consent"),
        _("Record a consent"),
        lambda day, horizon: Contract.objects.filter(
            state__in=ASKING_STATES,
            term_end__lte=horizon,
            term_end__gte=day,
            consent_requested_on__isnull=False,
            consent_given_on__isnull=True,
            kind=ProductKind.TELEPHONY,
        ),
        "term_end",
        CONTRACT_FIELDS,
        contract_url,
    ),
    Source(
        _("Last day for the customer's notice (three months before the end)"),
        _("Open the contract"),
        lambda day, horizon: Contract.objects.filter(
            state__in=ASKING_STATES, notice_deadline__gte=day, notice_deadline__lte=horizon
        ),
        "notice_deadline",
        CONTRACT_FIELDS,
        contract_url,
    ),
    Source(
        _("Announced change takes effect"),
        _("Open the contract"),
        lambda day, horizon: ChangeNotice.objects.filter(
            in_effect=False, effective_on__lte=horizon
        ),
        "effective_on",
        VIA_CONTRACT,
        contract_url,
    ),
    Source(
        _("Special cancellation right ends"),
        _("Open the contract"),
        lambda day, horizon: ChangeNotice.objects.filter(
            special_right_until__gte=day, special_right_until__lte=horizon
        ),
        "special_right_until",
        VIA_CONTRACT,
        contract_url,
    ),
    Source(
        _("Objection period for the transfer ends"),
        _("Open the contract"),
        lambda day, horizon: Transfer.objects.filter(
            in_effect=False, objection_until__gte=day, objection_until__lte=horizon
        ),
        "objection_until",
        VIA_CONTRACT,
        contract_url,
    ),
    Source(
        _("Special cancellation right after the transfer ends"),
        _("Open the contract"),
        lambda day, horizon: Transfer.objects.filter(
            in_effect=False, special_right_until__gte=day, special_right_until__lte=horizon
        ),
        "special_right_until",
        VIA_CONTRACT,
        contract_url,
    ),
    Source(
        _("Transfer takes effect"),
        _("Open the contract"),
        lambda day, horizon: Transfer.objects.filter(
            in_effect=False, effective_on__gte=day, effective_on__lte=horizon
        ),
        "effective_on",
        VIA_CONTRACT,
        contract_url,
    ),
    Source(
        _("Check a cancellation one day late (month-end rule)"),
        _("Open the contract"),
        lambda day, horizon: Cancellation.objects.filter(
            in_doubt=True, contract__state=ContractState.ENDING
        ),
        "received_on",
        VIA_CONTRACT,
        contract_url,
        always_overdue=True,
    ),
    Source(
        _("Switch the service on: provider switch on the agreed day"),
        _("Open the contract"),
        lambda day, horizon: ProviderSwitch.objects.filter(
            direction=SwitchDirection.IN, done_at__isnull=True, agreed_on__lte=horizon
        ),
        "agreed_on",
        VIA_CONTRACT,
        contract_url,
    ),
    Source(
        _("Provider switch away: end the contract when the new service is active"),
        _("Open the contract"),
        lambda day, horizon: ProviderSwitch.objects.filter(
            direction=SwitchDirection.OUT, done_at__isnull=True, agreed_on__lte=horizon
        ),
        "agreed_on",
        VIA_CONTRACT,
        contract_url,
    ),
)


def all_sources() -> tuple[Source, ...]:
    """The contracts' own kinds of deadline and those other apps registered (billing's
    objection periods and itemized records, for example)."""
    return SOURCES + tuple(registry.deadline_sources.values())


def deadlines_ahead(
    *, on: date | None = None, days: int | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> DeadlinePage:
    """One page of every deadline up to ``days`` ahead (default ``CONTRACTS_DASHBOARD_DAYS``),
    overdue ones first, then by day.

    Each kind of deadline is one query an index answers, fetching only as many rows as the
    pages up to this one can show, and one count; the rows are merged in Python. So a page
    costs the same with 20,000 contracts as with 20."""
    day = on or today()
    horizon = day + timedelta(days=days if days is not None else settings.CONTRACTS_DASHBOARD_DAYS)
    sources = all_sources()
    total = overdue = 0
    for source in sources:
        rows, late = source.counts(day, horizon)
        total, overdue = total + rows, overdue + late
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    take = page * per_page
    found: list[Deadline] = []
    for source in sources:
        found.extend(source.rows(day, horizon, take=take))
    found.sort(key=lambda item: (not item.overdue, item.due, item.reference or ""))
    return DeadlinePage(
        rows=found[take - per_page : take], total=total, overdue=overdue, page=page, pages=pages
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
