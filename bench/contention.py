"""Benchmark 3: 200 members press "Termin" for the same slot at the same moment, over HTTP.

One staff member, one consultation type, one free slot. 200 logged-in members each open a
connection to uvicorn (against PostgreSQL) and, once all are connected, send their booking
request together. Exactly one must get the appointment (302 to its page); every other one
must get the "just taken" answer (409 with alternatives).

    uv run python bench/contention.py

Prints contention_successes (must be 1), contention_taken (must be clients − 1),
contention_other, contention_rows (appointments held for the slot in the database).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import timedelta

from common import (
    Job,
    Outcome,
    Server,
    Workspace,
    appointment_id_from,
    emit,
    give_work_week,
    latency_figures,
    log_in,
    machine_figures,
    make_organization,
    make_type,
    make_users,
    note,
    request_path,
    run_async,
    run_load,
    taken_marker,
)


def build_jobs(*, clients: int) -> tuple[list[Job], int]:
    """One staff member, one type; every member asks for the first free slot a day ahead."""
    from django.utils import timezone

    from treffpunkt.accounts.models import Role
    from treffpunkt.booking.selectors import organization_today, policy_for, slots_for

    org = make_organization()
    policy_for(org)
    staff = make_users(org, role=Role.STAFF, count=1, prefix="berater")
    give_work_week(staff)
    ctype = make_type(org, staff, name="Beratung")
    logins = log_in(make_users(org, role=Role.MEMBER, count=clients, prefix="mitglied"))
    tomorrow = timezone.now() + timedelta(days=1)
    slot = next(
        slot
        for slot in slots_for(ctype, first_day=organization_today(org), days=14)
        if slot.start >= tomorrow
    )
    path = request_path(ctype.pk)
    note(f"the slot: {slot.start.isoformat()} with staff member {slot.staff_ids[0]}")
    return [Job(path=path, login=login, start=slot.start) for login in logins], ctype.pk


def classify(outcome: Outcome, marker: bytes) -> str:
    if outcome.status == 302 and appointment_id_from(outcome.location) is not None:
        return "booked"
    if outcome.status == 409 and marker in outcome.body:
        return "taken"
    return outcome.error or f"HTTP {outcome.status}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--settings",
        default="treffpunkt.settings",
        help="settings module for uvicorn (to try a change, e.g. pooled connections)",
    )
    args = parser.parse_args()

    note(f"contention over HTTP: {args.clients} clients, one slot, {args.workers} workers")
    with Workspace(redis=True, keep=args.keep_db) as workspace:
        from treffpunkt.booking.models import HOLDING_STATUSES, Appointment

        started = time.perf_counter()
        jobs, _ = build_jobs(clients=args.clients)
        marker = taken_marker()
        note(f"scenario built in {time.perf_counter() - started:.1f} s")
        server_env = {**workspace.env, "DJANGO_SETTINGS_MODULE": args.settings}
        with Server(server_env, workers=args.workers, log_dir=workspace.var_dir) as server:
            machine_figures("contention")
            load = run_async(
                run_load(
                    jobs,
                    port=server.port,
                    concurrency=len(jobs),
                    max_seconds=args.max_seconds,
                    request_timeout=args.max_seconds,
                    synchronized_start=True,
                )
            )
            server_log = server.log_tail()

        kinds = Counter(classify(outcome, marker) for outcome in load.outcomes)
        start = jobs[0].start
        rows = Appointment.objects.filter(start=start, status__in=HOLDING_STATUSES).count()
        other = len(load.outcomes) - kinds["booked"] - kinds["taken"]

        emit("contention_settings", args.settings)
        emit("contention_clients", len(jobs))
        emit("contention_workers", args.workers)
        emit("contention_answers", len(load.outcomes))
        emit("contention_successes", kinds["booked"])
        emit("contention_taken", kinds["taken"])
        emit("contention_other", other)
        emit("contention_rows", rows)
        emit("contention_seconds", load.wall_seconds)
        latency_figures("contention", [outcome.seconds for outcome in load.outcomes])
        # The promise (P-BOOK-6): one appointment, whatever the load.
        single = kinds["booked"] == 1 and rows == 1
        # And everyone else told "just taken" (not an error page).
        clean = kinds["taken"] == len(jobs) - 1
        emit("contention_exactly_one_booking", "yes" if single else "no")
        emit("contention_all_others_taken", "yes" if clean else "no")
        if other:
            note("other answers: " + ", ".join(f"{k} ×{n}" for k, n in kinds.most_common()))
            odd = [o for o in load.outcomes if classify(o, marker) not in {"booked", "taken"}]
            note(odd[0].body.decode(errors="replace")[:1500])
        if server_log.strip():
            note("uvicorn log (tail, 409 warnings left out):\n" + server_log)
    return 0 if single and clean else 1


if __name__ == "__main__":
    sys.exit(main())
