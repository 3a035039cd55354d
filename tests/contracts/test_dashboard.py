"""The deadline dashboard pages through every deadline, overdue ones first (P-OP-2 … P-OP-7):
one page costs the same however many contracts there are, and nothing falls off the end."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.contracts.conftest import on_day, place_order, video_product
from tests.customers.conftest import make_customer
from treffpunkt.contracts import deadlines, selectors

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)


def test_the_dashboard_pages_through_every_deadline_with_the_overdue_ones_first():
    customer = make_customer()
    product = video_product()
    # 60 orders received over the last 30 days: those older than two weeks are overdue.
    for days_ago in range(60):
        received = TODAY - timedelta(days=days_ago % 30)
        with on_day(received):
            place_order(customer, product, received_on=received)
    with on_day(TODAY):
        first = selectors.deadlines_ahead(on=TODAY, per_page=25)
        second = selectors.deadlines_ahead(on=TODAY, per_page=25, page=2)
        last = selectors.deadlines_ahead(on=TODAY, per_page=25, page=99)
    overdue = sum(
        1
        for days_ago in range(60)
        if deadlines.acceptance_deadline(TODAY - timedelta(days=days_ago % 30)) < TODAY
    )
    assert first.total == 60 and first.overdue == overdue and first.pages == 3
    rows = first.rows + second.rows + last.rows
    assert [row.overdue for row in rows] == [True] * overdue + [False] * (60 - overdue)
    dues = [row.due for row in rows]
    assert dues[:overdue] == sorted(dues[:overdue]) and dues[overdue:] == sorted(dues[overdue:])
    assert all(due < TODAY for due in dues[:overdue])
    assert last.page == 3 and len(last.rows) == 10
    assert all(row.url.startswith("/betrieb/auftraege/") for row in first.rows)
