"""One declared schedule, run by one scheduler: each job once per slot, however many run."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from django.core.management import call_command
from django_tasks import task

from treffpunkt.core import clock
from treffpunkt.core.models import ScheduledRun
from treffpunkt.core.scheduler import (
    Daily,
    Every,
    Monthly,
    PeriodicJob,
    Weekly,
    run_due_jobs,
    slot_start,
)

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


def test_the_registered_schedule_runs_from_the_command(monkeypatch: pytest.MonkeyPatch):
    from treffpunkt.core.registries import registry

    # Both runs at one moment: a run that crossed a minute's edge found the next slot of the
    # every-minute jobs due, and the count below grew (seen once in a parallel test run).
    moment = clock.now()
    monkeypatch.setattr(clock, "now", lambda: moment)

    schedule = registry.schedule()
    # Every app brings its own jobs; none of them is listed centrally.
    assert {job.name.split(".")[0] for job in schedule} == {
        "availability",
        "billing",
        "booking",
        "calls",
        "contracts",
        "core",
        "messaging",
        "notifications",
        "support",
    }
    call_command("run_scheduler", "--once")
    assert set(ScheduledRun.objects.values_list("job", flat=True)) == {j.name for j in schedule}
    call_command("run_scheduler", "--once")
    assert ScheduledRun.objects.count() == len(schedule)


# Calendar time: Every keeps the interval slots, Daily/Weekly/Monthly name a wall time in a zone.

# These tests look at rows and returned names only, not at tasks run after commit, so a rolled
# back transaction is enough (much cheaper than emptying every table on PostgreSQL).
ROWS_ONLY = pytest.mark.django_db(transaction=False)
BERLIN = ZoneInfo("Europe/Berlin")
NAME = "test.calendar"


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0):
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def job(when, name: str = NAME) -> PeriodicJob:
    return PeriodicJob(name=name, task=remember_call, when=when, description="test")


def slots(name: str = NAME) -> list[datetime]:
    return list(
        ScheduledRun.objects.filter(job=name)
        .order_by("slot_start")
        .values_list("slot_start", flat=True)
    )


def minutes_that_enqueued(periodic: PeriodicJob, start: datetime, end: datetime) -> list[datetime]:
    """A scheduler checking once a minute from start to end: the minutes at which it enqueued.

    Steps in UTC: adding to a time in Berlin would step its wall clock across the change.
    """
    enqueued = []
    at, end = start.astimezone(UTC), end.astimezone(UTC)
    while at < end:
        if run_due_jobs(jobs=[periodic], at=at):
            enqueued.append(at)
        at += timedelta(minutes=1)
    return enqueued


def occurrences(cadence, start: datetime, end: datetime) -> list[datetime]:
    """The cadence's occurrences from start to end, oldest first, in Berlin time."""
    found = []
    at = cadence.latest_occurrence(end)
    while at >= start:
        found.append(at.astimezone(BERLIN))
        at = cadence.latest_occurrence(at - timedelta(microseconds=1))
    return found[::-1]


@ROWS_ONLY
def test_every_keeps_the_slots_the_interval_scheduler_recorded():
    at = datetime(2027, 3, 28, 1, 59, 59, tzinfo=UTC)
    assert Every(timedelta(minutes=1)).latest_occurrence(at) == datetime(
        2027, 3, 28, 1, 59, tzinfo=UTC
    )
    assert Every(timedelta(hours=6)).latest_occurrence(at) == datetime(2027, 3, 28, tzinfo=UTC)
    # a day is counted in UTC, whatever zone the time is given in
    assert Every(timedelta(days=1)).latest_occurrence(berlin(2027, 3, 28, 0, 30)) == datetime(
        2027, 3, 27, tzinfo=UTC
    )
    assert PeriodicJob(
        name=NAME, task=remember_call, every=timedelta(hours=6), description="test"
    ) == job(Every(timedelta(hours=6)))
    # a row written before cadences existed still marks its slot as run
    ScheduledRun.objects.create(job=NAME, slot_start=slot_start(at, timedelta(hours=6)))
    assert run_due_jobs(jobs=[job(Every(timedelta(hours=6)))], at=at) == []
    assert run_due_jobs(jobs=[job(Every(timedelta(hours=6)))], at=at + timedelta(hours=5)) == [NAME]


@ROWS_ONLY
def test_daily_runs_at_the_wall_time_in_winter_and_in_summer():
    three = Daily(at=time(3), zone="Europe/Berlin")
    assert three.latest_occurrence(berlin(2027, 1, 15, 2, 59)) == datetime(
        2027, 1, 14, 2, tzinfo=UTC
    )
    assert three.latest_occurrence(berlin(2027, 1, 15, 3, 0)) == datetime(
        2027, 1, 15, 2, tzinfo=UTC
    )
    assert three.latest_occurrence(berlin(2027, 7, 15, 3, 0)) == datetime(
        2027, 7, 15, 1, tzinfo=UTC
    )
    periodic = job(three)
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 1, 15, 3, 0)) == [NAME]
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 1, 15, 23, 59)) == []
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 1, 16, 3, 0)) == [NAME]


