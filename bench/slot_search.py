"""Benchmark 1: the slot search of one consultation type over eight weeks.

20 staff members work Mon–Fri 9–12 and 13–17 (14 half-hour slots a day); about half of their
slots in the next 56 days (and in the 8 weeks before, as history) are held by requested or
confirmed appointments. One run is ``slots_for(ctype, first_day=today, days=56)``, queries
included, as the member's slot page and the booking service call it.

    uv run python bench/slot_search.py            # PostgreSQL database treffpunkt_bench
    uv run python bench/slot_search.py --sqlite   # a temporary SQLite file (embedded mode)

Prints slot_search_p50_ms, slot_search_p95_ms (goal ≤ 50), slot_search_runs and sanity
figures; ``slot_search_calibrated``: the p95 ÷ the CPU time of a fixed pure-Python loop measured
in the same run (``common.cpu_calibration_ms``, median of three: one before, one after the
timed runs, one after the loading runs), so that runs on a faster or slower moment of a shared
machine compare. ``--profile`` adds a cProfile of further runs on stderr.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from common import (
    Workspace,
    calibration_loop,
    emit,
    give_work_week,
    is_working_day,
    latency_figures,
    machine_figures,
    make_organization,
    make_type,
    make_users,
    note,
    percentile,
    working_slot_starts,
)

if TYPE_CHECKING:
    from treffpunkt.booking.availability import Slot
    from treffpunkt.booking.models import ConsultationType

GOAL_P95_MS = 50.0


def build_scenario(
    *, staff_count: int, booked_share: float, history_weeks: int, seed: int
) -> tuple[ConsultationType, date, int]:
    from treffpunkt.accounts.models import Role
    from treffpunkt.booking.models import Appointment, AppointmentStatus
    from treffpunkt.booking.selectors import organization_today, policy_for

    org = make_organization()
    policy_for(org)
    staff = make_users(org, role=Role.STAFF, count=staff_count, prefix="berater")
    members = make_users(org, role=Role.MEMBER, count=50, prefix="mitglied")
    give_work_week(staff)
    ctype = make_type(org, staff, name="Beratung")
    today = organization_today(org)

    rng = random.Random(seed)
    rows = []
    first = today - timedelta(weeks=history_weeks)
    for offset in range((today + timedelta(days=56) - first).days):
        day = first + timedelta(days=offset)
        if not is_working_day(day):
            continue
        starts = working_slot_starts(day, duration=ctype.duration_minutes)
        for person in staff:
            for start in rng.sample(starts, round(len(starts) * booked_share)):
                end = start + ctype.duration
                rows.append(
                    Appointment(
                        organization=org,
                        consultation_type=ctype,
                        member=rng.choice(members),
                        staff=person,
                        start=start,
                        end=end,
                        blocked_start=start - ctype.buffer_before,
                        blocked_end=end + ctype.buffer_after,
                        status=(
                            AppointmentStatus.CONFIRMED
                            if day < today or rng.random() < 0.6
                            else AppointmentStatus.REQUESTED
                        ),
                        request_key=uuid.uuid4(),
                    )
                )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    upcoming = sum(1 for row in rows if row.start.date() >= today)
    return ctype, today, upcoming


def time_loading(search: Callable[[], object], *, runs: int) -> list[float]:
    """Milliseconds spent in ``load_calendars`` per search, by wrapping it for a few more runs."""
    from treffpunkt.booking import availability

    original = availability.load_calendars
    spent: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - began) * 1000)

    availability.load_calendars = timed
    try:
        for _ in range(runs):
            search()
    finally:
        availability.load_calendars = original
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument("--runs", type=int, default=100, help="measured runs (at least 50)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit of the runs")
    parser.add_argument("--days", type=int, default=56, help="days searched (the page: 7)")
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--booked-share", type=float, default=0.5)
    parser.add_argument("--history-weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile 20 more runs")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    runs = max(50, args.runs)

    note(f"slot search: {args.staff} staff, {args.days} days, {args.booked_share:.0%} booked")
    with Workspace(sqlite=args.sqlite, keep=args.keep_db):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from treffpunkt.booking.selectors import slots_for

        started = time.perf_counter()
        ctype, today, held = build_scenario(
            staff_count=args.staff,
            booked_share=args.booked_share,
            history_weeks=args.history_weeks,
            seed=args.seed,
        )
        note(f"scenario built in {time.perf_counter() - started:.1f} s ({held} upcoming holds)")

        def search() -> list[Slot]:
            return slots_for(ctype, first_day=today, days=args.days)

        for _ in range(args.warmup):
            search()
        with CaptureQueriesContext(connection) as queries:
            slots = search()
        machine_figures("slot_search")
        calibrations = [calibration_loop()]
        timings: list[float] = []
        cpu: list[float] = []
        limit = time.perf_counter() + args.max_seconds
        while len(timings) < runs and time.perf_counter() < limit:
            began, began_cpu = time.perf_counter(), time.thread_time()
            search()
            timings.append(time.perf_counter() - began)
            cpu.append(time.thread_time() - began_cpu)
        calibrations.append(calibration_loop())
        loading = time_loading(search, runs=20)
        calibrations.append(calibration_loop())
        calibration = sorted(cpu for cpu, _ in calibrations)[1]
        calibration_wall = sorted(wall for _, wall in calibrations)[1]

        emit("slot_search_backend", connection.vendor)
        emit("slot_search_days", args.days)
        emit("slot_search_staff", args.staff)
        emit("slot_search_held_upcoming", held)
        emit("slot_search_slots", len(slots))
        emit("slot_search_slot_staff_pairs", sum(len(slot.staff_ids) for slot in slots))
        emit("slot_search_queries", len(queries.captured_queries))
        emit("slot_search_runs", len(timings))
        latency_figures("slot_search", timings)
        # This process's CPU time per search (Python, incl. decoding rows; not the DB server's).
        emit("slot_search_cpu_p50_ms", percentile([value * 1000 for value in cpu], 50))
        # Of a search: load_calendars (3 queries and turning their rows into Python objects).
        emit("slot_search_load_calendars_p50_ms", percentile(loading, 50))
        p95 = percentile([value * 1000 for value in timings], 95)
        cpu_p95 = percentile([value * 1000 for value in cpu], 95)
        emit("slot_search_cpu_p95_ms", cpu_p95)
        emit("slot_search_cpu_calibration_ms", calibration)
        emit(
            "slot_search_cpu_calibration_spread_ms",
            max(cpu for cpu, _ in calibrations) - min(cpu for cpu, _ in calibrations),
        )
        # How much longer the loop took on the clock than on the CPU: waiting for a core.
        emit("slot_search_calibration_wall_ms", calibration_wall)
        emit("slot_search_calibration_wall_over_cpu", f"{calibration_wall / calibration:.3f}")
        # Dimensionless: the p95 in units of the calibration loop's CPU time.
        emit("slot_search_calibrated", f"{p95 / calibration:.4f}")
        # The same for this process's CPU per search (no waiting for a core or the database).
        emit("slot_search_cpu_calibrated", f"{cpu_p95 / calibration:.4f}")
        emit("slot_search_goal_p95_ms", GOAL_P95_MS)
        emit("slot_search_goal_met", "yes" if p95 <= GOAL_P95_MS else "no")

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                search()
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(20)
            stats.sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
