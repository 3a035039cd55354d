"""The dates of a contract: terms, renewals, notice and objection deadlines (P-OP-2, -4, -5, -7).

Pure date arithmetic on ``datetime.date``: no models, no database, no time zones. The terms count
in calendar days, and a deadline that ends on a day ends at the end of that day (24:00).

Readings of the BGB used throughout (decision record: docs/decisions/0011-contract-deadlines.md):

- **Periods that run from an event** (receipt of an order, of a notice): the day of the event
  does not count (§ 187 (1) BGB); a period in weeks or months ends with the day that bears the
  event day's weekday or number (§ 188 (2) first case BGB), or with the last day of the month if
  that month has no such number (§ 188 (3) BGB). ``add_months`` and ``add_weeks``.
- **Periods that start on a day** (a contract term "from" the date in the order confirmation):
  the first day counts (§ 187 (2) BGB); the period ends with the day before the day that bears
  the first day's number (§ 188 (2) second case BGB), or with the last day of the month if that
  month has no such number (§ 188 (3) BGB). ``period_end``.
- **Whole months before a date** ("at the latest three months before the end", "at least one
  month before it takes effect"): the days after the receipt day up to the end must hold the
  whole period in the second sense (``period_end`` of the day after receipt). Around month ends
  this is up to three days stricter than the day-number reading, and the stricter one is taken:
  a notice deadline is never later, a notice period never shorter, than any reading allows.
- **§ 193 BGB** moves the last day of a period for *making a declaration* (accepting, objecting,
  exercising a special cancellation right) from a Saturday, Sunday or nationwide public holiday
  to the next working day. It does not extend a *notice period* (BGH, 17 Feb 2005, III ZR
  172/04: the recipient must have the whole period), and it is never used to extend the
  operator's own deadlines: those move to the working day *before*.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from holidays.countries.germany import Germany

ONE_DAY = timedelta(days=1)

# § 22 (I) / § 20 (I) of the terms: terms of one year; § 22 (I): three months' notice.
TERM_YEARS = 1
NOTICE_MONTHS = 3
# § 20 (I): the operator asks for the telephony renewal consent six weeks before the end.
CONSENT_REQUEST_WEEKS = 6
# § 2 (II): an order is accepted within two weeks of its receipt.
ACCEPTANCE_WEEKS = 2
# § 11 (IV): changes are announced at least one and at most two months ahead.
CHANGE_NOTICE_MIN_MONTHS = 1
CHANGE_NOTICE_MAX_MONTHS = 2
# § 20 (III): special cancellation right within three months of receiving the change notice.
SPECIAL_CANCELLATION_MONTHS = 3
# § 21 (I), § 23 (I): a transfer is announced six weeks ahead; § 23 (I): four weeks to object.
TRANSFER_ANNOUNCEMENT_WEEKS = 6
TRANSFER_OBJECTION_WEEKS = 4


# --- Calendar arithmetic (§§ 187, 188 BGB) ---------------------------------------------------


def last_day_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) + months
    return index // 12, index % 12 + 1


def add_months(day: date, months: int) -> date:
    """The day bearing ``day``'s number ``months`` later (or earlier, for negative ``months``).

    § 188 (2) first case BGB: a period of months that runs from an event on ``day`` ends with
    the day of the last month that bears the event day's number; § 188 (3) BGB: if that month
    has no such day, the period ends with its last day. 31 January + 1 month = 28 February
    (29 in a leap year); 15 March + 3 months = 15 June.
    """
    year, month = _shift_month(day, months)
    return date(year, month, min(day.day, last_day_of_month(year, month).day))


def add_weeks(day: date, weeks: int) -> date:
    """The day with ``day``'s weekday ``weeks`` later: § 188 (2) first case BGB for weeks."""
    return day + timedelta(weeks=weeks)


def period_end(start: date, *, months: int) -> date:
    """Last day of a period of ``months`` months whose first day is ``start``.

    § 187 (2) BGB: the first day counts. § 188 (2) second case BGB: the period ends with the day
    before the day of the last month that bears the first day's number. § 188 (3) BGB: if the
    last month has no day with that number, the period ends with the month's last day.

    1 March 2027 + 12 months ends 29 February 2028 (the day before 1 March 2028);
    29 February 2028 + 12 months ends 28 February 2029 (2029 has no 29 February);
    31 January + 1 month ends 28/29 February (there is no 31 February).
    """
    year, month = _shift_month(start, months)
    last = last_day_of_month(year, month)
    if start.day > last.day:
        return last  # § 188 (3): the number is missing, the month's last day ends the period
    return date(year, month, start.day) - ONE_DAY


