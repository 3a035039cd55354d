"""Invoices, credit notes and payments for the tax adviser, as a DATEV "Buchungsstapel" (EXTF).

Two parts:

- ``buchungsstapel``: a pure writer. It turns ``Booking`` rows and a ``Header`` into the bytes of
  an ``EXTF_*.csv`` file in the DATEV format (header version 700, data category 21
  "Buchungsstapel", format version 13). It knows nothing of the models.
- ``export_bookings``: what the billing models say, as bookings: an invoice is one booking per
  VAT rate (debtor to revenue, "S"), a credit note the same with "H", a payment allocation bank
  to debtor.

The file, as the DATEV format description asks for it:

- Windows-1252 without BOM (the only encoding every DATEV import path reads), ";" between
  fields, CRLF after every line including the last. A character Windows-1252 cannot hold is
  written as its base letter ("ń" → "n") or, when it has none, as "?"; control characters in a
  text become spaces (DATEV refuses them in text fields).
- Line 1 is the header record (31 fields), line 2 the 125 column headings of format version 13,
  then one line of 125 fields per booking. The import reads the fields by position, so every row
  has all 125 fields; the ones not filled here are empty (text fields as ``""``).
- Amounts are positive with a decimal comma and no thousands separator ("1234,56"); the sign is
  the Soll/Haben indicator, which refers to "Konto". Text fields are in double quotes with inner
  quotes doubled; numbers and accounts are not quoted.
- The document date (Belegdatum) is DDMM: DATEV takes the year from the header's fiscal year
  start, so a batch never spans two fiscal years and no booking lies outside the header's
  period (both are refused here rather than booked into the wrong year).

The column headings were reconstructed from the DATEV format description as several independent
exporters write it (hyphens, "Zusatzinformation- Inhalt" without a space, as DATEV's own
definition has it); the import does not read them, but the count (125) matters.

Chart of accounts (an assumption the tax adviser confirms; every number is a setting):

- SKR03 with general ledger accounts of 4 digits (``DATEV_ACCOUNT_LENGTH``, default 4).
- Revenue at 19 %: 8400 "Erlöse 19 % USt" (``DATEV_REVENUE_ACCOUNT_19``); at 7 %: 8300 "Erlöse
  7 % USt" (``DATEV_REVENUE_ACCOUNT_7``). Both are automatic accounts in SKR03: DATEV takes the
  VAT out of the gross amount itself, so the bookings carry no BU-Schlüssel. Any other rate (the
  16 % / 5 % of the second half of 2020) needs its own ``DATEV_REVENUE_ACCOUNT_<rate>`` setting,
  or the export refuses the invoice instead of booking it on a 19 % account.
- One debtor account per customer: ``DATEV_DEBTOR_ACCOUNT_BASE`` (10000) plus the number in the
  customer number ("K-00001" → 10001), within the SKR03 debtor range 10000–69999.
- Bank: 1200 (``DATEV_BANK_ACCOUNT``).
- The header's consultant and client numbers are ``DATEV_CONSULTANT_NUMBER`` and
  ``DATEV_CLIENT_NUMBER`` (no default: the tax adviser gives them), the fiscal year starts in
  month ``DATEV_FISCAL_YEAR_START_MONTH`` (default 1). The batch is written unlocked
  (Festschreibung 0), so the tax adviser can still correct it after the import.

Money stays ``Decimal`` throughout; an amount with more than two decimals is refused, never
rounded here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings

from treffpunkt.billing import retention
from treffpunkt.billing.models import Invoice, PaymentAllocation
from treffpunkt.core import clock
from treffpunkt.core.money import CENT, CURRENCY, TaxableLine, vat_totals
from treffpunkt.customers.models import Customer


class DatevError(ValueError):
    """Something the export cannot write without guessing (a missing account, a bad value)."""


# --- the format ------------------------------------------------------------------------------

ENCODING = "cp1252"
SEPARATOR = ";"
LINE_END = "\r\n"
TEXT_LENGTH = 60  # Buchungstext
DOCUMENT_FIELD_LENGTH = 36  # Belegfeld 1
DESCRIPTION_LENGTH = 30  # header field 17
EXPORTED_BY_LENGTH = 25  # header field 9
MAX_WHOLE_DIGITS = 10  # Umsatz: up to 10 digits before the comma

# The 125 column headings of format version 13, in order.
COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *(
        heading
        for n in range(1, 21)
        for heading in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
    ),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
if len(COLUMNS) != 125:  # a wrong count shifts every field after it
    raise RuntimeError(f"format version 13 has 125 columns, not {len(COLUMNS)}")

# Text fields (1-based, as the format description numbers them): written in quotes, "" when
# empty. Every other field is a number, an amount, a date or an account: never quoted.
_TEXT_FIELDS: frozenset[int] = frozenset(
    {2, 3, 6, 9, 11, 12, 14, 16, *range(20, 39), 40, 42, *range(48, 88), 91, 95, 96, 98}
    | {102, 103, 105, 107, 109, 110, 112, 118, 120, 121, 123}
)

# 0-based positions of the fields this export fills.
_AMOUNT, _INDICATOR, _ACCOUNT, _CONTRA, _TAX_KEY, _DATE, _DOCUMENT, _TEXT = 0, 1, 6, 7, 8, 9, 10, 13

_DOCUMENT_FIELD = re.compile(r"[A-Za-z0-9$&%*+\-/]{1,36}")
_TAX_KEY_TEXT = re.compile(r"[0-9]{0,4}")
_DICTATION_CODE = re.compile(r"(?:[A-Z]{2}){0,2}")
_ORIGIN = re.compile(r"[A-Za-z0-9]{0,2}")
_CHART = re.compile(r"(?:[0-9]{2}){0,2}")


@dataclass(frozen=True, slots=True)
class Booking:
    """One line of the batch: ``amount`` on ``account`` ("S" debit / "H" credit) against
    ``contra_account``."""

    amount: Decimal  # Umsatz, positive, in euros, at most two decimals
    debit_credit: Literal["S", "H"]  # Soll/Haben-Kennzeichen, for "Konto"
    account: int  # Konto
    contra_account: int  # Gegenkonto (ohne BU-Schlüssel)
    document_date: date  # Belegdatum, written DDMM
    document_number: str  # Belegfeld 1: the invoice number
    text: str  # Buchungstext, cut to 60 characters
    tax_key: str = ""  # BU-Schlüssel; empty for automatic accounts

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, Decimal | int):
            raise TypeError(f"an amount is a Decimal, never {type(self.amount).__name__}")
        if self.debit_credit not in ("S", "H"):
            raise DatevError(f"Soll/Haben is 'S' or 'H', not {self.debit_credit!r}")
        for account in (self.account, self.contra_account):
            if isinstance(account, bool) or not isinstance(account, int):
                raise TypeError(f"an account is a number, not {account!r}")
            if not 1 <= account <= 999_999_999:
                raise DatevError(f"an account has one to nine digits, not {account}")
        if not _TAX_KEY_TEXT.fullmatch(self.tax_key):
            raise DatevError(f"a BU-Schlüssel has up to four digits, not {self.tax_key!r}")
        if not _DOCUMENT_FIELD.fullmatch(self.document_number):
            raise DatevError(
                f"Belegfeld 1 takes 1-36 of A-Z a-z 0-9 $ & % * + - /: {self.document_number!r}"
            )
        format_amount(Decimal(self.amount))  # refuses zero, negative, fractions of a cent


@dataclass(frozen=True, slots=True)
class Header:
    """The batch's header record: whose books, which fiscal year and period."""

    consultant_number: int  # Beraternummer, 1001 … 9999999
    client_number: int  # Mandantennummer, 1 … 99999
    fiscal_year_start: date  # WJ-Beginn; the year of every DDMM document date
    date_from: date
    date_to: date
    created: datetime  # Erzeugt am, written as it is (local time)
    description: str = ""  # Bezeichnung of the batch, up to 30 characters
    account_length: int = 4  # Sachkontenlänge, as the client is set up in DATEV
    currency: str = CURRENCY
    origin: str = ""  # Herkunft, two characters
    exported_by: str = ""
    dictation_code: str = ""  # Diktatkürzel, two or four capitals
    chart_of_accounts: str = "03"  # SKR03
    locked: bool = False  # Festschreibung

    def __post_init__(self) -> None:
        if not 1001 <= self.consultant_number <= 9_999_999:
            raise DatevError(f"consultant number 1001-9999999, not {self.consultant_number}")
        if not 1 <= self.client_number <= 99_999:
            raise DatevError(f"client number 1-99999, not {self.client_number}")
        if not 4 <= self.account_length <= 8:
            raise DatevError(f"account length 4-8, not {self.account_length}")
        if self.currency != "EUR":
            raise DatevError(f"only euros are booked, not {self.currency!r}")
        if self.date_from > self.date_to:
            raise DatevError("the period ends before it starts")
        if self.fiscal_year_start.day != 1:
            raise DatevError("a fiscal year starts on the first of a month")
        year_end = _next_fiscal_year(self.fiscal_year_start)
        if not self.fiscal_year_start <= self.date_from <= self.date_to < year_end:
            raise DatevError(
                "the period lies within one fiscal year (DATEV reads the year of every "
                "document date from the fiscal year start)"
            )
        if not _DICTATION_CODE.fullmatch(self.dictation_code):
            raise DatevError(f"a dictation code is two or four capitals: {self.dictation_code!r}")
        if not _ORIGIN.fullmatch(self.origin):
            raise DatevError(f"an origin has up to two letters or digits: {self.origin!r}")
        if not _CHART.fullmatch(self.chart_of_accounts):
            raise DatevError(f"a chart of accounts is two digits: {self.chart_of_accounts!r}")


