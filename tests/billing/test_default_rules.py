"""The rules of payment default on plain data (``billing.default_rules``): which months are in
arrears, the two termination triggers of § 8 (VI) with the "not insignificant" threshold, the
reminder schedule, and the flat damages of one quarter of the remaining fees."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from treffpunkt.billing import default_rules as rules
from treffpunkt.billing.default_rules import InvoiceState
from treffpunkt.billing.models import DefaultRule

FEE = Decimal("100.00")  # the monthly fee (gross) the triggers compare with
D = Decimal


def month(index: int, unpaid: str, *, number: str | None = None) -> InvoiceState:
    """The invoice of month ``index`` of 2027 (1 = January), due on the 15th, with ``unpaid``."""
    return InvoiceState(
        number=number or f"RE-2027-{index:05d}",
        month=date(2027, index, 1),
        due_on=date(2027, index, 15),
        unpaid=D(unpaid),
    )


def found(invoices: list[InvoiceState], *, on: date, share: str = "1") -> dict[str, rules.Trigger]:
    return {t.rule: t for t in rules.triggers(invoices, on=on, monthly_fee=FEE, share=D(share))}


AFTER_MARCH = date(2027, 3, 16)
AFTER_FEBRUARY = date(2027, 2, 16)


def test_the_rule_names_are_those_of_the_model():
    assert rules.TWO_CONSECUTIVE_MONTHS == DefaultRule.TWO_CONSECUTIVE_MONTHS
    assert rules.TWO_MONTHLY_FEES == DefaultRule.TWO_MONTHLY_FEES


def test_overdue_from_the_day_after_the_due_date_without_a_reminder():
    assert not rules.is_overdue(date(2027, 1, 15), on=date(2027, 1, 15))
    assert rules.is_overdue(date(2027, 1, 15), on=date(2027, 1, 16))
    assert not rules.is_overdue(None, on=date(2027, 1, 16))


def test_an_open_objection_s_disputed_amount_is_not_dunned():
    assert rules.dunnable(D("119.00"), D("0")) == D("119.00")
    assert rules.dunnable(D("119.00"), D("19.00")) == D("100.00")
    assert rules.dunnable(D("119.00"), D("119.00")) == D("0")
    assert rules.dunnable(D("50.00"), D("119.00")) == D("0")


def test_paid_months_meet_no_trigger():
    assert found([month(1, "0"), month(2, "0"), month(3, "0")], on=AFTER_MARCH) == {}


def test_two_consecutive_unpaid_months_meet_trigger_a_with_their_months_and_invoices():
    result = found([month(1, "100"), month(2, "100"), month(3, "0")], on=AFTER_MARCH)
    assert set(result) == {rules.TWO_CONSECUTIVE_MONTHS}
    trigger = result[rules.TWO_CONSECUTIVE_MONTHS]
    assert trigger.months == (date(2027, 1, 1), date(2027, 2, 1))
    assert trigger.invoices == ("RE-2027-00001", "RE-2027-00002")
    assert trigger.unpaid == D("200")


def test_a_month_not_yet_due_does_not_count():
    assert found([month(1, "100"), month(2, "100")], on=date(2027, 2, 15)) == {}
    assert rules.TWO_CONSECUTIVE_MONTHS in found(
        [month(1, "100"), month(2, "100")], on=AFTER_FEBRUARY
    )


def test_partly_paid_months_meet_trigger_a_only_above_the_not_insignificant_share():
    # Together the two months must be more than one monthly fee behind (§ 569 (3) no. 1 BGB).
    assert found([month(1, "50"), month(2, "50")], on=AFTER_FEBRUARY) == {}
    assert rules.TWO_CONSECUTIVE_MONTHS in found(
        [month(1, "50"), month(2, "50.01")], on=AFTER_FEBRUARY
    )
    assert rules.TWO_CONSECUTIVE_MONTHS in found(
        [month(1, "100"), month(2, "0.01")], on=AFTER_FEBRUARY
    )
    # The setting moves the threshold: half a monthly fee.
    assert rules.TWO_CONSECUTIVE_MONTHS in found(
        [month(1, "30"), month(2, "30")], on=AFTER_FEBRUARY, share="0.5"
    )
    assert found([month(1, "25"), month(2, "25")], on=AFTER_FEBRUARY, share="0.5") == {}


def test_trigger_a_needs_both_months_in_arrears():
    assert found([month(1, "200"), month(2, "0")], on=AFTER_FEBRUARY) == {}


def test_trigger_a_reports_the_latest_pair():
    result = found([month(1, "100"), month(2, "100"), month(3, "100")], on=AFTER_MARCH)
    assert result[rules.TWO_CONSECUTIVE_MONTHS].months == (date(2027, 2, 1), date(2027, 3, 1))


def test_two_fees_over_more_than_two_months_meet_trigger_b():
    # January and March unpaid, February paid: not consecutive, but two fees over three months.
    result = found([month(1, "100"), month(2, "0"), month(3, "100")], on=AFTER_MARCH)
    assert set(result) == {rules.TWO_MONTHLY_FEES}
    trigger = result[rules.TWO_MONTHLY_FEES]
    assert trigger.months == (date(2027, 1, 1), date(2027, 3, 1))
    assert trigger.invoices == ("RE-2027-00001", "RE-2027-00003")
    assert trigger.unpaid == D("200")


def test_trigger_b_needs_two_full_fees():
    assert found([month(1, "100"), month(2, "0"), month(3, "99.99")], on=AFTER_MARCH) == {}


def test_trigger_b_needs_a_period_longer_than_two_months():
    # Two fees within two months are trigger (a), not (b).
    result = found([month(1, "100"), month(2, "100")], on=AFTER_FEBRUARY)
    assert rules.TWO_MONTHLY_FEES not in result


def test_partly_paid_months_can_meet_both_triggers():
    result = found([month(1, "60"), month(2, "70"), month(3, "70")], on=AFTER_MARCH)
    assert set(result) == {rules.TWO_CONSECUTIVE_MONTHS, rules.TWO_MONTHLY_FEES}
    assert result[rules.TWO_MONTHLY_FEES].unpaid == D("200")


def test_no_trigger_without_a_monthly_fee():
    invoices = [month(1, "100"), month(2, "100")]
    assert rules.triggers(invoices, on=AFTER_MARCH, monthly_fee=D("0")) == []


def test_two_invoices_of_one_month_count_together():
    invoices = [
        month(1, "40", number="RE-2027-00001"),
        month(1, "40", number="RE-2027-00009"),
        month(2, "40"),
    ]
    arrears = rules.months_in_arrears(invoices, on=AFTER_FEBRUARY)
    assert [(a.month.month, a.unpaid) for a in arrears] == [(1, D("80")), (2, D("40"))]
    assert rules.TWO_CONSECUTIVE_MONTHS in found(invoices, on=AFTER_FEBRUARY)


# --- the reminder schedule --------------------------------------------------------------------

DUE = date(2027, 3, 15)


def test_reminders_follow_the_schedule_once_per_level():
    schedule = (7, 21)
    assert rules.reminder_level_due(DUE, on=date(2027, 3, 21), schedule=schedule) is None
    assert rules.reminder_level_due(DUE, on=date(2027, 3, 22), schedule=schedule) == 1
    assert rules.reminder_level_due(DUE, on=date(2027, 3, 23), schedule=schedule, sent=[1]) is None
    assert rules.reminder_level_due(DUE, on=date(2027, 4, 5), schedule=schedule, sent=[1]) == 2
    assert (
        rules.reminder_level_due(DUE, on=date(2027, 5, 1), schedule=schedule, sent=[1, 2]) is None
    )


def test_a_run_that_missed_days_sends_only_the_highest_level_due():
    assert rules.reminder_level_due(DUE, on=date(2027, 4, 30), schedule=(7, 21)) == 2


# --- the flat damages -------------------------------------------------------------------------

TERM_END = date(2028, 2, 29)  # a term from 1 March 2027


def test_damages_in_the_first_month():
    # Terminated on 15 March 2027: 16 of 31 March days (0.5161 × 100 = 51.61) and eleven whole
    # months (1,100.00) remain; a quarter of 1,151.61 is 287.9025, rounded down 287.90.
    months = rules.remaining_months(
        terminated_on=date(2027, 3, 15), regular_end=TERM_END, monthly_fee=FEE
    )
    assert months[0].first == date(2027, 3, 16) and months[0].share == D("0.5161")
    assert months[0].fee == D("51.61")
    assert len(months) == 12 and all(m.share == 1 for m in months[1:])
    remaining = rules.remaining_fees(
        terminated_on=date(2027, 3, 15), regular_end=TERM_END, monthly_fee=FEE
    )
    assert remaining == D("1151.61")
    assert rules.flat_damages(remaining) == D("287.90")


def test_damages_on_the_first_day():
    remaining = rules.remaining_fees(
        terminated_on=date(2027, 3, 1), regular_end=TERM_END, monthly_fee=FEE
    )
    assert remaining == D("1196.77")  # 30/31 of March, then eleven months
    assert rules.flat_damages(remaining) == D("299.19")


def test_damages_in_the_last_month():
    # Terminated on 10 February 2028: 19 of 29 days remain, 0.6552 × 100 = 65.52; a quarter 16.38.
    remaining = rules.remaining_fees(
        terminated_on=date(2028, 2, 10), regular_end=TERM_END, monthly_fee=FEE
    )
    assert remaining == D("65.52")
    assert rules.flat_damages(remaining) == D("16.38")


def test_whole_months_count_one_fee_each():
    remaining = rules.remaining_fees(
        terminated_on=date(2027, 3, 31), regular_end=TERM_END, monthly_fee=FEE
    )
    assert remaining == D("1100.00")
    assert rules.flat_damages(remaining) == D("275.00")


def test_no_damages_on_or_after_the_regular_end():
    for day in (TERM_END, TERM_END + timedelta(days=3)):
        assert rules.remaining_fees(terminated_on=day, regular_end=TERM_END, monthly_fee=FEE) == 0
    assert rules.flat_damages(D("0")) == D("0")


def test_the_quarter_is_rounded_down_never_up():
    assert rules.flat_damages(D("0.02")) == D("0.00")  # half up would claim 0.01 > 0.005
    assert rules.flat_damages(D("0.03")) == D("0.00")
    assert rules.flat_damages(D("0.04")) == D("0.01")
    assert rules.flat_damages(D("1000.06")) == D("250.01")


@given(
    fee_cents=st.integers(min_value=1, max_value=10_000_000),
    terminated=st.dates(min_value=date(2026, 1, 1), max_value=date(2032, 12, 31)),
    days_left=st.integers(min_value=-40, max_value=3 * 366),
)
def test_damages_never_exceed_a_quarter_of_the_remaining_fees(
    fee_cents: int, terminated: date, days_left: int
):
    fee = D(fee_cents) / 100
    end = terminated + timedelta(days=days_left)
    remaining = rules.remaining_fees(terminated_on=terminated, regular_end=end, monthly_fee=fee)
    damages = rules.flat_damages(remaining)
    assert damages >= 0
    assert damages * 4 <= remaining
    assert remaining / 4 - damages < D("0.01")  # and at most a cent below it
    # Never more than a quarter of a whole monthly fee for every month (or part) left.
    months = max(0, (end.year - terminated.year) * 12 + end.month - terminated.month + 1)
    assert damages <= fee * months / 4
