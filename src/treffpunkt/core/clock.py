"""One place that says what time it is, so tests can move time without patching Django."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def operator_today() -> date:
    """The operator's calendar day (``settings.TIME_ZONE``, Berlin): contracts, invoices and
    their deadlines count in it."""
    return now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def wall_time_repeats(moment: datetime) -> bool:
    """Does ``moment``'s local wall time happen twice in its zone (the hour the clocks go back)?

    Then the time alone does not say which of the two is meant: 02:30 on the last Sunday of
    October in Berlin is first summer time (UTC+2), then, an hour later, winter time (UTC+1).
    """
    if moment.tzinfo is None:
        raise ValueError("a wall time needs its time zone")
    wall = moment.replace(tzinfo=None)
    earlier = wall.replace(tzinfo=moment.tzinfo, fold=0).utcoffset()
    later = wall.replace(tzinfo=moment.tzinfo, fold=1).utcoffset()
    return earlier != later


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Let every service read ``moment`` as now for the block: for demo data that must have
    happened in the past (an invoice sent six weeks ago is overdue today). Not for requests:
    the swap is process-wide."""
    global now

    def pinned() -> datetime:
        return moment

    real, now = now, pinned
    try:
        yield
    finally:
        now = real