def _next_fiscal_year(start: date) -> date:
    return start.replace(year=start.year + 1)


# --- writing ---------------------------------------------------------------------------------


def format_amount(amount: Decimal) -> str:
    """``amount`` as DATEV writes it: "1234,56", with no thousands separator and no sign."""
    value = Decimal(amount)
    if not value.is_finite() or value <= 0:
        raise DatevError(f"an amount is positive (the sign is S/H), not {value}")
    if value != value.quantize(CENT):
        raise DatevError(f"an amount has at most two decimals, not {value}")
    text = f"{value.quantize(CENT):f}"
    whole = text.split(".", 1)[0]
    if len(whole) > MAX_WHOLE_DIGITS:
        raise DatevError(f"an amount has at most {MAX_WHOLE_DIGITS} digits before the comma")
    return text.replace(".", ",")


def cp1252_text(text: str) -> str:
    """``text`` with only characters Windows-1252 can hold: others become their base letter
    ("ń" → "n", "ﬁ" → "fi") or "?"; control characters and line breaks become one space."""
    out: list[str] = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            out.append(" ")
            continue
        if _in_cp1252(char):
            out.append(char)
            continue
        if char in _NO_DECOMPOSITION:
            out.append(_NO_DECOMPOSITION[char])
            continue
        base = "".join(
            part
            for part in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(part) and _in_cp1252(part)
        )
        out.append(base or "?")
    return " ".join("".join(out).split())


