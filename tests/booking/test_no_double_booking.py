"""P-BOOK-6: a slot is never given to two members, whatever the load. Fifty members press
"Termin" for the same slot at the same moment, each in its own thread and database
connection; exactly one gets it, the others a clear "just taken" with alternatives."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, connections, transaction

from tests.factories import MemberFactory, OrganizationFactory, StaffFactory
from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment, ConsultationType, WeeklyHours
from treffpunkt.booking.services import SlotTaken, request_appointment
from treffpunkt.core.contention import a_rival_holds_the_range

pytestmark = pytest.mark.django_db(transaction=True)

CONTENDERS = 50


def _next_weekday_at_ten() -> datetime:
    zone = ZoneInfo("Europe/Berlin")
    day = datetime.now(zone).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=zone)


def test_fifty_members_racing_for_one_slot_yield_exactly_one_request():
    org = OrganizationFactory()
    staff = StaffFactory(organization=org)
    for weekday in range(5):
        WeeklyHours.objects.create(staff=staff, weekday=weekday, start=time(9), end=time(17))
    ctype = ConsultationType.objects.create(
        organization=org, name="Einzeltermin", duration_minutes=30, min_notice_minutes=0
    )
    ctype.staff.set([staff])
    members = [MemberFactory(organization=org) for _ in range(CONTENDERS)]
    start = _next_weekday_at_ten()
    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contend(member: User) -> None:
        try:
            # No query before the barrier: a thread waiting there must not hold a connection
            # (with a bounded pool, fifty waiting holders would starve each other).
            barrier.wait(timeout=30)
            request_appointment(
                member=member, consultation_type=ctype, start=start, request_key=uuid.uuid4()
            )
            result = "booked"
        except SlotTaken as exc:
            result = "taken" if exc.alternatives else "taken-without-alternatives"
        except Exception as exc:  # anything else is a failure of the promise
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=contend, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == CONTENDERS
    assert outcomes.count("booked") == 1, sorted(set(outcomes))
    assert outcomes.count("taken") == CONTENDERS - 1, sorted(set(outcomes))
    assert Appointment.objects.filter(start=start).count() == 1


def _hold_by_hand(
    ctype: ConsultationType, *, member: User, staff: User, begin: datetime, key: uuid.UUID
) -> Appointment:
    """A 30-minute hold stored past the service, as code that bypasses it would."""
    return Appointment.objects.create(
        organization=ctype.organization,
        consultation_type=ctype,
        member=member,
        staff=staff,
        start=begin,
        end=begin + timedelta(minutes=30),
        blocked_start=begin,
        blocked_end=begin + timedelta(minutes=30),
        request_key=key,
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only"
)
def test_the_database_itself_refuses_an_overlapping_hold():
    """Even code that bypasses the service cannot store a second hold for the same time."""
    org = OrganizationFactory()
    staff = StaffFactory(organization=org)
    ctype = ConsultationType.objects.create(organization=org, name="X", duration_minutes=30)
    start = _next_weekday_at_ten()

    def hold(minutes_later: int) -> Appointment:
        return _hold_by_hand(
            ctype,
            member=MemberFactory(organization=org),
            staff=staff,
            begin=start + timedelta(minutes=minutes_later),
            key=uuid.uuid4(),
        )

    hold(0)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        hold(15)
    assert a_rival_holds_the_range(refused.value)  # told apart from a form sent twice
    hold(30)  # back to back is fine
    assert Appointment.objects.count() == 2


def test_a_form_sent_twice_is_told_apart_from_a_rival_for_the_time():
    """The same request key refused by its unique constraint is no rival: the request then
    answers with the first copy instead of trying the next staff member."""
    org = OrganizationFactory()
    staff, other_staff = StaffFactory(organization=org), StaffFactory(organization=org)
    ctype = ConsultationType.objects.create(organization=org, name="X", duration_minutes=30)
    member, key, start = MemberFactory(organization=org), uuid.uuid4(), _next_weekday_at_ten()

    _hold_by_hand(ctype, member=member, staff=staff, begin=start, key=key)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        _hold_by_hand(ctype, member=member, staff=other_staff, begin=start, key=key)
    assert not a_rival_holds_the_range(refused.value)
