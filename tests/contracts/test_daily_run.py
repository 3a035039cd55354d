"""The daily contract run: renewals, ends, lapsed orders, changes and transfers in effect,
consent requests and reminders; a second run on the same day changes nothing, and a run after a
pause catches up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from tests.contracts.factories import (
    Clock,
    audit_codes,
    contract_from,
    customer_with_contact,
    freeze,
    letter_text,
    order_for,
    product,
    run_snapshot,
)
from tests.customers.conftest import writer
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    ChangeNotice,
    Contract,
    ContractState,
    CustomerDocument,
    EndReason,
    EventKind,
    OrderState,
    ProductKind,
    RunRecord,
    Transfer,
)
from treffpunkt.contracts.services import (
    announce_change,
    announce_transfer,
    record_cancellation,
    record_consent,
    run_contracts_day,
    switch_on,
)
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db


def run_on(the_clock: Clock, day: date) -> dict[str, int]:
    """The run as the scheduler starts it: 05:30 in Berlin on ``day``."""
    the_clock.set_day(day, hour=5)
    return run_contracts_day()


def test_video_contract_started_29_february_2028_renews_on_1_march_2029(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2028, 2, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2028, 2, 29))
    switch_on(contract=contract, invoice_number="RE-2028-00001")
    assert contract.term_end == date(2029, 2, 28)

    assert run_on(the_clock, date(2029, 2, 28)).get("contracts_renewed", 0) == 0
    counted = run_on(the_clock, date(2029, 3, 1))

    assert counted["contracts_renewed"] == 1
    contract.refresh_from_db()
    assert (contract.state, contract.term_start, contract.term_end) == (
        ContractState.ACTIVE,
        date(2029, 3, 1),
        date(2030, 2, 28),
    )
    assert contract.notice_deadline == date(2029, 11, 30)
    renewed = contract.events.get(kind=EventKind.RENEWED)
    assert renewed.on == date(2029, 3, 1)
    assert "contracts.contract.renewed" in audit_codes(contract)
    assert RunRecord.objects.filter(day=date(2029, 3, 1)).exists()


def test_a_cancelled_contract_ends_the_day_after_its_last_day(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 1, 1))
    switch_on(contract=contract, invoice_number="RE-2027-00001")
    the_clock.set_day(date(2027, 9, 30))
    record_cancellation(
        actor=writer(),
        contract=contract,
        kind="ordinary",
        received_on=date(2027, 9, 30),
        channel="letter",
        sender="Erika Muster",
    )

    run_on(the_clock, date(2027, 12, 31))
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING

    counted = run_on(the_clock, date(2028, 1, 1))

    assert counted["contracts_ended"] == 1
    contract.refresh_from_db()
    assert (contract.state, contract.ends_on, contract.end_reason) == (
        ContractState.ENDED,
        date(2027, 12, 31),
        EndReason.CANCELLED,
    )
    assert contract.events.get(kind=EventKind.ENDED).on == date(2027, 12, 31)
    assert contract.term_end == date(2027, 12, 31)  # not renewed


def test_late_cancelled_contract_renews_once_more_and_then_ends(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 1, 1))
    the_clock.set_day(date(2027, 10, 1))
    record_cancellation(
        actor=writer(),
        contract=contract,
        kind="ordinary",
        received_on=date(2027, 10, 1),
        channel="letter",
        sender="Erika Muster",
    )

    run_on(the_clock, date(2028, 1, 1))
    contract.refresh_from_db()
    assert (contract.state, contract.term_end) == (ContractState.ENDING, date(2028, 12, 31))

    run_on(the_clock, date(2029, 1, 1))
    contract.refresh_from_db()
    assert (contract.state, contract.ends_on) == (ContractState.ENDED, date(2028, 12, 31))


def test_orders_past_their_acceptance_deadline_lapse_with_a_letter(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2027, 1, 16))
    customer, _contact = customer_with_contact()
    order = order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 1, 16))
    assert order.accept_by == date(2027, 2, 1)

    run_on(the_clock, date(2027, 2, 1))
    order.refresh_from_db()
    assert order.state == OrderState.RECEIVED

    counted = run_on(the_clock, date(2027, 2, 2))

    assert counted["orders_lapsed"] == 1
    order.refresh_from_db()
    assert order.state == OrderState.LAPSED
    assert not Contract.objects.filter(order=order).exists()
    letter = CustomerDocument.objects.get(order=order).document
    assert "it has lapsed" in letter_text(letter)
    assert audit_codes(order)[-1] == "contracts.order.lapsed"


def test_announced_changes_and_transfers_come_into_effect_on_their_day(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2027, 1, 4))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 1, 4))
    the_clock.set_day(date(2027, 4, 1))
    notice = announce_change(
        actor=writer(),
        contract=contract,
        subject="prices",
        classification="other",
        description="Die Monatsgebühr steigt auf 259,00 EUR.",
        received_on=date(2027, 4, 1),
        effective_on=date(2027, 5, 2),
    )
    transfer = announce_transfer(
        actor=writer(),
        contract=contract,
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 4, 1),
        effective_on=date(2027, 5, 14),
    )

    run_on(the_clock, date(2027, 5, 1))
    notice.refresh_from_db()
    assert not notice.in_effect

    assert run_on(the_clock, date(2027, 5, 2))["changes_in_effect"] == 1
    notice.refresh_from_db()
    transfer.refresh_from_db()
    assert (notice.in_effect, transfer.in_effect) == (True, False)
    assert contract.events.get(kind=EventKind.CHANGE_EFFECTIVE).on == date(2027, 5, 2)

    assert run_on(the_clock, date(2027, 5, 14))["changes_in_effect"] == 1
    transfer.refresh_from_db()
    assert transfer.in_effect
    assert contract.events.get(kind=EventKind.TRANSFER_EFFECTIVE).on == date(2027, 5, 14)


def test_consent_request_goes_out_lead_days_before_it_is_due_and_the_reminder_later(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 1))
    switch_on(contract=contract, invoice_number="RE-2027-00001")
    due = contract.consent_due
    assert due == date(2027, 11, 19)  # six weeks before 31 December, a Friday
    ask_on = due - timedelta(days=settings.CONTRACTS_CONSENT_LEAD_DAYS)
    remind_on = ask_on + timedelta(days=settings.CONTRACTS_CONSENT_REMINDER_DAYS)

    assert run_on(the_clock, ask_on - timedelta(days=1)).get("consents_requested", 0) == 0
    assert run_on(the_clock, ask_on)["consents_requested"] == 1
    contract.refresh_from_db()
    assert contract.consent_requested_on == ask_on
    assert contract.events.filter(kind=EventKind.CONSENT_REQUESTED).count() == 1
    # By e-mail to every contact, with the link to consent in the customer area.
    request = OutboxMail.objects.get(template="contracts/consent_request")
    assert "express consent" in request.body_text
    assert reverse("customer_area:contracts:contract", args=[contract.pk]) in request.body_text

    assert run_on(the_clock, remind_on - timedelta(days=1)).get("consents_reminded", 0) == 0
    assert run_on(the_clock, remind_on)["consents_reminded"] == 1
    contract.refresh_from_db()
    assert contract.consent_reminded_on == remind_on
    assert contract.events.filter(kind=EventKind.CONSENT_REMINDED).count() == 1
    assert remind_on <= due


def test_no_consent_request_once_consent_is_given(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 1))
    the_clock.set_day(date(2027, 10, 1))
    record_consent(
        actor=writer(),
        contract=contract,
        received_on=date(2027, 10, 1),
        channel="email",
        sender="Erika Muster",
    )

    run_on(the_clock, date(2027, 11, 5))

    contract.refresh_from_db()
    assert contract.consent_requested_on is None
    assert not contract.events.filter(kind=EventKind.CONSENT_REQUESTED).exists()


def everything_due_on_1_january_2028(the_clock: Clock) -> None:
    """A renewal, an end, a lapse, a change and a transfer in effect, a consent request."""
    customer, _contact = customer_with_contact()
    contract_from(
        the_clock,
        customer,
        ProductKind.VIDEO,
        start=date(2027, 1, 1),
        ordered_on=date(2026, 12, 20),
    )
    cancelled = contract_from(
        the_clock,
        customer,
        ProductKind.VIDEO,
        start=date(2027, 1, 1),
        ordered_on=date(2026, 12, 20),
    )
    telephony = contract_from(
        the_clock,
        customer,
        ProductKind.TELEPHONY,
        start=date(2027, 2, 15),
        ordered_on=date(2026, 12, 20),
    )
    the_clock.set_day(date(2027, 9, 1))
    record_cancellation(
        actor=writer(),
        contract=cancelled,
        kind="ordinary",
        received_on=date(2027, 9, 1),
        channel="letter",
        sender="Erika Muster",
    )
    the_clock.set_day(date(2027, 11, 15))
    announce_change(
        actor=writer(),
        contract=telephony,
        subject="service",
        classification="administrative",
        description="Neue Support-Adresse.",
        received_on=date(2027, 11, 15),
        effective_on=date(2028, 1, 1),
    )
    announce_transfer(
        actor=writer(),
        contract=telephony,
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 11, 15),
        effective_on=date(2028, 1, 1),
    )
    the_clock.set_day(date(2027, 12, 15))
    order_for(customer, product(ProductKind.VIDEO), received_on=date(2027, 12, 15))


def test_running_twice_on_the_same_day_changes_nothing(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    everything_due_on_1_january_2028(the_clock)

    # 15 December + two weeks = 29 December: the order lapses on the 30th.
    first = run_on(the_clock, date(2028, 1, 1))
    assert first == {
        "orders_lapsed": 1,
        "changes_in_effect": 2,
        "consents_requested": 1,  # the telephony contract ends 14 February 2028
        "contracts_renewed": 1,
        "contracts_ended": 1,
    }
    after_first = run_snapshot()

    second = run_on(the_clock, date(2028, 1, 1))

    assert second == {"changes_in_effect": 0}
    assert run_snapshot() == after_first
    assert RunRecord.objects.filter(day=date(2028, 1, 1)).count() == 1
    assert ChangeNotice.objects.get().in_effect
    assert Transfer.objects.get().in_effect


def test_a_run_after_a_long_pause_renews_as_often_as_needed(monkeypatch: pytest.MonkeyPatch):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.VIDEO, start=date(2027, 1, 1))

    counted = run_on(the_clock, date(2030, 1, 5))

    assert counted["contracts_renewed"] == 1
    contract.refresh_from_db()
    assert (contract.term_start, contract.term_end) == (date(2030, 1, 1), date(2030, 12, 31))
    assert contract.notice_deadline == date(2030, 9, 30)
    assert [e.on for e in contract.events.filter(kind=EventKind.RENEWED)] == [
        date(2028, 1, 1),
        date(2029, 1, 1),
        date(2030, 1, 1),
    ]
    assert audit_codes(contract).count("contracts.contract.renewed") == 3


def test_a_run_after_a_long_pause_renews_telephony_only_for_the_term_consented_to(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock = freeze(monkeypatch, date(2026, 12, 20))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, ProductKind.TELEPHONY, start=date(2027, 1, 1))
    the_clock.set_day(date(2027, 11, 24))
    record_consent(
        actor=writer(),
        contract=contract,
        received_on=date(2027, 11, 24),
        channel="email",
        sender="Erika Muster",
    )

    run_on(the_clock, date(2029, 1, 5))

    contract.refresh_from_db()
    # The consent renewed 2028; nobody consented to 2029.
    assert contract.events.filter(kind=EventKind.RENEWED).count() == 1
    assert (contract.state, contract.ends_on, contract.end_reason) == (
        ContractState.ENDED,
        date(2028, 12, 31),
        EndReason.NO_CONSENT,
    )
    assert contract.term_end == deadlines.renewed_term(date(2027, 12, 31)).end
