"""Benchmark 10: the operator's deadline dashboard with 10,000 customers and 20,000 contracts.

Data: ``contracts_data.build`` in a throw-away test database (see that module). One run of the
selector is ``contracts.selectors.deadlines_ahead(on=day)`` (the default horizon,
``CONTRACTS_DASHBOARD_DAYS``); one run of the page is a GET of ``/betrieb/fristen/`` through
Django's test client as an operator holding the CUSTOMERS capability (logged in with
``force_login``, the second factor proved in the session as ``tests/conftest.client_for`` does).
If the page still answers 404 (the view is a placeholder), only the selector is timed and
``deadlines_page=placeholder`` says so. 5 warm-up runs, then 50 timed runs of each.

    uv run python bench/deadlines_dashboard.py    # PostgreSQL test_treffpunkt_bench (BENCH_PG_URL)
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 uv run python bench/deadlines_dashboard.py   # SQLite

Prints deadlines_rows, deadlines_p50_ms / deadlines_p95_ms (the page; goal p95 ≤ 100 ms on
PostgreSQL), deadlines_selector_p50_ms / deadlines_selector_p95_ms and the queries of one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from common import emit, machine_figures, note, percentile
from contracts_data import bench_day, build, throwaway_database

GOAL_P95_MS = 100.0
PAGE = "/betrieb/fristen/"


def timed(run: Callable[[], object], *, warmup: int, runs: int) -> list[float]:
    for _ in range(warmup):
        run()
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


class QueryCounter:
    """Counts the SQL statements run on the default connection (``execute_wrapper``)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def count_queries(run: Callable[[], object]) -> int:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        run()
    return counter.count


def operator_client() -> Any:  # a django.test.Client (imported inside, after setup)
    """A test client logged in as an operator with exactly the CUSTOMERS capability."""
    from django.contrib.auth.models import Group
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from treffpunkt.accounts.models import Role, User
    from treffpunkt.accounts.permissions import Capability

    operator = User.objects.create_user(
        email="olga.betrieb@bench.example.org",
        password=None,
        display_name="Olga Betrieb",
        role=Role.OPERATOR,
        organization=None,
        is_staff=True,
    )
    operator.groups.add(Group.objects.get(permissions__codename=Capability.CUSTOMERS.codename))
    device = TOTPDevice.objects.create(user=operator, name="bench app", confirmed=True)
    client = Client()
    client.force_login(operator)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile 20 more page runs")
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()

    with throwaway_database(keep=args.keep_db) as where:
        import logging

        from django.db import connection

        from treffpunkt.contracts.selectors import deadlines_ahead

        day = bench_day()
        build(day)
        client = operator_client()

        def selector() -> object:
            return deadlines_ahead(on=day)

        def page() -> object:
            response = client.get(PAGE)
            assert response.status_code == 200, response.status_code
            return response

        # The placeholder's 404 would log a warning on every run.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        found = deadlines_ahead(on=day)
        selector_queries = count_queries(selector)
        status = client.get(PAGE).status_code
        emit("deadlines_database", where)
        emit("deadlines_backend", connection.vendor)
        emit("deadlines_day", day.isoformat())
        emit("deadlines_rows", found.total)
        emit("deadlines_overdue_rows", found.overdue)
        emit("deadlines_rows_on_first_page", len(found.rows))
        emit("deadlines_selector_queries", selector_queries)
        emit("deadlines_page_status", status)
        machine_figures("deadlines")

        selector_ms = timed(selector, warmup=args.warmup, runs=args.runs)
        emit("deadlines_selector_runs", len(selector_ms))
        emit("deadlines_selector_p50_ms", percentile(selector_ms, 50))
        emit("deadlines_selector_p95_ms", percentile(selector_ms, 95))
        emit("deadlines_selector_max_ms", max(selector_ms))

        if status == 404:
            note(f"{PAGE} answers 404: the view is still a placeholder; timed the selector only")
            emit("deadlines_page", "placeholder")
            goal_figure = percentile(selector_ms, 95)
        elif status != 200:
            note(f"{PAGE} answers {status}, not 200")
            return 1
        else:
            emit("deadlines_page", "rendered")
            emit("deadlines_page_queries", count_queries(page))
            page_ms = timed(page, warmup=args.warmup, runs=args.runs)
            emit("deadlines_runs", len(page_ms))
            emit("deadlines_p50_ms", percentile(page_ms, 50))
            emit("deadlines_p95_ms", percentile(page_ms, 95))
            emit("deadlines_max_ms", max(page_ms))
            goal_figure = percentile(page_ms, 95)
        emit("deadlines_goal_p95_ms", GOAL_P95_MS)
        emit("deadlines_goal_met", "yes" if goal_figure <= GOAL_P95_MS else "no")

        if args.profile:
            import cProfile
            import pstats

            run = page if status == 200 else selector
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                run()
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
