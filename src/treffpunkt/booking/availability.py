"""Free slots: opening hours minus holidays, one-off changes and held appointments (P-BOOK-1, -6).

Opening hours are local times in the organization's zone. Each working interval is turned into
UTC once, per date, so 9–17 stays 9–17 local on both sides of a daylight-saving change and an
hour is neither lost nor doubled. Everything after that is plain UTC arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import FloatField, Func
from django.db.models.sql.compiler import SQLCompiler

from treffpunkt.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    ConsultationType,
    ExceptionKind,
    HoursException,
    WeeklyHours,
)

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    staff_ids: tuple[int, ...]


@dataclass
class StaffCalendar:
    """What the slot search needs to know about one staff member for a range of dates."""

    staff_id: int
    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    closed_days: set[date] = field(default_factory=set)
    closed: dict[date, list[tuple[time, time]]] = field(default_factory=dict)
    extra: dict[date, list[tuple[time, time]]] = field(default_factory=dict)
    blocked: list[Span] = field(default_factory=list)  # held appointments incl. buffers, sorted


class EpochSeconds(Func):
    """Seconds since 1970, computed by the database. Turning thousands of timestamps into
    datetimes row by row in Django's Python converters was most of an 8-week search."""

    output_field = FloatField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra,
        )


@lru_cache(maxsize=64)
def public_holidays(year: int, federal_state: str) -> frozenset[date]:
    """Nationwide public holidays, plus the federal state's own when one is set."""
    calendar = holiday_calendars.country_holidays("DE", subdiv=federal_state or None, years=year)
    return frozenset(calendar.keys())


def local_span(day: date, start: time, end: time, zone: ZoneInfo) -> Span:
    return (
        datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
        datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
    )


def subtract(spans: list[Span], cut: Span) -> list[Span]:
    result = []
    for start, end in spans:
        if cut[1] <= start or cut[0] >= end:
            result.append((start, end))
            continue
        if start < cut[0]:
            result.append((start, cut[0]))
        if cut[1] < end:
            result.append((cut[1], end))
    return result


def working_spans(
    calendar: StaffCalendar, days: Iterable[date], zone: ZoneInfo, federal_state: str
) -> list[Span]:
    spans: list[Span] = []
    for day in days:
        day_spans: list[Span] = []
        is_holiday = day in public_holidays(day.year, federal_state)
        if not is_holiday and day not in calendar.closed_days:
            day_spans = [
                local_span(day, s, e, zone) for s, e in calendar.weekly.get(day.weekday(), [])
            ]
        for s, e in calendar.closed.get(day, []):
            day_spans = subtract(day_spans, local_span(day, s, e, zone))
        day_spans += [local_span(day, s, e, zone) for s, e in calendar.extra.get(day, [])]
        spans.extend(sorted(day_spans))
    return spans


def staff_slots(
    calendar: StaffCalendar,
    ctype: ConsultationType,
    *,
    days: list[date],
    zone: ZoneInfo,
    federal_state: str,
    earliest: datetime,
    latest: datetime,
) -> list[Span]:
    """Free (start, end) pairs for one staff member. Consecutive slots leave room for both
    buffers, so a free day can be booked back to back.

    Candidates come in time order and the held spans are sorted and disjoint, so one pointer
    walks through the held spans once (this loop runs ~10,000 times in an 8-week search).
    """
    duration, before, after = ctype.duration, ctype.buffer_before, ctype.buffer_after
    step = duration + before + after
    blocked = calendar.blocked
    held = 0
    free = []
    for work_start, work_end in working_spans(calendar, days, zone, federal_state):
        start = work_start
        while start + duration <= work_end:
            end = start + duration
            reach_back, reach_forward = start - before, end + after
            while held < len(blocked) and blocked[held][1] <= reach_back:
                held += 1
            taken = held < len(blocked) and blocked[held][0] < reach_forward
            if not taken and earliest <= start < latest:
                free.append((start, end))
            start += step
    return free


def horizon_end(ctype: ConsultationType, *, now: datetime) -> datetime:
    """Members book up to the end of the day ``horizon_days`` from today, in local time."""
    zone = ZoneInfo(ctype.organization.time_zone)
    last_day = now.astimezone(zone).date() + timedelta(days=ctype.horizon_days)
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


