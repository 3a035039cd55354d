"""The DATEV Buchungsstapel (EXTF) for the tax adviser: the writer byte for byte, and the
bookings the invoices, credit notes and payments make."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.backoffice.conftest import operator_with
from tests.contracts.factories import customer_with_contact, freeze
from tests.customers.conftest import make_customer
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import datev, services
from treffpunkt.billing.datev import Booking, DatevError, Header, buchungsstapel
from treffpunkt.billing.models import BankEntry, BankStatement, EntryState, PaymentAllocation
from treffpunkt.billing.services import LineDraft
from treffpunkt.core.money import VatKind
from treffpunkt.customers.models import Customer

BERLIN = ZoneInfo("Europe/Berlin")


def header(**overrides) -> Header:
    fields = {
        "consultant_number": 29098,
        "client_number": 55003,
        "fiscal_year_start": date(2027, 1, 1),
        "date_from": date(2027, 3, 1),
        "date_to": date(2027, 3, 31),
        "created": datetime(2027, 4, 2, 14, 4, 40, 439_000, tzinfo=BERLIN),
        "description": "Rechnungsausgang 03/2027",
    }
    fields.update(overrides)
    return Header(**fields)


def booking(**overrides) -> Booking:
    fields = {
        "amount": Decimal("296.31"),
        "debit_credit": "S",
        "account": 10001,
        "contra_account": 8400,
        "document_date": date(2027, 3, 5),
        "document_number": "RE-2027-00001",
        "text": "RE-2027-00001 Beispiel Beratung GmbH",
    }
    fields.update(overrides)
    return Booking(**fields)


def lines_of(data: bytes) -> list[str]:
    text = data.decode("cp1252")
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all("\n" not in line and "\r" not in line for line in lines)
    return lines


def fields_of(line: str) -> list[str]:
    """The fields of a line (no test text contains a ";" inside quotes)."""
    return line.split(";")


# --- the writer --------------------------------------------------------------------------------


def test_the_header_record_has_the_31_fields_in_datev_order():
    first = lines_of(buchungsstapel(bookings=[], header=header()))[0]
    assert first == (
        '"EXTF";700;21;"Buchungsstapel";13;20270402140440439;;"";"";"";29098;55003;20270101;4;'
        '20270301;20270331;"Rechnungsausgang 03/2027";"";1;0;0;"EUR";;"";;;"03";;;"";""'
    )
    assert len(fields_of(first)) == 31


def test_the_heading_line_has_the_125_columns_of_format_version_13():
    second = lines_of(buchungsstapel(bookings=[], header=header()))[1]
    headings = second.split(";")
    assert len(headings) == 125
    assert headings[:14] == [
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
    ]
    assert headings[113] == "Festschreibung"  # field 114
    assert headings[-1] == "Abw. Skontokonto"  # field 125, new in version 13


def test_a_booking_line_is_exact_with_all_125_fields():
    line = lines_of(buchungsstapel(bookings=[booking()], header=header()))[2]
    fields = fields_of(line)
    assert len(fields) == 125
    assert line.startswith(
        '296,31;"S";"";;;"";10001;8400;"";0503;"RE-2027-00001";"";;'
        '"RE-2027-00001 Beispiel Beratung GmbH";;"";;;;"";""'
    )
    # Text fields stay quoted when empty, numbers and dates stay bare.
    assert fields[113] == ""  # Festschreibung (a number)
    assert fields[119] == '""'  # Land (a text)
    assert fields[124] == ""  # Abw. Skontokonto (an account)


def test_a_credit_is_h_and_a_tax_key_is_a_quoted_text():
    line = lines_of(
        buchungsstapel(bookings=[booking(debit_credit="H", tax_key="3")], header=header())
    )[2]
    assert fields_of(line)[:9] == ["296,31", '"H"', '""', "", "", '""', "10001", "8400", '"3"']


def test_file_is_cp1252_with_crlf_and_no_bom():
    data = buchungsstapel(bookings=[booking(text="Grüße aus Köln, Straße")], header=header())
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 3 and data.count(b"\n") == 3
    assert b"Gr\xfc\xdfe aus K\xf6ln, Stra\xdfe" in data  # ü ß ö in Windows-1252
    assert "Gegenkonto (ohne BU-Schlüssel)".encode("cp1252") in data
    assert "Grüße aus Köln, Straße" in data.decode("cp1252")


def test_amounts_have_a_decimal_comma_and_no_thousands_separator():
    bookings = [
        booking(amount=Decimal("1234567.89")),
        booking(amount=Decimal("0.5")),
        booking(amount=Decimal("7")),
        booking(amount=Decimal("0.1") + Decimal("0.2")),
    ]
    amounts = [
        fields_of(line)[0]
        for line in lines_of(buchungsstapel(bookings=bookings, header=header()))[2:]
    ]
    assert amounts == ["1234567,89", "0,50", "7,00", "0,30"]


def test_amounts_are_never_floats_rounded_zero_or_negative():
    with pytest.raises(TypeError):
        booking(amount=0.3)  # type: ignore[arg-type]
    for wrong in ("0.00", "-1.00", "1.005", "12345678901.00"):
        with pytest.raises(DatevError):
            booking(amount=Decimal(wrong))


def test_texts_are_quoted_with_inner_quotes_doubled_and_cut_to_60_characters():
    sixty_one = "A" * 59 + "BC"
    assert len(sixty_one) == 61
    data = buchungsstapel(
        bookings=[booking(text='Praxis "Lächeln"'), booking(text=sixty_one)], header=header()
    )
    quoted_line, long_line = lines_of(data)[2:]
    assert fields_of(quoted_line)[13] == '"Praxis ""Lächeln"""'
    assert fields_of(long_line)[13] == '"' + "A" * 59 + 'B"'


