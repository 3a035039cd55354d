"""The monthly availability figure of the operator's terms (§ 4), as pure arithmetic.

§ 4: "Den Leistungen liegt eine Dienstverfügbarkeit von 97,0 % im Monatsmittel zu Grunde. Als
Verfügbarkeit gilt die Möglichkeit des Kunden sämtliche Hauptfunktionen der Leistungen zu
nutzen. Wartungszeiten sowie Zeiten der Störung unter Einhaltung der Behebungszeit gelten als
Zeiten der Verfügbarkeit. Zeiten unerheblicher Störungen bleiben bei der Berechnung außer
Betracht."

The rules, as implemented here:

- The period is a calendar month in Europe/Berlin, from the 1st 00:00 to the 1st of the next
  month 00:00, measured in real elapsed time: March (spring DST change) has one hour less,
  October one hour more.
- Insignificant incidents are ignored.
- A significant incident counts as available up to its fix deadline (a fault fixed within the
  agreed fix time costs nothing); from the fix deadline until its end it counts as unavailable.
  An open incident (``end is None``) runs until ``now`` or the month's end, whichever is earlier.
- Time inside a maintenance window always counts as available, even if an incident is late then.
- Overlapping incidents count each second once (union of the unavailable intervals); everything
  is clipped to the month.
- The current month is measured over the whole month: time that has not passed yet counts as
  available (there are no incidents in it), so the figure of a running month can only fall
  until the month ends. A month that has not begun yet is refused.

Everything is computed on exact ``datetime``/``timedelta`` values (microsecond resolution) and
integers; ``Decimal`` only appears in the reported figures. Intervals are half-open
``[start, end)`` and all work happens in UTC: two datetimes sharing a ``ZoneInfo`` are compared
and subtracted by wall time, which is wrong across the October change (02:30 before and after
it would compare equal), so every input is converted to UTC first.

Nothing here touches the database: incidents and maintenance windows come in as plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

# The availability promised by § 4, in percent, as a monthly mean.
GOAL = Decimal("97.0")

Interval = tuple[datetime, datetime]

_SECONDS_PER_MINUTE = 60
_MICROSECONDS_PER_SECOND = 1_000_000


@dataclass(frozen=True)
class Incident:
    """A fault. ``end`` is None while it is still open; ``fix_deadline`` is the moment by which
    the agreed fix time (Behebungszeit) runs out."""

    start: datetime
    end: datetime | None
    significant: bool
    fix_deadline: datetime


@dataclass(frozen=True)
class Maintenance:
    """A maintenance window; it counts as available whatever happens inside it."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class MonthFigure:
    """The availability of one month.

    ``percent`` is cut (not rounded) to two places, so 96.999 % reads 96.99 and a figure never
    appears to meet the goal by rounding; ``meets_goal`` is decided on the exact value.
    ``unavailable_periods`` are the merged unavailable intervals in UTC, clipped to the month,
    for showing which incidents lie behind the figure.
    """

    month: date
    minutes_total: int
    minutes_unavailable: Decimal
    percent: Decimal
    meets_goal: bool
    unavailable_periods: tuple[Interval, ...]


def _utc(moment: datetime, what: str) -> datetime:
    """The moment in UTC; a naive datetime is refused because its meaning is a guess."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{what} must be timezone-aware: {moment!r}")
    return moment.astimezone(UTC)


def _interval(start: datetime, end: datetime, what: str) -> Interval:
    start_utc, end_utc = _utc(start, f"{what} start"), _utc(end, f"{what} end")
    if end_utc < start_utc:
        raise ValueError(f"{what} ends before it starts: {start!r} → {end!r}")
    return start_utc, end_utc


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of the intervals as sorted, disjoint, non-empty intervals in UTC.

    Touching intervals (one ends where the next starts) become one. Sort and sweep, so
    O(n log n) however long the intervals are.
    """
    checked = sorted(_interval(start, end, "interval") for start, end in intervals)
    merged: list[Interval] = []
    for start, end in checked:
        if start == end:
            # An empty interval covers nothing; keeping it would only add noise to the report.
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """What of ``intervals`` lies outside every hole, as sorted disjoint intervals in UTC.

    Both sides are merged first, then walked together once: O((n + m) log(n + m)).
    """
    remaining: list[Interval] = []
    cut = merge(holes)
    index = 0
    for start, end in merge(intervals):
        cursor = start
        # Holes that end before this interval starts cannot touch it or any later one.
        while index < len(cut) and cut[index][1] <= cursor:
            index += 1
        # A hole reaching past this interval's end may still cut the next one, so ``index``
        # only moves past holes fully behind; ``probe`` looks ahead without consuming.
        probe = index
        while probe < len(cut) and cut[probe][0] < end:
            hole_start, hole_end = cut[probe]
            if hole_start > cursor:
                remaining.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            if cursor >= end:
                break
            probe += 1
        if cursor < end:
            remaining.append((cursor, end))
    return remaining


