"""The one scheduler: it enqueues the periodic jobs the apps register.

Each app declares its jobs in its ``contributions.py`` (``registry.add_periodic_jobs``);
``manage.py run_scheduler`` prints the whole schedule when it starts. A job says when it runs
with a cadence:

- ``Every(timedelta(minutes=1))``: once per interval, slots counted from the Unix epoch in UTC
  (so ``Every(timedelta(days=1))`` is midnight UTC);
- ``Daily(at=time(3), zone="Europe/Berlin")``: every day at 03:00 Berlin time;
- ``Weekly(weekday=calendar.MONDAY, at=time(6), zone="Europe/Berlin")``;
- ``Monthly(day=1, at=time(2), zone="Europe/Berlin")``.

Rules:

- A job is due when no run of it is recorded after its previous occurrence. It is then enqueued
  once, for its latest occurrence at or before now. A scheduler that was down over several
  occurrences therefore runs the job once, not once per missed occurrence; a job new to the
  schedule runs its latest past occurrence at the first check (a billing run must not be
  skipped because a deploy happened at 02:05). Jobs must work out what to do from the data, not
  from the slot: a run can come late.
- A row per (job, slot) under a unique constraint is written before the enqueue, so a second
  scheduler started by mistake cannot enqueue an occurrence twice.
- A wall time is resolved like ``zoneinfo`` does with ``fold=0``, i.e. with the offset in force
  just before a daylight-saving change: a time that does not exist (the spring gap) runs that
  many minutes later (02:30 on the change day runs at 03:30 summer time), and a time that
  happens twice (the autumn overlap) runs at the first of them (summer time). Either way the
  job runs once on that day.
- ``Monthly`` on a day the month does not have (29–31) runs on the month's last day.
- Pruning keeps each job's newest row, whatever its age: it is what tells the scheduler that
  the current occurrence has run.
"""

from __future__ import annotations

import calendar
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django_tasks.base import Task

from treffpunkt.core.models import ScheduledRun

logger = logging.getLogger(__name__)

_RESOLUTION = timedelta(microseconds=1)


class Cadence(Protocol):
    """When a job runs. ``str()`` of a cadence says it in words (shown by ``run_scheduler``)."""

    def latest_occurrence(self, at: datetime) -> datetime:
        """The newest occurrence at or before the aware ``at``, aware and in UTC."""
        ...


@dataclass(frozen=True)
class Every:
    """Once per interval, in slots counted from the Unix epoch in UTC.

    ``Every(timedelta(days=1))`` is therefore midnight UTC; use ``Daily`` for a local time.
    """

    interval: timedelta

    def __post_init__(self) -> None:
        if self.interval < timedelta(seconds=1) or self.interval % timedelta(seconds=1):
            raise ValueError(f"an interval is a positive number of whole seconds: {self.interval}")

    def latest_occurrence(self, at: datetime) -> datetime:
        return slot_start(at, self.interval)

    def __str__(self) -> str:
        return f"every {self.interval}"


@dataclass(frozen=True)
class Daily:
    """Every day at the wall time ``at`` in ``zone`` (an IANA name such as ``Europe/Berlin``)."""

    at: time
    zone: str

    def __post_init__(self) -> None:
        _check_wall_time(self.at, self.zone)

    def latest_occurrence(self, at: datetime) -> datetime:
        zone = ZoneInfo(self.zone)
        return _latest_passed(_days_back_from(_local_date(at, zone)), self.at, zone, at)

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} {self.zone}"


@dataclass(frozen=True)
class Weekly:
    """Every week on ``weekday`` (0 is Monday, as ``calendar.MONDAY``) at ``at`` in ``zone``."""

    weekday: int
    at: time
    zone: str

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"a weekday is 0 (Monday) to 6 (Sunday): {self.weekday}")
        _check_wall_time(self.at, self.zone)

    def latest_occurrence(self, at: datetime) -> datetime:
        zone = ZoneInfo(self.zone)
        days = _days_back_from(_local_date(at, zone))
        on_weekday = (day for day in days if day.weekday() == self.weekday)
        return _latest_passed(on_weekday, self.at, zone, at)

    def __str__(self) -> str:
        return f"weekly on {calendar.day_name[self.weekday]} at {self.at:%H:%M} {self.zone}"


@dataclass(frozen=True)
class Monthly:
    """Every month on ``day`` at ``at`` in ``zone``; on the last day in months shorter than ``day``.

    ``Monthly(day=31, …)`` thus runs on 31 January, 28 February 2027 and 29 February 2028.
    """

    day: int
    at: time
    zone: str

    def __post_init__(self) -> None:
        if not 1 <= self.day <= 31:
            raise ValueError(f"a day of the month is 1 to 31: {self.day}")
        _check_wall_time(self.at, self.zone)

    def latest_occurrence(self, at: datetime) -> datetime:
        zone = ZoneInfo(self.zone)
        return _latest_passed(self._days_back_from(_local_date(at, zone)), self.at, zone, at)

    def _days_back_from(self, today: date) -> Iterator[date]:
        """This job's day in next month, this month, the month before, and so on.

        Next month for the same reason as tomorrow in ``_days_back_from``.
        """
        # months counted from year 0 with January as 0: today.month (1-based) is next month
        next_month = today.year * 12 + today.month
        for months in itertools.count(next_month, -1):
            year, month = divmod(months, 12)
            last_day = calendar.monthrange(year, month + 1)[1]
            yield date(year, month + 1, min(self.day, last_day))

    def __str__(self) -> str:
        return f"monthly on day {self.day} at {self.at:%H:%M} {self.zone}"


