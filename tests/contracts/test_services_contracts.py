"""A contract's life: switched on by its first invoice (P-OP-3), cancelled (P-OP-6), the
telephony consent to a renewal (P-OP-5), blocks (P-SLA-3), and who may do any of it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.utils import translation

from tests.backoffice.conftest import operator_with
from tests.contracts.factories import (
    Clock,
    audit_codes,
    contract_from,
    counts,
    customer_with_contact,
    freeze,
    letter_text,
    linked_organization,
    order_for,
    product,
)
from tests.customers.conftest import contact_of, make_customer, writer
from treffpunkt.accounts.models import ServiceHold
from treffpunkt.accounts.permissions import Capability
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    Block,
    CancellationKind,
    Channel,
    Contract,
    ContractState,
    CustomerDocument,
    EndReason,
    EventKind,
    ProductKind,
)
from treffpunkt.contracts.services import (
    OrderItem,
    PriceTerms,
    accept_order,
    add_product,
    announce_change,
    announce_transfer,
    block_service,
    cancel_in_customer_area,
    decline_order,
    give_consent_in_customer_area,
    lift_block,
    place_order,
    record_cancellation,
    record_consent,
    record_transfer_objection,
    run_contracts_day,
    set_price,
    switch_on,
)
from treffpunkt.contracts.services.letters import long_date
from treffpunkt.core.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db


def video_ending_31_december_2027(monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, Contract]:
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(
        the_clock,
        customer,
        ProductKind.VIDEO,
        start=date(2027, 1, 1),
        ordered_on=date(2026, 12, 20),
    )
    switch_on(contract=contract, invoice_number="RE-2027-00001")
    assert contract.term_end == date(2027, 12, 31)
    assert contract.notice_deadline == date(2027, 9, 30)
    return the_clock, contract


def cancel(contract: Contract, received_on: date, **fields: Any) -> Any:
    fields.setdefault("kind", CancellationKind.ORDINARY)
    fields.setdefault("channel", Channel.LETTER)
    fields.setdefault("sender", "Erika Muster, Geschäftsführerin")
    return record_cancellation(actor=writer(), contract=contract, received_on=received_on, **fields)


def en_date(day: date) -> str:
    with translation.override("en"):
        return long_date(day)


# --- switching on (P-OP-3) --------------------------------------------------------------------


def test_organization_is_held_while_the_only_video_contract_waits_and_released_by_switch_on(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    organization = linked_organization(customer)
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 20))
    accept_order(actor=writer(), order=order, start=date(2027, 2, 1))
    contract = Contract.objects.get(order=order)
    # Any sync of the holds (here: a block lifted) finds the only video contract waiting.
    block = block_service(
        actor=writer(), customer=customer, scope="calls", reason="abuse", explanation="Spam."
    )
    lift_block(actor=writer(), block=block)
    organization.refresh_from_db()
    assert organization.service_hold == ServiceHold.ALL
    the_clock.set_day(date(2027, 2, 1))

    assert switch_on(contract=contract, invoice_number="RE-2027-00001") is True

    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert contract.switched_on_by_invoice == "RE-2027-00001"
    assert contract.switched_on_at is not None
    assert [
        (e.kind, e.on)
        for e in contract.events.filter(kind__in=[EventKind.CREATED, EventKind.SWITCHED_ON])
    ] == [(EventKind.CREATED, date(2027, 1, 20)), (EventKind.SWITCHED_ON, date(2027, 2, 1))]
    assert "contracts.contract.switched_on" in audit_codes(contract)
    organization.refresh_from_db()
    assert organization.service_hold == ServiceHold.NONE


def test_accepting_the_only_video_contract_holds_the_organization_until_it_is_switched_on(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    organization = linked_organization(customer)
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 20))

    accept_order(actor=writer(), order=order, start=date(2027, 2, 1))

    organization.refresh_from_db()
    assert organization.service_hold == ServiceHold.ALL


def test_switch_on_happens_once(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2027, 1, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 2, 1))
    assert switch_on(contract=contract, invoice_number="RE-2027-00001") is True
    before = counts()

    assert switch_on(contract=contract, invoice_number="RE-2027-00002") is False

    assert counts() == before
    contract.refresh_from_db()
    assert contract.switched_on_by_invoice == "RE-2027-00001"


# --- cancellations (P-OP-6) -------------------------------------------------------------------


def test_cancellation_received_on_the_notice_deadline_ends_the_contract_at_the_term_end(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 10, 4))

    cancellation = cancel(contract, date(2027, 9, 30))

    assert cancellation.effective_on == date(2027, 12, 31)
    assert (cancellation.late, cancellation.in_doubt) == (False, False)
    contract.refresh_from_db()
    assert (contract.state, contract.ends_on, contract.end_reason) == (
        ContractState.ENDING,
        date(2027, 12, 31),
        EndReason.CANCELLED,
    )
    event = contract.events.get(kind=EventKind.CANCELLATION)
    assert event.on == date(2027, 9, 30)
    assert cancellation.confirmation is not None
    assert event.document == cancellation.confirmation
    assert CustomerDocument.objects.get(document=cancellation.confirmation).contract == contract
    text = letter_text(cancellation.confirmation)
    assert f"The contract ends at the end of {en_date(date(2027, 12, 31))}" in text
    assert "after the notice deadline" not in text
    assert audit_codes(contract)[-1] == "contracts.cancellation.recorded"


def test_cancellation_received_one_day_late_takes_effect_a_term_later(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 10, 4))

    cancellation = cancel(contract, date(2027, 10, 1))

    assert cancellation.effective_on == deadlines.renewed_term(date(2027, 12, 31)).end
    assert cancellation.effective_on == date(2028, 12, 31)
    assert (cancellation.late, cancellation.in_doubt) == (True, False)
    contract.refresh_from_db()
    assert (contract.state, contract.ends_on) == (ContractState.ENDING, date(2028, 12, 31))
    text = letter_text(cancellation.confirmation)
    assert "after the notice deadline" in text
    assert "ends at the end of the following term" in text
    assert en_date(date(2028, 12, 31)) in text


def test_cancellation_on_30_april_for_an_end_on_30_july_is_late_but_in_doubt(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2026, 7, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2026, 7, 31))
    assert contract.term_end == date(2027, 7, 30)
    the_clock.set_day(date(2027, 5, 3))

    cancellation = cancel(contract, date(2027, 4, 30))

    assert (cancellation.late, cancellation.in_doubt) == (True, True)
    assert cancellation.effective_on == date(2028, 7, 30)


def test_cancellation_for_good_cause_takes_effect_at_once_and_needs_a_reason(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 5, 12))
    before = counts()

    with pytest.raises(DomainError) as refused:
        cancel(contract, date(2027, 5, 11), kind=CancellationKind.GOOD_CAUSE, reason=" ")

    assert refused.value.code == "reason"
    assert counts() == before

    cancellation = cancel(
        contract, date(2027, 5, 11), kind=CancellationKind.GOOD_CAUSE, reason="Dienst fiel aus."
    )

    assert cancellation.effective_on == date(2027, 5, 11)
    contract.refresh_from_db()
    assert (contract.ends_on, contract.end_reason) == (date(2027, 5, 11), EndReason.GOOD_CAUSE)
    assert "takes effect at once" in letter_text(cancellation.confirmation)


def test_contact_cancels_in_the_customer_area_received_today(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, contact = customer_with_contact(display_name="Erika Muster")
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 1, 1))
    the_clock.set_day(date(2027, 9, 30), hour=23)

    cancellation = cancel_in_customer_area(actor=contact, contract=contract)

    assert cancellation.channel == Channel.CUSTOMER_AREA
    assert cancellation.received_on == date(2027, 9, 30)
    assert cancellation.sender == "Erika Muster"
    assert cancellation.effective_on == date(2027, 12, 31)
    assert cancellation.recorded_by == contact


def test_contact_of_another_customer_cannot_cancel(monkeypatch: pytest.MonkeyPatch):
    _clock, contract = video_ending_31_december_2027(monkeypatch)
    stranger = contact_of(make_customer(legal_name="Andere GmbH"))
    before = counts()

    with pytest.raises(NotAllowed):
        cancel_in_customer_area(actor=stranger, contract=contract)

    assert counts() == before


def test_second_cancellation_that_changes_nothing_is_refused(monkeypatch: pytest.MonkeyPatch):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 9, 20))
    cancel(contract, date(2027, 9, 15))
    before = counts()

    with pytest.raises(DomainError) as refused:
        cancel(contract, date(2027, 9, 20), channel=Channel.EMAIL)

    assert refused.value.code == "already_ending"
    assert counts() == before


def test_cancellation_dated_in_the_future_is_refused(monkeypatch: pytest.MonkeyPatch):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 9, 20))
    before = counts()

    with pytest.raises(DomainError) as refused:
        cancel(contract, date(2027, 9, 21))

    assert refused.value.code == "received_on"
    assert counts() == before


def test_cancellation_needs_its_sender(monkeypatch: pytest.MonkeyPatch):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 9, 20))
    before = counts()

    with pytest.raises(DomainError):
        cancel(contract, date(2027, 9, 20), sender=" ")

    assert counts() == before


def test_ordinary_cancellation_of_telephony_ends_the_current_term(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 1))
    the_clock.set_day(date(2027, 12, 1))

    cancellation = cancel(contract, date(2027, 12, 1))

    assert (cancellation.effective_on, cancellation.late) == (date(2027, 12, 31), False)


# --- telephony consent (P-OP-5) ---------------------------------------------------------------


def telephony_ending_31_december_2027(monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, Contract]:
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 1))
    switch_on(contract=contract, invoice_number="RE-2027-00001")
    # Six weeks before the end: Friday 19 November 2027.
    assert contract.consent_due == date(2027, 11, 19)
    return the_clock, contract


def test_consent_given_renews_the_telephony_contract_by_a_year_at_its_end(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = telephony_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 11, 25))

    record_consent(
        actor=writer(),
        contract=contract,
        received_on=date(2027, 11, 24),
        channel=Channel.EMAIL,
        sender="Erika Muster",
    )

    contract.refresh_from_db()
    assert contract.consent_given_on == date(2027, 11, 24)
    assert contract.events.filter(kind=EventKind.CONSENT_GIVEN, on=date(2027, 11, 24)).exists()
    the_clock.set_day(date(2028, 1, 1), hour=5)
    run_contracts_day()
    contract.refresh_from_db()
    assert (contract.state, contract.term_start, contract.term_end) == (
        ContractState.ACTIVE,
        date(2028, 1, 1),
        date(2028, 12, 31),
    )
    # The new term needs a new consent.
    assert contract.consent_given_on is None
    assert contract.consent_due == deadlines.consent_request_due(date(2028, 12, 31))


def test_contact_consents_in_the_customer_area(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 1))
    the_clock.set_day(date(2027, 12, 31))

    give_consent_in_customer_area(actor=contact, contract=contract)

    contract.refresh_from_db()
    assert contract.consent_given_on == date(2027, 12, 31)


def test_without_consent_the_telephony_contract_ends_at_its_term_end_with_a_letter(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = telephony_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2028, 1, 1), hour=5)

    run_contracts_day()

    contract.refresh_from_db()
    assert (contract.state, contract.ends_on, contract.end_reason) == (
        ContractState.ENDED,
        date(2027, 12, 31),
        EndReason.NO_CONSENT,
    )
    assert contract.events.filter(kind=EventKind.ENDED, on=date(2027, 12, 31)).exists()
    letter = CustomerDocument.objects.filter(contract=contract).latest("pk").document
    assert "did not receive your consent" in letter_text(letter)


def test_consent_after_the_end_is_refused(monkeypatch: pytest.MonkeyPatch):
    the_clock, contract = telephony_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2028, 1, 1), hour=4)  # before the daily run
    before = counts()

    with pytest.raises(DomainError) as refused:
        record_consent(
            actor=writer(),
            contract=contract,
            received_on=date(2028, 1, 1),
            channel=Channel.LETTER,
            sender="Erika Muster",
        )

    assert refused.value.code == "consent_late"
    assert counts() == before


def test_video_contract_needs_no_consent(monkeypatch: pytest.MonkeyPatch):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    the_clock.set_day(date(2027, 11, 1))

    with pytest.raises(DomainError) as refused:
        record_consent(
            actor=writer(),
            contract=contract,
            received_on=date(2027, 11, 1),
            channel=Channel.LETTER,
            sender="Erika Muster",
        )

    assert refused.value.code == "not_telephony"


# --- blocks (P-SLA-3) -------------------------------------------------------------------------


def test_blocking_booking_holds_booking_on_the_customers_organizations(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = video_ending_31_december_2027(monkeypatch)
    customer = contract.customer
    organizations = [linked_organization(customer), linked_organization(customer)]
    the_clock.set_day(date(2027, 3, 3))
    letters_before = CustomerDocument.objects.filter(customer=customer).count()

    block = block_service(
        actor=writer(),
        customer=customer,
        scope="booking",
        reason="abuse",
        explanation="Massenbuchungen durch ein Skript.",
    )

    for organization in organizations:
        organization.refresh_from_db()
        assert organization.service_hold == ServiceHold.BOOKING
    event = contract.events.get(kind=EventKind.BLOCKED)
    assert event.on == date(2027, 3, 3)
    assert "Massenbuchungen durch ein Skript." in event.summary
    assert audit_codes(customer)[-1] == "contracts.block.started"
    assert CustomerDocument.objects.filter(customer=customer).count() == letters_before + 1
    letter = CustomerDocument.objects.filter(customer=customer).latest("pk").document
    text = letter_text(letter)
    assert "Massenbuchungen durch ein Skript." in text
    assert "No data is deleted" in text

    calls = block_service(
        actor=writer(), customer=customer, scope="calls", reason="legal", explanation="Anordnung."
    )
    for organization in organizations:
        organization.refresh_from_db()
        assert organization.service_hold == ServiceHold.ALL

    lift_block(actor=writer(), block=calls, note="Anordnung aufgehoben.")
    for organization in organizations:
        organization.refresh_from_db()
        assert organization.service_hold == ServiceHold.BOOKING

    lift_block(actor=writer(), block=block)
    for organization in organizations:
        organization.refresh_from_db()
        assert organization.service_hold == ServiceHold.NONE
    assert Block.objects.filter(customer=customer).count() == 2  # nothing deleted
    assert list(
        contract.events.filter(kind__in=[EventKind.BLOCKED, EventKind.UNBLOCKED]).values_list(
            "kind", flat=True
        )
    ) == [
        EventKind.BLOCKED,
        EventKind.BLOCKED,
        EventKind.UNBLOCKED,
        EventKind.UNBLOCKED,
    ]
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert audit_codes(customer)[-1] == "contracts.block.lifted"


def test_the_same_part_cannot_be_blocked_twice_nor_a_block_lifted_twice(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 3))
    customer, _contact = customer_with_contact()
    block = block_service(
        actor=writer(), customer=customer, scope="all", reason="default", explanation="Verzug."
    )
    before = counts()
    with pytest.raises(DomainError):
        block_service(
            actor=writer(), customer=customer, scope="all", reason="default", explanation="Verzug."
        )
    assert counts() == before

    lift_block(actor=writer(), block=block)
    before = counts()
    with pytest.raises(DomainError):
        lift_block(actor=writer(), block=block)
    assert counts() == before


def test_a_block_needs_an_explanation(monkeypatch: pytest.MonkeyPatch):
    freeze(monkeypatch, date(2027, 3, 3))
    customer, _contact = customer_with_contact()
    before = counts()

    with pytest.raises(DomainError):
        block_service(
            actor=writer(), customer=customer, scope="all", reason="abuse", explanation=""
        )

    assert counts() == before


# --- who may act --------------------------------------------------------------------------------


@pytest.fixture
def things(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A video and a telephony contract with a transfer each, an open order and a block."""
    the_clock = freeze(monkeypatch, date(2027, 1, 4))
    customer, _contact = customer_with_contact()
    video = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 1, 4))
    phone = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 4))
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 4))
    transfer = announce_transfer(
        actor=writer(),
        contract=video,
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 1, 4),
        effective_on=date(2027, 3, 1),
    )
    block = block_service(
        actor=writer(), customer=customer, scope="calls", reason="abuse", explanation="Spam."
    )
    return {
        "customer": customer,
        "video": video,
        "phone": phone,
        "order": order,
        "transfer": transfer,
        "block": block,
        "product": order.lines.get().product,
    }


