"""Booking fixtures: a consultation type with two staff members working Mon–Fri 9–12 and 13–17
in Europe/Berlin, and a clock the test can set."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import World
from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment, ConsultationType, WeeklyHours
from treffpunkt.booking.services import request_appointment
from treffpunkt.core import clock

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@dataclass
class Clock:
    now: datetime

    def set(self, value: datetime) -> None:
        self.now = value


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Services read the time through treffpunkt.core.clock; this pins it.
    Default: Monday 22 March 2027, 08:00 in Berlin (a week before summer time starts)."""
    state = Clock(now=berlin(2027, 3, 22, 8, 0))
    monkeypatch.setattr(clock, "now", lambda: state.now)
    return state


def work_week(
    staff: User, *, days: range = range(5), spans: tuple[tuple[int, int], ...] = ((9, 12), (13, 17))
) -> None:
    WeeklyHours.objects.bulk_create(
        [
            WeeklyHours(staff=staff, weekday=day, start=time(start), end=time(end))
            for day in days
            for start, end in spans
        ]
    )


@pytest.fixture
def consultation(world: World) -> ConsultationType:
    ctype = ConsultationType.objects.create(
        organization=world.org,
        name="Beratung Pflege",
        description="Fragen zur Pflegeversicherung",
        duration_minutes=30,
        min_notice_minutes=120,
        horizon_days=56,
    )
    ctype.staff.set([world.staff, world.org_admin])
    work_week(world.staff)
    work_week(world.org_admin)
    return ctype


Book = Callable[..., Appointment]


@pytest.fixture
def book(world: World, consultation: ConsultationType) -> Book:
    def _book(
        start: datetime,
        member: User | None = None,
        *,
        request_key: uuid.UUID | None = None,
        staff_id: int | None = None,
        ctype: ConsultationType | None = None,
    ) -> Appointment:
        return request_appointment(
            member=member or world.member,
            consultation_type=ctype or consultation,
            start=start,
            request_key=request_key or uuid.uuid4(),
            staff_id=staff_id,
        )

    return _book