def test_characters_outside_cp1252_are_replaced_and_control_characters_become_spaces():
    data = buchungsstapel(
        bookings=[booking(text="Gdańsk Łódź\tZeile\r\nzwei 😀 € „gut“")], header=header()
    )
    assert fields_of(lines_of(data)[2])[13] == '"Gdansk Lódz Zeile zwei ? € „gut“"'


def test_document_dates_are_ddmm_and_must_lie_in_the_period():
    data = buchungsstapel(
        bookings=[
            booking(document_date=date(2027, 3, 1)),
            booking(document_date=date(2027, 3, 31)),
        ],
        header=header(),
    )
    assert [fields_of(line)[9] for line in lines_of(data)[2:]] == ["0103", "3103"]
    with pytest.raises(DatevError):
        buchungsstapel(bookings=[booking(document_date=date(2027, 4, 1))], header=header())


def test_header_and_booking_refuse_what_datev_would_misread():
    with pytest.raises(DatevError):  # DDMM would be read in the wrong year
        header(date_from=date(2026, 12, 1), date_to=date(2027, 1, 31))
    with pytest.raises(DatevError):
        header(consultant_number=999)
    with pytest.raises(DatevError):
        booking(document_number="RE 2027 00001")  # no spaces in Belegfeld 1
    with pytest.raises(DatevError):
        booking(debit_credit="X")
    with pytest.raises(DatevError):  # six digits with four-digit accounts
        buchungsstapel(bookings=[booking(account=100001)], header=header())


# --- from the models ---------------------------------------------------------------------------


def accountant():
    return operator_with(Capability.BILLING)


def line(
    amount: str, kind: str = VatKind.STANDARD, description: str = "Videoberatung"
) -> LineDraft:
    return LineDraft(
        description=description,
        quantity=Decimal("1"),
        unit="MON",
        unit_price=Decimal(amount),
        supply_start=date(2027, 3, 1),
        supply_end=date(2027, 3, 31),
        vat_kind=kind,
    )


def debtor_of(customer: Customer) -> int:
    assert customer.customer_number is not None
    return 10000 + int(customer.customer_number.removeprefix("K-"))


@pytest.mark.django_db
def test_an_invoice_books_one_line_per_vat_rate_and_a_credit_note_with_h(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 5))
    customer, _contact = customer_with_contact()
    invoice = services.issue_invoice(
        actor=accountant(),
        customer=customer,
        lines=[line("249.00"), line("100.00", VatKind.REDUCED, "Schulung")],
    )
    note = services.issue_credit_note(
        actor=accountant(), original=invoice, lines=[line("100.00")], reason="Ausfall"
    )
    debtor = debtor_of(customer)

    bookings = datev.export_bookings(date_from=date(2027, 3, 1), date_to=date(2027, 3, 31))

    text = "RE-2027-00001 Beispiel Beratung GmbH"
    assert bookings == [
        Booking(Decimal("296.31"), "S", debtor, 8400, date(2027, 3, 5), "RE-2027-00001", text),
        Booking(Decimal("107.00"), "S", debtor, 8300, date(2027, 3, 5), "RE-2027-00001", text),
        Booking(
            Decimal("119.00"),
            "H",
            debtor,
            8400,
            date(2027, 3, 5),
            "GS-2027-00001",
            "GS-2027-00001 Beispiel Beratung GmbH",
        ),
    ]
    assert invoice.gross_total == Decimal("403.31") and note.is_credit_note
    lines = lines_of(buchungsstapel(bookings=bookings, header=header()))
    assert lines[2].startswith(
        f'296,31;"S";"";;;"";{debtor};8400;"";0503;"RE-2027-00001";"";;"{text}";'
    )
    assert lines[4].startswith(
        f'119,00;"H";"";;;"";{debtor};8400;"";0503;"GS-2027-00001";"";;'
        '"GS-2027-00001 Beispiel Beratung GmbH";'
    )
    # Outside the period: nothing.
    assert datev.export_bookings(date_from=date(2027, 4, 1), date_to=date(2027, 4, 30)) == []


