"""Hardware deliveries (P-BILL-4; §§ 25–30 of the terms): planned from the order confirmation,
a delay told to the customer at once with the new date, the invoice on delivery (unit price of
the order's day × quantity, VAT on top, shipping/customs/fees at cost), retention of title
until every invoice of the order's hardware is paid, and the warranty's end one year after
delivery; the pages in the back office and the customer area, per role."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.conftest import operator_with, people
from tests.backoffice.pages import table_rows
from tests.conftest import client_for
from tests.contracts.factories import Clock, customer_with_contact, freeze, letter_text, product
from tests.customers.conftest import writer
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing.models import (
    BankEntry,
    EntryState,
    HardwareDelivery,
    Invoice,
    InvoiceLine,
)
from treffpunkt.billing.services import allocate_by_hand, import_statement, issue_credit_note
from treffpunkt.billing.services.hardware import (
    AtCost,
    deliveries_for_order,
    is_warranty_case,
    mark_delivered,
    plan_deliveries,
    plan_open_orders,
    postpone_delivery,
    retention_of_title,
    warranty_until,
)
from treffpunkt.billing.services.issuing import LineDraft
from treffpunkt.contracts.models import CustomerDocument, Order, ProductKind
from treffpunkt.contracts.services import (
    OrderItem,
    PriceTerms,
    accept_order,
    place_order,
    set_price,
)
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers.models import Customer
from treffpunkt.documents.models import Document
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

__all__ = ["people"]

# The hardware pages, for the access tables of tests/billing/test_pages.py.
HARDWARE_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:billing:hardware",
        "backoffice:billing:hardware_plan",
        "backoffice:billing:hardware_delivery",
        "backoffice:billing:hardware_postpone",
        "backoffice:billing:hardware_deliver",
    }
)
CUSTOMER_HARDWARE_URL_NAMES = frozenset({"customer_area:billing:hardware"})
READ_ONLY = frozenset({"hardware", "hardware_delivery"})

TODAY = date(2027, 3, 1)
DELIVERY_DAY = date(2027, 3, 15)


def accountant() -> User:
    return operator_with(Capability.BILLING, preferred_language="en")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze(monkeypatch, TODAY)


def hardware_order(
    customer: Customer, *quantities: int, with_service: bool = False, accept: bool = True
) -> Order:
    """An order of hardware lines (one camera product each, 1,290.00 € net per piece),
    received today and accepted with delivery on ``DELIVERY_DAY``."""
    items = [OrderItem(product(ProductKind.HARDWARE), quantity) for quantity in quantities]
    if with_service:
        items.append(OrderItem(product(ProductKind.VIDEO), 1))
    order = place_order(
        actor=writer(),
        customer=customer,
        items=items,
        submission_key=uuid.uuid4(),
        channel="email",
        received_on=TODAY,
    )
    if accept:
        order = accept_order(actor=writer(), order=order, start=TODAY, delivery_date=DELIVERY_DAY)
    return order


@pytest.fixture
def customer(clock: Clock) -> Customer:
    return customer_with_contact()[0]


@pytest.fixture
def delivery(customer: Customer) -> HardwareDelivery:
    return deliveries_for_order(hardware_order(customer, 2))[0]


def written() -> dict[str, int]:
    return {
        model.__name__: model._default_manager.count()
        for model in (
            HardwareDelivery,
            Invoice,
            InvoiceLine,
            Document,
            CustomerDocument,
            OutboxMail,
            AuditEntry,
        )
    }


def statement(amount: Decimal, text: str, reference: str, day: date = TODAY) -> bytes:
    """A camt.053 statement with one credit of ``amount`` and remittance ``text``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>T-{reference}</MsgId><CreDtTm>{day}T06:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S-{reference}</Id>
      <CreDtTm>{day}T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">{amount:.2f}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{day}</Dt></BookgDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Nm>Kunde</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>{text}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>""".encode()


def pay(invoice: Invoice, amount: Decimal, reference: str) -> None:
    """A payment that names the invoice, matched by the import."""
    import_statement(
        actor=accountant(),
        data=statement(amount, f"Rechnung {invoice.number}", reference),
        filename=f"{reference}.xml",
    )


