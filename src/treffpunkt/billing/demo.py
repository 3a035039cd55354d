"""The billing's part of the demo (after the contracts' part): invoices issued for a company
(ZUGFeRD) and a public body (XRechnung), a credit note, a payment matched from a small camt.053
statement, an overdue invoice with a payment reminder, an open objection, and a hardware order
delivered and invoiced that stays under retention of title.

Everything is made through ``billing.services``, as an operator would. Idempotent: each invoice
carries a fixed key ("demo:…"), the bank entry a fixed reference, the hardware order a fixed
submission key; what exists is found and left alone.

The overdue invoice needs a due date in the past, and ``send_invoice`` counts the due date
from the day it is sent (``core.clock``). So the demo issues and sends that one invoice as on
a day six weeks ago: it sets the clock the services read to that day for those two calls only,
and the invoice, its PDF, its mail and its audit entries say that day. Nothing else is dated
back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from treffpunkt.accounts.models import Role, User
from treffpunkt.billing.models import (
    BankEntry,
    Invoice,
    InvoiceKind,
    Objection,
    Reminder,
)
from treffpunkt.billing.selectors import open_amount
from treffpunkt.billing.services import (
    LineDraft,
    hardware,
    import_statement,
    issue_credit_note,
    issue_invoice,
    send_invoice,
)
from treffpunkt.billing.services.run import Month, fee_lines
from treffpunkt.contracts.models import Contract, Order, OrderState, Product, ProductKind
from treffpunkt.contracts.services import OrderItem, accept_order, place_order
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer, CustomerKind

# Fixed keys: loading the demo again finds what the first time made.
KEY_XRECHNUNG = "demo:xrechnung"
KEY_ZUGFERD = "demo:zugferd"
KEY_OVERDUE = "demo:overdue"
PAYMENT_REFERENCE = "DEMO-ZAHLUNG-0001"
HARDWARE_ORDER_KEY = uuid.UUID("6d5b5e0c-6f0e-4a53-9a53-2f1c1c0d0e02")
HARDWARE_PRODUCT = "raumsystem-kamera"
OVERDUE_DAYS_AGO = 42


def _operator() -> User | None:
    return User.objects.filter(role=Role.OPERATOR, is_active=True).order_by("pk").first()


def _customers() -> tuple[Customer | None, Customer | None]:
    company = Customer.objects.filter(kind=CustomerKind.COMPANY).order_by("pk").first()
    public_body = Customer.objects.filter(kind=CustomerKind.PUBLIC_BODY).order_by("pk").first()
    return company, public_body


def load_billing_demo() -> None:
    operator = _operator()
    company, public_body = _customers()
    if operator is None or company is None or public_body is None:
        return
    video = _contract(public_body, ProductKind.VIDEO)
    telephony = _contract(company, ProductKind.TELEPHONY)
    if video is None or telephony is None:
        return
    today = clock.operator_today()
    this_month = Month.of(today)

    # An invoice that is overdue: the month before last, issued and sent six weeks ago, not
    # paid, reminded.
    overdue = _existing(KEY_OVERDUE)
    if overdue is None:
        sent_on = today - timedelta(days=OVERDUE_DAYS_AGO)
        with _clock_on(sent_on):
            overdue = issue_invoice(
                actor=operator,
                customer=company,
                lines=_month_lines(telephony, this_month.before().before()),
                contract=telephony,
                billing_key=KEY_OVERDUE,
                issue_date=sent_on,
            )
            overdue = send_invoice(actor=operator, invoice=overdue)
    _remind(overdue, operator)

    # The company's invoice for last month (ZUGFeRD), corrected in part by a credit note, and
    # disputed by the customer in an objection still open.
    zugferd = _existing(KEY_ZUGFERD)
    if zugferd is None:
        zugferd = issue_invoice(
            actor=operator,
            customer=company,
            lines=_month_lines(telephony, this_month.before()),
            contract=telephony,
            billing_key=KEY_ZUGFERD,
        )
        zugferd = send_invoice(actor=operator, invoice=zugferd)
    if not Invoice.objects.filter(original=zugferd, kind=InvoiceKind.CREDIT_NOTE).exists():
        issue_credit_note(
            actor=operator,
            original=zugferd,
            lines=[
                LineDraft(
                    description="Gutschrift: Telefonie an einem Tag nicht erreichbar",
                    quantity=Decimal(1),
                    unit="C62",
                    unit_price=Decimal("15.00"),
                    supply_start=zugferd.supply_start,
                    supply_end=zugferd.supply_end,
                )
            ],
            reason="Störung der Telefonie an einem Tag (Demo)",
        )
    _object(zugferd, operator)

    # The public body's invoice for last month (XRechnung), paid: the bank statement names it.
    xrechnung = _existing(KEY_XRECHNUNG)
    if xrechnung is None:
        xrechnung = issue_invoice(
            actor=operator,
            customer=public_body,
            lines=_month_lines(video, this_month.before()),
            contract=video,
            billing_key=KEY_XRECHNUNG,
        )
        xrechnung = send_invoice(actor=operator, invoice=xrechnung)
    if not BankEntry.objects.filter(reference=PAYMENT_REFERENCE).exists():
        import_statement(
            actor=operator,
            data=_statement(xrechnung, public_body, today),
            filename="demo-kontoauszug.xml",
        )

    # A hardware order, accepted, delivered and invoiced today: under retention of title until
    # its invoice is paid.
    _hardware(company, operator, today)


def _contract(customer: Customer, kind: str) -> Contract | None:
    return Contract.objects.filter(customer=customer, kind=kind).order_by("pk").first()


def _existing(key: str) -> Invoice | None:
    return Invoice.objects.filter(billing_key=key).first()


def _month_lines(contract: Contract, month: Month) -> list[LineDraft]:
    lines = fee_lines(contract, month)
    if lines:
        return lines
    # A contract younger than the month: one month's fee from its start, so the demo always has
    # something to show.
    start = max(contract.start, month.first)
    return fee_lines(contract, Month.of(start)) or [
        LineDraft(
            description=f"{contract.product.name}, Monatsentgelt (Demo)",
            quantity=Decimal(contract.quantity),
            unit="MON",
            unit_price=Decimal("89.00"),
            supply_start=month.first,
            supply_end=month.last,
        )
    ]


@contextmanager
def _clock_on(day: date) -> Iterator[None]:
    """The services' clock on ``day`` at nine in the morning, Berlin time, for the block."""
    moment = datetime.combine(day, time(9), tzinfo=ZoneInfo(settings.TIME_ZONE))
    with clock.as_of(moment):
        yield


