"""Orders (§ 2 of the terms, P-OP-2): placed by the operator or a customer's contact, accepted
in writing within two weeks of receipt, declined with a reason."""

from __future__ import annotations

import base64
import uuid
from datetime import date

import pytest
from django.utils import translation

from tests.contracts.factories import (
    audit_codes,
    counts,
    customer_with_contact,
    freeze,
    letter_text,
    order_for,
    product,
)
from tests.customers.conftest import contact_of, make_customer, writer
from treffpunkt.contracts.models import (
    Channel,
    Contract,
    ContractState,
    CustomerDocument,
    EventKind,
    OrderState,
    ProductKind,
)
from treffpunkt.contracts.services import OrderItem, accept_order, decline_order, place_order
from treffpunkt.contracts.services.letters import long_date
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db


def test_operator_enters_an_order_with_the_day_it_arrived(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 1, 18))
    customer, _contact = customer_with_contact()
    video = product(ProductKind.VIDEO)

    order = order_for(customer, video, received_on=date(2027, 1, 11), channel=Channel.LETTER)

    assert order.number == f"A-{order.pk:05d}"
    assert order.channel == Channel.LETTER
    assert order.received_on == date(2027, 1, 11)
    assert order.accept_by == date(2027, 1, 25)  # two weeks later, a Monday
    assert order.state == OrderState.RECEIVED
    assert [(line.product, line.quantity) for line in order.lines.all()] == [(video, 1)]
    assert audit_codes(order) == ["contracts.order.received"]


@pytest.mark.parametrize(
    ("received", "accept_by"),
    [
        (date(2027, 1, 16), date(2027, 2, 1)),  # 30 January is a Saturday
        (date(2027, 3, 12), date(2027, 3, 30)),  # 26 March Good Friday, 29 March Easter Monday
        (date(2027, 12, 11), date(2027, 12, 27)),  # 25 December is a holiday and a Saturday
    ],
)
def test_acceptance_deadline_is_two_weeks_after_receipt_moved_past_weekend_and_holiday(
    monkeypatch: pytest.MonkeyPatch, received: date, accept_by: date
):
    freeze(monkeypatch, received)
    customer, _contact = customer_with_contact()

    order = order_for(customer, product(ProductKind.VIDEO), received_on=received)

    assert order.accept_by == accept_by


def test_customer_contact_places_an_order_received_today_in_the_customer_area(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 12))
    customer, contact = customer_with_contact()

    order = place_order(
        actor=contact,
        customer=customer,
        items=[OrderItem(product(ProductKind.TELEPHONY), 5)],
        submission_key=uuid.uuid4(),
        channel=Channel.LETTER,  # ignored: a contact orders in the customer area
        received_on=date(2027, 3, 1),  # ignored: received today
    )

    assert order.channel == Channel.CUSTOMER_AREA
    assert order.received_on == date(2027, 3, 12)
    assert order.accept_by == date(2027, 3, 30)
    assert order.placed_by == contact


def test_contact_of_another_customer_cannot_order_for_this_one(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 12))
    customer, _contact = customer_with_contact()
    stranger = contact_of(make_customer(legal_name="Andere GmbH"))
    video = product(ProductKind.VIDEO)
    before = counts()

    with pytest.raises(NotAllowed):
        place_order(
            actor=stranger, customer=customer, items=[OrderItem(video)], submission_key=uuid.uuid4()
        )

    assert counts() == before


def test_the_same_form_sent_twice_records_one_order_and_says_so(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 12))
    customer, contact = customer_with_contact()
    video = product(ProductKind.VIDEO)
    key = uuid.uuid4()
    first = place_order(
        actor=contact, customer=customer, items=[OrderItem(video)], submission_key=key
    )
    before = counts()

    with pytest.raises(DomainError) as refused:
        place_order(actor=contact, customer=customer, items=[OrderItem(video)], submission_key=key)

    assert refused.value.code == "duplicate_order"
    assert first.number is not None
    assert first.number in str(refused.value)
    assert "not recorded twice" in str(refused.value) or "nicht doppelt" in str(refused.value)
    assert counts() == before


def test_an_order_cannot_arrive_in_the_future(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 12))
    customer, _contact = customer_with_contact()
    video = product(ProductKind.VIDEO)
    before = counts()

    with pytest.raises(DomainError) as refused:
        order_for(customer, video, received_on=date(2027, 3, 13))

    assert refused.value.code == "received_on"
    assert counts() == before


def test_acceptance_after_the_two_weeks_is_refused_because_the_order_lapsed(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2027, 1, 16))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 16))
    the_clock.set_day(date(2027, 2, 2))  # accept_by was Monday 1 February
    before = counts()

    with pytest.raises(DomainError) as refused:
        accept_order(actor=writer(), order=order, start=date(2027, 3, 1))

    assert refused.value.code == "order_lapsed"
    assert counts() == before
    order.refresh_from_db()
    assert order.state == OrderState.RECEIVED  # the daily run lets it lapse with a letter


def test_acceptance_on_the_last_day_moved_past_the_weekend_is_in_time(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2027, 1, 16))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 16))
    the_clock.set_day(date(2027, 2, 1))

    accepted = accept_order(actor=writer(), order=order, start=date(2027, 3, 1))

    assert accepted.state == OrderState.ACCEPTED