def pay_by_hand(invoice: Invoice, amount: Decimal, reference: str) -> None:
    """A payment without an invoice number, allocated by the accountant."""
    import_statement(
        actor=accountant(),
        data=statement(amount, "Kameras", reference),
        filename=f"{reference}.xml",
    )
    entry = BankEntry.objects.get(reference=reference)
    assert entry.state == EntryState.UNMATCHED
    allocate_by_hand(actor=accountant(), entry=entry, invoice=invoice, amount=amount)


# --- planning ---------------------------------------------------------------------------------


def test_each_hardware_line_of_an_accepted_order_gets_one_delivery_on_the_confirmed_date(
    customer: Customer,
):
    order = hardware_order(customer, 2, 1, with_service=True)
    made = deliveries_for_order(order)
    assert [(d.order_line.quantity, d.planned_on) for d in made] == [
        (2, DELIVERY_DAY),
        (1, DELIVERY_DAY),
    ]
    assert all(d.delivered_on is None and d.delays == [] and d.invoice is None for d in made)
    before = written()
    assert [d.pk for d in deliveries_for_order(order)] == [d.pk for d in made]
    assert [d.pk for d in plan_deliveries(actor=accountant(), order=order)] == [d.pk for d in made]
    assert plan_open_orders() == {"deliveries_planned": 0}
    assert written() == before


def test_the_daily_job_plans_accepted_orders_only_and_once(customer: Customer):
    accepted = hardware_order(customer, 1)
    waiting = hardware_order(customer, 3, accept=False)
    assert deliveries_for_order(waiting) == []
    assert plan_open_orders() == {"deliveries_planned": 1}
    assert HardwareDelivery.objects.get().order_line.order == accepted
    assert plan_open_orders() == {"deliveries_planned": 0}
    with pytest.raises(DomainError):
        plan_deliveries(actor=accountant(), order=waiting)
    with pytest.raises(NotAllowed):
        plan_deliveries(actor=writer(), order=accepted)  # customers, not billing


# --- a delay ----------------------------------------------------------------------------------


def test_a_delay_is_told_to_the_customer_at_once_with_the_new_date(
    clock: Clock, customer: Customer, delivery: HardwareDelivery
):
    clock.set_day(date(2027, 3, 10))
    mails = OutboxMail.objects.count()
    moved = postpone_delivery(
        actor=accountant(),
        delivery=delivery,
        new_date=date(2027, 4, 2),
        reason="Der Hersteller liefert später.",
    )
    assert moved.planned_on == date(2027, 4, 2)
    assert moved.delays == [
        {
            "from": "2027-03-15",
            "to": "2027-04-02",
            "told_on": "2027-03-10",
            "reason": "Der Hersteller liefert später.",
            "letter": moved.delays[0]["letter"],
        }
    ]
    letter = Document.objects.get(pk=moved.delays[0]["letter"])
    assert letter.sent_at is not None
    assert CustomerDocument.objects.filter(
        document=letter, customer=customer, order=delivery.order_line.order
    ).exists()
    text = letter_text(letter)
    assert "April 2, 2027" in text and "March 15, 2027" in text
    assert "Der Hersteller liefert später." in text
    # At once: the mail to the customer's contact is queued with the change.
    assert OutboxMail.objects.count() == mails + 1

    # A second delay appends; the first stays as told.
    again = postpone_delivery(
        actor=accountant(), delivery=moved, new_date=date(2027, 4, 20), reason="Zoll"
    )
    assert [(d["from"], d["to"]) for d in again.delays] == [
        ("2027-03-15", "2027-04-02"),
        ("2027-04-02", "2027-04-20"),
    ]


@pytest.mark.parametrize(
    ("new_date", "reason", "code"),
    [
        (date(2027, 3, 15), "Lieferengpass", "new_date"),  # not later than planned
        (date(2027, 3, 10), "Lieferengpass", "new_date"),
        (date(2027, 4, 1), "  ", "reason"),
    ],
)
def test_a_delay_that_is_no_delay_or_has_no_reason_is_refused_and_nothing_written(
    delivery: HardwareDelivery, new_date: date, reason: str, code: str
):
    before = written()
    with pytest.raises(DomainError) as refused:
        postpone_delivery(actor=accountant(), delivery=delivery, new_date=new_date, reason=reason)
    assert refused.value.code == code
    assert written() == before
    with pytest.raises(NotAllowed):
        postpone_delivery(actor=writer(), delivery=delivery, new_date=date(2027, 4, 1), reason="x")


# --- the invoice on delivery ------------------------------------------------------------------


