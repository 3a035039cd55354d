"""Benchmark 14: the monthly billing run for 10,000 contracts, XML and PDF for each invoice.

Data (seed fixed, ``bulk_create``, not the services) in a throw-away test database of its own
(``contracts_data.throwaway_database`` on ``test_treffpunkt_bench_billing``, so that it does not
clobber the contracts benchmarks' ``test_treffpunkt_bench``): 10,000 customers (companies, VAT
id), each with one contact with an e-mail address (so every invoice is mailed), one video
product with a monthly fee of 249.00 € (2,000 minutes included), and one live video contract
per customer (``--contracts``): 96 % active since some day of the three years before the bench
month, 2 % waiting for their first invoice and starting in the month (pro rata; the invoice
switches them on), 2 % cancelled and ending in the month (pro rata). No call records: every
video contract asks for its minutes of the month before and finds none, so each invoice has
one line.

One run is ``billing.services.run_billing(month=<first day of this month>)``, wall clock, as the
scheduler calls it: on PostgreSQL it shares the contracts out over ``BILLING_RUN_PROCESSES``
worker processes (one per core by default; ``--processes`` sets it), each issuing its contracts'
invoices (the number and the XML in one transaction, the PDF/A-3 rendered after the commit, then
the mail with the PDF), and then passes over all contracts once more itself. Then the same run
again, which must issue nothing. ``billing_run_python_cpu_s`` counts this process and the worker
processes.

With ``--processes 1`` the time spent in ``billing.einvoice.build_cii``, in the issuing
transaction (``_issue``), in ``render_pdf`` (and ``documents.rendering.render`` within it) and
in ``send_invoice`` is measured by wrapping those functions, as ``renewal_run.py`` does (with
several processes the wrappers see only the final pass); ``--profile`` (with ``--processes 1``)
runs the first run under cProfile instead (slower; the top functions go to stderr).

    uv run python bench/billing_run.py                  # 10,000 contracts, one process per core
    uv run python bench/billing_run.py --processes 1    # the same in one process, with breakdown
    uv run python bench/billing_run.py --contracts 500  # a quick run

Prints billing_run_s (goal ≤ 300 on PostgreSQL), billing_run_invoices, billing_run_per_s, the
breakdown, billing_run_rerun_s and billing_run_rerun_new_invoices (must be 0). Exit status 1
if the rerun issued anything, or if not every contract has exactly one invoice with a PDF that
was sent.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

from common import (
    PG_SERVER_URL,
    emit,
    machine_cpu_ticks,
    machine_figures,
    note,
    postgres_cpu_seconds,
)

GOAL_S = 300.0
CONTRACTS = 10_000
BATCH = 2000
SEED = 14
DATABASE = "treffpunkt_bench_billing"  # the test database is test_treffpunkt_bench_billing


# --- timing ---------------------------------------------------------------------------------


class Stopwatch:
    """Calls and seconds spent in one wrapped function (outermost calls only)."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._depth = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth -= 1
                if not self._depth:
                    self.calls += 1
                    self.seconds += time.perf_counter() - began

        return timed


WATCHED = ("issue_tx", "build_cii", "render_pdf", "pdf_render", "send_invoice")


@contextmanager
def stopwatches(progress_every: int = 0) -> Iterator[dict[str, Stopwatch]]:
    """Time the issuing transaction (``_issue``), ``build_cii`` within it, ``render_pdf`` and
    ``rendering.render`` within it, and ``send_invoice``, while the block runs."""
    from treffpunkt.billing.services import issuing
    from treffpunkt.billing.services import run as billing_run
    from treffpunkt.documents import rendering

    watches = {name: Stopwatch() for name in WATCHED}
    patched = [
        (issuing, "_issue", watches["issue_tx"]),
        (issuing, "build_cii", watches["build_cii"]),
        (issuing, "render_pdf", watches["render_pdf"]),
        (rendering, "render", watches["pdf_render"]),
        (billing_run, "send_invoice", watches["send_invoice"]),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in patched]
    for module, name, watch in patched:
        setattr(module, name, watch.wrap(getattr(module, name)))
    if progress_every:
        started = time.perf_counter()
        sending = billing_run.send_invoice

        def with_progress(*args: Any, **kwargs: Any) -> Any:
            result = sending(*args, **kwargs)
            done = watches["send_invoice"].calls
            if done % progress_every == 0:
                note(f"{done} invoices sent, {time.perf_counter() - started:.0f} s")
            return result

        billing_run.send_invoice = with_progress
    try:
        yield watches
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


