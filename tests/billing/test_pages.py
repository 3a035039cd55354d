"""The billing pages: the back office's invoices (list with filters and CSV, the invoice with its
lines, VAT and downloads, sending it, correcting it by a credit note, issuing a contract's
invoice for a month by hand) and a contact's invoices in the customer area.

Every change goes through ``billing.services``; a refusal shows the form again with the
service's message (status 400) and writes nothing. The operators here read English (the source
strings), so the tests do not depend on the German catalogue."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from tests.backoffice.conftest import operator_with, people
from tests.backoffice.pages import table_rows
from tests.billing.test_approval import APPROVAL_BACKOFFICE_URL_NAMES
from tests.billing.test_dunning import DUNNING_BACKOFFICE_URL_NAMES
from tests.billing.test_hardware import (
    CUSTOMER_HARDWARE_URL_NAMES,
    HARDWARE_BACKOFFICE_URL_NAMES,
)
from tests.billing.test_objections import (
    OBJECTION_BACKOFFICE_URL_NAMES,
    OBJECTION_CUSTOMER_URL_NAMES,
)
from tests.billing.test_payment_pages import PAYMENT_BACKOFFICE_URL_NAMES
from tests.conftest import client_for
from tests.contracts.factories import Clock, contract_from, customer_with_contact, freeze
from tests.customers.conftest import make_customer
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import retention, services
from treffpunkt.billing.models import Invoice, InvoiceKind, InvoiceLine
from treffpunkt.billing.services import LineDraft
from treffpunkt.contracts.models import Contract, ContractState, ProductKind
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers.models import Customer
from treffpunkt.documents.models import Document
from treffpunkt.documents.selectors import document_bytes
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

__all__ = ["people"]  # the back office's fixture: everyone with every role

# Every URL name of the billing pages (for the project's access tables in
# tests/backoffice/test_access.py and tests/accounts/test_access_by_role.py).
BILLING_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:billing:invoices",
        "backoffice:billing:invoice",
        "backoffice:billing:invoice_pdf",
        "backoffice:billing:invoice_xml",
        "backoffice:billing:send",
        "backoffice:billing:credit_note",
        "backoffice:billing:invoice_contract",
        "backoffice:billing:issue",
    }
    # The hardware pages: their own rows in tests/billing/test_hardware.py.
    | HARDWARE_BACKOFFICE_URL_NAMES
    # The objection pages: their own rows in tests/billing/test_objections.py.
    | OBJECTION_BACKOFFICE_URL_NAMES
    # The dunning pages: their own rows in tests/billing/test_dunning.py.
    | DUNNING_BACKOFFICE_URL_NAMES
    # The four-eyes approval pages: their own rows in tests/billing/test_approval.py.
    | APPROVAL_BACKOFFICE_URL_NAMES
    # The payment pages: their own rows in tests/billing/test_payment_pages.py.
    | PAYMENT_BACKOFFICE_URL_NAMES
)
CUSTOMER_BILLING_URL_NAMES = frozenset(
    {
        "customer_area:billing:invoices",
        "customer_area:billing:invoice_pdf",
        "customer_area:billing:invoice_xml",
    }
    | CUSTOMER_HARDWARE_URL_NAMES
    | OBJECTION_CUSTOMER_URL_NAMES
)
READ_ONLY = frozenset({"invoices", "invoice", "invoice_pdf", "invoice_xml"})

TODAY = date(2027, 3, 1)
INVOICES = reverse("backoffice:billing:invoices")
ISSUE = reverse("backoffice:billing:issue")
CUSTOMER_INVOICES = reverse("customer_area:billing:invoices")


def accountant() -> User:
    return operator_with(Capability.BILLING, preferred_language="en")


def fee_line(
    amount: str = "249.00", *, start: date = date(2027, 3, 1), end: date = date(2027, 3, 31)
) -> LineDraft:
    return LineDraft(
        description="Videoberatung, Monatsentgelt",
        quantity=Decimal("1"),
        unit="MON",
        unit_price=Decimal(amount),
        supply_start=start,
        supply_end=end,
    )


def issue(customer: Customer, amount: str = "249.00") -> Invoice:
    return services.issue_invoice(actor=accountant(), customer=customer, lines=[fee_line(amount)])


def shown(day: date, style: str = "SHORT_DATE_FORMAT") -> str:
    """A date as the English pages show it."""
    with translation.override("en"):
        return str(formats.date_format(day, style))


def body(response: Any) -> str:
    return str(response.content.decode())


def invoice_page(invoice: Invoice) -> str:
    return reverse("backoffice:billing:invoice", args=[invoice.pk])


def written() -> dict[str, int]:
    """How many rows of what the billing services write there are."""
    return {
        model.__name__: model._default_manager.count()
        for model in (Invoice, InvoiceLine, Document, OutboxMail, AuditEntry)
    }


def duplicate_ids(page: str) -> list[str]:
    return [found for found, n in Counter(re.findall(r' id="([^"]+)"', page)).items() if n > 1]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze(monkeypatch, TODAY)


@pytest.fixture
def customer(clock: Clock) -> Customer:
    return customer_with_contact()[0]


@pytest.fixture
def office(world: Any, clock: Clock) -> Client:
    """A client signed in as an operator holding ``Capability.BILLING``, reading English."""
    return client_for(accountant())


def credit_form(**changes: str) -> dict[str, str]:
    data = {
        "credit-description": "Ausfall am 3. März",
        "credit-quantity": "1",
        "credit-unit": "C62",
        "credit-unit_price": "100.00",
        "credit-vat_kind": "standard",
        "credit-reason": "Dienst einen Tag nicht erreichbar",
    }
    data.update(changes)
    return data


# --- who may see what -------------------------------------------------------------------------


def _backoffice_urls(invoice: Invoice, contract: Contract) -> dict[str, str]:
    by_record = {
        "invoice": [invoice.pk],
        "invoice_pdf": [invoice.pk],
        "invoice_xml": [invoice.pk],
        "send": [invoice.pk],
        "credit_note": [invoice.pk],
        "invoice_contract": [contract.pk],
    }
    return {
        name.rsplit(":", 1)[1]: reverse(name, args=by_record.get(name.rsplit(":", 1)[1], []))
        for name in BILLING_BACKOFFICE_URL_NAMES
        - HARDWARE_BACKOFFICE_URL_NAMES
        - OBJECTION_BACKOFFICE_URL_NAMES
        - DUNNING_BACKOFFICE_URL_NAMES
        - APPROVAL_BACKOFFICE_URL_NAMES
        - PAYMENT_BACKOFFICE_URL_NAMES
    }


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
def test_every_billing_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], clock: Clock, who: str, reads: object, writes: object
):
    customer, _contact = customer_with_contact()
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=TODAY)
    invoice = issue(customer)
    before = written()
    client = Client() if who == "anonymous" else client_for(people[who])
    for name, url in _backoffice_urls(invoice, contract).items():
        expected = reads if name in READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
        if name in READ_ONLY or (name == "send" and writes == 200):
            continue  # sending has nothing to fill in: a writer's POST sends (tested below)
        # An empty form: refused by the form (400) for a writer, by the access check for
        # everyone else; never written.
        response = client.post(url, {})
        if writes == "login":
            assert response.status_code == 302, name
        else:
            assert response.status_code == (400 if writes == 200 else 403), (name, who)
    assert written() == before


@pytest.mark.parametrize(
    ("who", "list_status", "own_status"),
    [
        ("anonymous", "login", "login"),
        ("own_contact", 200, 200),
        ("other_contact", 200, 404),
        ("customer_contact", 404, 404),  # a contact's login without a customer
        ("member", 403, 403),
        ("staff", 403, 403),
        ("org_admin", 403, 403),
        ("op_billing", 403, 403),
        ("superuser", 403, 403),
    ],
)
def test_the_customer_area_shows_a_contact_only_their_own_invoices(
    people: dict[str, User], clock: Clock, who: str, list_status: object, own_status: object
):
    customer, own_contact = customer_with_contact()
    other_customer, other_contact = customer_with_contact()
    invoice = issue(customer)
    others = issue(other_customer)
    users = {**people, "own_contact": own_contact, "other_contact": other_contact}
    client = Client() if who == "anonymous" else client_for(users[who])
    urls = {
        "customer_area:billing:invoices": (CUSTOMER_INVOICES, list_status),
        "customer_area:billing:invoice_pdf": (
            reverse("customer_area:billing:invoice_pdf", args=[invoice.pk]),
            own_status,
        ),
        "customer_area:billing:invoice_xml": (
            reverse("customer_area:billing:invoice_xml", args=[invoice.pk]),
            own_status,
        ),
    }
    assert (
        set(urls)
        == CUSTOMER_BILLING_URL_NAMES - CUSTOMER_HARDWARE_URL_NAMES - OBJECTION_CUSTOMER_URL_NAMES
    )
    for name, (url, expected) in urls.items():
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
    if who == "other_contact":
        page = body(client.get(CUSTOMER_INVOICES))
        assert others.number in page and invoice.number not in page


def test_the_access_tables_cover_every_billing_url():
    from treffpunkt.billing import backoffice_urls, customer_urls

    assert {
        f"backoffice:billing:{p.name}" for p in backoffice_urls.urlpatterns
    } == BILLING_BACKOFFICE_URL_NAMES
    assert {
        f"customer_area:billing:{p.name}" for p in customer_urls.urlpatterns
    } == CUSTOMER_BILLING_URL_NAMES


def test_an_unknown_invoice_is_404(office: Client):
    for name in ("invoice", "invoice_pdf", "invoice_xml", "send", "credit_note"):
        assert office.get(reverse(f"backoffice:billing:{name}", args=[999_999])).status_code == 404
    url = reverse("backoffice:billing:invoice_contract", args=[999_999])
    assert office.post(url, {"issue-month": "2027-03"}).status_code == 404


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_invoices_and_credit_notes_and_filters_them(
    office: Client, customer: Customer
):
    invoice = issue(customer)
    note = services.issue_credit_note(
        actor=accountant(), original=invoice, lines=[fee_line("10.00")], reason="Kulanz"
    )
    other = issue(customer_with_contact()[0], "100.00")

    rows = table_rows(office.get(INVOICES))
    numbers = [row[0] for row in rows]
    assert numbers == sorted([invoice.number, note.number, other.number], reverse=True)
    row = rows[numbers.index(invoice.number)]
    assert row[1] == "Invoice"
    assert customer.legal_name in row[2]
    assert row[3] == shown(TODAY)
    assert row[4] == "€296.31"
    assert row[5] == "–" and row[6] == "not sent"

    only_notes = [r[0] for r in table_rows(office.get(INVOICES, {"kind": InvoiceKind.CREDIT_NOTE}))]
    assert only_notes == [note.number]
    of_customer = [r[0] for r in table_rows(office.get(INVOICES, {"customer": customer.pk}))]
    assert sorted(of_customer) == sorted([invoice.number, note.number])
    services.send_invoice(actor=accountant(), invoice=other)
    assert [r[0] for r in table_rows(office.get(INVOICES, {"sent": "sent"}))] == [other.number]
    unsent = [r[0] for r in table_rows(office.get(INVOICES, {"sent": "unsent"}))]
    assert other.number not in unsent and invoice.number in unsent


def test_the_list_exports_csv(office: Client, customer: Customer):
    invoice = issue(customer)
    response = office.get(INVOICES, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="rechnungen-' in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert invoice.number in content and "Gross (EUR)" in content


def test_the_list_has_no_issue_form_for_the_auditor(world: Any, clock: Clock):
    auditor = client_for(operator_with(Capability.AUDITOR, preferred_language="en"))
    page = body(auditor.get(INVOICES))
    assert 'id="id_issue-contract"' not in page
    page = body(client_for(accountant()).get(INVOICES))
    assert 'id="id_issue-contract"' in page and not duplicate_ids(page)


# --- the invoice ------------------------------------------------------------------------------


def test_the_invoice_page_shows_parties_lines_vat_and_totals_but_no_e_mail_address(
    office: Client, customer: Customer
):
    invoice = issue(customer)
    contact = customer.contacts.get()
    response = office.get(invoice_page(invoice))
    assert response.status_code == 200
    page = body(response)
    assert f"Invoice {invoice.number}" in page
    assert invoice.buyer["name"] in page and invoice.seller["name"] in page
    assert contact.email not in page
    assert invoice.buyer["electronic_address"] not in page
    assert "Videoberatung, Monatsentgelt" in page
    assert "19\u00a0%" in page
    assert "€249.00" in page and "€47.31" in page and "€296.31" in page
    assert reverse("backoffice:billing:invoice_pdf", args=[invoice.pk]) in page
    assert reverse("backoffice:billing:invoice_xml", args=[invoice.pk]) in page
    assert reverse("backoffice:billing:send", args=[invoice.pk]) in page
    assert 'id="id_credit-description"' in page
    assert not duplicate_ids(page)


def test_a_credit_note_page_names_its_original_and_the_original_lists_it(
    office: Client, customer: Customer
):
    invoice = issue(customer)
    note = services.issue_credit_note(
        actor=accountant(), original=invoice, lines=[fee_line("10.00")], reason="Kulanz"
    )
    page = body(office.get(invoice_page(note)))
    assert f"Credit note {note.number}" in page
    assert invoice_page(invoice) in page
    assert 'id="id_credit-description"' not in page  # a credit note is not corrected again
    assert note.number in body(office.get(invoice_page(invoice)))


def test_the_auditor_reads_the_invoice_without_its_forms(world: Any, clock: Clock):
    invoice = issue(customer_with_contact()[0])
    auditor = client_for(operator_with(Capability.AUDITOR, preferred_language="en"))
    page = body(auditor.get(invoice_page(invoice)))
    assert invoice.number in page
    assert reverse("backoffice:billing:send", args=[invoice.pk]) not in page
    assert 'id="id_credit-description"' not in page


# --- downloads --------------------------------------------------------------------------------


def test_the_downloads_give_the_exact_stored_bytes(office: Client, customer: Customer):
    invoice = issue(customer)
    assert invoice.document is not None
    contact_client = client_for(customer.contacts.get().user)
    for client, area in ((office, "backoffice"), (contact_client, "customer_area")):
        pdf = client.get(reverse(f"{area}:billing:invoice_pdf", args=[invoice.pk]))
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf["Content-Disposition"].startswith("attachment;")
        assert pdf.content == document_bytes(invoice.document)
        xml = client.get(reverse(f"{area}:billing:invoice_xml", args=[invoice.pk]))
        assert xml.status_code == 200
        assert xml["Content-Type"].startswith("application/xml")
        assert xml["Content-Disposition"] == f'attachment; filename="{invoice.number}.xml"'
        assert xml.content == invoice.xml.encode("utf-8")


# --- sending ----------------------------------------------------------------------------------


def test_sending_sets_the_due_date_and_the_button_goes(office: Client, customer: Customer):
    invoice = issue(customer)
    url = reverse("backoffice:billing:send", args=[invoice.pk])
    response = office.post(url, {"send-way": "email"})
    assert response.status_code == 302 and response["Location"] == invoice_page(invoice)
    invoice.refresh_from_db()
    received = TODAY + timedelta(days=settings.INVOICE_RECEIPT_DAYS_EMAIL)
    assert invoice.sent_at is not None
    assert invoice.received_on == received
    assert invoice.due_on == received + timedelta(days=settings.INVOICE_DUE_DAYS)
    assert OutboxMail.objects.count() == 1
    page = body(office.get(invoice_page(invoice)))
    assert "was sent. It is due on" in page
    assert url not in page

    before = written()
    again = office.post(url, {"send-way": "email"})
    assert again.status_code == 400
    assert "This invoice has already been sent." in body(again)
    assert written() == before


def test_sending_without_a_contact_is_refused_with_the_message(office: Client, clock: Clock):
    invoice = issue(make_customer(legal_name="Ohne Kontakt GmbH"))
    before = written()
    response = office.post(
        reverse("backoffice:billing:send", args=[invoice.pk]), {"send-way": "email"}
    )
    assert response.status_code == 400
    assert "The customer has no contact to send the invoice to." in body(response)
    assert written() == before
    invoice.refresh_from_db()
    assert invoice.sent_at is None and invoice.due_on is None


# --- credit notes -----------------------------------------------------------------------------


def test_a_credit_note_is_issued_from_the_invoice_page(office: Client, customer: Customer):
    invoice = issue(customer)
    response = office.post(
        reverse("backoffice:billing:credit_note", args=[invoice.pk]), credit_form()
    )
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert response.status_code == 302 and response["Location"] == invoice_page(note)
    assert note.original == invoice and note.gross_total == Decimal("119.00")
    assert note.supply_start == invoice.supply_start and note.supply_end == invoice.supply_end
    assert "Dienst einen Tag nicht erreichbar" in note.note
    assert f"The credit note {note.number} over €119.00 was issued." in body(
        office.get(invoice_page(note))
    )


def test_a_credit_note_above_the_invoice_is_refused_with_a_message_and_nothing_written(
    office: Client, customer: Customer
):
    invoice = issue(customer)
    before = written()
    response = office.post(
        reverse("backoffice:billing:credit_note", args=[invoice.pk]),
        credit_form(**{"credit-unit_price": "250.00"}),
    )
    assert response.status_code == 400
    page = body(response)
    assert "The credit notes of an invoice cannot exceed it" in page
    # The invoice's page again, the form as sent.
    assert f"Invoice {invoice.number}" in page
    assert 'value="250.00"' in page
    assert not duplicate_ids(page)
    assert written() == before
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_a_credit_note_form_with_a_wrong_amount_is_refused_at_its_field(
    office: Client, customer: Customer
):
    invoice = issue(customer)
    before = written()
    response = office.post(
        reverse("backoffice:billing:credit_note", args=[invoice.pk]),
        credit_form(**{"credit-unit_price": "zehn", "credit-reason": ""}),
    )
    assert response.status_code == 400
    page = body(response)
    assert 'id="id_credit-unit_price_error"' in page
    assert 'id="id_credit-reason_error"' in page
    assert written() == before


# --- issuing a contract's invoice by hand -----------------------------------------------------


def test_issuing_by_hand_switches_the_contract_on_and_a_second_time_is_already_invoiced(
    office: Client, clock: Clock, customer: Customer
):
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=TODAY)
    assert contract.state == ContractState.WAITING
    data = {"issue-contract": contract.number or "", "issue-month": "2027-03"}

    response = office.post(ISSUE, data)
    invoice = Invoice.objects.get(contract=contract)
    assert response.status_code == 302 and response["Location"] == invoice_page(invoice)
    assert invoice.billing_key == f"contract:{contract.pk}:2027-03"
    assert invoice.gross_total == Decimal("296.31")
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert contract.switched_on_by_invoice == invoice.number
    assert f"The invoice {invoice.number} for contract {contract.number} was issued" in body(
        office.get(invoice_page(invoice))
    )

    before = written()
    again = office.post(ISSUE, data)
    assert again.status_code == 400
    assert f"Contract {contract.number} is already invoiced for 03/2027." in body(again)
    by_pk = office.post(
        reverse("backoffice:billing:invoice_contract", args=[contract.pk]),
        {"issue-month": "2027-03-15"},
    )
    assert by_pk.status_code == 400
    assert f"Contract {contract.number} is already invoiced for 03/2027." in body(by_pk)
    assert written() == before


def test_issuing_by_hand_for_the_contract_page_url_and_for_an_unknown_number(
    office: Client, clock: Clock, customer: Customer
):
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=TODAY)
    url = reverse("backoffice:billing:invoice_contract", args=[contract.pk])
    page = body(office.get(url))
    assert contract.number in page and 'id="id_issue-month"' in page
    response = office.post(url, {"issue-month": "2027-04"})
    invoice = Invoice.objects.get(contract=contract)
    assert response.status_code == 302 and response["Location"] == invoice_page(invoice)
    assert invoice.billing_key == f"contract:{contract.pk}:2027-04"

    before = written()
    unknown = office.post(ISSUE, {"issue-contract": "V-0000-99999", "issue-month": "2027-03"})
    assert unknown.status_code == 400
    assert "There is no contract with this number." in body(unknown)
    assert 'id="id_issue-contract_error"' in body(unknown)
    assert written() == before


def test_a_month_before_the_contract_starts_has_nothing_to_invoice(
    office: Client, clock: Clock, customer: Customer
):
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=TODAY)
    before = written()
    response = office.post(
        ISSUE, {"issue-contract": contract.number or "", "issue-month": "2027-01"}
    )
    assert response.status_code == 400
    assert "has nothing to invoice for 01/2027" in body(response)
    assert written() == before


# --- the customer area ------------------------------------------------------------------------


def test_a_contact_sees_their_invoices_and_credit_notes_with_due_dates(clock: Clock):
    customer, contact = customer_with_contact()
    invoice = issue(customer)
    services.send_invoice(actor=accountant(), invoice=invoice)
    invoice.refresh_from_db()
    note = services.issue_credit_note(
        actor=accountant(), original=invoice, lines=[fee_line("10.00")], reason="Kulanz"
    )
    response = client_for(contact).get(CUSTOMER_INVOICES)
    assert response.status_code == 200
    rows = table_rows(response)
    by_number = {row[0]: row for row in rows}
    assert set(by_number) == {invoice.number, note.number}
    assert by_number[invoice.number][4] == "€296.31"
    assert invoice.due_on is not None
    assert by_number[invoice.number][5] == shown(invoice.due_on, "DATE_FORMAT")
    assert invoice.number in by_number[note.number][1]  # "corrects RE-…"
    page = body(response)
    assert reverse("customer_area:billing:invoice_pdf", args=[note.pk]) in page
    assert reverse("customer_area:billing:invoice_xml", args=[invoice.pk]) in page
    assert contact.email not in page


# --- retention ---------------------------------------------------------------------------------


def test_invoices_are_kept_ten_years_from_the_end_of_their_year():
    assert retention.kept_until(date(2027, 3, 3)) == date(2037, 12, 31)
    assert not retention.is_blocked(date(2027, 1, 1), today=date(2037, 12, 31))
    assert retention.is_blocked(date(2027, 12, 31), today=date(2038, 1, 1))


def test_an_invoice_past_its_retention_is_blocked_from_everyday_access(
    monkeypatch: pytest.MonkeyPatch, world: Any
):
    clock = freeze(monkeypatch, date(2026, 12, 30))
    customer, contact = customer_with_contact()
    old = services.issue_invoice(
        actor=accountant(),
        customer=customer,
        lines=[fee_line(start=date(2026, 12, 1), end=date(2026, 12, 31))],
    )
    clock.set_day(date(2027, 1, 2))
    kept = services.issue_invoice(
        actor=accountant(),
        customer=customer,
        lines=[fee_line(start=date(2027, 1, 1), end=date(2027, 1, 31))],
    )
    # On the last day of 2036 the invoice of 2026 is still kept; a day later it is blocked.
    clock.set_day(date(2036, 12, 31))
    office = client_for(accountant())
    assert office.get(invoice_page(old)).status_code == 200
    clock.set_day(date(2037, 1, 1))
    own = client_for(contact)
    listing = body(own.get(CUSTOMER_INVOICES))
    assert kept.number in listing and old.number not in listing
    for name in ("invoice_pdf", "invoice_xml"):
        assert own.get(reverse(f"customer_area:billing:{name}", args=[old.pk])).status_code == 404
        assert own.get(reverse(f"customer_area:billing:{name}", args=[kept.pk])).status_code == 200
    office = client_for(accountant())
    backoffice_list = body(office.get(reverse("backoffice:billing:invoices")))
    assert kept.number in backoffice_list and old.number not in backoffice_list
    for name in ("invoice", "invoice_pdf", "invoice_xml", "send"):
        assert office.get(reverse(f"backoffice:billing:{name}", args=[old.pk])).status_code == 404
    # Blocked, not deleted: the record is still there for the deletion rules to take.
    assert Invoice.objects.filter(pk=old.pk).exists()


def test_a_posted_letter_counts_as_received_days_after_posting(office: Client, clock: Clock):
    # A customer without an e-mail contact gets the invoice on paper.
    invoice = issue(make_customer(legal_name="Papier GmbH"))
    url = reverse("backoffice:billing:send", args=[invoice.pk])
    page = body(office.get(url))
    assert "<legend>How" in page and 'type="radio"' in page

    before = written()
    missing = office.post(url, {"send-way": "post"})
    assert missing.status_code == 400 and "Say on which day the letter was posted." in body(missing)
    ahead = office.post(url, {"send-way": "post", "send-posted_on": "2027-03-02"})
    assert ahead.status_code == 400
    assert "A posting cannot be recorded in advance." in body(ahead)
    early = office.post(url, {"send-way": "post", "send-posted_on": "2027-02-28"})
    assert "An invoice cannot be posted before the day it was issued." in body(early)
    assert written() == before

    clock.set_day(TODAY + timedelta(days=2))
    posted_on = TODAY + timedelta(days=1)
    response = office.post(url, {"send-way": "post", "send-posted_on": posted_on.isoformat()})
    assert response.status_code == 302
    invoice.refresh_from_db()
    received = posted_on + timedelta(days=settings.INVOICE_RECEIPT_DAYS_POST)
    assert invoice.received_on == received
    assert invoice.due_on == received + timedelta(days=settings.INVOICE_DUE_DAYS)
    assert OutboxMail.objects.count() == 0  # nothing mailed
    assert AuditEntry.objects.filter(code="billing.invoice.posted").count() == 1
    assert office.post(url, {"send-way": "email"}).status_code == 400  # sent once only