def test_delivery_issues_the_invoice_at_the_order_days_price_with_costs_at_cost(
    clock: Clock, customer: Customer, delivery: HardwareDelivery
):
    camera = delivery.order_line.product
    # A new price from the delivery day on: the order's day's price still applies (§ 25).
    set_price(
        actor=writer(),
        product=camera,
        valid_from=date(2027, 3, 10),
        price=PriceTerms(unit_price="1490.00"),
    )
    clock.set_day(DELIVERY_DAY)
    done = mark_delivered(
        actor=accountant(),
        delivery=delivery,
        on=DELIVERY_DAY,
        at_cost=[AtCost("Versand", Decimal("24.90")), AtCost("Zoll", Decimal("10.00"))],
    )
    assert done.delivered_on == DELIVERY_DAY
    invoice = done.invoice
    assert invoice is not None and invoice.customer == customer and invoice.contract is None
    assert invoice.billing_key == f"hardware:{delivery.pk}"
    assert invoice.document is not None  # the PDF is rendered
    lines = [
        (line.quantity, line.unit, line.unit_price, line.net, line.vat_percent)
        for line in invoice.lines.order_by("position")
    ]
    assert lines == [
        (Decimal("2"), "C62", Decimal("1290.00"), Decimal("2580.00"), Decimal("19.00")),
        (Decimal("1"), "C62", Decimal("24.90"), Decimal("24.90"), Decimal("19.00")),
        (Decimal("1"), "C62", Decimal("10.00"), Decimal("10.00"), Decimal("19.00")),
    ]
    descriptions = list(invoice.lines.order_by("position").values_list("description", flat=True))
    assert camera.name in descriptions[0]
    assert descriptions[1:] == ["Versand (at cost)", "Zoll (at cost)"]
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("2614.90"),
        Decimal("496.83"),
        Decimal("3111.73"),
    )
    assert (invoice.supply_start, invoice.supply_end) == (DELIVERY_DAY, DELIVERY_DAY)

    before = written()
    with pytest.raises(DomainError) as twice:
        mark_delivered(actor=accountant(), delivery=delivery, on=DELIVERY_DAY)
    assert twice.value.code == "delivered"
    with pytest.raises(DomainError):
        postpone_delivery(
            actor=accountant(), delivery=delivery, new_date=date(2027, 5, 1), reason="x"
        )
    assert written() == before


def test_a_delivery_in_the_future_or_with_a_wrong_cost_is_refused(delivery: HardwareDelivery):
    before = written()
    with pytest.raises(DomainError):
        mark_delivered(actor=accountant(), delivery=delivery, on=TODAY + timedelta(days=1))
    with pytest.raises(DomainError):
        mark_delivered(
            actor=accountant(),
            delivery=delivery,
            on=TODAY,
            at_cost=[AtCost("Versand", Decimal("-5.00"))],
        )
    with pytest.raises(NotAllowed):
        mark_delivered(actor=writer(), delivery=delivery, on=TODAY)
    assert written() == before


def test_a_retry_after_the_invoice_was_issued_links_that_invoice(delivery: HardwareDelivery):
    """A failure between issuing and recording: the retry finds the invoice by its key."""
    from treffpunkt.billing.services import issue_invoice

    first = issue_invoice(
        actor=accountant(),
        customer=delivery.order_line.order.customer,
        lines=[
            LineDraft(
                description="Kamera",
                quantity=Decimal(2),
                unit="C62",
                unit_price=Decimal("1290.00"),
                supply_start=TODAY,
                supply_end=TODAY,
            )
        ],
        billing_key=f"hardware:{delivery.pk}",
    )
    done = mark_delivered(actor=accountant(), delivery=delivery, on=TODAY)
    assert done.invoice == first
    assert Invoice.objects.count() == 1


# --- retention of title -----------------------------------------------------------------------


def test_the_goods_stay_ours_until_every_invoice_of_the_orders_hardware_is_paid(
    customer: Customer,
):
    order = hardware_order(customer, 2, 1)
    first, second = deliveries_for_order(order)
    assert not retention_of_title(first)  # still in the warehouse
    first = mark_delivered(actor=accountant(), delivery=first, on=TODAY)
    assert first.invoice is not None
    assert retention_of_title(first)

    pay(first.invoice, Decimal("1000.00"), "PAY-1")  # part of it
    assert retention_of_title(first)
    pay(first.invoice, first.invoice.gross_total - Decimal("1000.00"), "PAY-2")
    assert not retention_of_title(first)  # the only invoice of the order's hardware is paid

    second = mark_delivered(actor=accountant(), delivery=second, on=TODAY)
    assert second.invoice is not None
    # A new claim of the same order: both items are the operator's again until it is paid.
    assert retention_of_title(first) and retention_of_title(second)
    pay_by_hand(second.invoice, second.invoice.gross_total, "PAY-3")
    assert not retention_of_title(first) and not retention_of_title(second)