def _check_wall_time(at: time, zone: str) -> None:
    if at.tzinfo is not None:
        raise ValueError("a wall time has no time zone of its own; give the zone separately")
    ZoneInfo(zone)  # an unknown zone fails when the schedule is loaded, not at the first run


def _local_date(at: datetime, zone: ZoneInfo) -> date:
    if at.tzinfo is None:
        raise ValueError(f"the scheduler needs an aware datetime: {at}")
    return at.astimezone(zone).date()


def _days_back_from(today: date) -> Iterator[date]:
    """Tomorrow, today, yesterday, and so on.

    Tomorrow is included because an autumn overlap around midnight can put tomorrow's first
    minutes before a repeated hour of today.
    """
    tomorrow = today + timedelta(days=1)
    for back in itertools.count():
        yield tomorrow - timedelta(days=back)


def _latest_passed(days: Iterable[date], at_time: time, zone: ZoneInfo, now: datetime) -> datetime:
    """The wall time ``at_time`` on the first of ``days`` (newest first) that is not after now."""
    occurrences = (_wall_time_in_utc(day, at_time, zone) for day in days)
    return next(occurrence for occurrence in occurrences if occurrence <= now)


def _wall_time_in_utc(day: date, at_time: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``at_time`` in ``zone`` as an instant, resolved with ``fold=0``.

    ``fold=0`` takes the offset in force before a change: a time in the spring gap moves forward
    by the gap, a time in the autumn overlap is the first (summer-time) one.
    """
    return datetime.combine(day, at_time.replace(fold=0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, init=False)
class PeriodicJob:
    """A job of the schedule: its task runs once per occurrence of ``when``.

    ``every=timedelta(…)`` is kept as a shorthand for ``when=Every(timedelta(…))``, so jobs
    written before cadences existed keep working and keep their slots.
    """

    name: str
    task: Task[[], Any]
    when: Cadence
    description: str

    def __init__(
        self,
        *,
        name: str,
        task: Task[[], Any],
        description: str,
        when: Cadence | None = None,
        every: timedelta | None = None,
    ) -> None:
        if when is None and every is not None:
            when = Every(every)
        elif when is None or every is not None:
            raise TypeError(f"{name}: give exactly one of when= and every=")
        # frozen: the generated __setattr__ refuses, so set the fields the way dataclasses do
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "task", task)
        object.__setattr__(self, "when", when)
        object.__setattr__(self, "description", description)


def slot_start(at: datetime, every: timedelta) -> datetime:
    """The start of the interval that contains ``at``, counted from the Unix epoch, in UTC."""
    if at.tzinfo is None:
        raise ValueError(f"the scheduler needs an aware datetime: {at}")
    seconds = int(every.total_seconds())
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def run_due_jobs(*, jobs: list[PeriodicJob], at: datetime) -> list[str]:
    """Enqueue every job with no run recorded after its previous occurrence. Returns their names.

    The run is recorded for the latest occurrence at or before ``at``, so after downtime a job
    is caught up once, not once per missed occurrence.
    """
    enqueued = []
    for job in jobs:
        latest = job.when.latest_occurrence(at)
        if _has_run_since(job, latest):
            continue
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(job=job.name, slot_start=latest)
                transaction.on_commit(job.task.enqueue)
        except IntegrityError:
            continue  # another scheduler recorded this occurrence between our check and insert
        enqueued.append(job.name)
        logger.info("enqueued %s for %s", job.name, latest.isoformat())
    return enqueued


def _has_run_since(job: PeriodicJob, latest: datetime) -> bool:
    """Whether a run is recorded after the occurrence before ``latest``.

    Not just "is there a row for ``latest``": after the job's time is edited (02:00 to 03:00),
    the run at 02:00 still counts for this period and the job does not run a second time.
    """
    # in UTC: subtracting from a time with a ZoneInfo would step its wall clock, not the instant
    previous = job.when.latest_occurrence(latest.astimezone(UTC) - _RESOLUTION)
    return ScheduledRun.objects.filter(job=job.name, slot_start__gt=previous).exists()


def forget_old_runs(*, before: datetime) -> int:
    """Delete rows older than ``before``, except each job's newest row.

    The newest row is what marks the current occurrence as run; deleting it would run a monthly
    job again a week after its run.
    """
    newer_run = ScheduledRun.objects.filter(
        job=OuterRef("job"), slot_start__gt=OuterRef("slot_start")
    )
    deleted, _ = ScheduledRun.objects.filter(Exists(newer_run), slot_start__lt=before).delete()
    return deleted