@ROWS_ONLY
def test_a_time_the_spring_change_skips_runs_once_shifted_forward():
    """2027-03-28: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist; it runs at 03:30."""
    periodic = job(Daily(at=time(2, 30), zone="Europe/Berlin"))
    ScheduledRun.objects.create(job=NAME, slot_start=berlin(2027, 3, 27, 2, 30))  # yesterday's

    enqueued = minutes_that_enqueued(periodic, berlin(2027, 3, 28), berlin(2027, 3, 29))

    assert enqueued == [datetime(2027, 3, 28, 1, 30, tzinfo=UTC)]
    assert enqueued[0].astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    assert slots() == [berlin(2027, 3, 27, 2, 30), berlin(2027, 3, 28, 3, 30)]


@ROWS_ONLY
def test_a_time_the_autumn_change_repeats_runs_once_at_the_first():
    """2027-10-31: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice; it runs at the first."""
    periodic = job(Daily(at=time(2, 30), zone="Europe/Berlin"))
    ScheduledRun.objects.create(job=NAME, slot_start=berlin(2027, 10, 30, 2, 30))  # yesterday's

    enqueued = minutes_that_enqueued(periodic, berlin(2027, 10, 31), berlin(2027, 11, 1))

    assert enqueued == [datetime(2027, 10, 31, 0, 30, tzinfo=UTC)]
    assert enqueued[0].astimezone(BERLIN).strftime("%H:%M %Z") == "02:30 CEST"
    assert ScheduledRun.objects.filter(job=NAME).count() == 2


@ROWS_ONLY
def test_repeated_checks_and_a_second_scheduler_record_one_run_per_occurrence():
    periodic = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"))
    first = berlin(2027, 2, 1, 2, 0)
    assert run_due_jobs(jobs=[periodic], at=first) == [NAME]
    for at in (first, first + timedelta(seconds=30), first + timedelta(minutes=1)):
        assert run_due_jobs(jobs=[periodic], at=at) == []  # again, and from a second scheduler
    assert slots() == [berlin(2027, 2, 1, 2, 0)]


def test_two_schedulers_that_both_find_the_job_due_record_it_once(monkeypatch):
    """Both checked before either wrote its row: the unique constraint lets one through."""
    from treffpunkt.core import scheduler

    CALLS.clear()
    monkeypatch.setattr(scheduler, "_has_run_since", lambda job, latest: False)
    periodic = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"))
    at = berlin(2027, 2, 1, 2, 0)
    assert run_due_jobs(jobs=[periodic], at=at) == [NAME]
    assert run_due_jobs(jobs=[periodic], at=at) == []
    assert slots() == [at]
    assert CALLS == ["ran"]


@ROWS_ONLY
def test_after_downtime_only_the_latest_missed_occurrence_runs():
    periodic = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"))
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 1, 1, 2, 0)) == [NAME]
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 1, 31, 23, 0)) == []
    # down from here until 1 April 10:00: February, March and April were missed

    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 4, 1, 10, 0)) == [NAME]
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 4, 1, 10, 1)) == []
    assert slots() == [berlin(2027, 1, 1, 2, 0), berlin(2027, 4, 1, 2, 0)]


@ROWS_ONLY
def test_a_new_job_runs_its_latest_past_occurrence_at_the_first_check():
    """A deploy at 02:05 must not skip the billing run of 02:00."""
    periodic = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"))
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 2, 1, 2, 5)) == [NAME]
    assert slots() == [berlin(2027, 2, 1, 2, 0)]

    later = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"), name="test.added_mid_month")
    assert run_due_jobs(jobs=[later], at=berlin(2027, 2, 20, 12, 0)) == ["test.added_mid_month"]
    assert slots("test.added_mid_month") == [berlin(2027, 2, 1, 2, 0)]


@ROWS_ONLY
def test_day_31_means_the_last_day_of_shorter_months():
    month_end = Monthly(day=31, at=time(2), zone="Europe/Berlin")
    found = occurrences(month_end, berlin(2027, 1, 1), berlin(2028, 4, 30, 23, 59))
    assert [f"{at:%Y-%m-%d %H:%M}" for at in found] == [
        "2027-01-31 02:00",
        "2027-02-28 02:00",
        "2027-03-31 02:00",
        "2027-04-30 02:00",
        "2027-05-31 02:00",
        "2027-06-30 02:00",
        "2027-07-31 02:00",
        "2027-08-31 02:00",
        "2027-09-30 02:00",
        "2027-10-31 02:00",
        "2027-11-30 02:00",
        "2027-12-31 02:00",
        "2028-01-31 02:00",
        "2028-02-29 02:00",
        "2028-03-31 02:00",
        "2028-04-30 02:00",
    ]
    periodic = job(month_end)
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 1, 31, 2, 0)) == [NAME]
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 2, 28, 1, 59)) == []
    assert run_due_jobs(jobs=[periodic], at=berlin(2027, 2, 28, 2, 0)) == [NAME]
    assert run_due_jobs(jobs=[periodic], at=berlin(2028, 2, 28, 23, 0)) == [NAME]  # January's
    assert run_due_jobs(jobs=[periodic], at=berlin(2028, 2, 29, 2, 0)) == [NAME]
    assert slots()[-2:] == [berlin(2028, 1, 31, 2, 0), berlin(2028, 2, 29, 2, 0)]


