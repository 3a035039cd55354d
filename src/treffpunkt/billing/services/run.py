"""The monthly billing run (P-BILL-1): on ``BILLING_RUN_DAY`` of a month (Berlin time) every
live contract gets one invoice for that month: its monthly fee in advance (pro rata for a
partial first or last month) and, for video conferencing, the minutes beyond those included in
the month before (from the call records, P-CALL-7).

Idempotent: each invoice carries the key "contract:<id>:<YYYY-MM>", unique in the database.
Run twice, or killed halfway and run again, every contract and month is invoiced exactly once;
an invoice whose PDF or mail did not happen yet gets them on the next pass."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from treffpunkt.billing.models import Invoice, UnitCode
from treffpunkt.billing.services.issuing import AlreadyBilled, LineDraft, issue_invoice, render_pdf
from treffpunkt.billing.services.sending import send_invoice
from treffpunkt.calls.models import CallSession
from treffpunkt.contracts.deadlines import last_day_of_month
from treffpunkt.contracts.models import LIVE_STATES, Contract, Price, Product, ProductKind
from treffpunkt.contracts.services import price_on
from treffpunkt.contracts.services.letters import customer_language
from treffpunkt.core import audit, clock
from treffpunkt.customers.models import Customer, CustomerContact, CustomerOrganization

FOUR_PLACES = Decimal("0.0001")
SETTINGS_MODULE = "treffpunkt.settings"

logger = logging.getLogger(__name__)


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


def run_billing(*, month: date | None = None, processes: int | None = None) -> dict[str, int]:
    """Invoice every live contract for the month of ``month`` (default: this month).

    On PostgreSQL the contracts are shared out over ``processes`` worker processes
    (``BILLING_RUN_PROCESSES``, by default one per core): rendering the PDFs is most of a run's
    time and one process uses one core. Each process invoices the contracts whose id modulo the
    number of processes is its own; then this process goes over all contracts once more, which
    finds nothing left unless a worker died. SQLite (one writer) and a caller inside a
    transaction (the workers could not see its data) run in this process alone."""
    period = Month.of(month or clock.operator_today())
    counts: Counter[str] = Counter()
    workers = processes if processes is not None else settings.BILLING_RUN_PROCESSES
    if workers > 1 and _can_share_out():
        counts.update(shared_out(period, workers))
    counts.update(invoice_contracts(period))
    counts.update(finish_unfinished(period))
    # The final pass finds the workers' invoices again; they are not counted twice.
    counts["already_invoiced"] -= counts.pop("invoiced_by_workers", 0)
    result = {key: value for key, value in counts.items() if value > 0}
    audit.record("billing.run.finished", actor=None, data={"month": period.key, **result})
    return result


def invoice_contracts(period: Month, *, shard: tuple[int, int] | None = None) -> Counter[str]:
    """Issue and send the invoice of each billable contract for ``period`` that has none yet;
    ``shard`` (k, n): only the contracts whose id is k modulo n."""
    counts: Counter[str] = Counter()
    billed = set(
        Invoice.objects.filter(
            billing_key__startswith="contract:", billing_key__endswith=f":{period.key}"
        ).values_list("contract_id", flat=True)
    )
    contracts = [
        contract
        for contract in billable_contracts(period)
        if shard is None or contract.pk % shard[1] == shard[0]
    ]
    todo = [contract for contract in contracts if contract.pk not in billed]
    counts["already_invoiced"] += len(contracts) - len(todo)
    facts = RunFacts.gather(todo, period)
    for contract in todo:
        language = facts.language(contract.customer)
        lines = contract_lines(contract, period, language=language, facts=facts)
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
        counts["invoices_sent"] += _send_if_possible(invoice, facts=facts)
    return counts


def billable_contracts(period: Month) -> list[Contract]:
    return list(
        Contract.objects.filter(state__in=LIVE_STATES, start__lte=period.last)
        .exclude(kind=ProductKind.HARDWARE)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period.first))
        .select_related("customer", "product")
        .order_by("pk")
    )


@dataclass
class RunFacts:
    """What the run needs to know about many contracts at once, read in a few queries instead
    of several per contract: each customer's language and contacts, the video contract that
    carries its usage, its call minutes in the month before, and the prices in force. Not
    ``complete`` (made empty): each question goes to the database, for a single contract."""

    languages: dict[int, str] = field(default_factory=dict)
    with_contact: set[int] = field(default_factory=set)
    usage_contracts: dict[int, int] = field(default_factory=dict)
    minutes: dict[int, int] = field(default_factory=dict)
    prices: dict[tuple[int, date], Price | None] = field(default_factory=dict)
    complete: bool = False

    @classmethod
    def gather(cls, contracts: Sequence[Contract], period: Month) -> RunFacts:
        facts = cls(complete=True)
        if not contracts:
            return facts
        # Read for every customer rather than through a list of ids: a list of 10,000 ids is
        # beyond SQLite's limit of parameters, and the rows are few and narrow.
        default = str(settings.LANGUAGE_CODE)
        for customer_id, user_id, language in CustomerContact.objects.order_by("pk").values_list(
            "customer_id", "user_id", "user__preferred_language"
        ):
            facts.with_contact.add(customer_id)
            if user_id is not None and customer_id not in facts.languages:
                facts.languages[customer_id] = language or default  # as customer_language
        for customer_id, contract_id in (
            Contract.objects.filter(kind=ProductKind.VIDEO, state__in=LIVE_STATES)
            .order_by("-pk")
            .values_list("customer_id", "pk")
        ):
            facts.usage_contracts[customer_id] = contract_id  # the lowest id wins, as alone
        facts.minutes = minutes_by_customer(period.before())
        return facts

    def language(self, customer: Customer) -> str:
        if not self.complete:
            return customer_language(customer)
        return self.languages.get(customer.pk, str(settings.LANGUAGE_CODE))

    def usage_contract(self, customer: Customer) -> int | None:
        if not self.complete:
            return _usage_contract(customer)
        return self.usage_contracts.get(customer.pk)

    def minutes_of(self, customer: Customer, month: Month) -> int:
        if not self.complete:
            return minutes_used(customer, month)
        return self.minutes.get(customer.pk, 0)

    def has_contact(self, customer: Customer) -> bool:
        if not self.complete:
            return customer.contacts.exists()
        return customer.pk in self.with_contact

    def price_on(self, product: Product, day: date) -> Price | None:
        key = (product.pk, day)
        if key not in self.prices:
            self.prices[key] = price_on(product, day)
        return self.prices[key]


def shared_out(period: Month, workers: int) -> Counter[str]:
    """Run ``invoice_contracts`` in ``workers`` fresh Python processes, one shard each
    (``python -m treffpunkt.billing.run_shard``). Fresh processes, not forks: the process that
    runs the task may hold threads and locks a fork would copy; and not ``multiprocessing``,
    whose spawned children import the parent's main script again."""
    # What a fresh process could get wrong from the settings module alone: the database the
    # caller uses (a test's, say) and where the documents are stored.
    job = {
        "month": period.first.isoformat(),
        "workers": workers,
        "database": str(connection.settings_dict["NAME"]),
        "private_files_dir": str(settings.PRIVATE_FILES_DIR),
    }
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE),
        "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry),
    }
    started = [
        subprocess.Popen(  # this interpreter, a module of ours, no shell
            [sys.executable, "-m", "treffpunkt.billing.run_shard"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            text=True,
        )
        for _ in range(workers)
    ]
    for index, process in enumerate(started):  # all start working before any is waited for
        assert process.stdin is not None  # noqa: S101  # opened as a pipe above
        process.stdin.write(json.dumps({**job, "index": index}))
        process.stdin.close()
    counts: Counter[str] = Counter()
    for index, process in enumerate(started):
        assert process.stdout is not None  # noqa: S101  # opened as a pipe above
        output = process.stdout.read()
        process.stdout.close()
        process.wait()
        if process.returncode != 0:
            # The final pass in this process invoices what the shard left; the log says why.
            logger.error("billing run: shard %s of %s failed", index, workers)
            counts["worker_failures"] += 1
            continue
        result: dict[str, int] = json.loads(output.strip().splitlines()[-1])
        counts.update(result)
        counts["invoiced_by_workers"] += result.get("invoices_issued", 0)
    counts["worker_processes"] = workers
    return counts


def invoice_shard(job: dict[str, Any]) -> dict[str, int]:
    """One worker process's part of the run (see ``run_shard``), Django already set up."""
    period = Month.of(date.fromisoformat(job["month"]))
    try:
        return dict(invoice_contracts(period, shard=(int(job["index"]), int(job["workers"]))))
    finally:
        connection.close()


def _can_share_out() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


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


def _send_if_possible(invoice: Invoice, *, facts: RunFacts | None = None) -> int:
    if not (facts or RunFacts()).has_contact(invoice.customer):
        return 0  # the operator sends it by hand once there is a contact
    send_invoice(actor=None, invoice=invoice)
    return 1


def contract_lines(
    contract: Contract,
    period: Month,
    *,
    language: str | None = None,
    facts: RunFacts | None = None,
) -> list[LineDraft]:
    """The fee for ``period`` (pro rata) and the extra minutes of the month before, described
    in the customer's language. ``facts``: what the run read once for all its contracts."""
    facts = facts or RunFacts()
    with translation.override(language or facts.language(contract.customer)):
        lines = [
            *fee_lines(contract, period, facts=facts),
            *usage_lines(contract, period.before(), facts=facts),
        ]
    return lines


def fee_lines(
    contract: Contract, period: Month, *, facts: RunFacts | None = None
) -> list[LineDraft]:
    start = max(contract.start, period.first)
    end = min(contract.ends_on or period.last, period.last)
    if end < start:
        return []
    price = (facts or RunFacts()).price_on(contract.product, start)
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


def usage_lines(
    contract: Contract, month: Month, *, facts: RunFacts | None = None
) -> list[LineDraft]:
    """Minutes beyond those included, in ``month`` (the month before the invoiced one)."""
    facts = facts or RunFacts()
    if contract.kind != ProductKind.VIDEO or contract.start > month.last:
        return []
    if facts.usage_contract(contract.customer) != contract.pk:
        return []  # a customer's usage is billed once, on its first video contract
    price = facts.price_on(contract.product, month.last)
    if price is None or price.per_minute is None or price.included_minutes is None:
        return []
    used = facts.minutes_of(contract.customer, month)
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
    return minutes_by_customer(month, customers=[customer.pk]).get(customer.pk, 0)


def minutes_by_customer(month: Month, *, customers: Sequence[int] | None = None) -> dict[int, int]:
    """``minutes_used`` of every customer (or of ``customers``) at once."""
    links = CustomerOrganization.objects.all()
    if customers is not None:
        links = links.filter(customer_id__in=customers)
    customer_of = dict(links.values_list("organization_id", "customer_id"))
    # ``__date`` compares in the current time zone, settings.TIME_ZONE (Berlin).
    calls = CallSession.objects.filter(
        ended_at__isnull=False,
        ended_at__date__gte=month.first,
        ended_at__date__lte=month.last,
    )
    if customers is not None:
        calls = calls.filter(appointment__organization_id__in=list(customer_of))
    minutes: Counter[int] = Counter()
    for organization_id, started, ended in calls.values_list(
        "appointment__organization_id", "started_at", "ended_at"
    ):
        customer_id = customer_of.get(organization_id)
        if customer_id is not None and ended is not None:
            minutes[customer_id] += math.ceil(max((ended - started).total_seconds(), 0) / 60)
    return dict(minutes)
