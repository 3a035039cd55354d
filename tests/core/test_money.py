"""Money (core/money.py): one rounding rule, strict parsing, formatting per language, dated
German VAT rates, and VAT totals computed the way EN 16931 checks them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.template import Context, Template
from django.utils import translation

from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import (
    CURRENCY,
    GERMAN_VAT_RATES,
    InvalidAmount,
    NoVatRate,
    RateTotal,
    TaxableLine,
    VatKind,
    format_money,
    from_cents,
    parse_money,
    round_money,
    to_cents,
    vat_rate,
    vat_totals,
)

D = Decimal
NBSP = "\u00a0"


def test_the_only_currency_is_the_euro():
    assert CURRENCY == "EUR"


# --- rounding: half up to the cent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("0.005", "0.01"),  # a tie goes up
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # a float holds 2.67499999…, and round(2.675, 2) gives 2.67
        ("0.125", "0.13"),  # half to even (Decimal's default) would give 0.12
        ("1.115", "1.12"),
        ("-0.005", "-0.01"),  # ties go away from zero on both sides
        ("-2.675", "-2.68"),
        ("-0.125", "-0.13"),
        ("19.99", "19.99"),
        ("7", "7.00"),
    ],
)
def test_rounding_is_half_up_to_the_cent_away_from_zero(amount: str, rounded: str):
    result = round_money(D(amount))
    assert result == D(rounded)
    assert result.as_tuple().exponent == -2, "always exactly two decimals"


def test_rounding_a_tiny_negative_amount_gives_zero_without_a_sign():
    assert str(round_money(D("-0.004"))) == "0.00"
    assert format_money(D("-0.004")) == f"0,00{NBSP}€"


def test_rounding_takes_whole_euros_as_int():
    assert round_money(12) == D("12.00")


@pytest.mark.parametrize("not_money", [2.675, True, "2.675", None])
def test_rounding_refuses_anything_but_decimal_and_int(not_money: object):
    with pytest.raises(TypeError, match="money is a Decimal or an int"):
        round_money(not_money)


@pytest.mark.parametrize("not_finite", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_rounding_refuses_nan_and_infinity(not_finite: str):
    with pytest.raises(ValueError, match="finite"):
        round_money(D(not_finite))


def test_cents_are_the_rounded_amount_as_a_whole_number():
    assert to_cents(D("1234.565")) == 123457
    assert to_cents(D("-0.015")) == -2
    assert from_cents(123456) == D("1234.56")
    assert str(from_cents(-5)) == "-0.05"
    with pytest.raises(TypeError):
        from_cents(D("1.5"))


# --- parsing: strict, never a guess --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),  # German thousands and decimal separators
        ("1,234.56", "1234.56"),  # English ones
        ("1234,5", "1234.50"),
        ("12", "12.00"),
        ("0,99", "0.99"),
        ("1.234.567", "1234567.00"),  # one kind repeated: thousands
        ("1.234.567,89", "1234567.89"),
        ("-12,50", "-12.50"),
        ("\u221212,50", "-12.50"),  # the typographic minus sign
        ("  12,50  ", "12.50"),
        ("12,50 €", "12.50"),
        (f"-1.234,56{NBSP}€", "-1234.56"),  # what format_money writes in German
        ("-€1,234.56", "-1234.56"),  # and in English
        ("1234,500", "1234.50"),  # zeros after the cents change nothing
        ("-0", "0.00"),
    ],
)
def test_parsing_accepts_the_ways_people_write_euros(text: str, amount: str):
    result = parse_money(text)
    assert result == D(amount)
    assert str(result) == amount, "cents, exactly two decimals, no negative zero"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "12 Euro", "NaN", "nan", "inf", "Infinity", "1e3", "0x10", "1_000",
     "12.", ",50", "1..2", "1,,2", "1,23.4", "1.2.3", "1.234,5,6", "1,234,56.7", "€12 €",
     "--12", "12-", "+ 12", "١٢"],
)  # fmt: skip
def test_parsing_refuses_what_is_not_an_amount(text: str):
    with pytest.raises(InvalidAmount) as refused:
        parse_money(text)
    assert refused.value.code == "amount_format"


@pytest.mark.parametrize("text", ["1.234", "12,500", "1,005", "-999.999"])
def test_parsing_refuses_an_amount_that_reads_differently_in_german_and_english(text: str):
    """ "1.234" is 1234 € to a German reader and 1.234 € to an English one."""
    with pytest.raises(InvalidAmount) as refused:
        parse_money(text)
    assert refused.value.code == "amount_ambiguous"


@pytest.mark.parametrize("text", ["0,125", "1234.567", "1.234,561", "0.001"])
def test_parsing_refuses_more_than_two_decimals_instead_of_rounding_them_away(text: str):
    with pytest.raises(InvalidAmount) as refused:
        parse_money(text)
    assert refused.value.code == "amount_places"


def test_parsing_takes_finer_steps_only_when_asked_for_them():
    assert parse_money("0,0125", places=4) == D("0.0125")
    with pytest.raises(InvalidAmount):
        parse_money("0,01255", places=4)


def test_parsing_refuses_more_than_a_money_field_holds():
    assert parse_money("9.999.999.999.999,99") == D("9999999999999.99")
    with pytest.raises(InvalidAmount) as refused:
        parse_money("10000000000000")
    assert refused.value.code == "amount_too_large"


@pytest.mark.parametrize("not_text", [1234.56, D("1234.56"), 1234, None])
def test_parsing_reads_only_text_and_never_a_float(not_text: object):
    with pytest.raises(TypeError):
        parse_money(not_text)


def test_a_refused_amount_is_a_domain_error_the_user_reads_in_their_language():
    with translation.override("de"), pytest.raises(DomainError) as refused:
        parse_money("zwölf")
    assert (
        refused.value.message == "Bitte geben Sie einen Betrag in Euro ein, zum Beispiel 1234,56."
    )
    with translation.override("en"), pytest.raises(DomainError) as refused:
        parse_money("0,125")
    assert refused.value.message == "This amount has too many decimal places (at most 2)."


# --- formatting per language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "german", "english"),
    [
        ("1234.56", f"1.234,56{NBSP}€", "€1,234.56"),
        ("-1234.56", f"-1.234,56{NBSP}€", "-€1,234.56"),
        ("0", f"0,00{NBSP}€", "€0.00"),
        ("0.5", f"0,50{NBSP}€", "€0.50"),
        ("999.99", f"999,99{NBSP}€", "€999.99"),
        ("1000", f"1.000,00{NBSP}€", "€1,000.00"),
        ("1234567.891", f"1.234.567,89{NBSP}€", "€1,234,567.89"),
        ("-0.005", f"-0,01{NBSP}€", "-€0.01"),  # rounded half up before it is shown
    ],
)
def test_amounts_are_written_as_each_language_writes_euros(amount: str, german: str, english: str):
    assert format_money(D(amount), language="de") == german
    assert format_money(D(amount), language="en") == english


def test_formatting_uses_german_unless_told_otherwise_and_reads_regional_codes():
    assert format_money(D("1.5")) == f"1,50{NBSP}€"
    assert format_money(D("1.5"), language="de-at") == f"1,50{NBSP}€"
    assert format_money(D("1.5"), language="en_GB") == "€1.50"
    with pytest.raises(ValueError, match="no money format"):
        format_money(D("1.5"), language="fr")


def test_formatted_amounts_parse_back_to_the_same_amount():
    for text in ["-1234567.89", "0.01", "1000", "-0.99"]:
        for language in ("de", "en"):
            assert parse_money(format_money(D(text), language=language)) == D(text)


def test_money_filter_writes_the_amount_in_the_active_language():
    template = Template("{% load money %}{{ amount|money }}")
    with translation.override("de"):
        assert template.render(Context({"amount": D("-1234.56")})) == f"-1.234,56{NBSP}€"
    with translation.override("en"):
        assert template.render(Context({"amount": D("-1234.56")})) == "-€1,234.56"
        assert template.render(Context({"amount": 12})) == "€12.00"


def test_money_filter_shows_nothing_for_no_amount_and_refuses_a_float():
    template = Template("{% load money %}[{{ amount|money }}]")
    assert template.render(Context({})) == "[]"
    assert template.render(Context({"amount": None})) == "[]"
    with pytest.raises(TypeError):
        template.render(Context({"amount": 12.5}))
    with pytest.raises(TypeError):
        template.render(Context({"amount": "12.50"}))


# --- VAT rates as dated data ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "standard", "reduced"),
    [
        (date(2007, 1, 1), "19", "7"),
        (date(2020, 6, 30), "19", "7"),
        (date(2020, 7, 1), "16", "5"),
        (date(2020, 12, 31), "16", "5"),
        (date(2021, 1, 1), "19", "7"),
        (date(2026, 11, 21), "19", "7"),
    ],
)
def test_the_vat_rate_is_the_one_in_force_on_the_day_of_supply(
    day: date, standard: str, reduced: str
):
    assert vat_rate(VatKind.STANDARD, on=day) == D(standard)
    assert vat_rate(VatKind.REDUCED, on=day) == D(reduced)


def test_every_day_from_the_start_of_the_table_has_exactly_one_rate_of_each_kind():
    for kind in VatKind:
        entries = sorted(
            (entry for entry in GERMAN_VAT_RATES if entry.kind == kind),
            key=lambda entry: entry.valid_from,
        )
        assert entries[0].valid_from == date(2007, 1, 1)
        for earlier, later in pairwise(entries):
            assert earlier.valid_to is not None, f"{earlier} is open-ended but not the last"
            assert later.valid_from == earlier.valid_to + timedelta(days=1), (earlier, later)
        assert entries[-1].valid_to is None, "today's rate must not run out"


def test_a_day_before_the_table_has_no_rate_and_says_so():
    with translation.override("de"), pytest.raises(NoVatRate) as refused:
        vat_rate(VatKind.REDUCED, on=date(2006, 12, 31))
    assert isinstance(refused.value, DomainError)
    assert refused.value.code == "no_vat_rate"
    assert refused.value.message == (
        "Für den 31.12.2006 ist kein Umsatzsteuersatz hinterlegt (ermäßigter Satz)."
    )


def test_the_day_of_supply_is_a_date_not_a_datetime():
    with pytest.raises(TypeError, match="not a datetime"):
        vat_rate(VatKind.STANDARD, on=datetime(2020, 12, 31, 23, 30))  # noqa: DTZ001


# --- VAT totals the EN 16931 way -----------------------------------------------------------


def _lines(*pairs: tuple[str, str]) -> list[TaxableLine]:
    return [TaxableLine(net=D(net), vat_percent=D(percent)) for net, percent in pairs]


def test_vat_is_rounded_once_per_rate_from_rounded_line_nets_not_per_line():
    """BR-S-08/-09, BR-CO-10/-14/-15. Three 0.13 € lines at 19 %: rounding VAT per line gives
    3 × 0.02 = 0.06, per rate round(0.39 × 0.19 = 0.0741) = 0.07. Two lines of 10.005 € at
    7 % (quantity × unit price): each line net is rounded first, 10.01 + 10.01 = 20.02, where
    rounding the sum would give 20.01."""
    totals = vat_totals(
        _lines(("0.13", "19"), ("10.005", "7"), ("0.13", "19"), ("10.005", "7"), ("0.13", "19"))
    )
    assert totals.rates == (
        RateTotal(vat_percent=D("19"), net=D("0.39"), vat=D("0.07")),
        RateTotal(vat_percent=D("7"), net=D("20.02"), vat=D("1.40")),  # 1.4014
    )
    assert (totals.net, totals.vat, totals.gross) == (D("20.41"), D("1.47"), D("21.88"))
    per_line_vat = sum(round_money(line.net * line.vat_percent / 100) for line in _lines(
        ("0.13", "19"), ("0.13", "19"), ("0.13", "19"), ("10.005", "7"), ("10.005", "7")
    ))  # fmt: skip
    assert per_line_vat == D("1.46"), "the example must be one where the two ways differ"


def test_vat_totals_add_up_to_what_the_invoice_states():
    totals = vat_totals(_lines(("100", "19"), ("-10.00", "19"), ("49.95", "7"), ("0.005", "7")))
    assert totals.rates == (
        RateTotal(vat_percent=D("19"), net=D("90.00"), vat=D("17.10")),
        RateTotal(vat_percent=D("7"), net=D("49.96"), vat=D("3.50")),  # 3.4972
    )
    assert totals.net == sum(rate.net for rate in totals.rates) == D("139.96")
    assert totals.vat == sum(rate.vat for rate in totals.rates) == D("20.60")
    assert totals.gross == totals.net + totals.vat == D("160.56")


def test_a_vat_tie_is_rounded_half_up():
    # 2.50 × 19 % = 0.475 → 0.48; 6.50 × 5 % = 0.325 → 0.33 (half to even would give 0.32)
    totals = vat_totals(_lines(("2.50", "19"), ("6.50", "5")))
    assert [rate.vat for rate in totals.rates] == [D("0.48"), D("0.33")]


def test_the_same_rate_written_differently_is_one_row_of_the_breakdown():
    totals = vat_totals(_lines(("1.00", "19"), ("2.00", "19.00")))
    assert len(totals.rates) == 1
    assert totals.rates[0].net == D("3.00")


def test_no_lines_make_zero_totals():
    totals = vat_totals([])
    assert totals.rates == ()
    assert (str(totals.net), str(totals.vat), str(totals.gross)) == ("0.00", "0.00", "0.00")


def test_vat_totals_refuse_a_float_net_amount():
    with pytest.raises(TypeError):
        vat_totals([TaxableLine(net=10.5, vat_percent=D("19"))])
