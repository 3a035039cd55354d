"""On the day the clocks go back, one wall time happens twice. Wherever a page shows such a time
(the slot list, an appointment), it says which one is meant: summer or winter time with the UTC
offset. Every other time is shown plain."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from tests.booking.conftest import BERLIN, Clock, berlin
from tests.conftest import World, client_for
from treffpunkt.booking.models import ConsultationType, WeeklyHours
from treffpunkt.core.clock import wall_time_repeats
from treffpunkt.core.templatetags.local_time import wall_time

pytestmark = pytest.mark.django_db

CHANGE_DAY = date(2027, 10, 31)  # last Sunday of October: 03:00 CEST → 02:00 CET


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        (datetime(2027, 10, 30, 23, 30, tzinfo=UTC), "01:30"),
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "02:30 (Sommerzeit, UTC+2)"),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), "02:30 (Winterzeit, UTC+1)"),
        (datetime(2027, 10, 31, 2, 30, tzinfo=UTC), "03:30"),
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "03:30"),  # spring: nothing repeats
        (datetime(2027, 6, 1, 8, 0, tzinfo=UTC), "10:00"),
    ],
)
def test_a_repeated_wall_time_is_shown_with_its_offset_and_others_plain(
    utc: datetime, shown: str
) -> None:
    with translation.override("de"), timezone.override(BERLIN):
        assert wall_time(utc) == shown


def test_the_marker_is_translated() -> None:
    with translation.override("en"), timezone.override(BERLIN):
        shown = wall_time(datetime(2027, 10, 31, 1, 30, tzinfo=UTC))
    assert shown == "2:30 a.m. (winter time, UTC+1)"


def test_a_repeated_wall_time_is_recognized_in_any_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    assert wall_time_repeats(datetime(2027, 11, 7, 6, 30, tzinfo=UTC).astimezone(new_york))
    assert not wall_time_repeats(datetime(2027, 11, 7, 8, 30, tzinfo=UTC).astimezone(new_york))


def test_the_slot_list_on_the_october_change_day_tells_the_two_half_past_twos_apart(
    frozen_clock: Clock, world: World
) -> None:
    frozen_clock.set(berlin(2027, 10, 25, 8, 0))
    ctype = ConsultationType.objects.create(
        organization=world.org,
        name="Nachtberatung",
        duration_minutes=30,
        min_notice_minutes=0,
        horizon_days=30,
    )
    ctype.staff.set([world.staff])
    # Opening hours through the night of the change: 01:00 to 04:00 local time.
    WeeklyHours.objects.create(staff=world.staff, weekday=6, start=time(1), end=time(4))
    response = client_for(world.member).get(
        f"/termine/buchen/{ctype.pk}/?ab={CHANGE_DAY.isoformat()}"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "02:30 (Sommerzeit, UTC+2)" in page
    assert "02:30 (Winterzeit, UTC+1)" in page
    assert page.index("(Sommerzeit, UTC+2)") < page.index("(Winterzeit, UTC+1)")
    assert ">01:30<" in page  # unambiguous times stay plain