@pytest.mark.django_db
def test_cents_add_up_exactly_and_umlauts_round_trip(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 8))
    customer = make_customer(legal_name='Zahnarztpraxis "Lächeln" Weiß & Söhne GmbH')
    invoice = services.issue_invoice(
        actor=accountant(), customer=customer, lines=[line("0.10"), line("0.20")]
    )
    (only,) = datev.export_bookings(date_from=date(2027, 3, 1), date_to=date(2027, 3, 31))
    # 0.10 + 0.20 net, 0.057 VAT rounded half up: 0.36, exactly, as a Decimal.
    assert only.amount == invoice.gross_total == Decimal("0.36")
    data = buchungsstapel(bookings=[only], header=header())
    fields = fields_of(lines_of(data)[2])
    assert fields[0] == "0,36" and fields[9] == "0803"
    assert fields[13] == '"RE-2027-00001 Zahnarztpraxis ""Lächeln"" Weiß & Söhne GmbH"'
    assert 'Lächeln"" Weiß & Söhne' in data.decode("cp1252")


@pytest.mark.django_db
def test_a_payment_allocation_books_bank_against_the_debtor(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 5))
    customer, _contact = customer_with_contact()
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[line("100.00")])
    statement = BankStatement.objects.create(
        sha256="0" * 64, camt_version="08", imported_at=timezone.now()
    )
    entry = BankEntry.objects.create(
        statement=statement,
        reference="DATEV-1",
        booking_date=date(2027, 3, 12),
        amount=Decimal("50.00"),
        credit=True,
        state=EntryState.MATCHED,
        customer=customer,
    )
    PaymentAllocation.objects.create(
        entry=entry, invoice=invoice, amount=Decimal("50.00"), created_at=timezone.now()
    )

    bookings = datev.export_bookings(date_from=date(2027, 3, 1), date_to=date(2027, 3, 31))

    assert [(b.amount, b.debit_credit, b.account, b.contra_account) for b in bookings] == [
        (Decimal("119.00"), "S", debtor_of(customer), 8400),
        (Decimal("50.00"), "S", 1200, debtor_of(customer)),
    ]
    payment = bookings[1]
    assert payment.document_date == date(2027, 3, 12)
    assert payment.document_number == "RE-2027-00001"
    assert payment.text == "Zahlung RE-2027-00001 Beispiel Beratung GmbH"
    line_text = lines_of(buchungsstapel(bookings=bookings, header=header()))[3]
    assert line_text.startswith(
        f'50,00;"S";"";;;"";1200;{debtor_of(customer)};"";1203;"RE-2027-00001";"";;'
    )


@pytest.mark.django_db
def test_accounts_are_settings(monkeypatch: pytest.MonkeyPatch, settings):
    settings.DATEV_REVENUE_ACCOUNT_19 = 8401
    settings.DATEV_DEBTOR_ACCOUNT_BASE = 20000
    freeze(monkeypatch, date(2027, 3, 5))
    customer, _contact = customer_with_contact()
    services.issue_invoice(actor=accountant(), customer=customer, lines=[line("100.00")])
    (only,) = datev.export_bookings(date_from=date(2027, 3, 1), date_to=date(2027, 3, 31))
    assert (only.account, only.contra_account) == (debtor_of(customer) + 10000, 8401)
    # A rate with no account (16 % of 2020) is refused, not booked on the 19 % account.
    with pytest.raises(DatevError, match="DATEV_REVENUE_ACCOUNT_16"):
        datev.revenue_account(Decimal("16.00"))