def test_a_credit_note_reduces_what_must_be_paid_for_the_title_to_pass(
    delivery: HardwareDelivery,
):
    done = mark_delivered(actor=accountant(), delivery=delivery, on=TODAY)
    invoice = done.invoice
    assert invoice is not None
    issue_credit_note(
        actor=accountant(),
        original=invoice,
        lines=[
            LineDraft(
                description="Nachlass",
                quantity=Decimal(1),
                unit="C62",
                unit_price=Decimal("100.00"),
                supply_start=TODAY,
                supply_end=TODAY,
            )
        ],
        reason="Kratzer am Gehäuse",
    )
    pay(invoice, invoice.gross_total - Decimal("119.00"), "PAY-CN")
    assert not retention_of_title(done)


# --- warranty ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivered_on", "until"),
    [
        (date(2027, 3, 15), date(2028, 3, 15)),
        (date(2027, 12, 31), date(2028, 12, 31)),
        (date(2028, 2, 29), date(2029, 2, 28)),  # § 188 (3) BGB: no 29 February in 2029
        (date(2027, 2, 28), date(2028, 2, 28)),  # the leap year's 29th is not the end
    ],
)
def test_the_warranty_ends_one_year_after_delivery(delivered_on: date, until: date):
    delivery = HardwareDelivery(planned_on=delivered_on, delivered_on=delivered_on)
    assert warranty_until(delivery) == until
    assert is_warranty_case(delivery, delivered_on)
    assert is_warranty_case(delivery, until)  # a fault reported on the last day still counts
    assert not is_warranty_case(delivery, until + timedelta(days=1))
    assert not is_warranty_case(delivery, delivered_on - timedelta(days=1))


def test_hardware_not_delivered_has_no_warranty_yet():
    delivery = HardwareDelivery(planned_on=TODAY)
    assert warranty_until(delivery) is None
    assert not is_warranty_case(delivery, TODAY)


# --- the pages --------------------------------------------------------------------------------


def _backoffice_urls(delivery: HardwareDelivery) -> dict[str, str]:
    with_pk = {"hardware_delivery", "hardware_postpone", "hardware_deliver"}
    return {
        name.rsplit(":", 1)[1]: reverse(
            name, args=[delivery.pk] if name.rsplit(":", 1)[1] in with_pk else []
        )
        for name in HARDWARE_BACKOFFICE_URL_NAMES
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
def test_every_hardware_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], delivery: HardwareDelivery, who: str, reads: object, writes: object
):
    before = written()
    client = Client() if who == "anonymous" else client_for(people[who])
    for name, url in _backoffice_urls(delivery).items():
        expected = reads if name in READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
        if name in READ_ONLY:
            continue
        response = client.post(url, {})
        if writes == "login":
            assert response.status_code == 302, name
        else:
            assert response.status_code == (400 if writes == 200 else 403), (name, who)
    assert written() == before


@pytest.mark.parametrize(
    ("who", "status", "sees_it"),
    [
        ("anonymous", "login", False),
        ("own_contact", 200, True),
        ("other_contact", 200, False),
        ("customer_contact", 404, False),  # a contact's login without a customer
        ("member", 403, False),
        ("staff", 403, False),
        ("op_billing", 403, False),
        ("superuser", 403, False),
    ],
)
def test_the_customer_area_shows_a_contact_only_their_own_hardware(
    people: dict[str, User], clock: Clock, who: str, status: object, sees_it: bool
):
    customer, own_contact = customer_with_contact()
    _other, other_contact = customer_with_contact()
    delivery = deliveries_for_order(hardware_order(customer, 2))[0]
    users = {**people, "own_contact": own_contact, "other_contact": other_contact}
    client = Client() if who == "anonymous" else client_for(users[who])
    response = client.get(reverse("customer_area:billing:hardware"))
    if status == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
        return
    assert response.status_code == status
    if status == 200:
        order_number = delivery.order_line.order.number or ""
        assert (order_number in response.content.decode()) is sees_it


