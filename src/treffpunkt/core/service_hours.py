"""The fault-ticket clock: service hours as the operator's terms define them.

"Störungsmeldung und -behebung ist Montag bis Freitag (ausgenommen bundesweite Feiertage)
zwischen 9:00 Uhr bis 18:00 Uhr gewährleistet (Servicezeiten)." Reaction and fix deadlines
therefore count only those hours: Monday to Friday, 09:00–18:00 Berlin wall-clock time, without
the nationwide German public holidays. State-only holidays (Fronleichnam, Reformationstag in
some states, …) are ordinary service days, because the terms promise "bundesweite" only.

Each service day is turned into one UTC window (09:00 and 18:00 Berlin never fall into a
daylight-saving gap or fold, so a service day always lasts nine hours). All arithmetic happens on
those UTC windows: Python compares and subtracts datetimes that share a tzinfo by their wall
clock, which would be wrong across a change of offset. Results go back to Berlin at the end.

A clock can be paused, e.g. while a ticket waits for the customer; paused time does not count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

BERLIN = ZoneInfo("Europe/Berlin")
SERVICE_START = time(9)
SERVICE_END = time(18)

# A bad input (a duration in the wrong unit, a pause ending in the year 9999) must not keep a
# request busy for minutes. Ten years of service time is far beyond any deadline of the terms.
MAX_SERVICE_DURATION = timedelta(hours=9 * 250 * 10)
# How far the walk of add_service_time may go past the start and the last pause. Eleven calendar
# years hold more than ten years of service days, so every allowed duration fits.
_HORIZON_DAYS = 11 * 366

Span = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]


def is_service_day(day: date) -> bool:
    """Monday to Friday, unless a nationwide public holiday falls on it."""
    if isinstance(day, datetime):
        # A moment's calendar day depends on its zone; the caller must choose the Berlin date.
        raise TypeError("is_service_day takes a date, not a datetime")
    return day.weekday() < 5 and day not in _nationwide_holidays(day.year)


def service_periods(start: datetime, end: datetime) -> Iterator[Span]:
    """The parts of [start, end) that lie within service hours, in order (aware datetimes in
    Berlin). An empty or reversed interval has none."""
    start_utc, end_utc = _utc(start), _utc(end)
    for window_start, window_end in _windows(_berlin_date(start_utc), _berlin_date(end_utc)):
        part_start, part_end = max(window_start, start_utc), min(window_end, end_utc)
        if part_start < part_end:
            yield part_start.astimezone(BERLIN), part_end.astimezone(BERLIN)


def service_seconds_between(start: datetime, end: datetime, *, paused: Sequence[Pause] = ()) -> int:
    """Service seconds in [start, end) minus those inside paused intervals (an open pause, end
    None, lasts to `end`). Overlapping pauses count once. Fractions of a second are dropped, so a
    clock never shows more time than has passed."""
    start_utc, end_utc = _utc(start), _utc(end)
    pauses = _merged_pauses(paused, open_until=end_utc)
    periods = ((_utc(a), _utc(b)) for a, b in service_periods(start_utc, end_utc))
    counted = sum((b - a for a, b in _without(periods, pauses)), timedelta())
    return counted // timedelta(seconds=1)


def add_service_time(
    start: datetime, duration: timedelta, *, paused: Sequence[Pause] = ()
) -> datetime:
    """The moment when `duration` of service time has passed after `start`, not counting paused
    intervals.

    A start outside service hours begins counting at the next service-hours start, so a zero
    duration yields that moment. A deadline that ends exactly at 18:00 is 18:00 that day, not
    09:00 of the next service day: the promise is kept at the end of the service day. A deadline
    can only be computed while the clock runs, so an open pause (end None) raises ValueError.
    """
    start_utc = _utc(start)
    if duration < timedelta():
        raise ValueError("a service duration cannot be negative")
    if duration > MAX_SERVICE_DURATION:
        raise ValueError(f"a service duration is limited to {MAX_SERVICE_DURATION}")
    if any(pause_end is None for _, pause_end in paused):
        raise ValueError("the clock is paused")
    pauses = _merged_pauses(paused, open_until=start_utc)
    last_pause_end = pauses[-1][1] if pauses else start_utc
    first_day = _berlin_date(start_utc)
    last_ordinal = min(
        date.max.toordinal() - 1,
        _berlin_date(max(start_utc, last_pause_end)).toordinal() + _HORIZON_DAYS,
    )
    windows = (
        (max(window_start, start_utc), window_end)
        for window_start, window_end in _windows(first_day, date.fromordinal(last_ordinal))
        if window_end > start_utc
    )
    remaining = duration
    for part_start, part_end in _without(windows, pauses):
        # `<=` keeps a deadline that uses up a window exactly at that window's 18:00.
        if remaining <= part_end - part_start:
            return (part_start + remaining).astimezone(BERLIN)
        remaining -= part_end - part_start
    raise ValueError("the deadline lies too far in the future")


@lru_cache(maxsize=64)
def _nationwide_holidays(year: int) -> frozenset[date]:
    """Germany's holidays without a subdivision: exactly the nationwide ones.

    Called like booking/availability.py does; `holidays.Germany` is the same class but is
    exported lazily, so the type checker cannot see it.
    """
    return frozenset(holiday_calendars.country_holidays("DE", years=year).keys())


def _utc(moment: datetime) -> datetime:
    """The same moment in UTC; naive datetimes are refused because their moment is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


def _berlin_date(moment: datetime) -> date:
    return moment.astimezone(BERLIN).date()


def _windows(first_day: date, last_day: date) -> Iterator[Span]:
    """The service window of each service day from first_day to last_day inclusive, in UTC."""
    for ordinal in range(first_day.toordinal(), last_day.toordinal() + 1):
        day = date.fromordinal(ordinal)
        if is_service_day(day):
            yield (
                datetime.combine(day, SERVICE_START, tzinfo=BERLIN).astimezone(UTC),
                datetime.combine(day, SERVICE_END, tzinfo=BERLIN).astimezone(UTC),
            )


def _merged_pauses(paused: Sequence[Pause], *, open_until: datetime) -> list[Span]:
    """Pauses in UTC, sorted, with overlapping or touching ones merged so none counts twice.

    An open pause lasts to `open_until`; one that starts later is empty and dropped.
    """
    spans: list[Span] = []
    for pause_start, pause_end in paused:
        begin = _utc(pause_start)
        finish = open_until if pause_end is None else _utc(pause_end)
        if pause_end is not None and finish < begin:
            raise ValueError(f"a pause cannot end before it starts: {pause_start} – {pause_end}")
        if begin < finish:
            spans.append((begin, finish))
    spans.sort()
    merged: list[Span] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def _without(periods: Iterator[Span], pauses: list[Span]) -> Iterator[Span]:
    """The ordered, disjoint periods minus the sorted, disjoint pauses.

    One pass over both: a pause that ends before the current period can never touch a later one,
    so the index only moves forward.
    """
    index = 0
    for period_start, period_end in periods:
        cursor = period_start
        while index < len(pauses) and pauses[index][1] <= cursor:
            index += 1
        probe = index
        while cursor < period_end:
            if probe >= len(pauses) or pauses[probe][0] >= period_end:
                yield cursor, period_end
                break
            pause_start, pause_end = pauses[probe]
            if cursor < pause_start:
                yield cursor, pause_start
            cursor = max(cursor, pause_end)
            probe += 1
