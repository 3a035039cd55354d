"""The payment pages of the back office: bank statements (upload, unmatched entries, allocating
by hand), the folder the bank's files are dropped into, the open items per customer and the
DATEV export (page and management command). The operators read English (the source strings)."""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.backoffice.conftest import operator_with, people
from tests.backoffice.pages import table_rows
from tests.conftest import client_for
from tests.contracts.factories import BERLIN, Clock, customer_with_contact, freeze
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services
from treffpunkt.billing.models import (
    BankEntry,
    BankStatement,
    EntryState,
    Invoice,
    PaymentAllocation,
)
from treffpunkt.billing.selectors import open_amount
from treffpunkt.billing.services import LineDraft
from treffpunkt.billing.tasks import import_statement_folder
from treffpunkt.billing.views_backoffice import money_text
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import registry

pytestmark = pytest.mark.django_db

__all__ = ["people"]

FILES = Path(__file__).parent / "camt"
STATEMENTS = reverse("backoffice:billing:statements")
IMPORT = reverse("backoffice:billing:import_statement")
OPEN_ITEMS = reverse("backoffice:billing:open_items")
DATEV = reverse("backoffice:billing:datev")

# The payment pages (joined into BILLING_BACKOFFICE_URL_NAMES in tests/billing/test_pages.py).
PAYMENT_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:billing:statements",
        "backoffice:billing:import_statement",
        "backoffice:billing:allocate",
        "backoffice:billing:open_items",
        "backoffice:billing:open_items_customer",
        "backoffice:billing:datev",
    }
)
PAYMENT_READ_ONLY = frozenset({"statements", "open_items", "open_items_customer", "datev"})