@pytest.mark.parametrize(
    ("start", "term_end"),
    [
        (date(2027, 1, 31), date(2028, 1, 30)),
        (date(2027, 3, 1), date(2028, 2, 29)),
        (date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_acceptance_makes_a_waiting_contract_per_service_line_running_one_year(
    monkeypatch: pytest.MonkeyPatch, start: date, term_end: date
):
    day = date(start.year, 1, 20)
    freeze(monkeypatch, day)
    customer, _contact = customer_with_contact()
    video, phone = product(ProductKind.VIDEO), product(ProductKind.TELEPHONY)
    order = place_order(
        actor=writer(),
        customer=customer,
        items=[OrderItem(video, 1), OrderItem(phone, 5)],
        submission_key=uuid.uuid4(),
        channel=Channel.EMAIL,
        received_on=day,
    )

    accept_order(actor=writer(), order=order, start=start)

    contracts = list(Contract.objects.filter(order=order).order_by("pk"))
    assert [(c.product, c.kind, c.quantity) for c in contracts] == [
        (video, ProductKind.VIDEO, 1),
        (phone, ProductKind.TELEPHONY, 5),
    ]
    for contract in contracts:
        assert contract.state == ContractState.WAITING
        assert contract.number == f"V-{contract.pk:05d}"
        assert (contract.start, contract.term_start, contract.term_end) == (start, start, term_end)
        assert [e.kind for e in contract.events.all()] == [EventKind.CREATED]
    order.refresh_from_db()
    assert (order.state, order.confirmed_start, order.delivery_date) == (
        OrderState.ACCEPTED,
        start,
        None,
    )


def test_video_contract_from_31_january_2027_ends_30_january_2028_with_notice_by_30_october(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 20))

    accept_order(actor=writer(), order=order, start=date(2027, 1, 31))

    contract = Contract.objects.get(order=order)
    assert contract.term_end == date(2028, 1, 30)
    assert contract.notice_deadline == date(2027, 10, 30)
    assert contract.consent_due is None


def test_telephony_contract_stores_when_the_consent_request_is_due(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.TELEPHONY), received_on=date(2027, 1, 20))

    accept_order(actor=writer(), order=order, start=date(2027, 1, 31))

    contract = Contract.objects.get(order=order)
    # Ends Sunday 30 January 2028; 42 days before is Sunday 19 December 2027 → Friday 17th.
    assert contract.term_end == date(2028, 1, 30)
    assert contract.consent_due == date(2027, 12, 17)
    assert contract.notice_deadline is None


def test_acceptance_of_an_order_with_hardware_needs_the_delivery_date(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    order = order_for(
        customer,
        product(ProductKind.VIDEO),
        product(ProductKind.HARDWARE),
        received_on=date(2027, 3, 1),
    )
    before = counts()

    with pytest.raises(DomainError) as refused:
        accept_order(actor=writer(), order=order, start=date(2027, 4, 1))

    assert refused.value.code == "delivery_date"
    assert counts() == before

    accept_order(
        actor=writer(), order=order, start=date(2027, 4, 1), delivery_date=date(2027, 3, 20)
    )

    order.refresh_from_db()
    assert order.delivery_date == date(2027, 3, 20)
    # Hardware is bought, not a contract: one contract, for the video line.
    assert [c.kind for c in Contract.objects.filter(order=order)] == [ProductKind.VIDEO]
    with translation.override("en"):
        delivery = long_date(date(2027, 3, 20))
    assert f"We deliver the hardware on {delivery}" in letter_text(
        CustomerDocument.objects.get(order=order).document
    )


def test_acceptance_writes_the_order_confirmation_and_mails_it_to_every_contact(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, first = customer_with_contact()
    second = contact_of(customer, preferred_language="de")
    order = order_for(
        customer, product(ProductKind.VIDEO, "Videoberatung"), received_on=date(2027, 1, 20)
    )
    mails_before = OutboxMail.objects.count()

    accept_order(actor=writer(), order=order, start=date(2027, 1, 31))

    contract = Contract.objects.get(order=order)
    link = CustomerDocument.objects.get(order=order)
    assert link.customer == customer
    assert link.contract is None
    document = link.document
    assert document.sent_at is not None
    text = letter_text(document)
    with translation.override("en"):
        end = long_date(date(2028, 1, 30))
    assert f"Order confirmation {order.number}" in text
    assert f"Contract {contract.number} (Videoberatung)" in text
    assert f"until {end}" in text
    assert contract.events.get().document == document
    mails = list(OutboxMail.objects.order_by("pk")[mails_before:])
    assert sorted(mail.to_address for mail in mails) == sorted([first.email, second.email])
    for mail in mails:
        assert len(mail.attachments) == 1
        attachment = mail.attachments[0]
        assert attachment["mimetype"] == "application/pdf"
        assert base64.b64decode(attachment["content"]).startswith(b"%PDF")
    assert audit_codes(order) == ["contracts.order.received", "contracts.order.accepted"]


def test_an_order_is_accepted_only_once(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 20))
    accept_order(actor=writer(), order=order, start=date(2027, 2, 1))
    before = counts()

    with pytest.raises(DomainError) as refused:
        accept_order(actor=writer(), order=order, start=date(2027, 2, 1))

    assert refused.value.code == "order_state"
    assert counts() == before


def test_decline_needs_a_reason(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 20))
    before = counts()

    with pytest.raises(DomainError) as refused:
        decline_order(actor=writer(), order=order, reason="  ")

    assert refused.value.code == "reason"
    assert counts() == before


def test_decline_with_a_reason_sends_a_letter_that_gives_it(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 20))

    decline_order(actor=writer(), order=order, reason="Keine Bonität nachgewiesen.")

    order.refresh_from_db()
    assert order.state == OrderState.DECLINED
    assert not Contract.objects.filter(order=order).exists()
    letter = CustomerDocument.objects.get(order=order).document
    assert "Keine Bonität nachgewiesen." in letter_text(letter)
    assert audit_codes(order)[-1] == "contracts.order.declined"