def test_the_list_shows_dates_delays_invoice_retention_and_warranty_per_item(
    clock: Clock, customer: Customer
):
    order = hardware_order(customer, 2, 1)
    first, second = deliveries_for_order(order)
    postpone_delivery(
        actor=accountant(), delivery=second, new_date=date(2027, 4, 1), reason="Engpass"
    )
    first = mark_delivered(actor=accountant(), delivery=first, on=TODAY)
    assert first.invoice is not None
    office = client_for(accountant())
    rows = {row[2]: row for row in table_rows(office.get(reverse("backoffice:billing:hardware")))}
    delivered = rows[f"2 × {first.order_line.product.name}"]
    waiting = rows[f"1 × {second.order_line.product.name}"]
    assert delivered[0] == order.number
    assert delivered[3] == "03/15/2027" and delivered[4] == "03/01/2027"
    assert delivered[6] == first.invoice.number
    assert delivered[7] == "yes, until paid"
    assert delivered[8] == "until 03/01/2028"
    assert waiting[3] == "04/01/2027" and waiting[4] == "–" and waiting[5] == "1"
    assert waiting[7] == "not delivered yet"

    csv = office.get(reverse("backoffice:billing:hardware"), {"format": "csv"})
    content = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert "yes, until paid" in content and "not delivered yet" in content

    contact_page = client_for(customer.contacts.get().user).get(
        reverse("customer_area:billing:hardware")
    )
    customer_rows = table_rows(contact_page)
    assert len(customer_rows) == 2
    assert any(
        "yes, until paid" in row and "until 03/01/2028" in row and first.invoice.number in row
        for row in customer_rows
    )
    assert any("Engpass" in cell for row in customer_rows for cell in row)


def test_the_forms_postpone_and_deliver_and_a_refusal_shows_the_message(
    clock: Clock, delivery: HardwareDelivery
):
    office = client_for(accountant())
    page = office.get(reverse("backoffice:billing:hardware_delivery", args=[delivery.pk]))
    body = page.content.decode()
    assert 'id="id_postpone-new_date"' in body and 'id="id_delivered-shipping"' in body

    url = reverse("backoffice:billing:hardware_postpone", args=[delivery.pk])
    before = written()
    refused = office.post(url, {"postpone-new_date": "2027-03-14", "postpone-reason": "x"})
    assert refused.status_code == 400
    assert "A delay moves the delivery after the date planned so far" in refused.content.decode()
    assert written() == before
    done = office.post(
        url, {"postpone-new_date": "2027-03-20", "postpone-reason": "Lieferant verspätet"}
    )
    assert done.status_code == 302
    delivery.refresh_from_db()
    assert delivery.planned_on == date(2027, 3, 20) and len(delivery.delays) == 1

    url = reverse("backoffice:billing:hardware_deliver", args=[delivery.pk])
    no_description = office.post(
        url, {"delivered-delivered_on": "2027-03-01", "delivered-fee": "5,00"}
    )
    assert no_description.status_code == 400
    assert "Say what the fee is for." in no_description.content.decode()
    delivered = office.post(
        url,
        {
            "delivered-delivered_on": "2027-03-01",
            "delivered-shipping": "24,90",
            "delivered-fee_description": "Entsorgungsgebühr",
            "delivered-fee": "3.50",
        },
    )
    assert delivered.status_code == 302
    delivery.refresh_from_db()
    assert delivery.invoice is not None
    assert delivery.invoice.net_total == Decimal("2608.40")
    page = office.get(reverse("backoffice:billing:hardware_delivery", args=[delivery.pk]))
    body = page.content.decode()
    assert delivery.invoice.number in body and 'id="id_postpone-new_date"' not in body


def test_an_order_is_planned_from_the_list(clock: Clock, customer: Customer):
    order = hardware_order(customer, 1)
    office = client_for(accountant())
    url = reverse("backoffice:billing:hardware_plan")
    unknown = office.post(url, {"plan-order": "A-99999"})
    assert unknown.status_code == 400
    response = office.post(url, {"plan-order": order.number})
    assert response.status_code == 302
    assert HardwareDelivery.objects.filter(order_line__order=order).count() == 1
    assert office.post(url, {"plan-order": order.number}).status_code == 302
    assert HardwareDelivery.objects.count() == 1
