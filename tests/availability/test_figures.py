"""The monthly availability figure of § 4: pure arithmetic, no database.

Every expected value is computed by hand in the comment next to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from treffpunkt.availability.figures import (
    BERLIN,
    GOAL,
    Incident,
    Maintenance,
    merge,
    month_bounds,
    month_figure,
    subtract,
)

# Long after every month used here, so no month is "in the future" and open incidents run to
# the month's end unless a test says otherwise.
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def late_incident(start: datetime, deadline: datetime, end: datetime | None) -> Incident:
    return Incident(start=start, end=end, significant=True, fix_deadline=deadline)


def test_goal_is_97_percent() -> None:
    assert str(GOAL) == "97.0"


def test_a_31_day_month_without_incidents_is_fully_available() -> None:
    figure = month_figure(date(2027, 1, 1), incidents=[], maintenance=[], now=LATER)

    # 31 days × 1440 min = 44640 min.
    assert figure.month == date(2027, 1, 1)
    assert figure.minutes_total == 44640
    assert figure.minutes_unavailable == 0
    assert figure.percent == Decimal("100.00")
    assert str(figure.percent) == "100.00"
    assert figure.meets_goal is True
    assert figure.unavailable_periods == ()


def test_an_incident_fixed_three_hours_late_costs_three_hours() -> None:
    # Fault 08:00, fix deadline 12:00, fixed 15:00 → 12:00–15:00 = 180 min unavailable.
    incident = late_incident(
        berlin(2027, 2, 10, 8), berlin(2027, 2, 10, 12), berlin(2027, 2, 10, 15)
    )

    figure = month_figure(date(2027, 2, 1), incidents=[incident], maintenance=[], now=LATER)

    # 28 days × 1440 = 40320 min; 100 × (40320 − 180) / 40320 = 99.5535… → cut to 99.55.
    assert figure.minutes_total == 40320
    assert figure.minutes_unavailable == Decimal(180)
    assert figure.percent == Decimal("99.55")
    assert figure.meets_goal is True
    # 12:00–15:00 CET is 11:00–14:00 UTC.
    assert figure.unavailable_periods == (
        (datetime(2027, 2, 10, 11, tzinfo=UTC), datetime(2027, 2, 10, 14, tzinfo=UTC)),
    )


def test_the_spring_dst_month_has_one_hour_less() -> None:
    figure = month_figure(date(2027, 3, 1), incidents=[], maintenance=[], now=LATER)

    # 31 × 1440 − 60 = 44580 (28 March 2027: 02:00 → 03:00).
    assert figure.minutes_total == 44580


def test_the_autumn_dst_month_has_one_hour_more() -> None:
    figure = month_figure(date(2027, 10, 1), incidents=[], maintenance=[], now=LATER)

    # 31 × 1440 + 60 = 44700 (31 October 2027: 03:00 → 02:00).
    assert figure.minutes_total == 44700


def test_month_bounds_are_berlin_midnights_and_december_runs_into_january() -> None:
    assert month_bounds(date(2027, 12, 1)) == (berlin(2027, 12, 1), berlin(2028, 1, 1))
    # Any day of the month names the month.
    assert month_bounds(date(2027, 3, 17)) == (berlin(2027, 3, 1), berlin(2027, 4, 1))
    start, end = month_bounds(date(2027, 3, 1))
    assert start.tzinfo is BERLIN
    assert end.tzinfo is BERLIN


def test_the_hour_repeated_in_october_is_counted_in_real_time() -> None:
    # 31 October 2027 02:30 occurs twice; from the first (CEST) to the second (CET) is one real
    # hour. Fix deadline = start, so the whole hour is late: 60 min.
    first = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=0)
    second = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=1)

    figure = month_figure(
        date(2027, 10, 1),
        incidents=[late_incident(first, first, second)],
        maintenance=[],
        now=LATER,
    )

    assert figure.minutes_unavailable == Decimal(60)


def test_maintenance_across_midnight_counts_as_available_during_a_late_incident() -> None:
    # Incident 21:00–04:00, fix deadline 21:30 → late 21:30–04:00 (390 min).
    # Maintenance 22:00–03:00 is available → unavailable (21:30–22:00) + (03:00–04:00)
    # = 30 + 60 = 90 min.
    incident = late_incident(
        berlin(2027, 1, 10, 21), berlin(2027, 1, 10, 21, 30), berlin(2027, 1, 11, 4)
    )
    window = Maintenance(start=berlin(2027, 1, 10, 22), end=berlin(2027, 1, 11, 3))

    figure = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[window], now=LATER)

    assert figure.minutes_unavailable == Decimal(90)
    # CET is UTC+1: 20:30–21:00 and 02:00–03:00 UTC.
    assert figure.unavailable_periods == (
        (datetime(2027, 1, 10, 20, 30, tzinfo=UTC), datetime(2027, 1, 10, 21, tzinfo=UTC)),
        (datetime(2027, 1, 11, 2, tzinfo=UTC), datetime(2027, 1, 11, 3, tzinfo=UTC)),
    )


def test_a_fix_in_time_costs_nothing() -> None:
    # Fixed 11:59, deadline 12:00 → 0 min.
    incident = late_incident(
        berlin(2027, 1, 5, 8), berlin(2027, 1, 5, 12), berlin(2027, 1, 5, 11, 59)
    )

    figure = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.minutes_unavailable == 0
    assert figure.percent == Decimal("100.00")
    assert figure.unavailable_periods == ()


def test_a_fix_exactly_at_the_deadline_costs_nothing() -> None:
    incident = late_incident(berlin(2027, 1, 5, 8), berlin(2027, 1, 5, 12), berlin(2027, 1, 5, 12))

    figure = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.minutes_unavailable == 0


def test_a_fix_one_minute_late_costs_one_minute() -> None:
    # Deadline 12:00, fixed 12:01 → 1 min.
    incident = late_incident(
        berlin(2027, 1, 5, 8), berlin(2027, 1, 5, 12), berlin(2027, 1, 5, 12, 1)
    )

    figure = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.minutes_unavailable == Decimal(1)
    # 100 × (44640 − 1) / 44640 = 99.99776… → 99.99.
    assert figure.percent == Decimal("99.99")


def test_seconds_are_kept_exactly() -> None:
    # 90 s late → 1.5 min, not rounded to whole minutes.
    deadline = berlin(2027, 1, 5, 12)
    incident = late_incident(berlin(2027, 1, 5, 8), deadline, deadline + timedelta(seconds=90))

    figure = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.minutes_unavailable == Decimal("1.5")


def test_an_insignificant_incident_costs_nothing_even_if_long() -> None:
    # Ten days, deadline long passed — but insignificant, so out of the calculation.
    incident = Incident(
        start=berlin(2027, 1, 2),
        end=berlin(2027, 1, 12),
        significant=False,
        fix_deadline=berlin(2027, 1, 2, 1),
    )

    figure = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.minutes_unavailable == 0
    assert figure.meets_goal is True


def test_overlapping_late_incidents_count_once() -> None:
    # A late 11:00–14:00, B late 13:00–16:00 → union 11:00–16:00 = 300 min (not 180 + 180).
    first = late_incident(berlin(2027, 1, 5, 10), berlin(2027, 1, 5, 11), berlin(2027, 1, 5, 14))
    second = late_incident(berlin(2027, 1, 5, 12), berlin(2027, 1, 5, 13), berlin(2027, 1, 5, 16))

    figure = month_figure(date(2027, 1, 1), incidents=[first, second], maintenance=[], now=LATER)

    assert figure.minutes_unavailable == Decimal(300)
    assert len(figure.unavailable_periods) == 1


def test_an_incident_spanning_two_months_counts_only_its_part_in_each() -> None:
    # Late from 31 Jan 22:00 to 1 Feb 03:00: January gets 22:00–24:00 = 120 min, February
    # 00:00–03:00 = 180 min.
    incident = late_incident(
        berlin(2027, 1, 31, 20), berlin(2027, 1, 31, 22), berlin(2027, 2, 1, 3)
    )

    january = month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)
    february = month_figure(date(2027, 2, 1), incidents=[incident], maintenance=[], now=LATER)

    assert january.minutes_unavailable == Decimal(120)
    assert february.minutes_unavailable == Decimal(180)
    assert january.unavailable_periods[-1][1] == berlin(2027, 2, 1)
    assert february.unavailable_periods[0][0] == berlin(2027, 2, 1)


def test_an_open_incident_counts_up_to_now_in_a_whole_month() -> None:
    # Open since 08:00, deadline 10:00, now 12:00 → 120 min. The running month is measured
    # over all its 40320 min: 100 × (40320 − 120) / 40320 = 99.7023… → 99.70.
    incident = late_incident(berlin(2027, 2, 15, 8), berlin(2027, 2, 15, 10), None)

    figure = month_figure(
        date(2027, 2, 1), incidents=[incident], maintenance=[], now=berlin(2027, 2, 15, 12)
    )

    assert figure.minutes_unavailable == Decimal(120)
    assert figure.minutes_total == 40320
    assert figure.percent == Decimal("99.70")


def test_an_open_incident_of_a_past_month_counts_up_to_the_months_end() -> None:
    # Late since 30 April 23:00, still open in June → April gets 23:00–24:00 = 60 min.
    incident = late_incident(berlin(2027, 4, 30, 22), berlin(2027, 4, 30, 23), None)

    figure = month_figure(
        date(2027, 4, 1), incidents=[incident], maintenance=[], now=berlin(2027, 6, 1)
    )

    assert figure.minutes_unavailable == Decimal(60)


def _april_with_unavailable_minutes(minutes: int) -> Incident:
    # Fix deadline at the start: every minute of the incident is late.
    start = berlin(2027, 4, 5)
    return late_incident(start, start, start + timedelta(minutes=minutes))


def test_exactly_three_percent_unavailable_meets_the_goal() -> None:
    # April: 30 × 1440 = 43200 min; 3 % of it = 1296 min → exactly 97.00 %.
    incident = _april_with_unavailable_minutes(1296)

    figure = month_figure(date(2027, 4, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.minutes_total == 43200
    assert figure.percent == Decimal("97.00")
    assert figure.meets_goal is True


def test_one_minute_more_misses_the_goal_and_is_not_rounded_up() -> None:
    # 100 × (43200 − 1297) / 43200 = 96.99768… → cut to 96.99, goal missed.
    incident = _april_with_unavailable_minutes(1297)

    figure = month_figure(date(2027, 4, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.percent == Decimal("96.99")
    assert figure.meets_goal is False


def test_one_second_too_many_misses_the_goal_although_it_shows_96_99() -> None:
    # 1296 min + 1 s: exact 96.99997… % → shown 96.99 (never rounded up to 97.00), goal missed.
    start = berlin(2027, 4, 5)
    incident = late_incident(start, start, start + timedelta(minutes=1296, seconds=1))

    figure = month_figure(date(2027, 4, 1), incidents=[incident], maintenance=[], now=LATER)

    assert figure.percent == Decimal("96.99")
    assert figure.meets_goal is False


@pytest.mark.parametrize(
    "incident",
    [
        Incident(datetime(2027, 1, 5, 8), datetime(2027, 1, 5, 9), True, berlin(2027, 1, 5, 8)),  # noqa: DTZ001
        Incident(berlin(2027, 1, 5, 8), datetime(2027, 1, 5, 9), True, berlin(2027, 1, 5, 8)),  # noqa: DTZ001
        Incident(berlin(2027, 1, 5, 8), berlin(2027, 1, 5, 9), True, datetime(2027, 1, 5, 8)),  # noqa: DTZ001
        # Insignificant incidents are checked too: bad data must not hide behind the flag.
        Incident(datetime(2027, 1, 5, 8), None, False, datetime(2027, 1, 5, 8)),  # noqa: DTZ001
    ],
)
def test_naive_datetimes_in_incidents_are_refused(incident: Incident) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        month_figure(date(2027, 1, 1), incidents=[incident], maintenance=[], now=LATER)


def test_naive_maintenance_and_now_are_refused() -> None:
    naive = datetime(2027, 1, 5, 8)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        month_figure(
            date(2027, 1, 1),
            incidents=[],
            maintenance=[Maintenance(naive, berlin(2027, 1, 5, 9))],
            now=LATER,
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        month_figure(date(2027, 1, 1), incidents=[], maintenance=[], now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        merge([(naive, berlin(2027, 1, 5, 9))])


def test_an_interval_ending_before_it_starts_is_refused() -> None:
    backwards = late_incident(berlin(2027, 1, 5, 9), berlin(2027, 1, 5, 9), berlin(2027, 1, 5, 8))
    with pytest.raises(ValueError, match="ends before it starts"):
        month_figure(date(2027, 1, 1), incidents=[backwards], maintenance=[], now=LATER)
    with pytest.raises(ValueError, match="ends before it starts"):
        month_figure(
            date(2027, 1, 1),
            incidents=[],
            maintenance=[Maintenance(berlin(2027, 1, 5, 9), berlin(2027, 1, 5, 8))],
            now=LATER,
        )
    with pytest.raises(ValueError, match="ends before it starts"):
        subtract([], [(berlin(2027, 1, 5, 9), berlin(2027, 1, 5, 8))])


def test_a_month_that_has_not_begun_is_refused() -> None:
    with pytest.raises(ValueError, match="not begun"):
        month_figure(date(2027, 2, 1), incidents=[], maintenance=[], now=berlin(2027, 1, 31, 23))


def test_the_month_that_begins_right_now_is_measured() -> None:
    figure = month_figure(date(2027, 2, 1), incidents=[], maintenance=[], now=berlin(2027, 2, 1))

    assert figure.percent == Decimal("100.00")


def test_merge_joins_overlapping_and_touching_intervals_and_drops_empty_ones() -> None:
    a, b, c, d, e = (berlin(2027, 1, 1, hour) for hour in (1, 2, 3, 4, 5))

    # [3,4) + [1,2) + [2,3) touch into [1,4); [1,2) inside it vanishes; [5,5) is empty.
    merged = merge([(c, d), (a, b), (b, c), (a, b), (e, e)])

    assert merged == [(a, d)]
    assert merged[0][0].tzinfo is UTC


def test_subtract_cuts_holes_out_of_intervals() -> None:
    h = [berlin(2027, 1, 1, hour) for hour in range(12)]

    # [1,5) and [6,10) minus [2,3) and [4,7) (one hole across both) and [9,11)
    # → [1,2), [3,4), [7,9).
    remaining = subtract([(h[1], h[5]), (h[6], h[10])], [(h[2], h[3]), (h[4], h[7]), (h[9], h[11])])

    assert remaining == [(h[1], h[2]), (h[3], h[4]), (h[7], h[9])]


def test_subtract_with_a_hole_covering_everything_leaves_nothing() -> None:
    h = [berlin(2027, 1, 1, hour) for hour in range(6)]

    assert subtract([(h[1], h[2]), (h[3], h[4])], [(h[0], h[5])]) == []


def test_ten_thousand_incidents_are_summed_by_sweep() -> None:
    # 10,000 incidents, one every 4 min, each 1 min late and 1 min apart from the next:
    # 10,000 min unavailable, no overlaps. 40,000 min fit in January (44640).
    start = berlin(2027, 1, 1)
    incidents = [
        late_incident(
            start + timedelta(minutes=4 * n),
            start + timedelta(minutes=4 * n + 1),
            start + timedelta(minutes=4 * n + 2),
        )
        for n in range(10_000)
    ]

    figure = month_figure(date(2027, 1, 1), incidents=incidents, maintenance=[], now=LATER)

    assert figure.minutes_unavailable == Decimal(10_000)
    assert len(figure.unavailable_periods) == 10_000
    # 100 × 34640 / 44640 = 77.5985… → 77.59.
    assert figure.percent == Decimal("77.59")
    assert figure.meets_goal is False