def _first_of_month(month: date) -> date:
    return date(month.year, month.month, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month containing ``month`` as [1st 00:00, next 1st 00:00) in Europe/Berlin.

    Midnight never falls into a DST gap or fold in Berlin (the changes happen at 02:00/03:00),
    so both bounds are unambiguous.
    """
    first = _first_of_month(month)
    following = (
        date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    )
    return (
        datetime(first.year, first.month, 1, tzinfo=BERLIN),
        datetime(following.year, following.month, 1, tzinfo=BERLIN),
    )


def _microseconds(delta: timedelta) -> int:
    # timedelta keeps days, seconds and microseconds as integers; combining them avoids the
    # float of total_seconds().
    return (delta.days * 86_400 + delta.seconds) * _MICROSECONDS_PER_SECOND + delta.microseconds


def month_figure(
    month: date,
    *,
    incidents: Iterable[Incident],
    maintenance: Iterable[Maintenance],
    now: datetime | None = None,
) -> MonthFigure:
    """The availability figure of the month containing ``month`` (see the module docstring).

    ``now`` (default: the current time) bounds open incidents and refuses a month that has not
    begun yet. The current month is measured over the whole month; the minutes still to come
    count as available.
    """
    now_utc = datetime.now(UTC) if now is None else _utc(now, "now")
    berlin_start, berlin_end = month_bounds(month)
    start, end = berlin_start.astimezone(UTC), berlin_end.astimezone(UTC)
    if start > now_utc:
        raise ValueError(f"the month {_first_of_month(month)} has not begun yet")

    late: list[Interval] = []
    for incident in incidents:
        # Every incident is checked, insignificant ones too: bad data should not hide behind
        # the flag.
        begun = _utc(incident.start, "incident start")
        if incident.end is None:
            # Still open: it lasts until now, but never beyond the month.
            ended = min(now_utc, end)
        else:
            _, ended = _interval(incident.start, incident.end, "incident")
        deadline = _utc(incident.fix_deadline, "incident fix_deadline")
        if not incident.significant:
            continue
        # Only the part after the fix deadline is unavailable; an open incident that starts
        # after ``now`` (or a deadline after the end) leaves nothing.
        late_start = max(begun, deadline, start)
        late_end = min(ended, end)
        if late_start < late_end:
            late.append((late_start, late_end))

    windows = [_interval(window.start, window.end, "maintenance") for window in maintenance]
    periods = subtract(late, windows)

    total = _microseconds(end - start)
    unavailable = sum((_microseconds(b - a) for a, b in periods), 0)
    available = total - unavailable
    # Integer floor division cuts the percentage to two places exactly; a Decimal division
    # would first round to the context's precision and could turn 96.99999… into 97.
    hundredths = available * 100 * 100 // total
    return MonthFigure(
        month=_first_of_month(month),
        minutes_total=total // (_MICROSECONDS_PER_SECOND * _SECONDS_PER_MINUTE),
        minutes_unavailable=Decimal(unavailable) / (_MICROSECONDS_PER_SECOND * _SECONDS_PER_MINUTE),
        percent=Decimal(hundredths).scaleb(-2),
        # available / total >= GOAL / 100, cross-multiplied: exact, since both sides stay far
        # below Decimal's 28 significant digits.
        meets_goal=Decimal(available) * 100 >= GOAL * total,
        unavailable_periods=tuple(periods),
    )