# --- Working days (§ 193 BGB) ----------------------------------------------------------------


@lru_cache(maxsize=128)
def nationwide_holidays(year: int) -> frozenset[date]:
    """Public holidays in every German state (``holidays.Germany()`` without a state).

    Imported from ``holidays.countries.germany``: the package re-exports countries lazily, which
    mypy cannot see.

    Only nationwide holidays: a state's own holiday (e.g. Corpus Christi in Hesse, where the
    operator sits) would move a § 193 deadline further still; leaving them out never makes a
    computed deadline later than the law allows.
    """
    return frozenset(Germany(years=year).keys())


def is_working_day(day: date) -> bool:
    """Not a Saturday, Sunday or nationwide public holiday (the days § 193 BGB names)."""
    return day.weekday() < 5 and day not in nationwide_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the next one (§ 193 BGB).

    § 193 BGB: if the last day of a period for making a declaration falls on a Saturday, Sunday
    or public holiday, the next working day takes its place. It applies to deadlines for a
    declaration: accepting an order (§ 2 (II) of the terms), objecting to a transfer (§ 23 (I)),
    exercising the special cancellation right (§ 20 (III)). It does NOT apply to the notice
    period of an ordinary cancellation (``latest_notice_day``): the BGH (17 Feb 2005, III ZR
    172/04) holds that § 193 neither directly nor by analogy shortens the period the recipient
    is owed, so a notice due on a Saturday is due on that Saturday.
    """
    while not is_working_day(day):
        day += ONE_DAY
    return day


def previous_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the working day before.

    For the operator's own deadlines: § 193 BGB would let a declaration wait until Monday, but
    whether it covers a duty to inform (rather than a declaration) is doubtful, so the operator
    acts before the weekend and no deadline is ever missed.
    """
    while not is_working_day(day):
        day -= ONE_DAY
    return day


# --- Contract terms (§ 20 (I), § 22 (I) of the terms) ----------------------------------------


