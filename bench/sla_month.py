"""Benchmark: a customer's monthly availability figure (P-SLA-1) over a month of probe data.

Data, in a throw-away PostgreSQL test database of its own (``test_treffpunkt_bench_sla`` on
``BENCH_PG_URL``; ``contracts_data.throwaway_database``), made with the ORM directly, seed fixed:

- one customer (a company, "K-00001");
- the previous calendar month (Europe/Berlin) of minute-level probe results: 10 checks a minute
  for ``--minutes`` minutes (default 43,200 = 30 days) from the month's start, 432,000
  ``ProbeResult`` rows, ``bulk_create`` in batches of 10,000. The 10 checks: the 7 ``Check``
  functions of the platform's own probe (source ``internal``) plus pages, sign-in and database
  from an outside monitor (source ``external``). A check fails in the minutes of an incident
  of its function, as the probe would have seen it;
- 20 incidents (``fix_due_at`` from ``services.fix_deadline``): 6 significant and late (ended
  after the fix deadline), 8 significant and fixed in time, 6 insignificant; two of them (one
  late, one in time) scoped to the customer, the others to everyone;
- 4 maintenance windows of two hours (one scoped to the customer, one covering part of a late
  incident), created directly, since ``services.plan_maintenance`` refuses the past.

One run is ``availability.selectors.month_report(month, customer)``, what the customer's page
computes for the month: 3 warm-up runs, then 50 timed (``--runs``). Then the whole context of
the customer's report page, ``availability.views.report_context(customer, month)`` (the month,
twelve months of history and the chart), 20 timed runs (``--page-runs``) after the warm-up.
Note: the figure is computed from incidents and maintenance windows, not from the probe rows;
those are there so that the tables have the size of a real month.

    uv run python bench/sla_month.py     # in this checkout: python3 -m uv run --frozen python …

Prints sla_month_p95_ms (goal ≤ 200 ms), sla_month_median_ms, sla_month_page_p95_ms, the
figure (sla_month_percent, sla_month_minutes_unavailable) and the inputs and row counts. Exit 1
if the rows in the database are not the ones built.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from common import PG_SERVER_URL, emit, machine_figures, note, percentile

GOAL_P95_MS = 200.0
BATCH = 10_000
SEED = 23
DB_NAME = "treffpunkt_bench_sla"  # Django's test database: test_treffpunkt_bench_sla
# 6 significant and late, 8 significant in time, 6 insignificant.
LATE, IN_TIME, INSIGNIFICANT = 6, 8, 6
WINDOWS = 4


def timed(run: Callable[[], object], *, warmup: int, runs: int) -> list[float]:
    for _ in range(warmup):
        run()
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def count_queries(run: Callable[[], object]) -> int:
    from django.db import connection

    count = 0

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        run()
    return count


def previous_month() -> date:
    from treffpunkt.core import clock

    return (clock.operator_today().replace(day=1) - timedelta(days=1)).replace(day=1)


def make_customer() -> Any:
    from django.db import transaction

    from treffpunkt.customers.models import Customer, CustomerKind

    with transaction.atomic():
        customer = Customer.objects.create(
            kind=CustomerKind.COMPANY,
            legal_name="Beispiel Beratung GmbH",
            legal_form="GmbH",
            street="Hauptstraße 1",
            postal_code="10115",
            city="Berlin",
            vat_id="DE136695976",
        )
        customer.customer_number = f"K-{customer.pk:05d}"
        customer.save(update_fields=["customer_number"])
    return customer


def make_incidents(
    month_start: datetime, span: timedelta, customer: Any, rng: random.Random
) -> list[Any]:
    """The 20 incidents of the module docstring, started in the first 80 % of the span."""
    from treffpunkt.availability.models import Check, Incident
    from treffpunkt.availability.services import fix_deadline

    functions = list(Check)
    incidents = []
    kinds = ["late"] * LATE + ["in_time"] * IN_TIME + ["insignificant"] * INSIGNIFICANT
    for index, kind in enumerate(kinds):
        started = month_start + timedelta(
            minutes=rng.randrange(int(span.total_seconds() // 60 * 0.8))
        )
        due = fix_deadline(started)
        if kind == "late":
            ended = due + timedelta(minutes=rng.randrange(20, 180))
        elif kind == "in_time":
            ended = started + timedelta(minutes=rng.randrange(5, 120))
        else:
            ended = started + timedelta(minutes=rng.randrange(5, 600))
        ended = min(ended, month_start + span)
        function = functions[index % len(functions)]
        incident = Incident.objects.create(
            title=f"{function.label}: check failed",
            function=function,
            started_at=started,
            ended_at=ended,
            significant=kind != "insignificant",
            fix_due_at=due,
            opened_automatically=True,
            created_at=started,
        )
        # One late and one in-time incident concern only this customer.
        if index in (0, LATE):
            incident.customers.add(customer)
        incidents.append(incident)
    return incidents


def make_windows(month_start: datetime, late: Any, customer: Any) -> list[Any]:
    """4 two-hour windows: one over the late part of ``late``, one for the customer only."""
    from treffpunkt.availability.models import MaintenanceWindow

    starts = [late.fix_due_at + timedelta(minutes=10)] + [
        month_start + timedelta(days=day, hours=22) for day in (3, 12, 19)
    ]
    windows = []
    for index, starts_at in enumerate(starts):
        window = MaintenanceWindow.objects.create(
            title=f"Wartung {index + 1}",
            description="Updates of the servers",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            announced_at=starts_at - timedelta(days=3),
            created_at=starts_at - timedelta(days=3),
        )
        if index == 1:
            window.customers.add(customer)
        windows.append(window)
    return windows


def make_probe_results(
    month_start: datetime, minutes: int, incidents: list[Any], rng: random.Random
) -> int:
    """10 results a minute; a check fails while an incident of its function runs."""
    from treffpunkt.availability.models import Check, ProbeResult, ProbeSource

    # The platform's own probe checks all 7 functions; the outside monitor 3 of them.
    checks = [(function, ProbeSource.INTERNAL) for function in Check] + [
        (function, ProbeSource.EXTERNAL) for function in (Check.PAGES, Check.LOGIN, Check.DATABASE)
    ]
    failing: dict[str, list[tuple[int, int]]] = {}
    for incident in incidents:
        first = int((incident.started_at - month_start).total_seconds() // 60)
        last = int((incident.ended_at - month_start).total_seconds() // 60)
        failing.setdefault(incident.function, []).append((first, last))

    batch: list[Any] = []
    written = 0
    for minute in range(minutes):
        at = month_start + timedelta(minutes=minute)
        for function, source in checks:
            ok = not any(first <= minute < last for first, last in failing.get(function, ()))
            batch.append(
                ProbeResult(
                    function=function,
                    at=at,
                    ok=ok,
                    duration_ms=rng.randrange(1, 40),
                    detail="" if ok else "status 502",
                    source=source,
                )
            )
        if len(batch) >= BATCH:
            ProbeResult.objects.bulk_create(batch, batch_size=BATCH)
            written += len(batch)
            batch = []
    if batch:
        ProbeResult.objects.bulk_create(batch, batch_size=BATCH)
        written += len(batch)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=43_200, help="minutes of probe results")
    parser.add_argument("--runs", type=int, default=50, help="timed runs of month_report")
    parser.add_argument("--page-runs", type=int, default=20, help="timed runs of report_context")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()

    # Our own database name (the helper would name it after the script); DATABASE_URL wins.
    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER_URL}/{DB_NAME}")
    from contracts_data import throwaway_database

    with throwaway_database(keep=args.keep_db) as where:
        from django.db import connection

        from treffpunkt.availability import selectors
        from treffpunkt.availability.figures import month_bounds
        from treffpunkt.availability.models import Incident, MaintenanceWindow, ProbeResult
        from treffpunkt.availability.views import report_context

        rng = random.Random(SEED)
        month = previous_month()
        berlin_start, berlin_end = month_bounds(month)
        month_start = berlin_start.astimezone(UTC)
        span = berlin_end - berlin_start
        built = time.perf_counter()
        customer = make_customer()
        incidents = make_incidents(month_start, span, customer, rng)
        make_windows(month_start, incidents[0], customer)
        probe_rows = make_probe_results(month_start, args.minutes, incidents, rng)
        build_s = time.perf_counter() - built
        note(f"built {probe_rows} probe results, {len(incidents)} incidents in {build_s:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ProbeResult._meta.db_table}")  # our own table

        def run() -> object:
            return selectors.month_report(month, customer)

        def page() -> object:
            return report_context(customer, month)

        report = selectors.month_report(month, customer)
        counts = {
            "probe_rows": ProbeResult.objects.count(),
            "incidents": Incident.objects.count(),
            "maintenance_windows": MaintenanceWindow.objects.count(),
        }
        emit("sla_month_database", where)
        emit("sla_month_backend", connection.vendor)
        emit("sla_month_month", f"{month:%Y-%m}")
        emit("sla_month_customer", customer.customer_number)
        emit("sla_month_minutes", args.minutes)
        emit("sla_month_minutes_in_month", report.figure.minutes_total)
        for name, value in counts.items():
            emit(f"sla_month_{name}", value)
        emit("sla_month_incidents_late", LATE)
        emit("sla_month_incidents_in_time", IN_TIME)
        emit("sla_month_incidents_insignificant", INSIGNIFICANT)
        emit("sla_month_incidents_for_customer_only", 2)
        emit("sla_month_incidents_in_report", len(report.incidents))
        emit("sla_month_maintenance_in_report", len(report.maintenance))
        emit("sla_month_percent", report.figure.percent)
        emit("sla_month_minutes_unavailable", f"{report.figure.minutes_unavailable:.2f}")
        emit("sla_month_meets_promise", "yes" if report.figure.meets_goal else "no")
        emit("sla_month_build_s", build_s)
        emit("sla_month_queries", count_queries(run))
        emit("sla_month_page_queries", count_queries(page))
        machine_figures("sla_month")

        report_ms = timed(run, warmup=args.warmup, runs=args.runs)
        emit("sla_month_runs", len(report_ms))
        emit("sla_month_median_ms", percentile(report_ms, 50))
        emit("sla_month_p95_ms", percentile(report_ms, 95))
        emit("sla_month_max_ms", max(report_ms))

        page_ms = timed(page, warmup=args.warmup, runs=args.page_runs)
        emit("sla_month_page_runs", len(page_ms))
        emit("sla_month_page_median_ms", percentile(page_ms, 50))
        emit("sla_month_page_p95_ms", percentile(page_ms, 95))

        emit("sla_month_goal_p95_ms", GOAL_P95_MS)
        emit("sla_month_goal_met", "yes" if percentile(report_ms, 95) <= GOAL_P95_MS else "no")

        expected = {
            "probe_rows": args.minutes * 10,
            "incidents": LATE + IN_TIME + INSIGNIFICANT,
            "maintenance_windows": WINDOWS,
        }
        if counts != expected:
            note(f"rows in the database {counts}, built {expected}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
