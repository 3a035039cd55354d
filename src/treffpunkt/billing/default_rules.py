"""The rules of payment default (P-BILL-2; § 8 (V), (VI) of the terms) on plain data: no models,
no database, no clock. The dunning service (``billing.services.dunning``) feeds them.

- **Overdue.** An invoice is overdue from the day after its due date: the customer is in
  default without a reminder (§ 8 (V)). What counts as unpaid is the open amount (gross − credit
  notes − payments) less the disputed amount of open objections: a disputed amount is not
  dunned while the objection is examined.
- **Months.** Each invoice of the monthly fees belongs to its billing month (the run's key
  "contract:<id>:<YYYY-MM>"); a month's arrears are the unpaid amounts of its overdue invoices.
- **Trigger (a)**, two consecutive months: two calendar-consecutive billing months both have
  arrears, and together these exceed the "not insignificant" share of one monthly fee
  (``DEFAULT_NOT_INSIGNIFICANT_SHARE``, default 1: more than one monthly fee). The terms copy
  § 543 (2) sentence 1 no. 3 (a) BGB; § 569 (3) no. 1 BGB reads "not insignificant" as "more
  than one month's rent" for the two dates together, and that reading is the default here.
  The latest such pair is reported.
- **Trigger (b)**, more than two months: the months from the earliest to the latest month in
  arrears span at least three billing months ("a period longer than two months"), and their
  arrears together reach (≥) two monthly fees.
- **The monthly fee** the triggers compare with is the contract's regular fee in force on the
  day (gross, like the invoices it is compared with), not a pro-rata first month.
- **Damages** (§ 8 (VI)): one quarter of the fees that would have been payable from the day
  after the termination until the regular end of the contract (the end of its current term, or
  an earlier end already agreed). Full calendar months count one monthly fee each; a partial
  month (the rest of the termination month, a term ending mid-month) counts pro rata by days,
  days ÷ days of that month, as the billing run charges a partial month. The fees are net (the
  claim carries VAT on top when it is charged, setting ``DEFAULT_DAMAGES_VAT``). The quarter
  is taken of the whole cents and rounded down to the cent, so that the claim never exceeds
  the quarter the terms allow (half up would exceed it by up to half a cent). § 8 (VI) (c):
  the operator may prove a higher, the customer a lower damage; that is for the people, not
  for this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from treffpunkt.contracts.deadlines import last_day_of_month
from treffpunkt.core.money import ZERO, from_cents, round_money, to_cents

# The values of ``billing.models.DefaultRule`` (this module stays free of models).
TWO_CONSECUTIVE_MONTHS = "two_months"
TWO_MONTHLY_FEES = "two_fees"

DEFAULT_NOT_INSIGNIFICANT_SHARE = Decimal("1")
# A partial month's share of the monthly fee, to four places as the billing run computes it.
SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class InvoiceState:
    """One issued invoice of the monthly fees as the rules see it."""

    number: str
    month: date  # the first day of its billing month
    due_on: date
    unpaid: Decimal  # open amount less open objections' disputed amounts, never below zero


@dataclass(frozen=True)
class MonthArrears:
    month: date
    unpaid: Decimal
    invoices: tuple[str, ...]


@dataclass(frozen=True)
class Trigger:
    """A termination trigger that is met, with the months and invoices behind it."""

    rule: str
    months: tuple[date, ...]
    invoices: tuple[str, ...]
    unpaid: Decimal


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def is_overdue(due_on: date | None, *, on: date) -> bool:
    """In default on ``on``: the due date has passed (§ 8 (IV), (V): due on the 14th day)."""
    return due_on is not None and due_on < on


def dunnable(open_amount: Decimal, disputed: Decimal) -> Decimal:
    """What may be dunned of an invoice: its open amount less what open objections dispute."""
    return max(open_amount - disputed, ZERO)


def months_in_arrears(invoices: Iterable[InvoiceState], *, on: date) -> list[MonthArrears]:
    """The billing months with an unpaid amount of an overdue invoice, oldest first."""
    by_month: dict[date, list[InvoiceState]] = {}
    for invoice in invoices:
        if is_overdue(invoice.due_on, on=on) and invoice.unpaid > 0:
            by_month.setdefault(first_of_month(invoice.month), []).append(invoice)
    return [
        MonthArrears(
            month=month,
            unpaid=sum((i.unpaid for i in items), ZERO),
            invoices=tuple(sorted(i.number for i in items)),
        )
        for month, items in sorted(by_month.items())
    ]


def two_consecutive_months(
    arrears: Sequence[MonthArrears],
    *,
    monthly_fee: Decimal,
    share: Decimal = DEFAULT_NOT_INSIGNIFICANT_SHARE,
) -> Trigger | None:
    """Trigger (a): the latest two consecutive months in arrears whose arrears together exceed
    ``share`` × ``monthly_fee`` (the "not insignificant part")."""
    threshold = share * monthly_fee
    for later, earlier in zip(reversed(arrears[1:]), reversed(arrears[:-1]), strict=True):
        if month_index(later.month) - month_index(earlier.month) != 1:
            continue
        unpaid = earlier.unpaid + later.unpaid
        if unpaid > threshold:
            return Trigger(
                rule=TWO_CONSECUTIVE_MONTHS,
                months=(earlier.month, later.month),
                invoices=earlier.invoices + later.invoices,
                unpaid=unpaid,
            )
    return None


def two_fees_over_more_than_two_months(
    arrears: Sequence[MonthArrears], *, monthly_fee: Decimal
) -> Trigger | None:
    """Trigger (b): arrears over a period of at least three billing months (from the earliest
    to the latest month in arrears) that reach two monthly fees."""
    if not arrears:
        return None
    span = month_index(arrears[-1].month) - month_index(arrears[0].month) + 1
    unpaid = sum((month.unpaid for month in arrears), ZERO)
    if span < 3 or unpaid < 2 * monthly_fee:
        return None
    return Trigger(
        rule=TWO_MONTHLY_FEES,
        months=tuple(month.month for month in arrears),
        invoices=tuple(number for month in arrears for number in month.invoices),
        unpaid=unpaid,
    )


def triggers(
    invoices: Iterable[InvoiceState],
    *,
    on: date,
    monthly_fee: Decimal,
    share: Decimal = DEFAULT_NOT_INSIGNIFICANT_SHARE,
) -> list[Trigger]:
    """Every termination trigger met on ``on``. None while ``monthly_fee`` is not positive."""
    if monthly_fee <= 0:
        return []
    arrears = months_in_arrears(invoices, on=on)
    found = [
        two_consecutive_months(arrears, monthly_fee=monthly_fee, share=share),
        two_fees_over_more_than_two_months(arrears, monthly_fee=monthly_fee),
    ]
    return [trigger for trigger in found if trigger is not None]


# --- reminders --------------------------------------------------------------------------------


def reminder_level_due(
    due_on: date, *, on: date, schedule: Sequence[int], sent: Iterable[int] = ()
) -> int | None:
    """The reminder level to send on ``on`` for an invoice due on ``due_on``: level n is due
    ``schedule[n - 1]`` days after the due date. Only the highest level due and not yet sent
    goes out (a run that missed days sends one reminder, not several); ``None`` when nothing
    is to be sent."""
    highest_sent = max(sent, default=0)
    due_levels = [
        level for level, days in enumerate(schedule, start=1) if due_on + timedelta(days=days) <= on
    ]
    if not due_levels or max(due_levels) <= highest_sent:
        return None
    return max(due_levels)


# --- damages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemainingMonth:
    first: date
    last: date
    share: Decimal  # of the monthly fee
    fee: Decimal


def remaining_months(
    *, terminated_on: date, regular_end: date, monthly_fee: Decimal
) -> list[RemainingMonth]:
    """The months (or parts) from the day after ``terminated_on`` until ``regular_end``, each
    with its fee: a whole month one ``monthly_fee``, a part pro rata by days."""
    months: list[RemainingMonth] = []
    day = terminated_on + timedelta(days=1)
    while day <= regular_end:
        month_last = last_day_of_month(day.year, day.month)
        last = min(month_last, regular_end)
        days = (last - day).days + 1
        month_days = month_last.day
        if days == month_days:
            share = Decimal(1)
        else:
            share = (Decimal(days) / Decimal(month_days)).quantize(SHARE_PLACES, ROUND_HALF_UP)
        months.append(RemainingMonth(day, last, share, round_money(share * monthly_fee)))
        day = last + timedelta(days=1)
    return months


def remaining_fees(*, terminated_on: date, regular_end: date, monthly_fee: Decimal) -> Decimal:
    """The (net) fees that would have been payable after ``terminated_on`` until the regular end."""
    months = remaining_months(
        terminated_on=terminated_on, regular_end=regular_end, monthly_fee=monthly_fee
    )
    return sum((month.fee for month in months), ZERO)


def flat_damages(remaining: Decimal) -> Decimal:
    """One quarter of ``remaining``, rounded down to the cent (never more than the quarter)."""
    return from_cents(max(to_cents(remaining), 0) // 4)