@ROWS_ONLY
def test_weekly_runs_on_its_weekday_across_the_spring_change():
    monday = Weekly(weekday=calendar.MONDAY, at=time(6), zone="Europe/Berlin")
    found = occurrences(monday, berlin(2027, 3, 15), berlin(2027, 4, 7))
    assert [f"{at:%a %Y-%m-%d %H:%M %Z}" for at in found] == [
        "Mon 2027-03-15 06:00 CET",
        "Mon 2027-03-22 06:00 CET",
        "Mon 2027-03-29 06:00 CEST",
        "Mon 2027-04-05 06:00 CEST",
    ]
    assert monday.latest_occurrence(berlin(2027, 3, 29, 5, 59)) == berlin(2027, 3, 22, 6, 0)


@ROWS_ONLY
def test_moving_a_jobs_time_does_not_run_it_twice_in_one_period():
    at_two = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"))
    assert run_due_jobs(jobs=[at_two], at=berlin(2027, 2, 1, 2, 0)) == [NAME]
    at_three = job(Monthly(day=1, at=time(3), zone="Europe/Berlin"))  # edited and deployed
    assert run_due_jobs(jobs=[at_three], at=berlin(2027, 2, 1, 3, 5)) == []
    assert run_due_jobs(jobs=[at_three], at=berlin(2027, 3, 1, 3, 0)) == [NAME]


@ROWS_ONLY
def test_pruning_keeps_each_jobs_newest_run_so_a_monthly_job_does_not_run_again(monkeypatch):
    from treffpunkt.core import clock
    from treffpunkt.core.tasks import prune_scheduler_history

    monthly = job(Monthly(day=1, at=time(2), zone="Europe/Berlin"))
    minutely = job(Every(timedelta(minutes=1)), name="test.minutely")
    for minute in (0, 1, 2):
        run_due_jobs(jobs=[monthly, minutely], at=berlin(2027, 1, 1, 2, minute))

    monkeypatch.setattr(clock, "now", lambda: berlin(2027, 1, 20))
    assert prune_scheduler_history.call() == 2  # the minutely job's two older rows
    assert slots() == [berlin(2027, 1, 1, 2, 0)]
    assert slots("test.minutely") == [berlin(2027, 1, 1, 2, 2)]
    assert run_due_jobs(jobs=[monthly], at=berlin(2027, 1, 20)) == []

    assert run_due_jobs(jobs=[monthly], at=berlin(2027, 2, 1, 2, 0)) == [NAME]
    monkeypatch.setattr(clock, "now", lambda: berlin(2027, 2, 20))
    prune_scheduler_history.call()
    assert slots() == [berlin(2027, 2, 1, 2, 0)]
    assert run_due_jobs(jobs=[monthly], at=berlin(2027, 2, 20)) == []


@ROWS_ONLY
def test_a_cadence_refuses_what_it_cannot_mean():
    with pytest.raises(ValueError, match="1 to 31"):
        Monthly(day=32, at=time(2), zone="Europe/Berlin")
    with pytest.raises(ValueError, match="0 \\(Monday\\)"):
        Weekly(weekday=7, at=time(2), zone="Europe/Berlin")
    with pytest.raises(ZoneInfoNotFoundError):
        Daily(at=time(2), zone="Europe/Nowhere")
    with pytest.raises(ValueError, match="time zone of its own"):
        Daily(at=time(2, tzinfo=UTC), zone="Europe/Berlin")
    with pytest.raises(ValueError, match="whole seconds"):
        Every(timedelta(milliseconds=1500))
    with pytest.raises(ValueError, match="aware"):
        Daily(at=time(2), zone="Europe/Berlin").latest_occurrence(datetime(2027, 1, 1))  # noqa: DTZ001
    with pytest.raises(TypeError, match="exactly one"):
        PeriodicJob(name=NAME, task=remember_call, description="test")


def test_the_command_says_when_each_job_runs():
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "scheduled: notifications.send_due_mail every 0:01:00 - " in out.getvalue()
    assert str(Monthly(day=1, at=time(2), zone="Europe/Berlin")) == (
        "monthly on day 1 at 02:00 Europe/Berlin"
    )
