"""Money: the one module every amount goes through.

Rules:

- An amount is a ``Decimal`` in euros (``CURRENCY``); never a float, which cannot hold 0.10
  exactly. ``tests/core/test_no_float_money.py`` fails when this module, or any module that
  imports it, contains a float literal, a ``float(...)`` call or ``Decimal(<float>)``.
- One rounding rule: half up (ties away from zero, "kaufmännisch") to the cent, which is what
  EN 16931 asks for line and document totals. Nothing else in the code base rounds money.
- Input is parsed strictly: a typed amount is refused, never guessed (``parse_money``).
- Output follows the language: ``1.234,56 €`` in German, ``€1,234.56`` in English.
- German VAT rates are dated data (``GERMAN_VAT_RATES``), looked up by the day of supply.
- VAT on an invoice is computed per rate from the rounded line net amounts, the way EN 16931
  checks it (``vat_totals``).

Decision record: docs/decisions/0005-money.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treffpunkt.core.errors import DomainError

CURRENCY = "EUR"
CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP
ZERO = Decimal("0.00")
# What a money DecimalField holds (max_digits, decimal_places): up to 9,999,999,999,999.99 €,
# far above any invoice; parse_money refuses more, so a typed amount never fails on save.
MAX_DIGITS = 15
DECIMAL_PLACES = 2
_MAX_WHOLE_DIGITS = MAX_DIGITS - DECIMAL_PLACES

Amount = Decimal | int


class InvalidAmount(DomainError):
    """A typed amount that is not one, or not one we could take without guessing."""


class NoVatRate(DomainError):
    """The VAT table has no rate of this kind for this day."""

    def __init__(self, *, kind: VatKind, day: date) -> None:
        super().__init__(
            _("No VAT rate applies on %(day)s (%(kind)s).")
            % {"day": formats.date_format(day, "SHORT_DATE_FORMAT"), "kind": kind.label},
            code="no_vat_rate",
        )
        self.kind = kind
        self.day = day


# --- rounding --------------------------------------------------------------------------------


def _checked(amount: Amount) -> Decimal:
    """``amount`` as a finite Decimal. A float, a bool or a text is a programming error here
    (texts go through ``parse_money``), and so is NaN or infinity: they are refused loudly
    instead of being carried into a total."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money is a Decimal or an int, never {type(amount).__name__}: {amount!r}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"money is a finite amount, not {value}")
    return value


def _without_negative_zero(value: Decimal) -> Decimal:
    """-0.00 (from rounding -0.004, or typing "-0") is 0.00: a sign on nothing reads as a debt."""
    return value.copy_abs() if value.is_zero() else value


def round_money(amount: Amount) -> Decimal:
    """``amount`` rounded half up to the cent: 0.005 → 0.01, 2.675 → 2.68, -2.675 → -2.68.

    Half up, not the half-to-even ``Decimal`` uses by default (0.125 → 0.12): EN 16931 and German
    commercial practice round a tie away from zero."""
    return _without_negative_zero(_checked(amount).quantize(CENT, rounding=ROUNDING))


def to_cents(amount: Amount) -> int:
    """``amount`` rounded to the cent (``round_money``), as a whole number of cents."""
    return int(round_money(amount).scaleb(DECIMAL_PLACES))


