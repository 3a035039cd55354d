"""Issuing, numbering, immutability, correction and sending of invoices (P-BILL-1, P-OP-3), and
the monthly billing run that invoices every live contract exactly once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from tests.backoffice.conftest import operator_with
from tests.contracts.factories import (
    contract_from,
    customer_with_contact,
    freeze,
    linked_organization,
)
from tests.customers.conftest import contact_of, make_customer, public_body_fields
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services
from treffpunkt.billing.models import (
    EInvoiceFormat,
    Invoice,
    InvoiceImmutable,
    InvoiceKind,
    InvoiceLine,
)
from treffpunkt.billing.services import LineDraft
from treffpunkt.contracts.models import ContractState, ProductKind
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.customers import services as customer_services
from treffpunkt.documents.selectors import document_bytes
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db


def accountant():
    return operator_with(Capability.BILLING)


def fee_line(amount: str = "249.00", start=date(2027, 3, 1), end=date(2027, 3, 31)) -> LineDraft:
    return LineDraft(
        description="Videoberatung, Monatsentgelt",
        quantity=Decimal("1"),
        unit="MON",
        unit_price=Decimal(amount),
        supply_start=start,
        supply_end=end,
    )


def test_the_first_invoice_of_a_contract_gets_the_first_number_of_the_year_and_switches_it_on(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 3, 1))
    assert contract.state == ContractState.WAITING

    invoice = services.issue_invoice(
        actor=accountant(), customer=customer, lines=[fee_line()], contract=contract
    )

    assert invoice.number == "RE-2027-00001"
    assert invoice.kind == InvoiceKind.INVOICE
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("249.00"),
        Decimal("47.31"),
        Decimal("296.31"),
    )
    assert invoice.document is not None  # the PDF/A-3 with the XML inside
    assert invoice.e_invoice_format == EInvoiceFormat.ZUGFERD
    assert invoice.xml.startswith("<?xml")
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE  # P-OP-3
    assert contract.switched_on_by_invoice == "RE-2027-00001"
    second = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    assert second.number == "RE-2027-00002"


def test_a_failed_issue_gives_its_number_back_so_numbers_stay_gapless(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])

    def broken(data):
        raise RuntimeError("the XML could not be built")

    monkeypatch.setattr("treffpunkt.billing.services.issuing.build_cii", broken)
    with pytest.raises(RuntimeError):
        services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    monkeypatch.undo()
    freeze(monkeypatch, date(2027, 3, 1))
    third = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    assert third.number == "RE-2027-00002"
    assert list(Invoice.objects.values_list("number", flat=True).order_by("number")) == [
        "RE-2027-00001",
        "RE-2027-00002",
    ]


def test_numbers_start_again_in_a_new_year(monkeypatch: pytest.MonkeyPatch):
    clock = freeze(monkeypatch, date(2027, 12, 31))
    customer, _contact = customer_with_contact()
    services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    clock.set_day(date(2028, 1, 1))
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    assert invoice.number == "RE-2028-00001"


def test_an_issued_invoice_never_changes_through_the_orm_or_below_it(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])

    invoice.gross_total = Decimal("0.01")
    with pytest.raises(InvoiceImmutable):
        invoice.save()
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).update(gross_total=Decimal("0.01"))
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).delete()
    with pytest.raises(InvoiceImmutable):
        invoice.delete()
    # Below the ORM: the database's trigger refuses the same (SQLite and PostgreSQL).
    for statement in (
        "UPDATE billing_invoice SET gross_total = 0 WHERE id = %s",
        "DELETE FROM billing_invoice WHERE id = %s",
        "UPDATE billing_invoiceline SET net = 0 WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [invoice.pk])
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.gross_total == Decimal("296.31")
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


def test_the_parties_are_copied_onto_the_invoice_as_they_were(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    customer_services.update_customer(
        actor=operator_with(Capability.CUSTOMERS),
        customer=customer,
        kind=customer.kind,
        legal_name="Neuer Name GmbH",
        legal_form=customer.legal_form,
        street=customer.street,
        postal_code=customer.postal_code,
        city=customer.city,
        vat_id=customer.vat_id,
    )
    invoice.refresh_from_db()
    assert invoice.buyer["name"] == "Beispiel Beratung GmbH"
    assert "Beispiel Beratung GmbH" in invoice.xml


def test_a_public_body_gets_an_xrechnung_with_its_leitweg_id(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 1))
    customer = make_customer(**public_body_fields())
    contact_of(customer, preferred_language="de")
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    assert invoice.e_invoice_format == EInvoiceFormat.XRECHNUNG
    assert customer.leitweg_id in invoice.xml
    assert "xrechnung" in invoice.xml


def test_a_credit_note_names_the_original_and_never_exceeds_it(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 5))
    customer, _contact = customer_with_contact()
    original = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    note = services.issue_credit_note(
        actor=accountant(),
        original=original,
        lines=[fee_line("100.00")],
        reason="Ausfall am 3. März",
    )
    assert note.number == "GS-2027-00001" and note.kind == InvoiceKind.CREDIT_NOTE
    assert note.original == original
    assert original.number in note.xml
    with pytest.raises(DomainError) as refused:
        services.issue_credit_note(
            actor=accountant(), original=original, lines=[fee_line("200.00")], reason="zu viel"
        )
    assert refused.value.code == "credit_too_high"
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_only_the_billing_capability_issues_invoices(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    for who in (operator_with(Capability.CUSTOMERS), operator_with(Capability.AUDITOR)):
        with pytest.raises(NotAllowed):
            services.issue_invoice(actor=who, customer=customer, lines=[fee_line()])
    assert Invoice.objects.count() == 0


def test_bad_lines_are_refused_and_write_nothing(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    bad = [
        [],
        [fee_line("-1.00")],
        [fee_line(start=date(2027, 3, 31), end=date(2027, 3, 1))],
    ]
    for lines in bad:
        with pytest.raises(DomainError):
            services.issue_invoice(actor=accountant(), customer=customer, lines=lines)
    assert Invoice.objects.count() == 0


def test_sending_records_the_receipt_and_the_due_date_and_mails_the_pdf(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    sent = services.send_invoice(actor=accountant(), invoice=invoice)
    assert sent.received_on == date(2027, 3, 1)
    assert sent.due_on == date(2027, 3, 15)  # the 14th day after receipt
    mail = OutboxMail.objects.get(template="billing/invoice")
    assert [item["mimetype"] for item in mail.attachments] == ["application/pdf"]
    with pytest.raises(DomainError):
        services.send_invoice(actor=accountant(), invoice=invoice)


def test_a_public_bodys_invoice_mail_carries_the_xrechnung_file(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 1))
    customer = make_customer(**public_body_fields())
    contact_of(customer, preferred_language="de")
    invoice = services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line()])
    services.send_invoice(actor=accountant(), invoice=invoice)
    mail = OutboxMail.objects.get(template="billing/invoice")
    assert [item["mimetype"] for item in mail.attachments] == [
        "application/pdf",
        "application/xml",
    ]


# --- the monthly run ---------------------------------------------------------------------------


def test_the_run_invoices_each_live_contract_once_with_a_pro_rata_first_month(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 3, 10))
    customer, _contact = customer_with_contact()
    linked_organization(customer)
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 3, 17))
    clock.set_day(date(2027, 3, 17))
    first = services.run_billing()
    assert first["invoices_issued"] == 1 and first["invoices_sent"] == 1
    invoice = Invoice.objects.get(contract=contract)
    line = invoice.lines.get()
    # 17 to 31 March: 15 of 31 days of the monthly fee.
    assert line.quantity == Decimal("0.4839") and line.supply_start == date(2027, 3, 17)
    assert invoice.net_total == (Decimal("0.4839") * line.unit_price).quantize(Decimal("0.01"))
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE

    again = services.run_billing()
    assert again.get("invoices_issued", 0) == 0 and again["already_invoiced"] == 1
    clock.set_day(date(2027, 4, 1))
    april = services.run_billing()
    assert april["invoices_issued"] == 1
    assert Invoice.objects.filter(contract=contract).count() == 2
    assert Invoice.objects.get(
        billing_key=f"contract:{contract.pk}:2027-04"
    ).lines.get().quantity == (Decimal("1"))


def test_a_run_killed_halfway_and_run_again_invoices_every_contract_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 2, 1))
    customers = [customer_with_contact()[0] for _ in range(3)]
    contracts = [
        contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 2, 1))
        for customer in customers
    ]
    clock.set_day(date(2027, 3, 1))
    real_issue = services.issuing.issue_invoice
    calls = {"n": 0}

    def dies_on_the_second(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("the process was killed")
        return real_issue(**kwargs)

    monkeypatch.setattr("treffpunkt.billing.services.run.issue_invoice", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        services.run_billing()
    monkeypatch.setattr("treffpunkt.billing.services.run.issue_invoice", real_issue)
    services.run_billing()
    march = Invoice.objects.filter(billing_key__endswith=":2027-03")
    assert sorted(march.values_list("contract_id", flat=True)) == sorted(c.pk for c in contracts)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"RE-2027-{n:05d}" for n in range(1, len(numbers) + 1)]


def test_on_sqlite_or_inside_a_transaction_the_run_stays_in_its_own_process(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 2, 1))
    customer, _contact = customer_with_contact()
    contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 2, 1))
    clock.set_day(date(2027, 3, 1))
    spawned: list[int] = []
    monkeypatch.setattr(
        "treffpunkt.billing.services.run.shared_out",
        lambda period, workers: spawned.append(workers) or {},
    )
    result = services.run_billing(processes=4)
    # The test's transaction (and SQLite's single writer) keeps workers out: they would not
    # see the data; the run does everything itself.
    assert spawned == [] and result["invoices_issued"] == 1
    assert "worker_processes" not in result


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="worker processes share a run on PostgreSQL only; SQLite runs it in one process",
)
@pytest.mark.django_db(transaction=True)
def test_the_run_shared_out_over_two_processes_invoices_every_contract_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
):
    # The workers are fresh processes with the real clock: the month is given, and the data is
    # committed (this test runs outside a transaction) so that they see it.
    clock = freeze(monkeypatch, date(2027, 2, 1))
    contracts = []
    for _ in range(5):
        customer, _contact = customer_with_contact()
        contracts.append(contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 2, 1)))
    clock.set_day(date(2027, 3, 1))

    result = services.run_billing(month=date(2027, 3, 1), processes=2)

    assert result["worker_processes"] == 2
    assert result["invoices_issued"] == 5 and result["invoices_sent"] == 5
    assert "already_invoiced" not in result  # the final pass found them, but counts nothing
    march = Invoice.objects.filter(billing_key__endswith=":2027-03")
    assert sorted(march.values_list("contract_id", flat=True)) == sorted(c.pk for c in contracts)
    assert all(invoice.document_id and invoice.sent_at for invoice in march)
    # Both processes took numbers from the one counter: no gap, none twice.
    numbers = sorted(
        int(number.rsplit("-", 1)[1]) for number in march.values_list("number", flat=True)
    )
    assert numbers == list(range(numbers[0], numbers[0] + 5))
    # The PDFs the workers stored are where this process reads them.
    for invoice in march.select_related("document"):
        assert document_bytes(invoice.document).startswith(b"%PDF")
    assert OutboxMail.objects.filter(template="billing/invoice").count() == 5
    assert services.run_billing(month=date(2027, 3, 1), processes=2).get("invoices_issued", 0) == 0
