"""Importing camt.053 statements and matching their credits to invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.backoffice.conftest import operator_with
from tests.contracts.factories import customer_with_contact, freeze
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services
from treffpunkt.billing.camt import CamtError
from treffpunkt.billing.models import (
    BankEntry,
    BankStatement,
    EntryNote,
    EntryState,
    Invoice,
    PaymentAllocation,
)
from treffpunkt.billing.selectors import customer_credit, open_amount, unmatched_entries
from treffpunkt.billing.services import LineDraft
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "camt"


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def accountant():
    return operator_with(Capability.BILLING)


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
def invoices(monkeypatch: pytest.MonkeyPatch) -> list[Invoice]:
    """RE-2027-00001 … 00003, 119.00 € each (100.00 net), due on the 31st, 20th and 25th."""
    freeze(monkeypatch, date(2027, 3, 1))
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
    assert all(i.gross_total == Decimal("119.00") for i in made)
    return made


def entry(reference: str) -> BankEntry:
    return BankEntry.objects.get(reference=reference)


def allocations(reference: str) -> list[tuple[str, Decimal]]:
    return [
        (a.invoice.number, a.amount)
        for a in PaymentAllocation.objects.filter(entry__reference=reference).order_by("pk")
    ]


def test_version_02_exact_partial_debit_no_number_unknown_number_and_batch(invoices):
    first, second, third = invoices
    result = services.import_statement(
        actor=accountant(), data=read("statement_v02.xml"), filename="auszug-42.xml"
    )

    assert (result.new_entries, result.duplicates) == (6, 0)
    assert (result.matched, result.partly, result.ignored) == (3, 0, 1)
    assert result.allocated == Decimal("288.00")
    # Exact open amount: matched, the invoice is paid.
    assert entry("2027031000001").state == EntryState.MATCHED
    assert allocations("2027031000001") == [("RE-2027-00001", Decimal("119.00"))]
    assert open_amount(first) == Decimal("0.00")
    # Less than open ("re 2027 2"): kept as an allocation, the invoice stays partly open.
    partial = entry("2027031000002")
    assert (partial.state, partial.note) == (EntryState.MATCHED, EntryNote.PARTIAL)
    assert open_amount(second) == Decimal("69.00")
    # A debit: recorded, ignored.
    debit = entry("2027031000003")
    assert (debit.state, debit.note, debit.credit) == (EntryState.IGNORED, EntryNote.DEBIT, False)
    assert not debit.allocations.exists()
    # The batch is split: "RE202700003" pays invoice 3, RE-2027-00099 is no invoice.
    assert allocations("2027031000005-1") == [("RE-2027-00003", Decimal("119.00"))]
    assert open_amount(third) == Decimal("0.00")
    # For the accountant: no number, and a number of no invoice.
    assert {(e.reference, e.note) for e in result.unmatched} == {
        ("2027031000004", EntryNote.NO_NUMBER),
        ("2027031000005-2", EntryNote.UNKNOWN_NUMBER),
    }
    assert {e.reference for e in unmatched_entries()} == {"2027031000004", "2027031000005-2"}
    statement = BankStatement.objects.get()
    assert (statement.account_iban, statement.statement_id, statement.camt_version) == (
        "DE02120300000000202051",
        "0352027000042",
        "02",
    )
    assert statement.imported_by is not None and statement.filename == "auszug-42.xml"
    assert entry("2027031000001").debtor_name == "Muster Beratung GmbH"
    audit = AuditEntry.objects.get(code="billing.statement.imported")
    assert audit.target_id == str(statement.pk)
    assert audit.data["matched"] == 3 and audit.data["unmatched"] == 2


def test_version_08_overpayment_and_several_numbers_in_order_of_due_date(invoices):
    first, second, third = invoices
    customer = first.customer
    result = services.import_statement(
        actor=accountant(), data=read("statement_v08.xml"), filename="stmt.xml"
    )

    assert (result.new_entries, result.not_booked, result.ignored) == (3, 1, 1)
    # 200.00 for "RE 2027 1" (119.00 open): 119.00 allocated, 81.00 stay as the customer's credit.
    over = entry("DEUT20270311A001")
    assert (over.state, over.note) == (EntryState.PARTLY, EntryNote.OVERPAID)
    assert allocations("DEUT20270311A001") == [("RE-2027-00001", Decimal("119.00"))]
    assert over.customer == customer
    assert customer_credit(customer) == Decimal("81.00")
    # 150.00 for "RE-2027-00003 und RE-2027-00002": invoice 2 is due first (20th), then 3 (25th).
    assert allocations("DEUT20270311A002") == [
        ("RE-2027-00002", Decimal("119.00")),
        ("RE-2027-00003", Decimal("31.00")),
    ]
    assert entry("DEUT20270311A002").state == EntryState.MATCHED
    assert (open_amount(second), open_amount(third)) == (Decimal("0.00"), Decimal("88.00"))
    # The pending entry is not imported; the debit without AcctSvcrRef has its hash reference.
    assert not BankEntry.objects.filter(reference="DEUT20270312P001").exists()
    assert BankEntry.objects.get(credit=False).reference.startswith("sha256:")


def test_credit_notes_reduce_what_is_open(invoices):
    first = invoices[0]
    services.issue_credit_note(
        actor=accountant(), original=first, lines=[line("50.00")], reason="Ausfall"
    )
    assert open_amount(first) == Decimal("59.50")  # 119.00 − 59.50

    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a.xml")

    # 119.00 paid on 59.50 open: overpayment, 59.50 stay as credit.
    assert allocations("2027031000001") == [("RE-2027-00001", Decimal("59.50"))]
    assert entry("2027031000001").state == EntryState.PARTLY
    assert open_amount(first) == Decimal("0.00")


def test_a_paid_invoice_paid_again_goes_to_the_accountant(invoices):
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    again = read("statement_v08.xml").replace(b"RE 2027 1", b"RE-2027-00003")

    services.import_statement(actor=accountant(), data=again, filename="b")

    paid_twice = entry("DEUT20270311A001")
    assert (paid_twice.state, paid_twice.note) == (EntryState.UNMATCHED, EntryNote.ALREADY_PAID)
    assert not paid_twice.allocations.exists()


def test_the_same_file_twice_is_refused_and_books_nothing(invoices):
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    counts = (
        BankStatement.objects.count(),
        BankEntry.objects.count(),
        PaymentAllocation.objects.count(),
    )

    with pytest.raises(DomainError) as refused:
        services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")

    assert refused.value.code == "camt_already_imported"
    assert counts == (
        BankStatement.objects.count(),
        BankEntry.objects.count(),
        PaymentAllocation.objects.count(),
    )
    assert open_amount(invoices[1]) == Decimal("69.00")


def test_the_same_entries_in_another_file_are_skipped(invoices):
    services.import_statement(actor=accountant(), data=read("statement_v08.xml"), filename="a")
    other = read("statement_v08.xml").replace(b"STMT-2027-03-11-0001", b"STMT-REEXPORT-7")

    result = services.import_statement(actor=accountant(), data=other, filename="b")

    assert (result.new_entries, result.duplicates, result.allocated) == (0, 3, Decimal("0.00"))
    assert BankEntry.objects.count() == 3
    assert PaymentAllocation.objects.count() == 3
    assert customer_credit(invoices[0].customer) == Decimal("81.00")


HOSTILE = {
    "billion_laughs": b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><x>&c;</x></Document>""",
    "external_entity": b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><x>&e;</x></Document>""",
    "doctype": read("statement_v02.xml").replace(
        b"<Document ", b"<!DOCTYPE Document>\n<Document ", 1
    ),
    "malformed": read("statement_v02.xml")[:-200],
    "camt_054": read("statement_v08.xml").replace(b"camt.053.001.08", b"camt.054.001.08"),
    "balance": read("statement_v02.xml").replace(b"1424.50", b"9999.99"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_refused_file_imports_nothing(invoices, name: str):
    with pytest.raises(CamtError) as refused:
        services.import_statement(actor=accountant(), data=HOSTILE[name], filename=name)

    assert str(refused.value)
    assert not BankStatement.objects.exists()
    assert not BankEntry.objects.exists()
    assert not AuditEntry.objects.filter(code="billing.statement.imported").exists()


def test_an_oversized_file_is_refused(invoices, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("treffpunkt.billing.camt.MAX_BYTES", 1000)
    with pytest.raises(CamtError) as refused:
        services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="x")
    assert refused.value.code == "camt_too_large"
    assert not BankStatement.objects.exists()


def test_a_failure_after_parsing_rolls_the_whole_import_back(
    invoices, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("treffpunkt.billing.services.payments.audit.record", broken)
    with pytest.raises(RuntimeError):
        services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    assert not BankStatement.objects.exists()
    assert not BankEntry.objects.exists()
    assert not PaymentAllocation.objects.exists()


def test_importing_and_allocating_needs_the_billing_capability(invoices):
    # (``actor=None`` is the folder job's unattended import, tested with the job.)
    for actor in (operator_with(None), operator_with(Capability.CUSTOMERS)):
        with pytest.raises(NotAllowed):
            services.import_statement(actor=actor, data=read("statement_v02.xml"), filename="a")
    assert not BankStatement.objects.exists()
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    with pytest.raises(NotAllowed):
        services.allocate_by_hand(
            actor=operator_with(None),
            entry=entry("2027031000004"),
            invoice=invoices[1],
            amount=Decimal("30.00"),
        )


def test_the_accountant_allocates_an_unmatched_entry_by_hand(invoices):
    second = invoices[1]
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    donation = entry("2027031000004")  # 30.00, no number
    person = accountant()

    allocation = services.allocate_by_hand(
        actor=person, entry=donation, invoice=second, amount=Decimal("20.00")
    )

    assert (allocation.amount, allocation.by_hand, allocation.created_by) == (
        Decimal("20.00"),
        True,
        person,
    )
    donation.refresh_from_db()
    assert (donation.state, donation.note) == (EntryState.PARTLY, EntryNote.BY_HAND)
    assert donation.customer == second.customer
    assert open_amount(second) == Decimal("49.00")  # 119 − 50 − 20
    services.allocate_by_hand(actor=person, entry=donation, invoice=second, amount=Decimal("10.00"))
    donation.refresh_from_db()
    assert donation.state == EntryState.MATCHED
    audit = AuditEntry.objects.filter(code="billing.payment.allocated").order_by("pk")
    assert [a.data["amount"] for a in audit] == ["20.00", "10.00"]
    assert audit[0].actor == person and audit[0].target_id == str(second.pk)


@pytest.mark.parametrize(
    ("reference", "invoice_index", "amount", "code"),
    [
        ("2027031000004", 1, Decimal("31.00"), "allocation_entry_exceeded"),  # 30.00 entry
        ("2027031000004", 0, Decimal("1.00"), "allocation_invoice_exceeded"),  # paid
        ("2027031000003", 1, Decimal("1.00"), "allocation_not_credit"),  # a debit
        ("2027031000004", 1, Decimal("0.00"), "allocation_amount"),
        ("2027031000004", 1, Decimal("1.001"), "allocation_amount"),
    ],
)
def test_allocating_by_hand_refuses_too_much_and_debits(
    invoices, reference: str, invoice_index: int, amount: Decimal, code: str
):
    services.import_statement(actor=accountant(), data=read("statement_v02.xml"), filename="a")
    with pytest.raises(DomainError) as refused:
        services.allocate_by_hand(
            actor=accountant(),
            entry=entry(reference),
            invoice=invoices[invoice_index],
            amount=amount,
        )
    assert refused.value.code == code
    assert not PaymentAllocation.objects.filter(by_hand=True).exists()