BILLION_LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><x>&c;</x></Document>"""


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def accountant() -> User:
    return operator_with(Capability.BILLING, preferred_language="en")


def body(response: Any) -> str:
    return str(response.content.decode())


def money(amount: str) -> str:
    with translation.override("en"):
        return money_text(Decimal(amount))


def line(amount: str) -> LineDraft:
    return LineDraft(
        description="Videoberatung, Monatsentgelt",
        quantity=Decimal("1"),
        unit="MON",
        unit_price=Decimal(amount),
        supply_start=date(2027, 3, 1),
        supply_end=date(2027, 3, 31),
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze(monkeypatch, date(2027, 3, 1))


@pytest.fixture
def invoices(world: Any, clock: Clock) -> list[Invoice]:
    """RE-2027-00001 … 00003 of one customer, 119.00 € each, due on the 31st, 20th and 25th
    (as in tests/billing/test_payments.py, which the statement files fit)."""
    customer, _contact = customer_with_contact()
    actor = accountant()
    made = [
        services.issue_invoice(actor=actor, customer=customer, lines=[line("100.00")])
        for _ in range(3)
    ]
    for invoice, due in zip(made, (31, 20, 25), strict=True):
        Invoice.objects.filter(pk=invoice.pk).update(due_on=date(2027, 3, due))
        invoice.refresh_from_db()
    assert [i.number for i in made] == ["RE-2027-00001", "RE-2027-00002", "RE-2027-00003"]
    return made


@pytest.fixture
def office(invoices: list[Invoice]) -> Client:
    return client_for(accountant())


def upload(client: Client, data: bytes, name: str = "auszug.xml") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(IMPORT, {"statement-file": SimpleUploadedFile(name, data, "text/xml")})


def counts() -> dict[str, int]:
    return {
        model.__name__: model._default_manager.count()
        for model in (BankStatement, BankEntry, PaymentAllocation, AuditEntry)
    }


# --- who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("anonymous", "login", "login"),
        ("op_billing", 200, 200),
        ("superuser", 200, 200),
        ("op_auditor", 200, 403),
        ("op_customers", 403, 403),
        ("op_support", 403, 403),
        ("op_none", 403, 403),
        ("member", 403, 403),
        ("staff", 403, 403),
        ("org_admin", 403, 403),
        ("other_staff", 403, 403),
        ("customer_contact", 403, 403),
    ],
)
def test_every_payment_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], invoices: list[Invoice], who: str, reads: Any, writes: Any
):
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    entry = BankEntry.objects.get(reference="2027031000004")
    args = {"allocate": [entry.pk], "open_items_customer": [invoices[0].customer_id]}
    before = counts()
    client = Client() if who == "anonymous" else client_for(people[who])
    for name in PAYMENT_BACKOFFICE_URL_NAMES:
        short = name.rsplit(":", 1)[1]
        url = reverse(name, args=args.get(short, []))
        expected = reads if short in PAYMENT_READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
        if short in PAYMENT_READ_ONLY:
            continue
        response = client.post(url, {})
        if writes == "login":
            assert response.status_code == 302, name
        else:
            assert response.status_code == (400 if writes == 200 else 403), (name, who)
    assert counts() == before


def test_the_auditor_reads_but_gets_no_forms(people: dict[str, User], invoices: list[Invoice]):
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    page = body(client_for(people["op_auditor"]).get(STATEMENTS))
    assert 'id="unmatched"' in page and "Erika Mustermann" in page
    assert reverse("backoffice:billing:import_statement") not in page
    assert "/zuordnen/" not in page
    assert 'name="statement-file"' not in page and "-amount" not in page


def test_unknown_records_are_404(office: Client):
    assert office.get(reverse("backoffice:billing:allocate", args=[999_999])).status_code == 404
    assert (
        office.post(reverse("backoffice:billing:allocate", args=[999_999]), {}).status_code == 404
    )
    url = reverse("backoffice:billing:open_items_customer", args=[999_999])
    assert office.get(url).status_code == 404


def test_the_payment_pages_are_in_the_navigation_and_the_job_is_scheduled():
    names = set(registry.nav)
    assert {"billing.statements", "billing.open_items", "billing.datev"} <= names
    assert "billing.import_statement_folder" in registry.periodic_jobs


# --- bank statements ----------------------------------------------------------------------------


def test_a_good_file_is_imported_and_its_unmatched_entries_listed(office: Client):
    page = body(office.get(STATEMENTS))
    assert 'for="id_statement-file"' in page and 'enctype="multipart/form-data"' in page
    assert "No payment waits to be allocated." in page

    response = upload(office, read("statement_v02.xml"), "auszug-42.xml")

    assert response.status_code == 302 and response["Location"] == STATEMENTS
    statement = BankStatement.objects.get()
    assert statement.filename == "auszug-42.xml"
    page = body(office.get(STATEMENTS))
    assert "The statement was imported: 6 new entries (3 matched" in page
    rows = table_rows(office.get(STATEMENTS))
    assert len(rows) == 3  # the two unmatched entries, then the statement
    imported = ["auszug-42.xml", "DE02120300000000202051", "0352027000042", "6", "3", "2", "1"]
    assert rows[2][1:] == imported
    assert any("no invoice number in the text" in cell for cell in rows[0] + rows[1])
    # Each unmatched entry has its own labelled form, prefixed by the entry.
    for reference in ("2027031000004", "2027031000005-2"):
        entry = BankEntry.objects.get(reference=reference)
        assert f'for="id_entry-{entry.pk}-invoice"' in page
        assert f'for="id_entry-{entry.pk}-amount"' in page
    donation = BankEntry.objects.get(reference="2027031000004")
    assert f'name="entry-{donation.pk}-amount" value="30.00"' in page
    assert "auszug-42.xml" in page and "0352027000042" in page


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, read("statement_v02.xml")[:-200], b""],
    ids=["billion_laughs", "malformed", "empty"],
)
def test_a_hostile_or_broken_file_is_refused_at_the_field(office: Client, data: bytes):
    before = counts()
    response = upload(office, data)

    assert response.status_code == 400
    page = body(response)
    assert 'id="id_statement-file_error"' in page or "This field is required" in page
    assert counts() == before


def test_the_doctype_message_of_the_service_is_shown(office: Client):
    response = upload(office, BILLION_LAUGHS)
    assert "DOCTYPE" in body(response)
    assert not BankStatement.objects.exists()


def test_an_oversized_file_is_refused_with_the_services_limit(
    office: Client, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("treffpunkt.billing.camt.MAX_BYTES", 1000)
    response = upload(office, read("statement_v02.xml"))
    assert response.status_code == 400
    assert "larger than" in body(response)
    assert not BankStatement.objects.exists()


def test_the_same_file_twice_is_refused_on_the_page(office: Client):
    assert upload(office, read("statement_v02.xml")).status_code == 302
    before = counts()
    response = upload(office, read("statement_v02.xml"), "again.xml")
    assert response.status_code == 400
    assert "already imported" in body(response)
    assert counts() == before


def test_the_accountant_allocates_an_entry_by_hand_through_the_page(
    office: Client, invoices: list[Invoice]
):
    upload(office, read("statement_v02.xml"))
    donation = BankEntry.objects.get(reference="2027031000004")  # 30.00, no number
    url = reverse("backoffice:billing:allocate", args=[donation.pk])
    prefix = f"entry-{donation.pk}"

    # More than the entry has: the service's message at the amount, nothing written.
    before = counts()
    response = office.post(url, {f"{prefix}-invoice": "RE-2027-00002", f"{prefix}-amount": "31"})
    assert response.status_code == 400
    assert f'id="id_{prefix}-amount_error"' in body(response)
    assert "only" in body(response) and counts() == before
    # An unknown number: at the invoice field.
    response = office.post(url, {f"{prefix}-invoice": "RE-2027-00099", f"{prefix}-amount": "5"})
    assert response.status_code == 400
    assert "There is no invoice with this number." in body(response)

    response = office.post(
        url, {f"{prefix}-invoice": "re 2027 2", f"{prefix}-amount": "20,00"}, follow=True
    )

    assert response.redirect_chain == [(STATEMENTS, 302)]
    assert "were allocated to RE-2027-00002" in body(response)
    allocation = PaymentAllocation.objects.get(entry=donation)
    assert (allocation.invoice, allocation.amount, allocation.by_hand) == (
        invoices[1],
        Decimal("20.00"),
        True,
    )
    donation.refresh_from_db()
    assert donation.state == EntryState.PARTLY
    assert open_amount(invoices[1]) == Decimal("49.00")  # 119 − 50 (statement) − 20
    # No longer unmatched: gone from the list.
    assert f"id_{prefix}-amount" not in body(office.get(STATEMENTS))


# --- the folder ---------------------------------------------------------------------------------


def settled(path: Path) -> Path:
    """As if the bank had finished writing the file a while ago."""
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


def test_the_folder_job_imports_moves_and_refuses(
    invoices: list[Invoice], settings: SettingsWrapper, tmp_path: Path
):
    settings.BANK_STATEMENT_DIR = str(tmp_path)
    (tmp_path / "a-good.xml").write_bytes(read("statement_v02.xml"))
    settled(tmp_path / "a-good.xml")
    (tmp_path / "b-same.xml").write_bytes(read("statement_v02.xml"))
    settled(tmp_path / "b-same.xml")
    (tmp_path / "c-broken.xml").write_bytes(b"<Document><unclosed>")
    settled(tmp_path / "c-broken.xml")
    (tmp_path / "d-fresh.xml").write_bytes(read("statement_v08.xml"))  # still being written
    (tmp_path / "notes.txt").write_text("not a statement")

    result = import_statement_folder()

    assert result == {"imported": 1, "duplicates": 1, "refused": 1, "left": 1}
    statement = BankStatement.objects.get()
    assert (statement.filename, statement.imported_by) == ("a-good.xml", None)
    assert BankEntry.objects.count() == 6
    assert open_amount(invoices[0]) == Decimal("0.00")
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [
        "a-good.xml",
        "b-same.xml",
        "b-same.xml.txt",
    ]
    # The note is for the accountant, in the operator's language (German by default).
    with translation.override("de"):
        already = gettext("This file was already imported on %(day)s; nothing was booked again.")
    assert already.split("%(day)s")[0] in (tmp_path / "done" / "b-same.xml.txt").read_text()
    assert sorted(p.name for p in (tmp_path / "refused").iterdir()) == [
        "c-broken.xml",
        "c-broken.xml.txt",
    ]
    assert (tmp_path / "refused" / "c-broken.xml.txt").read_text().strip()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "d-fresh.xml",
        "notes.txt",
    ]
    audit = AuditEntry.objects.get(code="billing.statement.imported")
    assert audit.actor is None

    # Idempotent: the next run takes only the file that has settled; the same name again later
    # does not overwrite what was filed.
    settled(tmp_path / "d-fresh.xml")
    (tmp_path / "a-good.xml").write_bytes(read("statement_v02.xml"))
    settled(tmp_path / "a-good.xml")
    assert import_statement_folder() == {"imported": 1, "duplicates": 1, "refused": 0, "left": 0}
    assert BankStatement.objects.count() == 2
    assert (tmp_path / "done" / "a-good.1.xml").exists()
    assert import_statement_folder() == {"imported": 0, "duplicates": 0, "refused": 0, "left": 0}


def test_the_folder_job_does_nothing_without_the_setting(
    invoices: list[Invoice], settings: SettingsWrapper, tmp_path: Path
):
    settings.BANK_STATEMENT_DIR = None
    settled_file = tmp_path / "a.xml"
    settled_file.write_bytes(read("statement_v02.xml"))
    settled(settled_file)
    assert import_statement_folder() == {"imported": 0, "duplicates": 0, "refused": 0, "left": 0}
    assert settled_file.exists() and not BankStatement.objects.exists()


# --- open items ---------------------------------------------------------------------------------


def test_the_open_items_on_a_concrete_case(office: Client, invoices: list[Invoice], clock: Clock):
    first, second, _third = invoices
    customer = first.customer
    other, _contact = customer_with_contact()
    theirs = services.issue_invoice(actor=accountant(), customer=other, lines=[line("50.00")])
    Invoice.objects.filter(pk=theirs.pk).update(due_on=date(2027, 4, 30))
    # Invoices 1 and 3 paid, 50.00 of invoice 2 (69.00 open); 30.00 without a number.
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    # A credit note of 11.90 on invoice 2 (57.10 open), 20.00 of the 30.00 by hand (37.10 open,
    # 10.00 left: the customer's credit on account).
    note = services.issue_credit_note(
        actor=accountant(), original=second, lines=[line("10.00")], reason="Ausfall"
    )
    donation = BankEntry.objects.get(reference="2027031000004")
    services.allocate_by_hand(
        actor=accountant(), entry=donation, invoice=second, amount=Decimal("20.00")
    )
    clock.now = datetime(2027, 3, 22, 9, tzinfo=BERLIN)

    rows = table_rows(office.get(OPEN_ITEMS))

    by_customer = {row[0]: row for row in rows}
    assert by_customer[f"{customer.customer_number} {customer.legal_name}"][1:] == [
        "1",
        money("37.10"),
        "03/20/2027",
        "yes",
        money("10.00"),
    ]
    assert by_customer[f"{other.customer_number} {other.legal_name}"][1:] == [
        "1",
        money("59.50"),
        "04/30/2027",
        "no",
        money("0.00"),
    ]

    response = office.get(reverse("backoffice:billing:open_items_customer", args=[customer.pk]))
    assert response.status_code == 200
    page = body(response)
    invoice_rows = table_rows(response)
    assert invoice_rows[1] == [
        "RE-2027-00002",
        "03/01/2027",
        "03/20/2027",
        money("119.00"),
        money("11.90"),
        money("70.00"),
        money("37.10"),
        "yes",
    ]
    assert invoice_rows[0][0] == "RE-2027-00001" and invoice_rows[0][6] == money("0.00")
    assert note.number in page and "by hand" in page and "by the import" in page
    assert money("37.10") in page and money("10.00") in page


# --- DATEV ----------------------------------------------------------------------------------------


def test_the_datev_page_says_plainly_when_it_is_not_set_up(
    office: Client, settings: SettingsWrapper
):
    for name in ("DATEV_CONSULTANT_NUMBER", "DATEV_CLIENT_NUMBER"):
        if hasattr(settings, name):
            delattr(settings, name)
    response = office.get(DATEV, {"datev-date_from": "2027-01-01", "datev-date_to": "2027-12-31"})
    assert response.status_code == 200
    assert "The DATEV export is not set up" in body(response)


@pytest.fixture
def datev_numbers(settings: SettingsWrapper) -> SettingsWrapper:
    settings.DATEV_CONSULTANT_NUMBER = 29098
    settings.DATEV_CLIENT_NUMBER = 55003
    return settings


def test_the_datev_download(office: Client, datev_numbers: SettingsWrapper):
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    page = body(office.get(DATEV))
    assert 'for="id_datev-date_from"' in page and 'for="id_datev-date_to"' in page

    response = office.get(DATEV, {"datev-date_from": "2027-01-01", "datev-date_to": "2027-12-31"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=windows-1252"
    assert "EXTF_Buchungsstapel_20270101_20271231.csv" in response["Content-Disposition"]
    first = response.content.split(b"\r\n", 1)[0].decode("cp1252")
    assert first.startswith('"EXTF";700;21;"Buchungsstapel"')
    assert b"RE-2027-00001" in response.content


def test_the_datev_export_refuses_two_fiscal_years_with_the_services_message(
    office: Client, datev_numbers: SettingsWrapper
):
    response = office.get(DATEV, {"datev-date_from": "2026-12-01", "datev-date_to": "2027-01-31"})
    assert response.status_code == 400
    assert "one fiscal year" in body(response)
    response = office.get(DATEV, {"datev-date_from": "2027-01-01", "datev-date_to": ""})
    assert response.status_code == 400


def test_the_export_datev_command(
    invoices: list[Invoice], datev_numbers: SettingsWrapper, tmp_path: Path
):
    out = tmp_path / "export.csv"
    call_command("export_datev", "--from", "2027-03-01", "--to", "2027-03-31", "--out", str(out))
    assert out.read_bytes().startswith(b'"EXTF";700;21;"Buchungsstapel"')
    call_command("export_datev", "--from", "2027-03-01", "--to", "2027-03-31", "--out", tmp_path)
    assert (tmp_path / "EXTF_Buchungsstapel_20270301_20270331.csv").exists()
    with pytest.raises(CommandError, match="fiscal year"):
        call_command("export_datev", "--from", "2026-12-01", "--to", "2027-01-31", "--out", out)
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_datev", "--from", "März", "--to", "2027-01-31", "--out", out)
