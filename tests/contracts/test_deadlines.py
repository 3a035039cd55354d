"""The contract dates of the terms (§§ 2, 11, 20–23) under §§ 187, 188, 193 BGB.

Pure date arithmetic: no database. The properties check the module against an independent
count of whole calendar months (``whole_months``) rather than against its own helpers.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treffpunkt.contracts.deadlines import (
    ChangeNoticeOutOfWindow,
    ContractTerm,
    acceptance_deadline,
    add_months,
    cancellation_in_doubt,
    change_notice_window,
    check_change_effective,
    consent_request_due,
    is_timely_cancellation,
    is_working_day,
    late_cancellation_effective,
    latest_notice_day,
    next_working_day,
    previous_working_day,
    renewed_term,
    special_cancellation_end,
    special_cancellation_last_day,
    term_end,
    transfer_announcement_due,
    transfer_objection_deadline,
)

DAY = timedelta(days=1)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2060, 12, 31))


def whole_months(first: date, stop: date) -> int:
    """How many whole calendar months lie from the start of ``first`` to the start of ``stop``.

    A month from day d runs to the day before the next month's day d, or to that month's end if
    it has no day d (§ 187 (2), § 188 (2), (3) BGB); comparing (month index, day number) pairs
    gives exactly that, without the module's helpers.
    """
    months = (stop.year - first.year) * 12 + (stop.month - first.month)
    return months - (1 if stop.day < first.day else 0)


def day_number_notice_day(end: date, months: int = 3) -> date:
    """The latest receipt day under the day-number reading (§ 187 (1), § 188 (2) first case)."""
    day = end
    while add_months(day, months) > end:
        day -= DAY
    return day


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- Terms: § 187 (2), § 188 (2) second case and (3) BGB ---------------------------------------


def test_term_starting_31_january_ends_30_january_next_year() -> None:
    assert term_end(d("2027-01-31")) == d("2028-01-30")


def test_term_can_end_on_29_february_of_a_leap_year() -> None:
    assert term_end(d("2027-03-01")) == d("2028-02-29")


def test_term_starting_29_february_ends_28_february_not_27() -> None:
    # § 188 (3): 2029 has no 29 February, the period ends with the month's last day.
    assert term_end(d("2028-02-29")) == d("2029-02-28")
    assert term_end(d("2028-03-01")) == d("2029-02-28")
    assert term_end(d("2028-02-29"), years=4) == d("2032-02-28")


def test_renewal_of_a_leap_day_term_starts_on_1_march() -> None:
    first = ContractTerm.starting(d("2028-02-29"))
    assert first.renewed() == ContractTerm(d("2029-03-01"), d("2030-02-28"))
    assert renewed_term(d("2027-02-28")) == ContractTerm(d("2027-03-01"), d("2028-02-29"))


def test_a_term_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        ContractTerm(d("2027-01-02"), d("2027-01-01"))


@given(days)
def test_term_ends_the_day_before_the_anniversary_or_on_28_february(start: date) -> None:
    end = term_end(start)
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February, and the next year has none
        assert end == date(start.year + 1, 2, 28)
    else:
        assert end == anniversary - DAY
    # Exactly one year: twelve whole months, and not one day of a thirteenth.
    assert whole_months(start, end + DAY) == 12
    assert whole_months(start, end) == 11
    assert (end - start).days + 1 in {365, 366}


@given(days, st.integers(min_value=1, max_value=10))
def test_renewals_chain_without_gap_or_overlap(start: date, renewals: int) -> None:
    term = ContractTerm.starting(start)
    for _ in range(renewals):
        following = term.renewed()
        assert following.start == term.end + DAY
        assert whole_months(following.start, following.end + DAY) == 12
        term = following


# --- Ordinary cancellation: three months before the end, § 193 BGB not applied ----------------


@pytest.mark.parametrize(
    ("end", "notice_day"),
    [
        ("2027-12-31", "2027-09-30"),
        ("2027-06-30", "2027-03-31"),
        ("2027-02-28", "2026-11-30"),
        ("2028-02-29", "2027-11-30"),
        ("2028-01-30", "2027-10-30"),
        ("2027-07-30", "2027-04-29"),
    ],
)
def test_notice_must_be_received_three_whole_months_before_the_end(
    end: str, notice_day: str
) -> None:
    assert latest_notice_day(d(end)) == d(notice_day)


def test_notice_day_on_a_saturday_is_not_moved_by_section_193() -> None:
    # BGH III ZR 172/04: § 193 does not shorten the notice period owed to the operator.
    assert latest_notice_day(d("2028-12-31")) == d("2028-09-30")
    assert d("2028-09-30").weekday() == 5
    assert not is_timely_cancellation(d("2028-10-02"), d("2028-12-31"))


def test_cancellation_received_one_day_late_ends_the_following_term() -> None:
    term = ContractTerm.starting(d("2027-01-01"))
    assert term.end == d("2027-12-31")
    assert late_cancellation_effective(d("2027-09-30"), term.end) == d("2027-12-31")
    assert late_cancellation_effective(d("2027-10-01"), term.end) == d("2028-12-31")


def test_day_number_reading_puts_a_month_end_receipt_in_doubt() -> None:
    # End 30 July: 1 May to 30 July is a day short of three months, yet 30 April + 3 months is
    # 30 July by § 188 (2). Counted as late, but flagged for a person.
    end = d("2027-07-30")
    assert not is_timely_cancellation(d("2027-04-30"), end)
    assert cancellation_in_doubt(d("2027-04-30"), end)
    assert not cancellation_in_doubt(d("2027-04-29"), end)
    assert not cancellation_in_doubt(d("2027-05-01"), end)


@given(days)
def test_notice_day_leaves_three_whole_months_and_is_the_latest_such_day(end: date) -> None:
    notice_day = latest_notice_day(end)
    # Receipt on the notice day: never later than the day-number reading allows ...
    assert add_months(notice_day, 3) <= end
    # ... and the days after it up to the end hold three whole calendar months,
    assert whole_months(notice_day + DAY, end + DAY) >= 3
    # ... while a day later they would not: the deadline is not earlier than it must be.
    assert whole_months(notice_day + 2 * DAY, end + DAY) < 3


@given(days)
def test_notice_day_is_at_most_one_day_before_the_day_number_reading(end: date) -> None:
    lenient = day_number_notice_day(end)
    notice_day = latest_notice_day(end)
    assert lenient - DAY <= notice_day <= lenient
    for received in (notice_day, notice_day + DAY, lenient, lenient + DAY):
        in_doubt = cancellation_in_doubt(received, end)
        assert in_doubt == (notice_day < received <= lenient)


@given(days)
def test_late_cancellation_takes_effect_at_a_later_end_than_a_timely_one(start: date) -> None:
    term = ContractTerm.starting(start)
    notice_day = latest_notice_day(term.end)
    timely = late_cancellation_effective(notice_day, term.end)
    late = late_cancellation_effective(notice_day + DAY, term.end)
    assert timely == term.end
    assert late == term.renewed().end
    assert late > timely


@given(days, st.integers(min_value=0, max_value=1500))
def test_cancellation_takes_effect_at_the_first_end_it_is_timely_for(
    start: date, offset: int
) -> None:
    term = ContractTerm.starting(start)
    received = start + timedelta(days=offset)
    effective = late_cancellation_effective(received, term.end)
    assert is_timely_cancellation(received, effective)
    while term.end < effective:
        assert not is_timely_cancellation(received, term.end)
        term = term.renewed()
    assert term.end == effective


# --- Working days and § 193 BGB ------------------------------------------------------------------


def test_acceptance_deadline_on_a_saturday_moves_to_monday() -> None:
    assert d("2027-01-30").weekday() == 5
    assert acceptance_deadline(d("2027-01-16")) == d("2027-02-01")


def test_acceptance_deadline_on_good_friday_moves_past_easter_monday() -> None:
    # 2027: Good Friday 26 March, Easter Monday 29 March (both nationwide holidays).
    assert acceptance_deadline(d("2027-03-12")) == d("2027-03-30")
    assert acceptance_deadline(d("2027-03-15")) == d("2027-03-30")


def test_acceptance_deadline_on_a_working_day_is_two_weeks_after_receipt() -> None:
    # § 187 (1): the day of receipt does not count; same weekday two weeks later.
    assert acceptance_deadline(d("2027-06-09")) == d("2027-06-23")


def test_consent_request_due_on_a_sunday_moves_to_the_friday_before() -> None:
    end = ContractTerm.starting(d("2027-01-03")).end
    assert end == d("2028-01-02")
    assert consent_request_due(end) == d("2027-11-19")


def test_consent_request_due_on_easter_monday_moves_to_maundy_thursday() -> None:
    assert consent_request_due(d("2027-05-10")) == d("2027-03-25")


@given(days)
def test_next_working_day_is_the_first_working_day_from_the_day(day: date) -> None:
    result = next_working_day(day)
    assert result >= day
    assert is_working_day(result)
    assert all(not is_working_day(day + i * DAY) for i in range((result - day).days))


@given(days)
def test_previous_working_day_is_the_last_working_day_up_to_the_day(day: date) -> None:
    result = previous_working_day(day)
    assert result <= day
    assert is_working_day(result)
    assert all(not is_working_day(day - i * DAY) for i in range((day - result).days))


@given(days)
def test_acceptance_deadline_is_two_weeks_moved_only_off_non_working_days(received: date) -> None:
    deadline = acceptance_deadline(received)
    assert deadline == next_working_day(received + timedelta(days=14))
    assert (deadline - received).days <= 14 + 4  # at most Good Friday to Easter Monday


@given(days)
def test_consent_request_leaves_at_least_six_weeks_and_falls_on_a_working_day(end: date) -> None:
    due = consent_request_due(end)
    assert is_working_day(due)
    assert (end - due).days >= 42
    # Moved back only over non-working days.
    assert due == previous_working_day(end - timedelta(days=42))


# --- Changes of terms: one to two months ahead, special cancellation right ------------------------


def test_change_notice_29_days_ahead_is_refused() -> None:
    with pytest.raises(ChangeNoticeOutOfWindow, match="at least one month"):
        check_change_effective(d("2027-04-01"), d("2027-04-30"))


def test_change_notice_one_whole_month_ahead_is_accepted() -> None:
    # 31 days: the month from 2 April ends 1 May, the change may start on 2 May.
    check_change_effective(d("2027-04-01"), d("2027-05-02"))
    assert change_notice_window(d("2027-04-01")).earliest == d("2027-05-02")


def test_change_on_the_same_date_a_month_later_is_refused() -> None:
    # The receipt day does not count (§ 187 (1)): received 1 March, the month ends 1 April.
    with pytest.raises(ChangeNoticeOutOfWindow):
        check_change_effective(d("2027-03-01"), d("2027-04-01"))
    check_change_effective(d("2027-03-01"), d("2027-04-02"))


def test_february_is_a_whole_month_of_notice() -> None:
    # Received 31 January, effective 1 March: 29 days, but all of February lies between.
    check_change_effective(d("2027-01-31"), d("2027-03-01"))


def test_change_notice_more_than_two_months_ahead_is_refused() -> None:
    check_change_effective(d("2027-04-01"), d("2027-06-01"))
    with pytest.raises(ChangeNoticeOutOfWindow, match="at most two months"):
        check_change_effective(d("2027-04-01"), d("2027-06-02"))


@given(days)
def test_change_window_spans_between_28_and_62_days(received: date) -> None:
    earliest, latest = change_notice_window(received)
    assert 28 <= (earliest - received).days <= (latest - received).days <= 62
    # One whole month lies between receipt and the earliest day, and not before it ...
    assert whole_months(received + DAY, earliest) >= 1
    assert whole_months(received + DAY, earliest - DAY) == 0
    # ... which is never sooner than the day-number reading (§ 188 (2)) allows,
    assert earliest >= add_months(received, 1) + DAY
    # and fewer than two whole months lie between receipt and the latest day: never too early.
    assert whole_months(received + DAY, latest) < 2
    assert latest == add_months(received, 2)


@given(days)
def test_change_is_accepted_exactly_inside_its_window(received: date) -> None:
    earliest, latest = change_notice_window(received)
    check_change_effective(received, earliest)
    check_change_effective(received, latest)
    with pytest.raises(ChangeNoticeOutOfWindow):
        check_change_effective(received, earliest - DAY)
    with pytest.raises(ChangeNoticeOutOfWindow):
        check_change_effective(received, latest + DAY)


def test_special_cancellation_right_lasts_three_months_and_ends_before_the_change() -> None:
    right = special_cancellation_end(d("2027-04-01"), d("2027-05-15"))
    assert right.cancel_by == d("2027-07-01")
    assert right.last_contract_day == d("2027-05-14")


def test_special_cancellation_deadline_on_a_saturday_moves_to_monday() -> None:
    # Exercising the right is a declaration within a period: § 193 applies.
    right = special_cancellation_end(d("2027-04-03"), d("2027-05-15"))
    assert right.cancel_by == d("2027-07-05")


def test_special_cancellation_after_the_change_ends_the_contract_on_receipt() -> None:
    notice, change = d("2027-04-01"), d("2027-05-15")
    assert special_cancellation_last_day(notice, change, d("2027-04-20")) == d("2027-05-14")
    assert special_cancellation_last_day(notice, change, d("2027-06-10")) == d("2027-06-10")
    with pytest.raises(ValueError, match="special cancellation right ended"):
        special_cancellation_last_day(notice, change, d("2027-07-02"))


@given(days, st.integers(min_value=1, max_value=120))
def test_special_cancellation_never_binds_the_customer_to_the_change(
    received: date, days_ahead: int
) -> None:
    effective = received + timedelta(days=days_ahead)
    right = special_cancellation_end(received, effective)
    assert right.last_contract_day < effective
    assert right.cancel_by == next_working_day(add_months(received, 3))


# --- Transfer of the contract: six weeks' announcement, four weeks to object ----------------------


def test_transfer_objection_deadline_on_easter_monday_moves_to_tuesday() -> None:
    assert transfer_objection_deadline(d("2027-03-01")) == d("2027-03-30")


def test_transfer_objection_deadline_is_four_weeks_after_receipt() -> None:
    assert transfer_objection_deadline(d("2027-06-09")) == d("2027-07-07")


@given(days)
def test_transfer_objection_period_ends_before_the_transfer_takes_effect(effective: date) -> None:
    due = transfer_announcement_due(effective)
    assert is_working_day(due)
    assert (effective - due).days >= 43  # six whole weeks between receipt and the transfer
    assert transfer_objection_deadline(due) < effective
