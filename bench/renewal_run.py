"""Benchmark 11: the daily contract run catching up 30 days, with 20,000 contracts.

Data: ``contracts_data.build`` in a throw-away test database (see that module): the last run
was 30 days ago, so ``run_contracts_day(on=day)`` lets overdue orders lapse, brings changes and
transfers into effect, sends the consent requests and reminders that came due, and renews or
ends every contract whose term ended since. It is timed once, wall clock. Then it runs a second
time on the same day, which must change nothing: contract states, the sum of term ends, the
consent dates, contract events, audit entries (other than the run's own
``contracts.run.finished``), outbox mails, documents, orders, changes and transfers are counted
before and after.

Letters are PDFs rendered with Typst; the time spent in ``letters.send_letter`` (and in
``documents.rendering.render`` within it) and in ``holds.sync_holds`` is measured by wrapping
those functions, so the breakdown shows how much of the run is letters. ``--profile`` runs the
first run under cProfile instead (slower; the top functions go to stderr).

    uv run python bench/renewal_run.py      # PostgreSQL test_treffpunkt_bench (BENCH_PG_URL)
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 uv run python bench/renewal_run.py   # SQLite

Prints renewal_run_s (goal ≤ 30 on PostgreSQL), the counts the run returned
(``renewal_count_<name>``), the breakdown, renewal_second_run_s and
renewal_second_run_changes (must be 0; exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from common import emit, machine_figures, note
from contracts_data import bench_day, build, throwaway_database

GOAL_S = 30.0


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


@contextmanager
def stopwatches() -> Iterator[dict[str, Stopwatch]]:
    """Time ``send_letter``, ``rendering.render`` and ``sync_holds`` while the block runs."""
    from treffpunkt.contracts.services import letters, lifecycle
    from treffpunkt.documents import rendering

    watches = {"letters": Stopwatch(), "pdf_render": Stopwatch(), "sync_holds": Stopwatch()}
    patched = [
        (letters, "send_letter", watches["letters"]),
        (rendering, "render", watches["pdf_render"]),
        (lifecycle, "sync_holds", watches["sync_holds"]),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in patched]
    for module, name, watch in patched:
        setattr(module, name, watch.wrap(getattr(module, name)))
    try:
        yield watches
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def snapshot() -> dict[str, int]:
    """Everything a run may change, as numbers."""
    from django.db.models import Count

    from treffpunkt.contracts.models import (
        ChangeNotice,
        Contract,
        ContractEvent,
        CustomerDocument,
        Order,
        Transfer,
    )
    from treffpunkt.core.models import AuditEntry
    from treffpunkt.documents.models import Document
    from treffpunkt.notifications.models import OutboxMail

    found: dict[str, int] = {}
    for state, count in Contract.objects.values_list("state").annotate(n=Count("pk")):
        found[f"contracts_{state}"] = count
    for order_state, count in Order.objects.values_list("state").annotate(n=Count("pk")):
        found[f"orders_{order_state}"] = count
    dates = Contract.objects.values_list(
        "term_end", "consent_requested_on", "consent_reminded_on", "ends_on"
    )
    sums = [0, 0, 0, 0]
    for row in dates:
        for index, value in enumerate(row):
            if value is not None:
                sums[index] += value.toordinal()
    for name, total in zip(
        ("term_end_sum", "consent_requested_sum", "consent_reminded_sum", "ends_on_sum"),
        sums,
        strict=True,
    ):
        found[name] = total
    found["contract_events"] = ContractEvent.objects.count()
    found["audit_entries"] = AuditEntry.objects.exclude(code="contracts.run.finished").count()
    found["outbox_mails"] = OutboxMail.objects.count()
    found["documents"] = Document.objects.count()
    found["customer_documents"] = CustomerDocument.objects.count()
    found["changes_in_effect"] = ChangeNotice.objects.filter(in_effect=True).count()
    found["transfers_in_effect"] = Transfer.objects.filter(in_effect=True).count()
    return found


def differences(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        key: after.get(key, 0) - before.get(key, 0)
        for key in sorted(before.keys() | after.keys())
        if after.get(key, 0) != before.get(key, 0)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="store_true", help="cProfile the first run")
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()

    with throwaway_database(keep=args.keep_db) as where:
        from treffpunkt.contracts.services import run_contracts_day

        day = bench_day()
        build(day)
        emit("renewal_database", where)
        emit("renewal_day", day.isoformat())
        machine_figures("renewal")

        before_first = snapshot()
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        with stopwatches() as watches:
            began = time.perf_counter()
            counts = run_contracts_day(on=day)
            first_s = time.perf_counter() - began
        if profiler is not None:
            import pstats

            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
        after_first = snapshot()

        emit("renewal_run_s", first_s)
        for name, value in sorted(counts.items()):
            emit(f"renewal_count_{name}", value)
        for name, watch in watches.items():
            emit(f"renewal_{name}_calls", watch.calls)
            emit(f"renewal_{name}_s", watch.seconds)
        letters_s = watches["letters"].seconds
        emit("renewal_letters_share_pct", 100 * letters_s / first_s if first_s else 0.0)
        emit("renewal_pdf_render_share_pct", 100 * watches["pdf_render"].seconds / first_s)
        emit(
            "renewal_ms_per_letter",
            1000 * letters_s / watches["letters"].calls if watches["letters"].calls else 0.0,
        )
        rest = first_s - letters_s - watches["sync_holds"].seconds
        emit("renewal_rest_s", rest)
        for key, change in differences(before_first, after_first).items():
            note(f"first run: {key} {change:+d}")

        began = time.perf_counter()
        second_counts = run_contracts_day(on=day)
        second_s = time.perf_counter() - began
        after_second = snapshot()
        changed = differences(after_first, after_second)
        for key, change in changed.items():
            note(f"second run changed {key} by {change:+d}")
        emit("renewal_second_run_s", second_s)
        emit("renewal_second_run_counts", sum(second_counts.values()))
        emit("renewal_second_run_changes", sum(abs(value) for value in changed.values()))
        emit("renewal_goal_s", GOAL_S)
        emit("renewal_goal_met", "yes" if first_s <= GOAL_S else "no")
        if changed or any(second_counts.values()):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