# Latin letters Unicode does not decompose into a base letter and a mark.
_NO_DECOMPOSITION = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"}


def _in_cp1252(char: str) -> bool:
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def quoted(text: str) -> str:
    """A DATEV text field: in double quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def _text_field(text: str, length: int) -> str:
    return quoted(cp1252_text(text)[:length])


def header_record(header: Header) -> str:
    """Line 1: the 31 fields of the header record, in the order DATEV documents them."""
    created = header.created.strftime("%Y%m%d%H%M%S") + f"{header.created.microsecond // 1000:03d}"
    fields = [
        quoted("EXTF"),  # 1 Kennzeichen: export from a non-DATEV application
        "700",  # 2 Versionsnummer of the header
        "21",  # 3 Formatkategorie: Buchungsstapel
        quoted("Buchungsstapel"),  # 4 Formatname
        "13",  # 5 Formatversion
        created,  # 6 Erzeugt am, YYYYMMDDHHMMSSFFF
        "",  # 7 Importiert: left empty, DATEV fills it
        quoted(header.origin),  # 8 Herkunft
        _text_field(header.exported_by, EXPORTED_BY_LENGTH),  # 9 Exportiert von
        quoted(""),  # 10 Importiert von
        str(header.consultant_number),  # 11 Beraternummer
        str(header.client_number),  # 12 Mandantennummer
        header.fiscal_year_start.strftime("%Y%m%d"),  # 13 WJ-Beginn
        str(header.account_length),  # 14 Sachkontenlänge
        header.date_from.strftime("%Y%m%d"),  # 15 Datum vom
        header.date_to.strftime("%Y%m%d"),  # 16 Datum bis
        _text_field(header.description, DESCRIPTION_LENGTH),  # 17 Bezeichnung
        quoted(header.dictation_code),  # 18 Diktatkürzel
        "1",  # 19 Buchungstyp: Finanzbuchführung
        "0",  # 20 Rechnungslegungszweck: unabhängig
        "1" if header.locked else "0",  # 21 Festschreibung
        quoted(header.currency),  # 22 WKZ
        "",  # 23 reserviert
        quoted(""),  # 24 Derivatskennzeichen
        "",  # 25 reserviert
        "",  # 26 reserviert
        quoted(header.chart_of_accounts),  # 27 Sachkontenrahmen
        "",  # 28 ID der Branchenlösung
        "",  # 29 reserviert
        quoted(""),  # 30 reserviert
        quoted(""),  # 31 Anwendungsinformation
    ]
    return SEPARATOR.join(fields)


def booking_record(booking: Booking) -> str:
    """One booking as the 125 fields of a data line."""
    fields = [quoted("") if n in _TEXT_FIELDS else "" for n in range(1, len(COLUMNS) + 1)]
    fields[_AMOUNT] = format_amount(Decimal(booking.amount))
    fields[_INDICATOR] = quoted(booking.debit_credit)
    fields[_ACCOUNT] = str(booking.account)
    fields[_CONTRA] = str(booking.contra_account)
    fields[_TAX_KEY] = quoted(booking.tax_key)
    fields[_DATE] = booking.document_date.strftime("%d%m")
    fields[_DOCUMENT] = quoted(booking.document_number)
    fields[_TEXT] = _text_field(booking.text, TEXT_LENGTH)
    return SEPARATOR.join(fields)


def buchungsstapel(*, bookings: Sequence[Booking], header: Header) -> bytes:
    """The bytes of an ``EXTF_*.csv`` Buchungsstapel with ``bookings`` under ``header``.

    Refuses (``DatevError``) a booking outside the header's period (its DDMM date would land
    in the wrong year) and an account longer than the account length allows (a general ledger
    account has ``account_length`` digits, a personal account one more)."""
    longest = header.account_length + 1
    for booking in bookings:
        if not header.date_from <= booking.document_date <= header.date_to:
            raise DatevError(
                f"{booking.document_number}: {booking.document_date} is outside the batch's "
                f"period {header.date_from} – {header.date_to}"
            )
        for account in (booking.account, booking.contra_account):
            if len(str(account)) > longest:
                raise DatevError(
                    f"{booking.document_number}: account {account} is longer than "
                    f"{longest} digits (account length {header.account_length})"
                )
    lines = [header_record(header), SEPARATOR.join(COLUMNS)]
    lines.extend(booking_record(booking) for booking in bookings)
    # Everything is cp1252-safe by now (cp1252_text), so "strict" never fires on user text.
    return "".join(line + LINE_END for line in lines).encode(ENCODING)


# --- from the models -------------------------------------------------------------------------

DEFAULT_REVENUE_ACCOUNTS: dict[str, int] = {"19": 8400, "7": 8300}
DEFAULT_BANK_ACCOUNT = 1200
DEFAULT_DEBTOR_ACCOUNT_BASE = 10000
DEBTOR_ACCOUNTS_END = 69999  # SKR03 with 4-digit accounts: 70000 … 99999 are creditors
_CUSTOMER_NUMBER = re.compile(r"\D*(\d+)")


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def revenue_account(vat_percent: Decimal) -> int:
    """The revenue account of a VAT rate: ``DATEV_REVENUE_ACCOUNT_19`` (8400),
    ``DATEV_REVENUE_ACCOUNT_7`` (8300); another rate needs its own setting."""
    normalized = Decimal(vat_percent).normalize()
    key = f"{normalized:f}".replace(".", "_")
    name = f"DATEV_REVENUE_ACCOUNT_{key}"
    account = _setting(name, DEFAULT_REVENUE_ACCOUNTS.get(key))
    if account is None:
        raise DatevError(f"no revenue account for {normalized} % VAT: set {name}")
    return int(account)


def debtor_account(customer: Customer) -> int:
    """The customer's debtor account: ``DATEV_DEBTOR_ACCOUNT_BASE`` (10000) plus the number in
    the customer number ("K-00001" → 10001)."""
    match = _CUSTOMER_NUMBER.fullmatch(customer.customer_number or "")
    if match is None:
        raise DatevError(f"customer {customer.pk} has no customer number to book on")
    account = int(_setting("DATEV_DEBTOR_ACCOUNT_BASE", DEFAULT_DEBTOR_ACCOUNT_BASE)) + int(
        match[1]
    )
    if account > DEBTOR_ACCOUNTS_END:
        raise DatevError(
            f"customer {customer.customer_number}: debtor account {account} is beyond the "
            f"debtor range (up to {DEBTOR_ACCOUNTS_END})"
        )
    return account


def bank_account() -> int:
    return int(_setting("DATEV_BANK_ACCOUNT", DEFAULT_BANK_ACCOUNT))


def _buyer_name(invoice: Invoice) -> str:
    """The buyer as the invoice names it (as they were on the day of issue)."""
    name = invoice.buyer.get("name") if isinstance(invoice.buyer, dict) else None
    return str(name or invoice.customer.legal_name)


def invoice_bookings(invoice: Invoice) -> list[Booking]:
    """An invoice as one booking per VAT rate: its gross amount of that rate on the debtor ("S"
    for an invoice, "H" for a credit note) against the rate's revenue account.

    The per-rate amounts are computed from the stored lines the way the invoice computed them
    (``vat_totals``) and must add up to its stored gross total; a rate whose amount is zero
    (lines priced at nothing) is left out, since DATEV refuses 0,00."""
    totals = vat_totals(
        TaxableLine(net=line.net, vat_percent=line.vat_percent) for line in invoice.lines.all()
    )
    if totals.gross != invoice.gross_total:
        raise DatevError(
            f"{invoice.number}: its lines add up to {totals.gross}, not {invoice.gross_total}"
        )
    indicator: Literal["S", "H"] = "H" if invoice.is_credit_note else "S"
    debtor = debtor_account(invoice.customer)
    text = f"{invoice.number} {_buyer_name(invoice)}"
    return [
        Booking(
            amount=rate.net + rate.vat,
            debit_credit=indicator,
            account=debtor,
            contra_account=revenue_account(rate.vat_percent),
            document_date=invoice.issue_date,
            document_number=invoice.number,
            text=text,
        )
        for rate in totals.rates
        if rate.net + rate.vat > 0
    ]


def payment_booking(allocation: PaymentAllocation) -> Booking:
    """A payment allocated to an invoice: bank ("S") against the customer's debtor account,
    on the day the bank booked it."""
    invoice = allocation.invoice
    return Booking(
        amount=allocation.amount,
        debit_credit="S",
        account=bank_account(),
        contra_account=debtor_account(invoice.customer),
        document_date=allocation.entry.booking_date,
        document_number=invoice.number,
        text=f"Zahlung {invoice.number} {_buyer_name(invoice)}",
    )


def export_bookings(*, date_from: date, date_to: date) -> list[Booking]:
    """Every invoice and credit note issued, and every payment allocation booked by the bank,
    from ``date_from`` to ``date_to`` (both included), by date; on one day the invoices first,
    then the credit notes (each by number), then the payments."""
    today = clock.operator_today()
    invoices = (
        Invoice.objects.in_everyday_use()
        .filter(issue_date__gte=date_from, issue_date__lte=date_to)
        .select_related("customer")
        .prefetch_related("lines")
        .order_by("issue_date", "kind", "number")
    )
    allocations = (
        PaymentAllocation.objects.filter(
            entry__booking_date__gte=max(date_from, retention.first_day_in_use(today)),
            entry__booking_date__lte=date_to,
        )
        .select_related("entry", "invoice", "invoice__customer")
        .order_by("entry__booking_date", "pk")
    )
    found: list[Booking] = [b for invoice in invoices for b in invoice_bookings(invoice)]
    found.extend(payment_booking(allocation) for allocation in allocations)
    # A stable sort: within a day, the invoices (in number order) stay before the payments.
    return sorted(found, key=lambda booking: booking.document_date)


def header_from_settings(*, date_from: date, date_to: date, description: str = "") -> Header:
    """The header for a batch of ``date_from`` … ``date_to`` from the ``DATEV_*`` settings,
    created now (operator's time zone)."""
    consultant = _setting("DATEV_CONSULTANT_NUMBER", None)
    client = _setting("DATEV_CLIENT_NUMBER", None)
    if consultant is None or client is None:
        raise DatevError("set DATEV_CONSULTANT_NUMBER and DATEV_CLIENT_NUMBER (the tax adviser's)")
    month = int(_setting("DATEV_FISCAL_YEAR_START_MONTH", 1))
    year = date_from.year if date_from.month >= month else date_from.year - 1
    return Header(
        consultant_number=int(consultant),
        client_number=int(client),
        fiscal_year_start=date(year, month, 1),
        account_length=int(_setting("DATEV_ACCOUNT_LENGTH", 4)),
        date_from=date_from,
        date_to=date_to,
        description=description,
        created=clock.now().astimezone(ZoneInfo(settings.TIME_ZONE)),
    )


def export_file(*, date_from: date, date_to: date, description: str = "") -> bytes:
    """The Buchungsstapel of everything booked from ``date_from`` to ``date_to``."""
    header = header_from_settings(date_from=date_from, date_to=date_to, description=description)
    return buchungsstapel(
        bookings=export_bookings(date_from=date_from, date_to=date_to), header=header
    )


def file_name(header: Header) -> str:
    """DATEV's import lists only files named ``EXTF_*.csv``."""
    return f"EXTF_Buchungsstapel_{header.date_from:%Y%m%d}_{header.date_to:%Y%m%d}.csv"
