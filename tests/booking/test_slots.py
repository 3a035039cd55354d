"""Slot search (P-BOOK-1, P-BOOK-6): opening hours with breaks, holidays, one-off changes,
buffers, notice and horizon, and daylight-saving changes that lose or double nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from tests.booking.conftest import BERLIN, Book, Clock, berlin, work_week
from tests.conftest import World
from treffpunkt.booking.models import (
    BookingPolicy,
    ConsultationType,
    ExceptionKind,
    HoursException,
)
from treffpunkt.booking.selectors import slots_for

pytestmark = pytest.mark.django_db


def local_starts(ctype: ConsultationType, day: date) -> list[str]:
    return [
        s.start.astimezone(BERLIN).strftime("%H:%M")
        for s in slots_for(ctype, first_day=day, days=1)
    ]


def test_slots_follow_weekly_hours_with_a_break(
    frozen_clock: Clock, consultation: ConsultationType
):
    starts = local_starts(consultation, date(2027, 3, 23))
    assert starts[:3] == ["09:00", "09:30", "10:00"]
    assert "11:30" in starts and "12:00" not in starts and "12:30" not in starts
    assert "13:00" in starts and starts[-1] == "16:30"
    assert len(starts) == 6 + 8


def test_any_staff_member_means_both_are_offered_per_slot(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    [first, *_] = slots_for(consultation, first_day=date(2027, 3, 23), days=1)
    assert set(first.staff_ids) == {world.staff.pk, world.org_admin.pk}


def test_minimum_notice_and_horizon_limit_the_slots(
    frozen_clock: Clock, consultation: ConsultationType
):
    # It is 08:00 on Monday; with two hours' notice the first slot is 10:00.
    assert local_starts(consultation, date(2027, 3, 22))[0] == "10:00"
    consultation.horizon_days = 2
    consultation.save()
    # Two days ahead means up to the end of Wednesday.
    assert local_starts(consultation, date(2027, 3, 24))[-1] == "16:30"
    assert local_starts(consultation, date(2027, 3, 25)) == []


def test_held_slots_and_buffers_are_left_out(
    frozen_clock: Clock, world: World, consultation: ConsultationType, book: Book
):
    consultation.staff.set([world.staff])
    consultation.buffer_after_minutes = 15
    consultation.save()
    book(berlin(2027, 3, 23, 9, 0))
    starts = local_starts(consultation, date(2027, 3, 23))
    # 09:00 is held; with 15 minutes after it, the next start is 09:45 (step 45 minutes).
    assert starts[:2] == ["09:45", "10:30"]


def test_nationwide_public_holidays_are_closed(frozen_clock: Clock, consultation: ConsultationType):
    assert local_starts(consultation, date(2027, 3, 25)) != []  # Maundy Thursday: a workday
    assert local_starts(consultation, date(2027, 3, 26)) == []  # Good Friday
    assert local_starts(consultation, date(2027, 3, 29)) == []  # Easter Monday


def test_federal_state_holidays_apply_when_set(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    # Corpus Christi (27 May 2027) is a holiday in Bavaria, not nationwide.
    frozen_clock.set(berlin(2027, 5, 20, 8))
    assert local_starts(consultation, date(2027, 5, 27)) != []
    BookingPolicy.objects.update_or_create(organization=world.org, defaults={"federal_state": "BY"})
    assert local_starts(consultation, date(2027, 5, 27)) == []


def test_one_off_changes_close_a_day_a_stretch_or_add_hours(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    consultation.staff.set([world.staff])
    HoursException.objects.create(
        staff=world.staff, date=date(2027, 3, 23), kind=ExceptionKind.CLOSED
    )
    HoursException.objects.create(
        staff=world.staff,
        date=date(2027, 3, 24),
        kind=ExceptionKind.CLOSED,
        start=time(9),
        end=time(11),
    )
    HoursException.objects.create(
        staff=world.staff,
        date=date(2027, 3, 27),
        kind=ExceptionKind.EXTRA,
        start=time(10),
        end=time(11),
    )
    assert local_starts(consultation, date(2027, 3, 23)) == []
    assert local_starts(consultation, date(2027, 3, 24))[0] == "11:00"
    assert local_starts(consultation, date(2027, 3, 27)) == ["10:00", "10:30"]  # a Saturday


@pytest.mark.parametrize(
    ("now", "days"),
    [
        # 2028: the change (26 March) is not on Easter, so all three days are workdays.
        (berlin(2028, 3, 18, 6), [date(2028, 3, 25), date(2028, 3, 26), date(2028, 3, 27)]),
        (berlin(2027, 10, 23, 6), [date(2027, 10, 30), date(2027, 10, 31), date(2027, 11, 1)]),
    ],
    ids=["last-sunday-of-march", "last-sunday-of-october"],
)
def test_opening_hours_stay_local_across_daylight_saving_changes(
    frozen_clock: Clock, world: World, now: datetime, days: list[date]
):
    frozen_clock.set(now)
    ctype = ConsultationType.objects.create(
        organization=world.org, name="Täglich", duration_minutes=60, min_notice_minutes=0
    )
    ctype.staff.set([world.staff])
    work_week(world.staff, days=range(7), spans=((9, 17),))
    per_day = {}
    for day in days:
        slots = slots_for(ctype, first_day=day, days=1)
        per_day[day] = [
            (s.start.astimezone(BERLIN).strftime("%H:%M"), s.end - s.start) for s in slots
        ]
    for day, slots in per_day.items():
        assert [start for start, _ in slots] == [f"{h:02d}:00" for h in range(9, 17)], day
        assert all(length == timedelta(hours=1) for _, length in slots)
    # The change itself happens on the Sunday: 8 slots there too, no hour lost or doubled.
    assert len(per_day[days[1]]) == 8


def test_the_fast_slot_walk_agrees_with_a_plain_overlap_check():
    """The slot search walks held spans with one pointer; compare it with the obvious check
    on random calendars (buffers on both sides, spans touching and apart)."""
    import random
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from treffpunkt.booking.availability import StaffCalendar, staff_slots

    rng = random.Random(7)
    zone = ZoneInfo("Europe/Berlin")
    days = [date(2027, 4, 5) + timedelta(days=n) for n in range(5)]
    ctype = ConsultationType(duration_minutes=30, buffer_before_minutes=10, buffer_after_minutes=5)
    for _ in range(200):
        calendar = StaffCalendar(staff_id=1, weekly={d: [(time(8), time(18))] for d in range(5)})
        cursor = datetime(2027, 4, 5, 5, 0, tzinfo=UTC)
        while cursor < datetime(2027, 4, 10, tzinfo=UTC):
            cursor += timedelta(minutes=rng.choice([0, 5, 20, 45, 90, 300]))
            length = timedelta(minutes=rng.choice([15, 30, 45, 60]))
            calendar.blocked.append((cursor, cursor + length))
            cursor += length
        found = staff_slots(
            calendar,
            ctype,
            days=days,
            zone=zone,
            federal_state="",
            earliest=datetime(2027, 4, 1, tzinfo=UTC),
            latest=datetime(2027, 5, 1, tzinfo=UTC),
        )
        empty = StaffCalendar(staff_id=1, weekly=calendar.weekly)
        every = staff_slots(
            empty,
            ctype,
            days=days,
            zone=zone,
            federal_state="",
            earliest=datetime(2027, 4, 1, tzinfo=UTC),
            latest=datetime(2027, 5, 1, tzinfo=UTC),
        )
        expected = [
            (s, e)
            for s, e in every
            if not any(
                b0 < e + ctype.buffer_after and s - ctype.buffer_before < b1
                for b0, b1 in calendar.blocked
            )
        ]
        assert found == expected