SERVICES: dict[str, Callable[[Any, dict[str, Any]], object]] = {
    "add_product": lambda actor, t: add_product(
        actor=actor,
        code="neu",
        kind="video",
        name="Neu",
        price=PriceTerms(monthly_fee="1.00"),
        valid_from=date(2027, 1, 4),
    ),
    "set_price": lambda actor, t: set_price(
        actor=actor,
        product=t["product"],
        valid_from=date(2027, 2, 1),
        price=PriceTerms(monthly_fee="2.00"),
    ),
    "place_order": lambda actor, t: place_order(
        actor=actor,
        customer=t["customer"],
        items=[OrderItem(t["product"])],
        submission_key=uuid.uuid4(),
        channel="email",
    ),
    "accept_order": lambda actor, t: accept_order(
        actor=actor, order=t["order"], start=date(2027, 2, 1)
    ),
    "decline_order": lambda actor, t: decline_order(actor=actor, order=t["order"], reason="Nein."),
    "record_cancellation": lambda actor, t: record_cancellation(
        actor=actor,
        contract=t["video"],
        kind="good_cause",
        received_on=date(2027, 1, 4),
        channel="letter",
        sender="Erika",
        reason="Grund.",
    ),
    "cancel_in_customer_area": lambda actor, t: cancel_in_customer_area(
        actor=actor, contract=t["video"]
    ),
    "record_consent": lambda actor, t: record_consent(
        actor=actor, contract=t["phone"], received_on=date(2027, 1, 4), channel="email", sender="E"
    ),
    "give_consent_in_customer_area": lambda actor, t: give_consent_in_customer_area(
        actor=actor, contract=t["phone"]
    ),
    "announce_change": lambda actor, t: announce_change(
        actor=actor,
        contract=t["video"],
        subject="prices",
        classification="other",
        description="Teurer.",
        received_on=date(2027, 1, 4),
        effective_on=date(2027, 2, 15),
    ),
    "announce_transfer": lambda actor, t: announce_transfer(
        actor=actor,
        contract=t["phone"],
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 1, 4),
        effective_on=date(2027, 3, 1),
    ),
    "record_transfer_objection": lambda actor, t: record_transfer_objection(
        actor=actor, transfer=t["transfer"], received_on=date(2027, 1, 4), channel="letter"
    ),
    "block_service": lambda actor, t: block_service(
        actor=actor, customer=t["customer"], scope="booking", reason="abuse", explanation="X."
    ),
    "lift_block": lambda actor, t: lift_block(actor=actor, block=t["block"]),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_refuses_anyone_but_an_operator_with_customers_and_writes_nothing(
    things: dict[str, Any], service: str
):
    refused = [
        operator_with(None),
        operator_with(Capability.BILLING),
        operator_with(Capability.SUPPORT),
        None,
        # A contact acts in the customer area, and only for its own customer.
        contact_of(make_customer(legal_name="Fremd GmbH")),
    ]
    before = counts()

    for actor in refused:
        with pytest.raises(NotAllowed):
            SERVICES[service](actor, things)

    assert counts() == before


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_works_for_an_operator_with_the_customers_capability(
    things: dict[str, Any], service: str
):
    actor = writer()
    if service in {"cancel_in_customer_area", "give_consent_in_customer_area"}:
        actor = contact_of(things["customer"])

    SERVICES[service](actor, things)
