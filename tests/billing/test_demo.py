"""The billing demo: issued invoices for a company (ZUGFeRD) and a public body (XRechnung), a
credit note, a matched payment, an overdue invoice with a reminder, an open objection and a
hardware order under retention of title; loading twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import client_for
from treffpunkt.accounts.models import Role, User
from treffpunkt.billing.models import (
    BankEntry,
    BankStatement,
    EInvoiceFormat,
    EntryState,
    HardwareDelivery,
    Invoice,
    InvoiceKind,
    Objection,
    ObjectionState,
    PaymentAllocation,
    Reminder,
)
from treffpunkt.billing.selectors import open_amount
from treffpunkt.billing.services.hardware import retention_of_title
from treffpunkt.contracts.models import Order, OrderState
from treffpunkt.core import clock
from treffpunkt.customers.models import CustomerKind

pytestmark = pytest.mark.django_db

MODELS = (
    Invoice,
    BankStatement,
    BankEntry,
    PaymentAllocation,
    Reminder,
    Objection,
    HardwareDelivery,
    Order,
)


def snapshot() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


def test_the_demo_shows_every_kind_of_billing_once_and_loading_twice_changes_nothing():
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = snapshot()
    call_command("load_demo", stdout=StringIO())
    assert snapshot() == first
    assert "/betrieb/rechnungen/hardware/" in out.getvalue()

    today = clock.operator_today()
    invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE)
    company = invoices.filter(customer__kind=CustomerKind.COMPANY)
    public_body = invoices.filter(customer__kind=CustomerKind.PUBLIC_BODY)
    assert company.exists() and public_body.exists()
    assert set(company.values_list("e_invoice_format", flat=True)) == {EInvoiceFormat.ZUGFERD}
    assert set(public_body.values_list("e_invoice_format", flat=True)) == {EInvoiceFormat.XRECHNUNG}
    assert all(invoice.document_id is not None for invoice in Invoice.objects.all())

    # A credit note correcting a company invoice.
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.original is not None and note.original.billing_key == "demo:zugferd"

    # A payment from a camt.053 statement, matched to the public body's invoice.
    entry = BankEntry.objects.get()
    assert entry.state == EntryState.MATCHED
    paid = Invoice.objects.get(billing_key="demo:xrechnung")
    assert PaymentAllocation.objects.get().invoice == paid
    assert open_amount(paid) == 0

    # An overdue invoice, sent, with a reminder.
    overdue = Invoice.objects.get(billing_key="demo:overdue")
    assert overdue.sent_at is not None and overdue.due_on is not None
    assert overdue.due_on < today and open_amount(overdue) > 0
    assert Reminder.objects.filter(invoice=overdue).count() == 1

    # An open objection.
    objection = Objection.objects.get()
    assert objection.state == ObjectionState.OPEN

    # The hardware order: accepted, delivered, invoiced, under retention of title.
    delivery = HardwareDelivery.objects.get()
    assert delivery.order_line.order.state == OrderState.ACCEPTED
    assert delivery.delivered_on is not None and delivery.invoice is not None
    assert retention_of_title(delivery)
    # The contracts' order waiting for acceptance is still waiting.
    assert Order.objects.filter(state=OrderState.RECEIVED).count() == 1

    operator = User.objects.filter(role=Role.OPERATOR).first()
    client = client_for(operator)
    for url in ("/betrieb/rechnungen/", "/betrieb/rechnungen/hardware/"):
        assert client.get(url).status_code == 200
