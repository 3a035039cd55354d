"""Free slots: opening hours minus holidays, one-off changes and held appointments (P-BOOK-1, -6).

Opening hours are local times in the organization's zone. Each working interval is turned into
UTC once, per date, so 9–17 stays 9–17 local on both sides of a daylight-saving change and an
hour is neither lost nor doubled. Everything after that is plain UTC arithmetic.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from django.db import connection
from django.db.models import ManyToManyField

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    ConsultationType,
    ExceptionKind,
    HoursException,
    WeeklyHours,
)
from treffpunkt.core import lean

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


def merge_by_start(
    per_staff: dict[int, list[Span]], *, load: Callable[[int, datetime], int] | None = None
) -> list[Slot]:
    """One slot per start time, with every staff member free then ("any staff member").

    Staff are in id order, or with ``load`` (holds of a staff member on the day of a moment)
    the least busy first, ties by id."""
    by_start: dict[Span, list[int]] = defaultdict(list)
    for staff_id, spans in per_staff.items():
        for span in spans:
            by_start[span].append(staff_id)
    return [
        Slot(start=s, end=e, staff_ids=_in_turn(ids, s, load))
        for (s, e), ids in sorted(by_start.items())
    ]


def _in_turn(
    staff_ids: list[int], start: datetime, load: Callable[[int, datetime], int] | None
) -> tuple[int, ...]:
    if load is None or len(staff_ids) == 1:
        return tuple(sorted(staff_ids))
    return tuple(sorted(staff_ids, key=lambda staff_id: (load(staff_id, start), staff_id)))


def holds_per_day(
    calendars: dict[int, StaffCalendar], days: list[date], zone: ZoneInfo
) -> Callable[[int, datetime], int]:
    """How many holds a staff member has on the local day of a moment (one of ``days``),
    counted from the calendars already loaded: no query of its own."""
    bounds = [datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC) for day in days]
    bounds.append(
        datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    )
    starts = {staff_id: [span[0] for span in c.blocked] for staff_id, c in calendars.items()}

    def load(staff_id: int, moment: datetime) -> int:
        day = max(bisect_right(bounds, moment) - 1, 0)
        held = starts[staff_id]  # sorted: the calendar's query orders by start
        return bisect_left(held, bounds[day + 1]) - bisect_left(held, bounds[day])

    return load


def load_calendars(
    staff_ids: Sequence[int],
    *,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    ignore_appointment_id: int | None = None,
) -> dict[int, StaffCalendar]:
    """Three queries for any number of staff: hours, changes, held appointments.

    Written out (see ``_calendar_sql``): every slot request and every slot page runs them, and
    built by the ORM their making cost more CPU than the database's answer (issue 15)."""
    calendars = {staff_id: StaffCalendar(staff_id=staff_id) for staff_id in staff_ids}
    sql = _calendar_sql(connection.vendor, moving=ignore_appointment_id is not None)
    staff = sql.id_list(staff_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql.weekly, [staff])
        for staff_id, weekday, start, end in cursor.fetchall():
            calendars[staff_id].weekly.setdefault(weekday, []).append((start, end))
        day = HoursException._meta.get_field("date")
        cursor.execute(
            sql.changes,
            [
                staff,
                day.get_db_prep_value(first_day, connection),
                day.get_db_prep_value(last_day, connection),
            ],
        )
        for staff_id, on, kind, start, end in cursor.fetchall():
            _add_change(calendars[staff_id], on, kind, start, end)
        moment = Appointment._meta.get_field("blocked_start")
        range_start = datetime.combine(first_day, time.min, tzinfo=zone) - timedelta(days=1)
        range_end = datetime.combine(last_day, time.max, tzinfo=zone) + timedelta(days=1)
        params = [
            staff,
            *HOLDING_STATUSES,
            moment.get_db_prep_value(range_start, connection),
            moment.get_db_prep_value(range_end, connection),
        ]
        if ignore_appointment_id is not None:
            params.append(ignore_appointment_id)  # an appointment being moved
        cursor.execute(sql.held, params)
        for staff_id, start_s, end_s in cursor.fetchall():
            # Held times are whole minutes, so rounding the float seconds loses nothing.
            calendars[staff_id].blocked.append(
                (
                    datetime.fromtimestamp(round(start_s), UTC),
                    datetime.fromtimestamp(round(end_s), UTC),
                )
            )
    return calendars


def _add_change(
    calendar: StaffCalendar, on: date, kind: str, start: time | None, end: time | None
) -> None:
    if kind == ExceptionKind.CLOSED and (start is None or end is None):
        calendar.closed_days.add(on)
    elif kind == ExceptionKind.CLOSED and start and end:
        calendar.closed.setdefault(on, []).append((start, end))
    elif kind == ExceptionKind.EXTRA and start and end:
        calendar.extra.setdefault(on, []).append((start, end))


def offering_staff(ctype_id: int) -> list[int]:
    """The active staff members who offer a consultation type (written out, as the calendars)."""
    with connection.cursor() as cursor:
        cursor.execute(_offering_staff_sql(connection.vendor), [ctype_id, True])
        return [row[0] for row in cursor.fetchall()]