def _remind(invoice: Invoice, operator: User) -> None:
    """A payment reminder for the overdue invoice, as the daily dunning run sends it
    (``billing.services.dunning``). Once: a reminder already there is left alone."""
    if Reminder.objects.filter(invoice=invoice).exists() or open_amount(invoice) <= 0:
        return
    try:
        from treffpunkt.billing.services import dunning
    except ImportError:  # pragma: no cover  # the dunning service is part of the app
        return
    dunning.send_reminder_if_due(
        invoice, on=clock.operator_today(), schedule=dunning.schedule_days()
    )


def _object(invoice: Invoice, operator: User) -> None:
    """The customer's objection to the invoice, recorded as received by e-mail today and left
    open (``billing.services.objections``). Once."""
    if Objection.objects.filter(invoice=invoice).exists():
        return
    try:
        from treffpunkt.billing.services import objections
    except ImportError:  # pragma: no cover  # the objections service is part of the app
        return
    objections.record_objection(
        actor=operator,
        invoice=invoice,
        received_on=clock.operator_today(),
        channel="email",
        sender=invoice.buyer.get("contact_name") or invoice.buyer.get("name", ""),
        positions=[1],
        text="Die Zahl der abgerechneten Anschlüsse stimmt nicht (Demo).",
    )


def _statement(invoice: Invoice, payer: Customer, today: date) -> bytes:
    """A small camt.053 statement with one credit: the public body pays its invoice."""
    amount = f"{invoice.gross_total:.2f}"
    iban = settings.OPERATOR_IBAN.replace(" ", "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>DEMO-{today:%Y%m%d}-0001</MsgId>
      <CreDtTm>{today.isoformat()}T06:00:00+01:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>DEMO-{today:%Y%m%d}</Id>
      <CreDtTm>{today.isoformat()}T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{today.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{today.isoformat()}</Dt></ValDt>
        <AcctSvcrRef>{PAYMENT_REFERENCE}</AcctSvcrRef>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr><Nm>{payer.legal_name}</Nm></Dbtr>
              <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
            </RltdPties>
            <RmtInf><Ustrd>Rechnung {invoice.number}</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


def _hardware(company: Customer, operator: User, today: date) -> None:
    product = Product.objects.filter(code=HARDWARE_PRODUCT, kind=ProductKind.HARDWARE).first()
    if product is None:
        return
    order = Order.objects.filter(submission_key=HARDWARE_ORDER_KEY).first()
    if order is None:
        order = place_order(
            actor=operator,
            customer=company,
            items=[OrderItem(product, 2)],
            submission_key=HARDWARE_ORDER_KEY,
            channel="email",
            received_on=today - timedelta(days=2),
            note="Zwei Kameras für die Besprechungsräume (Demo).",
        )
    if order.state == OrderState.RECEIVED:
        order = accept_order(actor=operator, order=order, start=today, delivery_date=today)
    for delivery in hardware.plan_deliveries(actor=operator, order=order):
        if delivery.delivered_on is not None:
            continue
        delivered = hardware.mark_delivered(
            actor=operator,
            delivery=delivery,
            on=today,
            at_cost=[hardware.AtCost("Versand", Decimal("24.90"))],
        )
        if delivered.invoice is not None and delivered.invoice.sent_at is None:
            send_invoice(actor=operator, invoice=delivered.invoice)


def describe_billing_demo() -> list[str]:
    def number(key: str) -> str:
        invoice = _existing(key)
        return invoice.number if invoice is not None else "–"

    return [
        "Billing: invoices at /betrieb/rechnungen/ — "
        f"{number(KEY_ZUGFERD)} (ZUGFeRD, company; corrected by a credit note, objection open), "
        f"{number(KEY_XRECHNUNG)} (XRechnung, public body; paid from a camt.053 statement), "
        f"{number(KEY_OVERDUE)} (overdue, with a payment reminder); a hardware order under "
        "retention of title at /betrieb/rechnungen/hardware/ (the customer's contact sees it "
        "at /kunde/rechnungen/hardware/)."
    ]