@dataclass(frozen=True)
class ContractTerm:
    """One term of a contract: from ``start`` to the end of ``end``, both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"A term cannot end ({self.end}) before it starts ({self.start}).")

    @classmethod
    def starting(cls, start: date, *, years: int = TERM_YEARS) -> ContractTerm:
        return cls(start, term_end(start, years=years))

    def renewed(self) -> ContractTerm:
        return renewed_term(self.end)


def term_end(start: date, *, years: int = TERM_YEARS) -> date:
    """Last day of a term of ``years`` years that begins on ``start``.

    § 20 (I), § 22 (I) of the terms: the contract runs one year from the date in the order
    confirmation. That date is the first day of the term, so it counts (§ 187 (2) BGB), and the
    term ends with the day before the same date ``years`` later (§ 188 (2) second case BGB).
    If that date does not exist (the term started on 29 February), the term ends with the last
    day of February (§ 188 (3) BGB): 28 February, not 27, so that the year is never a day short.

    2027-01-31 → 2028-01-30; 2027-03-01 → 2028-02-29; 2028-02-29 → 2029-02-28;
    2028-03-01 → 2029-02-28 as well.
    """
    return period_end(start, months=12 * years)


def renewed_term(end: date, *, years: int = TERM_YEARS) -> ContractTerm:
    """The term that follows a term ending on ``end``.

    § 22 (I) of the terms: the contract renews "by one further year". The new term starts the
    day after ``end`` (no gap, no overlap) and runs one year by ``term_end``. After a term
    ending 28 February 2029 the next one is 1 March 2029 to 28 February 2030; after one ending
    28 February 2027 the next one ends 29 February 2028 (a whole year from 1 March).
    """
    start = end + ONE_DAY
    return ContractTerm(start, term_end(start, years=years))


# --- Ordinary cancellation (§ 22 (I) of the terms) -------------------------------------------


def latest_notice_day(end: date, *, months: int = NOTICE_MONTHS) -> date:
    """Last day on which a cancellation must be received to end the contract at ``end``.

    § 22 (I) of the terms: the contract renews unless cancelled "at the latest three months
    before the end". Reading: the days after the day of receipt up to ``end`` must hold three
    whole months, counted with the first of them included (§ 187 (2), § 188 (2) second case and
    (3) BGB) — the latest day N with ``period_end(N + 1 day, months=3) <= end``. In closed
    form: the day before the day ``months`` months before the day after ``end``.

    End 2027-12-31 → 2027-09-30; end 2027-06-30 → 2027-03-31; end 2027-02-28 → 2026-11-30;
    end 2028-02-29 → 2027-11-30; end 2027-07-30 → 2027-04-29 (1 May to 30 July would be a day
    short of three months; ``cancellation_in_doubt`` covers 30 April).

    § 193 BGB does not apply: this is a notice period owed to the operator, and the BGH
    (III ZR 172/04) does not extend notice periods. A notice day on a Saturday stays there.
    """
    return add_months(end + ONE_DAY, -months) - ONE_DAY


def is_timely_cancellation(received: date, end: date, *, months: int = NOTICE_MONTHS) -> bool:
    """A cancellation received on ``received`` ends the contract at ``end`` (§ 22 (I))."""
    return received <= latest_notice_day(end, months=months)


def cancellation_in_doubt(received: date, end: date, *, months: int = NOTICE_MONTHS) -> bool:
    """A cancellation this module counts as late, but the day-number reading counts as timely.

    The common reading of §§ 187 (1), 188 (2) first case BGB runs the notice period from the
    receipt: it ends on the day bearing the receipt day's number three months later. Where the
    receipt day is the last day of a shorter month (30 April for an end on 30 July, 28 February
    for an end on 28, 29 or 30 May) that reading allows one day more than ``latest_notice_day``.
    Such a cancellation should go to a person rather than be treated as late automatically.
    """
    if is_timely_cancellation(received, end, months=months):
        return False
    return add_months(received, months) <= end


def late_cancellation_effective(
    received: date, current_end: date, *, months: int = NOTICE_MONTHS
) -> date:
    """The end of the term at which a cancellation received on ``received`` takes effect.

    § 22 (I) of the terms: a cancellation received by ``latest_notice_day(current_end)`` ends
    the contract at ``current_end``; one received later comes too late for that end, the
    contract has renewed by a year, and the cancellation takes effect at the end of the
    following term (and so on, if ``current_end`` is already long past).
    """
    end = current_end
    while not is_timely_cancellation(received, end, months=months):
        end = renewed_term(end).end
    return end


# --- Telephony renewal consent (§ 20 (I) of the terms) ---------------------------------------


def consent_request_due(end: date, *, weeks: int = CONSENT_REQUEST_WEEKS) -> date:
    """Latest day the customer must have the operator's request to consent to a renewal.

    § 20 (I) of the terms: the telephony contract renews only with the customer's express
    consent; the operator points out the coming end and asks for consent "at the latest six
    weeks before the end". Reading: the days after receipt up to ``end`` hold six whole weeks
    (42 days; § 187 (2), § 188 (2) BGB), so the request must reach the customer by
    ``end - 42 days``.

    Decision: this is the operator's own duty, so § 193 BGB does not move it to Monday in the
    operator's favour; a due day on a weekend or holiday moves to the working day BEFORE.
    It is the day of receipt: a letter has to be sent earlier.
    """
    return previous_working_day(end - timedelta(weeks=weeks))


# --- Order acceptance (§ 2 (II), (III) of the terms) -----------------------------------------


def acceptance_deadline(received: date, *, weeks: int = ACCEPTANCE_WEEKS) -> date:
    """Last day on which the operator's acceptance of an order must reach the customer.

    § 2 (II) of the terms: the operator may accept the order "within two weeks of its receipt".
    The receipt is an event, so its day does not count (§ 187 (1) BGB); the period ends with the
    same weekday two weeks later (§ 188 (2) first case BGB). Acceptance is a declaration, so
    § 193 BGB moves a last day on a weekend or public holiday to the next working day.
    """
    return next_working_day(add_weeks(received, weeks))


# --- Changes of terms, descriptions and prices (§ 11 (IV), § 20 (III) of the terms) ----------


class ChangeWindow(NamedTuple):
    """The days on which a change announced by one notice may take effect, both included."""

    earliest: date
    latest: date


class ChangeNoticeOutOfWindow(ValueError):
    """A change would take effect too soon or too late after its notice (§ 11 (IV))."""


def change_notice_window(received: date) -> ChangeWindow:
    """The days a change announced by a notice received on ``received`` may take effect.

    § 11 (IV) of the terms: changes are announced "at least one month, at most two months"
    before they take effect. The change takes effect at the start of its day.

    Earliest: the days after the receipt day and before the change must hold one whole month
    (§ 187 (1): the receipt day does not count; § 188 (2), (3)): received 2027-04-01 → from
    2027-05-02; received 2027-03-01 → from 2027-04-02 (1 April is too soon: the month from
    2 March ends on 1 April); received 2027-01-31 → from 2027-03-01 (February is a whole month).

    Latest: the day bearing the receipt day's number two months later (§ 188 (2), (3)):
    received 2027-04-01 → until 2027-06-01. The day after it would lie exactly two months after
    the end of the receipt day, i.e. more than two months after the receipt itself; it is left
    out so that no reading finds the notice too early.
    """
    earliest = period_end(received + ONE_DAY, months=CHANGE_NOTICE_MIN_MONTHS) + ONE_DAY
    latest = add_months(received, CHANGE_NOTICE_MAX_MONTHS)
    return ChangeWindow(earliest, latest)


def check_change_effective(received: date, effective: date) -> None:
    """Refuse a change that would take effect outside ``change_notice_window(received)``."""
    window = change_notice_window(received)
    days_ahead = (effective - received).days
    if effective < window.earliest:
        raise ChangeNoticeOutOfWindow(
            f"A change announced by a notice received on {received} may take effect on "
            f"{window.earliest} at the earliest (at least one month's notice, § 11 (IV) of the "
            f"terms); {effective} is only {days_ahead} days ahead."
        )
    if effective > window.latest:
        raise ChangeNoticeOutOfWindow(
            f"A change announced by a notice received on {received} must take effect by "
            f"{window.latest} (at most two months' notice, § 11 (IV) of the terms); "
            f"{effective} is {days_ahead} days ahead."
        )


class SpecialCancellation(NamedTuple):
    """The special cancellation right a change notice gives (§ 20 (III) of the terms)."""

    # Last day the customer's cancellation may be received.
    cancel_by: date
    # The contract ends at the end of this day at the earliest: the day before the change takes
    # effect, so the customer is never bound by the changed terms.
    last_contract_day: date


def special_cancellation_end(received: date, effective: date) -> SpecialCancellation:
    """Deadline and earliest end of the special cancellation right after a change notice.

    § 20 (III) of the terms: the customer may cancel "within three months of receiving" the
    change notice, without notice period and without cost; the contract ends at the earliest
    when the change is to take effect. The three months run from the receipt (§ 187 (1),
    § 188 (2) first case and (3) BGB). Exercising the right is a declaration within a period,
    not a notice period owed to anyone, so § 193 BGB applies: a last day on a weekend or public
    holiday moves to the next working day.
    """
    if effective <= received:
        raise ValueError(f"A change cannot take effect ({effective}) by its notice ({received}).")
    cancel_by = next_working_day(add_months(received, SPECIAL_CANCELLATION_MONTHS))
    return SpecialCancellation(cancel_by=cancel_by, last_contract_day=effective - ONE_DAY)


def special_cancellation_last_day(
    notice_received: date, change_effective: date, cancellation_received: date
) -> date:
    """Last day of the contract after a special cancellation received on the given day.

    § 20 (III) of the terms: the cancellation needs no notice period, but ends the contract no
    earlier than the change takes effect. Received before that: the contract ends the day before
    the change. Received after the change took effect (the right lasts three months, the change
    may come after one): it ends with the day of receipt.
    """
    right = special_cancellation_end(notice_received, change_effective)
    if cancellation_received > right.cancel_by:
        raise ValueError(
            f"The special cancellation right ended on {right.cancel_by} (three months after the "
            f"change notice of {notice_received}, § 20 (III) of the terms)."
        )
    return max(right.last_contract_day, cancellation_received)


# --- Transfer of the contract (§ 21 (I), § 23 (I) of the terms) ------------------------------


def transfer_announcement_due(effective: date, *, weeks: int = TRANSFER_ANNOUNCEMENT_WEEKS) -> date:
    """Latest day the customer must have the announcement of a transfer taking effect on
    ``effective``.

    § 21 (I), § 23 (I) of the terms: the operator informs the customer "6 weeks before" the
    transfer takes effect. The six weeks (42 days) must lie wholly between the receipt day and
    the day the transfer takes effect (§ 187 (1), § 188 (2) BGB): due ``effective - 43 days``.
    The operator's own deadline: on a weekend or holiday it moves to the working day before.
    """
    return previous_working_day(effective - timedelta(weeks=weeks) - ONE_DAY)


def transfer_objection_deadline(
    announced_received: date, *, weeks: int = TRANSFER_OBJECTION_WEEKS
) -> date:
    """Last day the customer's objection to a transfer of the video contract may be received.

    § 23 (I) of the terms: the customer may object "within four weeks of receiving" the notice.
    § 187 (1) BGB: the day of receipt does not count; § 188 (2) first case: the period ends on
    the same weekday four weeks later. An objection is a declaration, so § 193 BGB moves a last
    day on a weekend or public holiday to the next working day.
    """
    return next_working_day(add_weeks(announced_received, weeks))
