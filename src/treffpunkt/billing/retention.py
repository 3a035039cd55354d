"""How long invoices and booking records stay in everyday use (P-BILL-1, § 147 (3), (4) AO,
§ 257 (4), (5) HGB, § 14b (1) UStG).

Invoices, credit notes and the bank entries booked against them are kept ten years. The period
starts at the end of the calendar year in which the record was made: an invoice of 3 March 2027
is kept until 31 December 2037. After that it is blocked from everyday access: the customer
area, the back office's lists, details and downloads, the open items and the DATEV export no
longer show it. Deleting blocked records is a data rule of its own (the retention jobs)."""

from __future__ import annotations

from datetime import date

RETENTION_YEARS = 10


def kept_until(made_on: date) -> date:
    """The last day a record made on ``made_on`` must be kept."""
    return date(made_on.year + RETENTION_YEARS, 12, 31)


def first_day_in_use(today: date) -> date:
    """The earliest day of making whose records are still in everyday use on ``today``:
    those made before it are past ``kept_until`` and blocked."""
    return date(today.year - RETENTION_YEARS, 1, 1)


def is_blocked(made_on: date, *, today: date) -> bool:
    return made_on < first_day_in_use(today)
