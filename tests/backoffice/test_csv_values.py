"""How single values are written into a CSV file for German Excel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from treffpunkt.backoffice.csv_export import csv_value


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-Rabatt", "'-Rabatt"),
        ("@SUMME(A1)", "'@SUMME(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("Müller", "Müller"),
        ("a=b", "a=b"),
        (-5, "-5"),  # a number, not a formula
        (Decimal("-12.50"), "-12,50"),  # the decimal comma German Excel reads as a number
        (None, ""),
        (["=x", "y"], "'=x, y"),
        ({"k": "=v"}, "k: =v"),
    ],
)
def test_text_that_would_be_a_formula_is_made_text(value: object, written: str):
    assert csv_value(value) == written


def test_times_are_the_readers_local_time_year_first():
    moment = datetime(2026, 7, 1, 10, 0, 5, tzinfo=UTC)
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert csv_value(moment) == "2026-07-01 12:00:05"
    assert csv_value(date(2026, 7, 1)) == "2026-07-01"


def test_yes_and_no_in_the_readers_language():
    with translation.override("de"):
        assert csv_value(True) == translation.gettext("yes")
    with translation.override("en"):
        assert csv_value(False) == "no"