@lru_cache(maxsize=4)
def _offering_staff_sql(vendor: str) -> str:
    offers = ConsultationType._meta.get_field("staff")
    if not isinstance(offers, ManyToManyField):  # pragma: no cover (the model says so)
        raise TypeError("ConsultationType.staff is a many-to-many field")
    link = lean.quoted(offers.m2m_reverse_name())
    return (
        f"SELECT u.{lean.column(User, 'id')} "  # noqa: S608 (names only)
        f"FROM {lean.quoted(ConsultationType.staff.through._meta.db_table)} t "
        f"JOIN {lean.quoted(User._meta.db_table)} u ON u.{lean.column(User, 'id')} = t.{link} "
        f"WHERE t.{lean.quoted(offers.m2m_column_name())} = %s "
        f"AND u.{lean.column(User, 'is_active')} = %s"
    )


@dataclass(frozen=True)
class _CalendarSQL:
    weekly: str
    changes: str
    held: str
    id_list: Callable[[Sequence[int]], Any]  # the staff ids as the statements' one parameter


def _in_id_list(vendor: str) -> tuple[str, Callable[[Sequence[int]], Any]]:
    """How one parameter carries a list of ids on this database: the SQL test and the
    parameter's form, decided together so that they cannot disagree (an array for PostgreSQL,
    JSON read by json_each for SQLite)."""
    if vendor == "postgresql":
        return "= ANY(%s::bigint[])", lambda ids: [int(pk) for pk in ids]
    return "IN (SELECT value FROM json_each(%s))", lambda ids: json.dumps([int(pk) for pk in ids])


@lru_cache(maxsize=8)
def _calendar_sql(vendor: str, *, moving: bool) -> _CalendarSQL:
    """The calendar's three statements, made once per database vendor. Only table and column
    names from the models go into the text; every value is a parameter. The database's own
    types come back (SQLite's connection converts its date and time columns as Django's does).
    Held times come as seconds since 1970, computed by the database: turning thousands of
    timestamps into datetimes row by row in Django's converters was most of an 8-week search."""
    in_list, id_list = _in_id_list(vendor)
    hours, changes, held = WeeklyHours, HoursException, Appointment

    def col(model: type[Any], name: str) -> str:
        return lean.column(model, name)

    def epoch(name: str) -> str:
        column = col(held, name)
        if vendor == "postgresql":
            return f"EXTRACT(EPOCH FROM {column})::float8"
        return f"((julianday({column}) - 2440587.5) * 86400.0)"

    statuses = ", ".join(["%s"] * len(HOLDING_STATUSES))
    not_moved = f" AND {col(held, 'id')} <> %s" if moving else ""
    return _CalendarSQL(
        weekly=(
            f"SELECT {col(hours, 'staff')}, {col(hours, 'weekday')}, {col(hours, 'start')}, "  # noqa: S608 (names only)
            f"{col(hours, 'end')} FROM {lean.quoted(hours._meta.db_table)} "
            f"WHERE {col(hours, 'staff')} {in_list} "
            f"ORDER BY {col(hours, 'staff')}, {col(hours, 'weekday')}, {col(hours, 'start')}"
        ),
        changes=(
            f"SELECT {col(changes, 'staff')}, {col(changes, 'date')}, {col(changes, 'kind')}, "  # noqa: S608 (names only)
            f"{col(changes, 'start')}, {col(changes, 'end')} "
            f"FROM {lean.quoted(changes._meta.db_table)} "
            f"WHERE {col(changes, 'staff')} {in_list} "
            f"AND {col(changes, 'date')} >= %s AND {col(changes, 'date')} <= %s "
            f"ORDER BY {col(changes, 'staff')}, {col(changes, 'date')}, {col(changes, 'start')}"
        ),
        held=(
            f"SELECT {col(held, 'staff')}, {epoch('blocked_start')}, {epoch('blocked_end')} "  # noqa: S608 (names only)
            f"FROM {lean.quoted(held._meta.db_table)} "
            f"WHERE {col(held, 'staff')} {in_list} AND {col(held, 'status')} IN ({statuses}) "
            f"AND {col(held, 'blocked_end')} > %s AND {col(held, 'blocked_start')} < %s{not_moved} "
            f"ORDER BY {col(held, 'blocked_start')}"
        ),
        id_list=id_list,
    )


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
    least_busy_first: bool = False,
) -> list[Slot]:
    """Every free slot of a consultation type between two local dates (inclusive).

    ``ignore_everything_booked`` answers "would this be a slot on an empty calendar?", which
    tells a slot that was just taken from a time that was never offered.
    ``least_busy_first`` orders each slot's staff by their holds that day, fewest first: a
    request for "any staff member" goes to them in that order.
    """
    zone = ZoneInfo(ctype.organization.time_zone)
    candidates = list(staff_ids) if staff_ids is not None else offering_staff(ctype.pk)
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
    load = holds_per_day(calendars, days, zone) if least_busy_first else None
    return merge_by_start(per_staff, load=load)
