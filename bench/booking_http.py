"""Benchmark 2: booking requests over HTTP, through uvicorn, against PostgreSQL.

Members press "Termin" (POST /termine/buchen/<type>/anfragen/) with a fixed concurrency; every
request asks for a different free slot, so each one should become an appointment (answer: 302
to its page). Several consultation types with their own staff give enough distinct slots.

    uv run python bench/booking_http.py

Prints booking_rps (successful bookings per second; goal ≥ 200), booking_p99_ms (goal ≤ 250),
booking_p50_ms, booking_requests, booking_successes, booking_errors and checks that the
database holds exactly one appointment per success.

Then, on the same server and database, the floor: as many POSTs with the same sessions and
CSRF tokens to a minimal logged-in view that reads one row (``booking_floor_urls.py``, served
through ``booking_floor_settings.py``). ``booking_cost_ratio`` = the server's CPU per booking ÷
its CPU per floor request (goal ≤ 3). ``--profile`` samples the server with py-spy in both
phases (top functions on stderr).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from common import (
    CpuMeter,
    Job,
    LoadResult,
    Outcome,
    PySpy,
    Server,
    Workspace,
    appointment_id_from,
    emit,
    give_work_week,
    is_working_day,
    latency_figures,
    log_in,
    machine_figures,
    make_organization,
    make_type,
    make_users,
    median_calibration_ms,
    note,
    percentile,
    profile_summary,
    py_spy_executable,
    request_path,
    run_async,
    run_load,
)

GOAL_RPS = 200.0
GOAL_P99_MS = 250.0
GOAL_COST_RATIO = 3.0
SLOTS_PER_DAY = 14
FLOOR_SETTINGS = "booking_floor_settings"


def build_jobs(
    *, needed: int, members: int, staff_per_type: int, min_types: int, seed: int
) -> tuple[list[Job], int, int]:
    """Members with sessions, and one job per distinct free (type, start) slot, shuffled."""
    from django.utils import timezone

    from treffpunkt.accounts.models import Role
    from treffpunkt.booking.selectors import organization_today, policy_for, slots_for

    org = make_organization()
    policy_for(org)
    today = organization_today(org)
    working_days = sum(is_working_day(today + timedelta(days=n)) for n in range(1, 57))
    types = max(min_types, math.ceil(needed / (0.8 * working_days * SLOTS_PER_DAY)))
    staff = make_users(org, role=Role.STAFF, count=types * staff_per_type, prefix="berater")
    give_work_week(staff)
    logins = log_in(make_users(org, role=Role.MEMBER, count=members, prefix="mitglied"))

    # Slots starting within the next few minutes of the notice limit could become "too soon"
    # while the benchmark runs; leave them out.
    earliest = timezone.now() + timedelta(minutes=120 + 15)
    per_type: list[list[Job]] = []
    for number in range(types):
        team = staff[number * staff_per_type : (number + 1) * staff_per_type]
        ctype = make_type(org, team, name=f"Beratung {number + 1}")
        path = request_path(ctype.pk)
        starts = [
            slot.start
            for slot in slots_for(ctype, first_day=today, days=56)
            if slot.start >= earliest
        ]
        per_type.append(
            [Job(path=path, login=logins[0], start=start, note="Bench") for start in starts]
        )
    slots = [job for group in per_type for job in group]
    if len(slots) < needed:
        raise SystemExit(f"only {len(slots)} distinct free slots for {needed} requests")
    random.Random(seed).shuffle(slots)
    jobs = [
        Job(path=job.path, login=logins[n % len(logins)], start=job.start, note=job.note)
        for n, job in enumerate(slots[:needed])
    ]
    return jobs, types, len(staff)


def floor_path(job: Job) -> str:
    """``/termine/buchen/<type>/anfragen/`` → the floor page of the same type."""
    type_id = next(part for part in job.path.split("/") if part.isdigit())
    return f"/bench/floor/{type_id}/"


def floor_jobs(jobs: list[Job]) -> list[Job]:
    """The same requests (member, session, CSRF token, form fields) to the floor page."""
    return [
        Job(path=floor_path(job), login=job.login, start=job.start, note=job.note) for job in jobs
    ]


def server_env(base: dict[str, str], settings: str) -> dict[str, str]:
    """uvicorn's environment: the floor's settings module wraps ``settings``; bench/ goes on
    ``PYTHONPATH`` so that uvicorn finds it."""
    here = str(Path(__file__).resolve().parent)
    path = base.get("PYTHONPATH", "")
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS,
        "BOOKING_FLOOR_BASE_SETTINGS": settings,
        "PYTHONPATH": f"{here}{os.pathsep}{path}" if path else here,
    }


def measured_phase(
    jobs: list[Job],
    server: Server,
    args: argparse.Namespace,
    *,
    profile: Path | None,
    title: str,
    floor: bool = False,
) -> tuple[LoadResult, CpuMeter]:
    """``jobs`` over ``args.concurrency`` connections, with the CPU meters (and py-spy) on."""
    spy = PySpy(server.pid, profile, subprocesses=True).start() if profile else None
    try:
        with CpuMeter(server.pid) as cpu:
            load = run_async(
                run_load(
                    jobs,
                    port=server.port,
                    concurrency=args.concurrency,
                    max_seconds=args.max_seconds,
                    keep_body=(lambda r: r.status != 200) if floor else (lambda r: r.status != 302),
                )
            )
    finally:
        if spy is not None:
            spy.stop()
    if profile is not None:
        profile_summary(profile, title, top=args.profile_top)
    return load, cpu


def succeeded(outcome: Outcome) -> bool:
    return outcome.status == 302 and appointment_id_from(outcome.location) is not None


def describe_errors(outcomes: list[Outcome]) -> None:
    failed = [outcome for outcome in outcomes if not succeeded(outcome)]
    if not failed:
        return
    kinds = Counter(outcome.error or f"HTTP {outcome.status}" for outcome in failed)
    note("errors: " + ", ".join(f"{kind} ×{count}" for kind, count in kinds.most_common()))
    sample = failed[0]
    note(f"first error: {sample.status} {sample.location} {sample.error}")
    if sample.body:
        note(sample.body.decode(errors="replace")[:1500])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=int, default=16, help="requests before measuring")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--staff-per-type", type=int, default=5)
    parser.add_argument("--types", type=int, default=4, help="at least this many types")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--settings",
        default="treffpunkt.settings",
        help="settings module for uvicorn (to try a change, e.g. pooled connections)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the uvicorn workers with py-spy while booking and while serving the floor "
        "(top functions on stderr; run with `uv run --with py-spy`)",
    )
    parser.add_argument("--profile-top", type=int, default=15, help="rows of each profile table")
    args = parser.parse_args()
    if args.profile:
        py_spy_executable()  # fail now, not after building the scenario

    note(
        f"booking over HTTP: {args.requests} requests, concurrency {args.concurrency}, "
        f"at most {args.max_seconds:.0f} s, uvicorn with {args.workers} workers"
    )
    with Workspace(redis=True, keep=args.keep_db) as workspace:
        from treffpunkt.booking.models import Appointment

        started = time.perf_counter()
        jobs, types, staff = build_jobs(
            needed=args.warmup + args.requests,
            members=args.members,
            staff_per_type=args.staff_per_type,
            min_types=args.types,
            seed=args.seed,
        )
        note(
            f"scenario built in {time.perf_counter() - started:.1f} s: {types} types, "
            f"{staff} staff, {args.members} logged-in members"
        )
        warmup_jobs, measured_jobs = jobs[: args.warmup], jobs[args.warmup :]

        env = server_env(workspace.env, args.settings)
        profiles = workspace.var_dir if args.profile else None
        with Server(env, workers=args.workers, log_dir=workspace.var_dir) as server:
            warm = run_async(run_load(warmup_jobs, port=server.port, concurrency=4, max_seconds=60))
            warm_ok = sum(succeeded(outcome) for outcome in warm.outcomes)
            note(f"warm-up: {warm_ok}/{len(warmup_jobs)} booked")
            describe_errors(warm.outcomes)
            machine_figures("booking")
            calibration = median_calibration_ms()
            load, cpu = measured_phase(
                measured_jobs,
                server,
                args,
                profile=profiles / "booking.pyspy" if profiles else None,
                title="profile of the uvicorn workers while booking",
            )
            # The floor: the same sessions and form posts, to the minimal view.
            floor_warm = run_async(
                run_load(
                    floor_jobs(warmup_jobs),
                    port=server.port,
                    concurrency=4,
                    max_seconds=60,
                    keep_body=lambda r: r.status != 200,
                )
            )
            floor_load, floor_cpu = measured_phase(
                floor_jobs(measured_jobs[: len(load.outcomes)]),
                server,
                args,
                profile=profiles / "floor.pyspy" if profiles else None,
                title="profile of the uvicorn workers while serving the floor",
                floor=True,
            )
            server_log = server.log_tail()

        outcomes = load.outcomes
        ok = [outcome for outcome in outcomes if succeeded(outcome)]
        ids = {appointment_id_from(outcome.location) for outcome in ok}
        warm_ids = {appointment_id_from(o.location) for o in warm.outcomes if succeeded(o)}
        rows = Appointment.objects.count()
        row_ids = set(Appointment.objects.values_list("pk", flat=True))
        millis = [outcome.seconds * 1000 for outcome in outcomes]
        rps = len(ok) / load.wall_seconds if load.wall_seconds else 0.0

        emit("booking_settings", args.settings)
        emit("booking_workers", args.workers)
        emit("booking_concurrency", args.concurrency)
        emit("booking_requests", len(outcomes))
        emit("booking_successes", len(ok))
        emit("booking_errors", len(outcomes) - len(ok))
        emit("booking_seconds", load.wall_seconds)
        emit("booking_stopped_by_time", "yes" if load.stopped_by_deadline else "no")
        emit("booking_rps", rps)
        latency_figures("booking", [outcome.seconds for outcome in outcomes])
        cpu.emit("booking", len(outcomes))
        emit("booking_appointment_rows", rows)
        consistent = rows == len(ok) + warm_ok and row_ids == ids | warm_ids
        emit("booking_rows_match_successes", "yes" if consistent else "no")
        emit("booking_warmup_successes", warm_ok)
        emit("booking_cpu_calibration_ms", calibration)
        if args.profile:
            emit("booking_profiled", "yes (py-spy ran: CPU figures include its disturbance)")

        floor_ok = [o for o in floor_load.outcomes if o.status == 200]
        floor_warm_ok = sum(o.status == 200 for o in floor_warm.outcomes)
        emit("floor_requests", len(floor_load.outcomes))
        emit("floor_successes", len(floor_ok))
        emit("floor_errors", len(floor_load.outcomes) - len(floor_ok))
        emit("floor_seconds", floor_load.wall_seconds)
        floor_rps = len(floor_ok) / floor_load.wall_seconds if floor_load.wall_seconds else 0.0
        emit("floor_rps", floor_rps)
        latency_figures("floor", [outcome.seconds for outcome in floor_load.outcomes])
        floor_cpu.emit("floor", len(floor_load.outcomes))
        per_booking = cpu.server_seconds / max(len(outcomes), 1)
        per_floor = floor_cpu.server_seconds / max(len(floor_load.outcomes), 1)
        ratio = per_booking / per_floor if per_floor else math.nan
        emit("booking_cost_ratio", ratio)
        with_db = ((cpu.server_seconds + cpu.database_seconds) / max(len(outcomes), 1)) / (
            (floor_cpu.server_seconds + floor_cpu.database_seconds)
            / max(len(floor_load.outcomes), 1)
        )
        emit("booking_cost_ratio_with_db", with_db)
        emit("booking_cost_ratio_goal", f"<={GOAL_COST_RATIO:.0f}")
        emit("booking_cost_ratio_goal_met", "yes" if ratio <= GOAL_COST_RATIO else "no")
        if floor_warm_ok != len(warmup_jobs) or len(floor_ok) != len(floor_load.outcomes):
            failed = [o for o in [*floor_warm.outcomes, *floor_load.outcomes] if o.status != 200]
            note(
                f"floor: {len(failed)} requests not answered 200; first: {failed[0].status} "
                f"{failed[0].error} {failed[0].body[:300]!r}"
            )

        p99 = percentile(millis, 99)
        met = rps >= GOAL_RPS and p99 <= GOAL_P99_MS and len(ok) == len(outcomes)
        emit("booking_goal", f"rps>={GOAL_RPS:.0f},p99<={GOAL_P99_MS:.0f}ms")
        emit("booking_goal_met", "yes" if met else "no")
        describe_errors(outcomes)
        if server_log.strip():
            note("uvicorn log (tail, 409 warnings left out):\n" + server_log)
        if not consistent:
            note(f"rows {rows} != successes {len(ok)} + warm-up {warm_ok}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