# --- data -----------------------------------------------------------------------------------


def build(month: date, contracts: int, *, seed: int = SEED) -> float:
    """Customers, contacts, the video product and ``contracts`` live contracts (see above)."""
    from treffpunkt.contracts.deadlines import last_day_of_month
    from treffpunkt.contracts.models import (
        Contract,
        ContractState,
        EndReason,
        Price,
        Product,
        ProductKind,
    )
    from treffpunkt.contracts.services.terms import term_dates
    from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind

    started = time.perf_counter()
    rng = random.Random(seed)
    month_end = last_day_of_month(month.year, month.month)
    Customer.objects.bulk_create(
        [
            Customer(
                kind=CustomerKind.COMPANY,
                customer_number=f"K-{n:05d}",
                legal_name=f"Muster {n:05d} GmbH",
                legal_form="GmbH",
                street=f"Industriestraße {n % 200 + 1}",
                postal_code=f"{10000 + n * 7 % 89999:05d}",
                city=rng.choice(("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main")),
                vat_id=f"DE{100000000 + n * 7919 % 899999999:09d}",
            )
            for n in range(1, contracts + 1)
        ],
        batch_size=BATCH,
    )
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    CustomerContact.objects.bulk_create(
        [
            CustomerContact(
                customer_id=pk, name=f"Kontakt {n:05d}", email=f"rechnung@muster-{n:05d}.example"
            )
            for n, pk in enumerate(customer_ids, start=1)
        ],
        batch_size=BATCH,
    )
    video = Product.objects.create(code="video-beratung", kind=ProductKind.VIDEO, name="Video")
    Price.objects.create(
        product=video,
        valid_from=month - timedelta(days=5 * 365),
        monthly_fee=Decimal("249.00"),
        included_minutes=2000,
        per_minute=Decimal("0.0400"),
    )
    rows = []
    for n, customer_id in enumerate(customer_ids, start=1):
        roll = rng.random()
        extra: dict[str, Any] = {}
        if roll < 0.02:  # waiting for its first invoice, starting in the month
            start = month + timedelta(days=rng.randrange((month_end - month).days + 1))
            state = ContractState.WAITING
        else:
            start = month - timedelta(days=1 + (n * 1095) // contracts)
            state = ContractState.ACTIVE
            extra["switched_on_at"] = datetime.combine(start, clock_time(9), tzinfo=UTC)
            extra["switched_on_by_invoice"] = f"RE-{start.year}-{n:05d}"
        fields: dict[str, Any] = term_dates(ProductKind.VIDEO, start)
        while fields["term_end"] < month:
            fields = term_dates(ProductKind.VIDEO, fields["term_end"] + timedelta(days=1))
        if state == ContractState.ACTIVE and roll > 0.98:  # cancelled, ending in the month
            state = ContractState.ENDING
            extra.update(
                ends_on=month + timedelta(days=rng.randrange(28)), end_reason=EndReason.CANCELLED
            )
        rows.append(
            Contract(
                customer_id=customer_id,
                product=video,
                kind=ProductKind.VIDEO,
                quantity=1,
                number=f"V-{n:06d}",
                state=state,
                start=start,
                **fields,
                **extra,
            )
        )
    Contract.objects.bulk_create(rows, batch_size=BATCH)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    states = Counter(row.state for row in rows)
    note(
        f"data built in {seconds:.1f} s: {contracts} customers with one contact, "
        f"{len(rows)} video contracts ({', '.join(f'{k} {v}' for k, v in sorted(states.items()))})"
    )
    return seconds


def python_cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the run's worker
    processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# --- checks ---------------------------------------------------------------------------------


def check(month: date) -> dict[str, int]:
    """Contracts billed for the month, their invoices, with PDF, sent; numbers of the year."""
    from django.db.models import Count

    from treffpunkt.billing.models import Invoice
    from treffpunkt.billing.services.run import Month, billable_contracts
    from treffpunkt.notifications.models import OutboxMail

    period = Month.of(month)
    run_invoices = Invoice.objects.filter(billing_key__endswith=f":{period.key}")
    per_contract = run_invoices.values("contract_id").annotate(n=Count("pk"))
    numbers = sorted(
        int(number.rsplit("-", 1)[1]) for number in run_invoices.values_list("number", flat=True)
    )
    return {
        "billable": len(billable_contracts(period)),
        "invoices": run_invoices.count(),
        "contracts_twice": sum(1 for row in per_contract if row["n"] > 1),
        "with_pdf": run_invoices.filter(document__isnull=False).count(),
        "sent": run_invoices.filter(sent_at__isnull=False).count(),
        "mails": OutboxMail.objects.count(),
        "number_gaps": (numbers[-1] - numbers[0] + 1 - len(numbers)) if numbers else 0,
    }


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=CONTRACTS, help="live contracts")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes the run shares the contracts out to (default: BILLING_RUN_PROCESSES, "
        "one per core)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first run")
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()
    if args.profile and args.processes != 1:
        parser.error("--profile profiles the one-process run: add --processes 1")

    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER_URL}/{DATABASE}")
    from contracts_data import throwaway_database

    with throwaway_database(keep=args.keep_db) as where:
        from django.conf import settings

        from treffpunkt.billing.models import Invoice
        from treffpunkt.billing.services import run_billing
        from treffpunkt.core import clock

        processes = args.processes or settings.BILLING_RUN_PROCESSES

        month = clock.operator_today().replace(day=1)
        build(month, args.contracts)
        emit("billing_run_database", where)
        emit("billing_run_month", month.isoformat())
        emit("billing_run_contracts", args.contracts)
        emit("billing_run_processes", processes)
        machine_figures("billing_run")

        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        db_cpu = postgres_cpu_seconds()
        machine = machine_cpu_ticks()
        cpu_before = python_cpu_seconds()
        began = time.perf_counter()
        # The stopwatches see this process only: with several processes, the final pass.
        with stopwatches(progress_every=1000 if processes == 1 else 0) as watches:
            if profiler is not None:
                profiler.enable()
            counts = run_billing(month=month, processes=processes)
            if profiler is not None:
                profiler.disable()
        first_s = time.perf_counter() - began
        python_cpu = python_cpu_seconds() - cpu_before
        db_cpu_after = postgres_cpu_seconds()
        busy, total = machine_cpu_ticks()
        if profiler is not None:
            import pstats

            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(50)

        found = check(month)
        issued = counts.get("invoices_issued", 0)
        emit("billing_run_s", first_s)
        emit("billing_run_invoices", issued)
        emit("billing_run_per_s", issued / first_s if first_s else 0.0)
        emit("billing_run_ms_per_invoice", 1000 * first_s / issued if issued else 0.0)
        for name, value in sorted(counts.items()):
            emit(f"billing_run_count_{name}", value)
        for name in WATCHED:
            emit(f"billing_run_{name}_calls", watches[name].calls)
            emit(f"billing_run_{name}_s", watches[name].seconds)
        measured = (
            watches["issue_tx"].seconds
            + watches["render_pdf"].seconds
            + watches["send_invoice"].seconds
        )
        emit(
            "billing_run_issue_tx_without_xml_s",
            watches["issue_tx"].seconds - watches["build_cii"].seconds,
        )
        emit(
            "billing_run_render_pdf_without_render_s",
            watches["render_pdf"].seconds - watches["pdf_render"].seconds,
        )
        if processes == 1:
            emit("billing_run_rest_s", first_s - measured)
        emit("billing_run_python_cpu_s", python_cpu)
        emit(
            "billing_run_db_cpu_s",
            db_cpu_after - db_cpu if db_cpu is not None and db_cpu_after is not None else -1.0,
        )
        span = total - machine[1]
        emit("billing_run_machine_cpu_busy_pct", 100 * (busy - machine[0]) / span if span else 0)
        for name, value in found.items():
            emit(f"billing_run_check_{name}", value)

        before = Invoice.objects.count()
        began = time.perf_counter()
        rerun = run_billing(month=month)
        rerun_s = time.perf_counter() - began
        new = Invoice.objects.count() - before
        emit("billing_run_rerun_s", rerun_s)
        emit("billing_run_rerun_new_invoices", new)
        emit("billing_run_rerun_already_invoiced", rerun.get("already_invoiced", 0))
        emit("billing_run_goal_s", GOAL_S)
        emit("billing_run_goal_met", "yes" if first_s <= GOAL_S else "no")
        wrong = (
            new != 0
            or found["invoices"] != found["billable"]
            or found["contracts_twice"]
            or found["with_pdf"] != found["invoices"]
            or found["sent"] != found["invoices"]
            or found["number_gaps"]
        )
        if wrong:
            note(f"wrong result: rerun issued {new}, checks {found}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
