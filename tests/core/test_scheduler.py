"""One declared schedule, run by one scheduler: each job once per slot, however many run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_tasks import task

from treffpunkt.core.models import ScheduledRun
from treffpunkt.core.scheduler import PeriodicJob, run_due_jobs, slot_start

pytestmark = pytest.mark.django_db(transaction=True)

CALLS: list[str] = []


@task()
def remember_call() -> None:
    CALLS.append("ran")


JOB = PeriodicJob(
    name="test.remember", task=remember_call, every=timedelta(minutes=5), description="test"
)


def test_a_job_runs_once_per_slot_even_with_two_schedulers():
    CALLS.clear()
    at = datetime(2026, 3, 29, 1, 2, 30, tzinfo=UTC)
    assert run_due_jobs(jobs=[JOB], at=at) == ["test.remember"]
    assert run_due_jobs(jobs=[JOB], at=at + timedelta(minutes=1)) == []
    assert CALLS == ["ran"]
    assert run_due_jobs(jobs=[JOB], at=at + timedelta(minutes=5)) == ["test.remember"]
    assert CALLS == ["ran", "ran"]


def test_slots_are_aligned_to_the_interval():
    at = datetime(2026, 10, 25, 2, 7, 59, tzinfo=UTC)
    assert slot_start(at, timedelta(minutes=5)) == datetime(2026, 10, 25, 2, 5, tzinfo=UTC)
    assert slot_start(at, timedelta(days=1)) == datetime(2026, 10, 25, tzinfo=UTC)


def test_the_declared_schedule_runs_from_the_command():
    from treffpunkt.schedule import SCHEDULE

    call_command("run_scheduler", "--once")
    assert set(ScheduledRun.objects.values_list("job", flat=True)) == {j.name for j in SCHEDULE}
    call_command("run_scheduler", "--once")
    assert ScheduledRun.objects.count() == len(SCHEDULE)
