"""P-BOOK-6 under real contention: overlapping (not identical) slots of two consultation types
with buffers, requested, moved and booked by staff at the same moment from many threads, each
with its own database connection.

On PostgreSQL two inserts that overlap inside the exclusion constraint can wait on each other;
the database then aborts one of them (deadlock detected). Whoever loses must hear "this slot was
just taken" (or "the staff member is busy") like any other loser of the race, never a server
error, and the constraint must still hold: no two holds of one staff member overlap."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from tests.factories import MemberFactory, OrgAdminFactory, OrganizationFactory, StaffFactory
from treffpunkt.accounts.models import Organization, User
from treffpunkt.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    ConsultationType,
    WeeklyHours,
)
from treffpunkt.booking.selectors import slots_for
from treffpunkt.booking.services import (
    SlotTaken,
    StaffBusy,
    book_for_member,
    confirm_appointment,
    move_appointment,
    request_appointment,
)
from treffpunkt.core import clock

pytestmark = pytest.mark.django_db(transaction=True)

BERLIN = ZoneInfo("Europe/Berlin")
CONTENDERS = 24
ROUNDS = 3


def _weekdays_ahead(count: int) -> list[date]:
    """The next ``count`` working days, starting three days from today."""
    days: list[date] = []
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


class Setting:
    """One organization, two staff members working 7–19 on weekdays, and two consultation types
    of different lengths and buffers, both offered by both staff members."""

    def __init__(self) -> None:
        self.org: Organization = OrganizationFactory()
        self.staff = [StaffFactory(organization=self.org) for _ in range(2)]
        self.admin: User = OrgAdminFactory(organization=self.org)
        for person in self.staff:
            WeeklyHours.objects.bulk_create(
                [
                    WeeklyHours(staff=person, weekday=day, start=time(7), end=time(19))
                    for day in range(5)
                ]
            )
        self.short = self._type("Kurzberatung", duration=20, before=10, after=5)
        self.long = self._type("Ausführliche Beratung", duration=45, before=15, after=15)

    def _type(self, name: str, *, duration: int, before: int, after: int) -> ConsultationType:
        ctype = ConsultationType.objects.create(
            organization=self.org,
            name=name,
            duration_minutes=duration,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
            min_notice_minutes=0,
            horizon_days=60,
        )
        ctype.staff.set(self.staff)
        return ctype

    def overlapping_starts(self, day: date) -> list[tuple[ConsultationType, datetime]]:
        """Every offered start of both types between 09:00 and 13:00 on ``day``: each one
        overlaps several others once buffers are counted."""
        earliest = datetime.combine(day, time(9), tzinfo=BERLIN)
        latest = datetime.combine(day, time(13), tzinfo=BERLIN)
        found = []
        for ctype in (self.short, self.long):
            for slot in slots_for(ctype, first_day=day, days=1, now=clock.now()):
                if earliest <= slot.start <= latest:
                    found.append((ctype, slot.start))
        assert len(found) >= 6, "the setting must offer overlapping starts"
        return found


def _race(work: list[Callable[[], str]]) -> list[str]:
    """Run every piece of work in its own thread, released at the same moment."""
    barrier = threading.Barrier(len(work))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(piece: Callable[[], str]) -> None:
        try:
            # No query before the barrier: a waiting thread must not hold a pooled connection.
            barrier.wait(timeout=60)
            result = piece()
        except Exception as exc:  # anything but a domain answer breaks the promise
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(piece,)) for piece in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(outcomes) == len(work), "a contender hung"
    return outcomes


def _assert_no_overlapping_holds(setting: Setting) -> None:
    for person in setting.staff:
        holds = list(
            Appointment.objects.filter(staff=person, status__in=HOLDING_STATUSES).values_list(
                "blocked_start", "blocked_end"
            )
        )
        for (start_a, end_a), (start_b, end_b) in combinations(holds, 2):
            assert end_a <= start_b or end_b <= start_a, "two holds of one staff member overlap"


def _only_domain_answers(outcomes: list[str], *, winners: str, losers: str) -> None:
    errors = [o for o in outcomes if o not in (winners, losers)]
    assert not errors, errors
    assert winners in outcomes, "somebody must win the race"


def test_simultaneous_overlapping_requests_get_a_slot_or_just_taken_never_an_error() -> None:
    setting = Setting()
    for day in _weekdays_ahead(ROUNDS):
        starts = setting.overlapping_starts(day)
        members = [MemberFactory(organization=setting.org) for _ in range(CONTENDERS)]

        def request(member: User, ctype: ConsultationType, start: datetime, staff_id: int | None):
            def piece() -> str:
                try:
                    request_appointment(
                        member=member,
                        consultation_type=ctype,
                        start=start,
                        request_key=uuid.uuid4(),
                        staff_id=staff_id,
                    )
                except SlotTaken as exc:
                    return "taken" if exc.alternatives is not None else "taken-without-list"
                return "booked"

            return piece

        work = []
        for index, member in enumerate(members):
            ctype, start = starts[index % len(starts)]
            # Half ask for "any staff member", half for a named one: both paths race.
            staff_id = None if index % 2 else setting.staff[index % 4 // 2].pk
            work.append(request(member, ctype, start, staff_id))
        outcomes = _race(work)
        _only_domain_answers(outcomes, winners="booked", losers="taken")
        assert Appointment.objects.filter(start__date=day).count() == outcomes.count("booked")
    _assert_no_overlapping_holds(setting)


def test_simultaneous_moves_onto_overlapping_times_move_or_hear_just_taken() -> None:
    setting = Setting()
    staff = setting.staff[0]
    origin_day, target_day = _weekdays_ahead(2)
    confirmed = []
    origin_slots = slots_for(setting.short, first_day=origin_day, days=1, now=clock.now())
    for slot in origin_slots[: CONTENDERS // 2]:
        appointment = request_appointment(
            member=MemberFactory(organization=setting.org),
            consultation_type=setting.short,
            start=slot.start,
            request_key=uuid.uuid4(),
            staff_id=staff.pk,
        )
        confirm_appointment(actor=setting.admin, appointment_id=appointment.pk)
        confirmed.append(appointment)
    targets = [s for s in setting.overlapping_starts(target_day) if s[0] == setting.short]

    def move(appointment: Appointment, start: datetime) -> Callable[[], str]:
        def piece() -> str:
            try:
                move_appointment(actor=setting.admin, appointment_id=appointment.pk, start=start)
            except SlotTaken:
                return "taken"
            return "moved"

        return piece

    outcomes = _race(
        [
            move(appointment, targets[index % len(targets)][1])
            for index, appointment in enumerate(confirmed)
        ]
    )
    _only_domain_answers(outcomes, winners="moved", losers="taken")
    assert Appointment.objects.filter(
        staff=staff, start__date=target_day
    ).count() == outcomes.count("moved")
    _assert_no_overlapping_holds(setting)


def test_simultaneous_staff_bookings_for_members_book_or_hear_busy() -> None:
    setting = Setting()
    staff = setting.staff[0]
    [day] = _weekdays_ahead(1)
    starts = setting.overlapping_starts(day)
    bookers = [setting.admin, setting.staff[1], staff]

    def book(actor: User, ctype: ConsultationType, start: datetime) -> Callable[[], str]:
        member = MemberFactory(organization=setting.org)

        def piece() -> str:
            try:
                book_for_member(
                    actor=actor, member=member, consultation_type=ctype, staff=staff, start=start
                )
            except StaffBusy:
                return "busy"
            return "booked"

        return piece

    outcomes = _race(
        [
            book(bookers[index % len(bookers)], *starts[index % len(starts)])
            for index in range(CONTENDERS)
        ]
    )
    _only_domain_answers(outcomes, winners="booked", losers="busy")
    assert Appointment.objects.filter(staff=staff, start__date=day).count() == outcomes.count(
        "booked"
    )
    _assert_no_overlapping_holds(setting)
