"""The fault-ticket clock (core/service_hours.py): Monday to Friday 09:00–18:00 Berlin without
nationwide holidays, across weekends, Easter, New Year and daylight-saving changes, with pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treffpunkt.core.service_hours import (
    BERLIN,
    MAX_SERVICE_DURATION,
    SERVICE_END,
    SERVICE_START,
    add_service_time,
    is_service_day,
    service_periods,
    service_seconds_between,
)

TWO_HOURS = timedelta(hours=2)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_a_ticket_opened_friday_1730_with_two_hours_reaction_is_due_monday_1030() -> None:
    # Friday 17:30–18:00 uses half an hour, the other 1.5 h run from Monday 09:00.
    assert add_service_time(berlin(2027, 3, 5, 17, 30), TWO_HOURS) == berlin(2027, 3, 8, 10, 30)


def test_a_ticket_opened_on_maundy_thursday_2027_is_due_the_tuesday_after_easter() -> None:
    # Thursday 17:00–18:00 is one hour; Good Friday (26.3.), the weekend and Easter Monday
    # (29.3.) do not count; the second hour ends Tuesday 10:00. Daylight saving starts on
    # Easter Sunday 2027 (28.3.), which must not shift the wall-clock result.
    due = add_service_time(berlin(2027, 3, 25, 17), TWO_HOURS)
    assert due == berlin(2027, 3, 30, 10)
    assert due.utcoffset() == timedelta(hours=2)


def test_a_ticket_opened_on_maundy_thursday_2026_is_due_the_tuesday_after_easter() -> None:
    # Good Friday 3.4.2026 and Easter Monday 6.4.2026 are nationwide holidays.
    assert add_service_time(berlin(2026, 4, 2, 17), TWO_HOURS) == berlin(2026, 4, 7, 10)


def test_easter_holidays_and_weekends_are_no_service_days() -> None:
    assert not is_service_day(date(2027, 3, 26))  # Good Friday
    assert not is_service_day(date(2027, 3, 29))  # Easter Monday
    assert not is_service_day(date(2027, 5, 6))  # Ascension Day
    assert not is_service_day(date(2027, 3, 6))  # Saturday
    assert not is_service_day(date(2027, 3, 7))  # Sunday
    assert is_service_day(date(2027, 3, 25))  # Maundy Thursday is a working day


def test_a_state_only_holiday_is_a_service_day() -> None:
    # Fronleichnam (Corpus Christi, 27.5.2027) is a holiday in some states only; the terms
    # exclude nationwide holidays only, so the clock runs.
    assert is_service_day(date(2027, 5, 27))
    assert add_service_time(berlin(2027, 5, 26, 17), TWO_HOURS) == berlin(2027, 5, 27, 10)


def test_is_service_day_refuses_a_datetime_whose_day_depends_on_the_zone() -> None:
    with pytest.raises(TypeError):
        is_service_day(berlin(2027, 3, 1, 12))


def test_a_ticket_opened_on_saturday_starts_counting_monday_0900() -> None:
    assert add_service_time(berlin(2027, 3, 6, 11), TWO_HOURS) == berlin(2027, 3, 8, 11)
    assert add_service_time(berlin(2027, 3, 6, 11), timedelta()) == berlin(2027, 3, 8, 9)


def test_a_ticket_opened_at_0700_on_a_weekday_starts_counting_at_0900() -> None:
    assert add_service_time(berlin(2027, 3, 2, 7), TWO_HOURS) == berlin(2027, 3, 2, 11)


def test_a_ticket_opened_after_1800_starts_counting_the_next_service_day() -> None:
    assert add_service_time(berlin(2027, 3, 2, 18), TWO_HOURS) == berlin(2027, 3, 3, 11)
    assert add_service_time(berlin(2027, 3, 2, 21, 45), TWO_HOURS) == berlin(2027, 3, 3, 11)


def test_a_deadline_landing_exactly_on_1800_stays_on_that_day() -> None:
    assert add_service_time(berlin(2027, 3, 1, 16), TWO_HOURS) == berlin(2027, 3, 1, 18)
    assert add_service_time(berlin(2027, 3, 1, 9), timedelta(hours=9)) == berlin(2027, 3, 1, 18)
    # A Friday deadline at 18:00 is not moved to Monday 09:00 either.
    assert add_service_time(berlin(2027, 3, 5, 16), TWO_HOURS) == berlin(2027, 3, 5, 18)


def test_twelve_service_hours_from_the_friday_before_summer_time_end_at_monday_1500_cest() -> None:
    # Summer time starts Sunday 29.3.2026. Friday 27.3. 12:00–18:00 is 6 h (CET), Monday 30.3.
    # 09:00–15:00 the other 6 h (CEST): 15:00 wall clock, 13:00 UTC.
    due = add_service_time(berlin(2026, 3, 27, 12), timedelta(hours=12))
    assert due == berlin(2026, 3, 30, 15)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 13, tzinfo=UTC)
    assert service_seconds_between(berlin(2026, 3, 27, 12), due) == 12 * 3600


def test_twelve_service_hours_from_the_friday_before_winter_time_end_at_monday_1500_cet() -> None:
    # Winter time starts Sunday 25.10.2026. Friday 23.10. 12:00–18:00 is 6 h (CEST), Monday
    # 26.10. 09:00–15:00 the other 6 h (CET): 15:00 wall clock, 14:00 UTC.
    due = add_service_time(berlin(2026, 10, 23, 12), timedelta(hours=12))
    assert due == berlin(2026, 10, 26, 15)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 14, tzinfo=UTC)
    assert service_seconds_between(berlin(2026, 10, 23, 12), due) == 12 * 3600


def test_a_service_day_has_nine_hours_on_both_sides_of_a_daylight_saving_change() -> None:
    for monday in (date(2026, 3, 30), date(2026, 10, 26)):
        day_start = datetime.combine(monday, time(0), tzinfo=BERLIN)
        assert service_seconds_between(day_start, day_start + timedelta(days=1)) == 9 * 3600


def test_a_ticket_opened_on_new_years_eve_is_due_the_first_monday_of_the_year() -> None:
    # 31.12.2026 (Thursday) is a normal service day: 17:00–18:00 is one hour. 1.1. is a
    # holiday, 2.–3.1. a weekend; the second hour ends Monday 4.1.2027 10:00.
    assert is_service_day(date(2026, 12, 31))
    assert add_service_time(berlin(2026, 12, 31, 17), TWO_HOURS) == berlin(2027, 1, 4, 10)


def test_service_periods_are_the_clipped_service_windows_in_order() -> None:
    periods = list(service_periods(berlin(2027, 3, 5, 17), berlin(2027, 3, 9, 10)))
    assert periods == [
        (berlin(2027, 3, 5, 17), berlin(2027, 3, 5, 18)),
        (berlin(2027, 3, 8, 9), berlin(2027, 3, 8, 18)),
        (berlin(2027, 3, 9, 9), berlin(2027, 3, 9, 10)),
    ]
    assert all(a.tzinfo is BERLIN and b.tzinfo is BERLIN for a, b in periods)


def test_an_empty_or_reversed_interval_has_no_service_time() -> None:
    monday_noon = berlin(2027, 3, 1, 12)
    assert list(service_periods(monday_noon, monday_noon)) == []
    assert service_seconds_between(monday_noon, monday_noon - TWO_HOURS) == 0


def test_results_are_in_berlin_whatever_zone_the_input_has() -> None:
    # Friday 16:30 UTC is 17:30 Berlin (CET), so this is the Friday-to-Monday case again.
    due = add_service_time(datetime(2027, 3, 5, 16, 30, tzinfo=UTC), TWO_HOURS)
    assert due.tzinfo is BERLIN
    assert due == berlin(2027, 3, 8, 10, 30)
    new_york = ZoneInfo("America/New_York")
    assert add_service_time(datetime(2027, 3, 5, 11, 30, tzinfo=new_york), TWO_HOURS) == due


def test_a_paused_clock_does_not_count_the_pause() -> None:
    # Monday 09:00–10:00 counts one hour, the pause runs to Tuesday 09:30, then three more.
    monday = berlin(2027, 3, 1, 9)
    pause = (berlin(2027, 3, 1, 10), berlin(2027, 3, 2, 9, 30))
    due = add_service_time(monday, timedelta(hours=4), paused=[pause])
    assert due == berlin(2027, 3, 2, 12, 30)
    assert service_seconds_between(monday, due, paused=[pause]) == 4 * 3600


def test_overlapping_pauses_count_once() -> None:
    monday = berlin(2027, 3, 1, 9)
    pauses = [
        (berlin(2027, 3, 1, 11), berlin(2027, 3, 1, 13)),
        (berlin(2027, 3, 1, 10), berlin(2027, 3, 1, 12)),
        (berlin(2027, 3, 1, 10, 30), berlin(2027, 3, 1, 11, 30)),
    ]
    # Paused 10:00–13:00 once: 9 h − 3 h.
    assert service_seconds_between(monday, berlin(2027, 3, 1, 18), paused=pauses) == 6 * 3600
    # 09:00–10:00 and 13:00–16:00 make four hours.
    assert add_service_time(monday, timedelta(hours=4), paused=pauses) == berlin(2027, 3, 1, 16)


def test_an_open_pause_lasts_to_the_end_of_the_measured_interval() -> None:
    # Counted Monday 09:00–12:00, then the ticket waits for the customer until now (Tuesday).
    monday = berlin(2027, 3, 1, 9)
    paused = [(berlin(2027, 3, 1, 12), None)]
    assert service_seconds_between(monday, berlin(2027, 3, 2, 18), paused=paused) == 3 * 3600


def test_pauses_outside_the_interval_or_outside_service_hours_change_nothing() -> None:
    monday = berlin(2027, 3, 1, 9)
    paused = [
        (berlin(2027, 2, 20), berlin(2027, 2, 21)),  # before the ticket was opened
        (berlin(2027, 3, 1, 19), berlin(2027, 3, 2, 8)),  # overnight
        (berlin(2027, 3, 4, 9), berlin(2027, 3, 4, 10)),  # after the deadline
    ]
    assert add_service_time(monday, timedelta(hours=10), paused=paused) == berlin(2027, 3, 2, 10)
    # An open pause that starts after the measured interval is empty there.
    still_open = [*paused, (berlin(2027, 3, 9), None)]
    assert service_seconds_between(monday, berlin(2027, 3, 2, 18), paused=still_open) == 18 * 3600


def test_a_pause_covering_the_start_delays_the_start_of_counting() -> None:
    pause = (berlin(2027, 3, 1, 8), berlin(2027, 3, 1, 11))
    assert add_service_time(berlin(2027, 3, 1, 9), TWO_HOURS, paused=[pause]) == berlin(
        2027, 3, 1, 13
    )


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2027, 3, 1, 9)  # noqa: DTZ001 - the point of this test
    aware = berlin(2027, 3, 1, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_service_time(naive, TWO_HOURS)
    with pytest.raises(ValueError, match="timezone-aware"):
        service_seconds_between(aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        list(service_periods(naive, aware))
    with pytest.raises(ValueError, match="timezone-aware"):
        service_seconds_between(aware, aware + TWO_HOURS, paused=[(naive, None)])
    with pytest.raises(ValueError, match="timezone-aware"):
        add_service_time(aware, TWO_HOURS, paused=[(aware, naive)])


def test_an_open_pause_leaves_no_deadline_to_compute() -> None:
    monday = berlin(2027, 3, 1, 9)
    with pytest.raises(ValueError, match="the clock is paused"):
        add_service_time(monday, TWO_HOURS, paused=[(berlin(2027, 3, 1, 10), None)])


def test_a_pause_ending_before_it_starts_is_refused() -> None:
    monday = berlin(2027, 3, 1, 9)
    backwards = (berlin(2027, 3, 1, 12), berlin(2027, 3, 1, 10))
    with pytest.raises(ValueError, match="before it starts"):
        add_service_time(monday, TWO_HOURS, paused=[backwards])


def test_negative_and_absurdly_long_durations_are_refused_instead_of_looping() -> None:
    monday = berlin(2027, 3, 1, 9)
    with pytest.raises(ValueError, match="negative"):
        add_service_time(monday, -TWO_HOURS)
    with pytest.raises(ValueError, match="limited"):
        add_service_time(monday, MAX_SERVICE_DURATION + timedelta(seconds=1))
    # The longest allowed duration still ends, within a bit more than ten calendar years.
    due = add_service_time(monday, MAX_SERVICE_DURATION)
    assert monday + timedelta(days=365 * 9) < due < monday + timedelta(days=366 * 11)


aware_starts = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis attaches the zone
    max_value=datetime(2030, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=st.sampled_from([BERLIN, UTC, ZoneInfo("America/New_York")]),
    allow_imaginary=False,
)
whole_minutes = st.integers(min_value=0, max_value=100 * 60).map(lambda m: timedelta(minutes=m))


def assert_within_service_hours(moment: datetime) -> None:
    local = moment.astimezone(BERLIN)
    assert is_service_day(local.date())
    assert SERVICE_START <= local.timetz().replace(tzinfo=None) <= SERVICE_END


# No deadline: the first call of a year builds its holiday calendar, which is slow only once.
@settings(max_examples=200, deadline=None)
@given(aware_starts, whole_minutes)
def test_a_deadline_is_exactly_its_duration_of_service_time_after_the_start(
    start: datetime, duration: timedelta
) -> None:
    due = add_service_time(start, duration)
    assert due.tzinfo is BERLIN
    assert service_seconds_between(start, due) == duration.total_seconds()
    assert_within_service_hours(due)


@settings(max_examples=100, deadline=None)
@given(
    aware_starts,
    whole_minutes,
    st.integers(min_value=-48 * 60, max_value=96 * 60),
    st.integers(min_value=0, max_value=72 * 60),
)
def test_a_paused_deadline_is_exactly_its_duration_of_unpaused_service_time(
    start: datetime, duration: timedelta, pause_offset: int, pause_length: int
) -> None:
    pause_start = start + timedelta(minutes=pause_offset)
    pause = (pause_start, pause_start + timedelta(minutes=pause_length))
    due = add_service_time(start, duration, paused=[pause])
    assert service_seconds_between(start, due, paused=[pause]) == duration.total_seconds()
    assert due >= add_service_time(start, duration)
    assert_within_service_hours(due)