def merge_by_start(per_staff: dict[int, list[Span]]) -> list[Slot]:
    """One slot per start time, with every staff member free then ("any staff member")."""
    by_start: dict[Span, list[int]] = defaultdict(list)
    for staff_id, spans in per_staff.items():
        for span in spans:
            by_start[span].append(staff_id)
    return [
        Slot(start=s, end=e, staff_ids=tuple(sorted(ids)))
        for (s, e), ids in sorted(by_start.items())
    ]


def load_calendars(
    staff_ids: Sequence[int],
    *,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    ignore_appointment_id: int | None = None,
) -> dict[int, StaffCalendar]:
    """Three queries for any number of staff: hours, changes, held appointments."""
    calendars = {staff_id: StaffCalendar(staff_id=staff_id) for staff_id in staff_ids}
    for row in WeeklyHours.objects.filter(staff_id__in=staff_ids).values_list(
        "staff_id", "weekday", "start", "end"
    ):
        calendars[row[0]].weekly.setdefault(row[1], []).append((row[2], row[3]))
    for exc in HoursException.objects.filter(
        staff_id__in=staff_ids, date__gte=first_day, date__lte=last_day
    ):
        calendar = calendars[exc.staff_id]
        if exc.kind == ExceptionKind.CLOSED and exc.whole_day:
            calendar.closed_days.add(exc.date)
        elif exc.kind == ExceptionKind.CLOSED and exc.start and exc.end:
            calendar.closed.setdefault(exc.date, []).append((exc.start, exc.end))
        elif exc.kind == ExceptionKind.EXTRA and exc.start and exc.end:
            calendar.extra.setdefault(exc.date, []).append((exc.start, exc.end))
    range_start = datetime.combine(first_day, time.min, tzinfo=zone) - timedelta(days=1)
    range_end = datetime.combine(last_day, time.max, tzinfo=zone) + timedelta(days=1)
    held = Appointment.objects.filter(
        staff_id__in=staff_ids,
        status__in=HOLDING_STATUSES,
        blocked_end__gt=range_start,
        blocked_start__lt=range_end,
    )
    if ignore_appointment_id is not None:
        held = held.exclude(pk=ignore_appointment_id)  # an appointment being moved
    rows = (
        held.annotate(start_s=EpochSeconds("blocked_start"), end_s=EpochSeconds("blocked_end"))
        .order_by("blocked_start")
        .values_list("staff_id", "start_s", "end_s")
    )
    for staff_id, start, end in rows:
        # Held times are whole minutes, so rounding the float seconds loses nothing.
        calendars[staff_id].blocked.append(
            (datetime.fromtimestamp(round(start), UTC), datetime.fromtimestamp(round(end), UTC))
        )
    return calendars


def free_slots(
    ctype: ConsultationType,
    *,
    now: datetime,
    first_day: date,
    last_day: date,
    federal_state: str,
    staff_ids: Sequence[int] | None = None,
    ignore_appointment_id: int | None = None,
    ignore_everything_booked: bool = False,
) -> list[Slot]:
    """Every free slot of a consultation type between two local dates (inclusive).

    ``ignore_everything_booked`` answers "would this be a slot on an empty calendar?", which
    tells a slot that was just taken from a time that was never offered.
    """
    zone = ZoneInfo(ctype.organization.time_zone)
    candidates = (
        list(staff_ids)
        if staff_ids is not None
        else list(ctype.staff.filter(is_active=True).values_list("pk", flat=True))
    )
    if not candidates:
        return []
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    calendars = load_calendars(
        candidates,
        first_day=first_day,
        last_day=last_day,
        zone=zone,
        ignore_appointment_id=ignore_appointment_id,
    )
    if ignore_everything_booked:
        for calendar in calendars.values():
            calendar.blocked.clear()
    earliest = now + ctype.min_notice
    latest = horizon_end(ctype, now=now)
    per_staff = {
        staff_id: staff_slots(
            calendar,
            ctype,
            days=days,
            zone=zone,
            federal_state=federal_state,
            earliest=earliest,
            latest=latest,
        )
        for staff_id, calendar in calendars.items()
    }
    return merge_by_start(per_staff)