def from_cents(cents: int) -> Decimal:
    """A whole number of cents as an amount in euros: 123456 → 1234.56."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"cents are an int, not {type(cents).__name__}: {cents!r}")
    return Decimal(cents).scaleb(-DECIMAL_PLACES).quantize(CENT)


# --- parsing ---------------------------------------------------------------------------------

_AMOUNT_TEXT = re.compile(
    r"""\s*
        (?P<minus>[-\u2212])?\s*
        (?P<prefix>€\s*)?
        (?P<number>[0-9.,]+)
        (?P<suffix>\s*€)?
        \s*""",
    re.VERBOSE,
)
# Digits, with single separators only between digits.
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_GROUP_HEAD = re.compile(r"[1-9][0-9]{0,2}")


def _invalid() -> InvalidAmount:
    return InvalidAmount(
        _("Please enter an amount in euros, for example 1234.56."), code="amount_format"
    )


def _ambiguous() -> InvalidAmount:
    return InvalidAmount(
        _(
            "It is not clear whether the separator in this amount separates thousands or "
            "cents. Please write the amount without a thousands separator, for example 1234 "
            "or 1234.50."
        ),
        code="amount_ambiguous",
    )


def _split_number(number: str) -> tuple[str, str]:
    """The whole and the fraction digits of ``number``, written with "." or "," as either the
    thousands or the decimal separator.

    - both kinds present: the last one is the decimal separator ("1.234,56", "1,234.56");
    - one kind, several times: thousands ("1.234.567");
    - one kind, once: decimal ("1234,5", "12.50"), unless exactly three digits follow a valid
      first group ("1.234", "12,500"). That is 1234 to a German reader and 1.234 to an English
      one: it is refused rather than guessed, since the two differ by a factor of 1000.
    Thousands separators must stand every three digits."""
    separators = [char for char in number if char in ".,"]
    if not separators:
        return number, ""
    decimal_mark: str | None = separators[-1]
    thousands: str | None = None
    if len(set(separators)) == 2:
        if separators.count(separators[-1]) != 1:
            raise _invalid()
        thousands = separators[0]
    elif len(separators) > 1:
        decimal_mark, thousands = None, separators[0]
    else:
        head, tail = number.split(separators[0])
        if len(tail) == 3 and _GROUP_HEAD.fullmatch(head):
            raise _ambiguous()
    whole, fraction = number.rsplit(decimal_mark, 1) if decimal_mark else (number, "")
    if thousands is not None:
        group = re.escape(thousands)
        if not re.fullmatch(rf"[1-9][0-9]{{0,2}}(?:{group}[0-9]{{3}})+", whole):
            raise _invalid()
        whole = whole.replace(thousands, "")
    return whole, fraction


def parse_money(text: str, *, places: int = DECIMAL_PLACES) -> Decimal:
    """The amount a person typed, as a Decimal with ``places`` decimals (cents by default).

    Accepts "1234.56", "1234,5", "1.234,56", "1,234.56", "-12,50", "12,50 €", "€12.50".
    Refuses, with an ``InvalidAmount`` the user can read: anything else (empty, letters, "NaN",
    "inf", "1e3"); an amount whose thousands/decimal reading is ambiguous ("1.234"); more than
    ``places`` decimals that are not zeros ("0,125": rounding what someone typed would change
    their amount behind their back; "1234,500" is taken); more than 13 digits before the
    decimal mark. ``places`` is for the few amounts with finer steps, such as a unit price per
    minute; totals are always cents.

    A float is not text and raises ``TypeError``: by the time an amount is a float it may
    already be wrong."""
    if not isinstance(text, str):
        raise TypeError(f"parse_money reads text, not {type(text).__name__}: {text!r}")
    match = _AMOUNT_TEXT.fullmatch(text)
    if match is None or (match["prefix"] and match["suffix"]):
        raise _invalid()
    number = match["number"]
    if not _NUMBER.fullmatch(number):
        raise _invalid()
    whole, fraction = _split_number(number)
    if len(whole.lstrip("0")) > _MAX_WHOLE_DIGITS:
        raise InvalidAmount(_("This amount is too large."), code="amount_too_large")
    value = Decimal(f"{whole}.{fraction or '0'}")
    exact = value.quantize(Decimal(1).scaleb(-places))
    if exact != value:
        raise InvalidAmount(
            _("This amount has too many decimal places (at most %(places)s).") % {"places": places},
            code="amount_places",
        )
    return _without_negative_zero(-exact if match["minus"] else exact)


# --- formatting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MoneyStyle:
    """How a language writes an amount: separators, and where the sign and symbol go."""

    thousands: str
    decimal_mark: str
    pattern: str  # with {sign} and {number}


# As the Unicode locale data (CLDR) writes euros for "de" and "en". The German symbol follows
# a no-break space, so a line break never separates it from its number.
_STYLES: dict[str, _MoneyStyle] = {
    "de": _MoneyStyle(thousands=".", decimal_mark=",", pattern="{sign}{number}\u00a0€"),
    "en": _MoneyStyle(thousands=",", decimal_mark=".", pattern="{sign}€{number}"),
}


def _style_for(language: str) -> _MoneyStyle:
    """The style of a language code such as "de", "de-at" or "en_GB" (its primary subtag)."""
    primary = language.lower().replace("_", "-").split("-", 1)[0]
    try:
        return _STYLES[primary]
    except KeyError:
        raise ValueError(
            f"no money format for language {language!r}; known: {', '.join(sorted(_STYLES))}"
        ) from None


def format_money(amount: Amount, language: str = "de") -> str:
    """``amount``, rounded to the cent, as ``language`` writes euros: "1.234,56 €" (with a
    no-break space) in German, "€1,234.56" in English; negative "-1.234,56 €" / "-€1,234.56".
    Templates use the ``money`` filter, which passes the active language."""
    style = _style_for(language)
    rounded = round_money(amount)
    # Decimal's own formatting, so no float is involved; then the language's separators.
    number = format(rounded.copy_abs(), ",.2f").translate(
        str.maketrans(",.", style.thousands + style.decimal_mark)
    )
    return style.pattern.format(sign="-" if rounded < 0 else "", number=number)


# --- VAT ---------------------------------------------------------------------------------------


class VatKind(models.TextChoices):
    """Which German rate a supply carries; what it is in percent depends on the day
    (``vat_rate``). In EN 16931 both are VAT category "S" (standard rated), with their rate."""

    STANDARD = "standard", gettext_lazy("standard rate")
    REDUCED = "reduced", gettext_lazy("reduced rate")


@dataclass(frozen=True, slots=True)
class VatRate:
    """One German VAT rate and the days it applied on (both ends included; open-ended when
    ``valid_to`` is None)."""

    kind: VatKind
    percent: Decimal
    valid_from: date
    valid_to: date | None

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


# § 12 UStG. The table starts on 2007-01-01, when the standard rate became 19 %: nothing this
# product bills is older. 2020-07-01 … 2020-12-31 is the temporary cut of the second
# Corona-Steuerhilfegesetz. A rate change is a new row (end the old one the day before), never
# an edit: issued invoices keep the rate of their day of supply.
GERMAN_VAT_RATES: tuple[VatRate, ...] = (
    VatRate(VatKind.STANDARD, Decimal("19"), date(2007, 1, 1), date(2020, 6, 30)),
    VatRate(VatKind.STANDARD, Decimal("16"), date(2020, 7, 1), date(2020, 12, 31)),
    VatRate(VatKind.STANDARD, Decimal("19"), date(2021, 1, 1), None),
    VatRate(VatKind.REDUCED, Decimal("7"), date(2007, 1, 1), date(2020, 6, 30)),
    VatRate(VatKind.REDUCED, Decimal("5"), date(2020, 7, 1), date(2020, 12, 31)),
    VatRate(VatKind.REDUCED, Decimal("7"), date(2021, 1, 1), None),
)


def vat_rate(kind: VatKind, *, on: date) -> Decimal:
    """The percentage of ``kind`` that applies to a supply made on the day ``on``.

    ``on`` is the day of supply (for a service over a period, the day the period ends), not the
    invoice date: the rate follows the supply (§ 27 (1) UStG). It is a ``date`` in
    Europe/Berlin; a datetime is refused, because its day depends on a time zone chosen by the
    caller. ``NoVatRate`` when the table has no rate for that day."""
    if isinstance(on, datetime):
        raise TypeError("the day of supply is a date (in Europe/Berlin), not a datetime")
    for entry in GERMAN_VAT_RATES:
        if entry.kind == kind and entry.applies_on(on):
            return entry.percent
    raise NoVatRate(kind=VatKind(kind), day=on)


@dataclass(frozen=True, slots=True)
class TaxableLine:
    """One invoice line as VAT sees it: its net amount (BT-131) and its VAT rate (BT-152)."""

    net: Decimal
    vat_percent: Decimal


@dataclass(frozen=True, slots=True)
class RateTotal:
    """One row of the VAT breakdown (BG-23): the taxable amount of a rate and its VAT."""

    vat_percent: Decimal  # BT-119
    net: Decimal  # BT-116
    vat: Decimal  # BT-117


@dataclass(frozen=True, slots=True)
class VatTotals:
    """What an invoice states about VAT: the breakdown per rate (highest rate first), and the
    document totals: net (BT-109), VAT (BT-110), gross (BT-112)."""

    rates: tuple[RateTotal, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal


def vat_totals(lines: Iterable[TaxableLine]) -> VatTotals:
    """VAT for an invoice's lines, the EN 16931 way:

    1. each line's net amount is rounded to the cent (BT-131 has two decimals);
    2. per rate, the taxable amount is the sum of its rounded line nets (BR-S-08), and its VAT
       is that sum × rate / 100, rounded once (BR-S-09); VAT is never rounded per line, which
       can differ by a cent per line and would fail the official checks;
    3. the totals are sums of the rounded values (BR-CO-10, BR-CO-14, BR-CO-15), so the
       breakdown always adds up to what the invoice states.

    No document-level allowances or charges: with them, BT-109 is no longer the sum of the
    lines, and this function has to learn them first."""
    net_per_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        percent = _checked(line.vat_percent)
        if percent < 0:
            raise ValueError(f"a VAT rate is not negative: {percent}")
        net_per_rate[percent] = net_per_rate.get(percent, ZERO) + round_money(line.net)
    rates = tuple(
        RateTotal(vat_percent=percent, net=net, vat=round_money(net * percent / 100))
        for percent, net in sorted(net_per_rate.items(), reverse=True)
    )
    net = sum((rate.net for rate in rates), ZERO)
    vat = sum((rate.vat for rate in rates), ZERO)
    return VatTotals(rates=rates, net=net, vat=vat, gross=net + vat)
