"""Change notices and transfers (§ 11 (IV), § 20 (III), (IV), § 21 (I), § 23 (I); P-OP-7)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from tests.contracts.factories import (
    Clock,
    audit_codes,
    contract_from,
    counts,
    customer_with_contact,
    freeze,
    letter_text,
)
from tests.customers.conftest import writer
from treffpunkt.contracts.models import (
    CancellationKind,
    ChangeClass,
    ChangeNotice,
    Channel,
    Contract,
    ContractState,
    CustomerDocument,
    EndReason,
    EventKind,
    ProductKind,
    Transfer,
)
from treffpunkt.contracts.services import (
    announce_change,
    announce_transfer,
    record_cancellation,
    record_transfer_objection,
)
from treffpunkt.contracts.services.letters import long_date
from treffpunkt.core.errors import DomainError

pytestmark = pytest.mark.django_db


def running(monkeypatch: pytest.MonkeyPatch, kind: str, today: date) -> tuple[Clock, Contract]:
    """A contract of ``kind`` from 4 January 2027; the clock then stands on ``today``."""
    the_clock = freeze(monkeypatch, date(2027, 1, 4))
    customer, _contact = customer_with_contact()
    contract = contract_from(the_clock, customer, kind, start=date(2027, 1, 4))
    the_clock.set_day(today)
    return the_clock, contract


def change(
    contract: Contract, received_on: date, effective_on: date, **fields: str
) -> ChangeNotice:
    fields.setdefault("subject", "prices")
    fields.setdefault("classification", ChangeClass.OTHER)
    fields.setdefault("description", "Die Monatsgebühr steigt auf 259,00 EUR.")
    return announce_change(
        actor=writer(),
        contract=contract,
        received_on=received_on,
        effective_on=effective_on,
        **fields,
    )


def special_cancellation(contract: Contract, received_on: date, kind: str) -> object:
    return record_cancellation(
        actor=writer(),
        contract=contract,
        kind=kind,
        received_on=received_on,
        channel=Channel.LETTER,
        sender="Erika Muster",
    )


def en_date(day: date) -> str:
    with translation.override("en"):
        return long_date(day)


# --- the window of § 11 (IV) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "days"),
    [(date(2027, 4, 30), 29), (date(2027, 5, 1), 30), (date(2027, 6, 2), 62)],
)
def test_change_outside_one_to_two_months_after_the_notice_is_refused_naming_the_window(
    monkeypatch: pytest.MonkeyPatch, effective: date, days: int
):
    _clock, contract = running(monkeypatch, ProductKind.VIDEO, date(2027, 4, 1))
    before = counts()

    with translation.override("en"), pytest.raises(DomainError) as refused:
        change(contract, date(2027, 4, 1), effective)

    assert refused.value.code == "change_window"
    message = str(refused.value)
    assert f"from {en_date(date(2027, 5, 2))} to {en_date(date(2027, 6, 1))}" in message
    assert f"{days} days after the notice" in message
    assert counts() == before


@pytest.mark.parametrize("effective", [date(2027, 5, 2), date(2027, 6, 1)])
def test_change_within_the_window_is_announced(monkeypatch: pytest.MonkeyPatch, effective: date):
    _clock, contract = running(monkeypatch, ProductKind.VIDEO, date(2027, 4, 1))

    notice = change(contract, date(2027, 4, 1), effective)

    assert (notice.received_on, notice.effective_on, notice.in_effect) == (
        date(2027, 4, 1),
        effective,
        False,
    )
    assert contract.events.get(kind=EventKind.CHANGE_NOTICE).document == notice.letter
    assert audit_codes(contract)[-1] == "contracts.change.announced"


def test_a_notice_cannot_reach_the_customer_before_it_is_sent(monkeypatch: pytest.MonkeyPatch):
    _clock, contract = running(monkeypatch, ProductKind.VIDEO, date(2027, 4, 2))
    before = counts()

    with pytest.raises(DomainError) as refused:
        change(contract, date(2027, 4, 1), date(2027, 5, 10))

    assert refused.value.code == "received_on"
    assert counts() == before


# --- the special cancellation right (§ 20 (III), (IV)) ----------------------------------------


def test_other_change_gives_a_special_right_for_three_months_moved_past_the_weekend(
    monkeypatch: pytest.MonkeyPatch,
):
    _clock, contract = running(monkeypatch, ProductKind.TELEPHONY, date(2027, 4, 3))

    notice = change(contract, date(2027, 4, 3), date(2027, 5, 15))

    # 3 July 2027 is a Saturday: the right lasts until Monday 5 July (§ 193 BGB).
    assert notice.special_right_until == date(2027, 7, 5)
    assert notice.letter is not None
    assert CustomerDocument.objects.get(document=notice.letter).contract == contract
    text = letter_text(notice.letter)
    assert "You have a special right to cancel" in text
    assert f"by {en_date(date(2027, 7, 5))}" in text
    assert f"on {en_date(date(2027, 5, 14))} at the earliest" in text
    # § 20 (IV): without a cancellation the change counts as accepted.
    assert "If you do not cancel in writing within these three months" in text
    assert "becomes part of your contract" in text


@pytest.mark.parametrize(
    "classification",
    [ChangeClass.BENEFIT, ChangeClass.ADMINISTRATIVE, ChangeClass.LAW, ChangeClass.VAT_ONLY],
)
def test_changes_that_the_terms_exempt_give_no_special_right(
    monkeypatch: pytest.MonkeyPatch, classification: str
):
    _clock, contract = running(monkeypatch, ProductKind.TELEPHONY, date(2027, 4, 3))

    notice = change(contract, date(2027, 4, 3), date(2027, 5, 15), classification=classification)

    assert notice.special_right_until is None
    text = letter_text(notice.letter)
    assert "gives no special cancellation right" in text
    assert "You have a special right to cancel" not in text
    the_clock = _clock
    the_clock.set_day(date(2027, 4, 20))
    before = counts()
    with pytest.raises(DomainError) as refused:
        special_cancellation(contract, date(2027, 4, 20), CancellationKind.SPECIAL)
    assert refused.value.code == "no_special_right"
    assert counts() == before


def test_special_cancellation_ends_the_contract_the_day_before_the_change(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = running(monkeypatch, ProductKind.TELEPHONY, date(2027, 4, 3))
    change(contract, date(2027, 4, 3), date(2027, 5, 15))
    the_clock.set_day(date(2027, 5, 3))

    cancellation = special_cancellation(contract, date(2027, 5, 1), CancellationKind.SPECIAL)

    assert cancellation.effective_on == date(2027, 5, 14)  # type: ignore[attr-defined]
    contract.refresh_from_db()
    assert (contract.state, contract.ends_on, contract.end_reason) == (
        ContractState.ENDING,
        date(2027, 5, 14),
        EndReason.SPECIAL,
    )


def test_special_cancellation_after_the_change_took_effect_ends_the_contract_on_receipt(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = running(monkeypatch, ProductKind.TELEPHONY, date(2027, 4, 3))
    change(contract, date(2027, 4, 3), date(2027, 5, 15))
    the_clock.set_day(date(2027, 7, 5))

    on_the_last_day = special_cancellation(contract, date(2027, 7, 5), CancellationKind.SPECIAL)

    assert on_the_last_day.effective_on == date(2027, 7, 5)  # type: ignore[attr-defined]


def test_special_cancellation_after_the_three_months_is_refused(monkeypatch: pytest.MonkeyPatch):
    the_clock, contract = running(monkeypatch, ProductKind.TELEPHONY, date(2027, 4, 3))
    change(contract, date(2027, 4, 3), date(2027, 5, 15))
    the_clock.set_day(date(2027, 7, 6))
    before = counts()

    with pytest.raises(DomainError) as refused:
        special_cancellation(contract, date(2027, 7, 6), CancellationKind.SPECIAL)

    assert refused.value.code == "no_special_right"
    assert counts() == before


# --- transfers (§ 21 (I), § 23 (I)) -----------------------------------------------------------


def test_transfer_announced_less_than_six_weeks_ahead_is_refused(monkeypatch: pytest.MonkeyPatch):
    _clock, contract = running(monkeypatch, ProductKind.VIDEO, date(2027, 4, 19))
    before = counts()

    with translation.override("en"), pytest.raises(DomainError) as refused:
        announce_transfer(
            actor=writer(),
            contract=contract,
            transferee="Neue Betrieb GmbH",
            received_on=date(2027, 4, 20),
            effective_on=date(2027, 6, 1),
        )

    assert refused.value.code == "transfer_window"
    assert f"by {en_date(date(2027, 4, 19))}" in str(refused.value)
    assert counts() == before

    transfer = announce_transfer(
        actor=writer(),
        contract=contract,
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 4, 19),
        effective_on=date(2027, 6, 1),
    )
    assert transfer.effective_on == date(2027, 6, 1)


def video_transfer(monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, Transfer]:
    the_clock, contract = running(monkeypatch, ProductKind.VIDEO, date(2027, 3, 1))
    transfer = announce_transfer(
        actor=writer(),
        contract=contract,
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 3, 1),
        effective_on=date(2027, 4, 15),
    )
    return the_clock, transfer


def test_video_transfer_may_be_objected_to_within_four_weeks(monkeypatch: pytest.MonkeyPatch):
    the_clock, transfer = video_transfer(monkeypatch)
    # Four weeks end on Easter Monday 29 March 2027: moved to Tuesday 30 March.
    assert transfer.objection_until == date(2027, 3, 30)
    assert transfer.special_right_until is None
    text = letter_text(transfer.letter)  # type: ignore[arg-type]
    assert "You may object to the transfer" in text
    assert en_date(date(2027, 3, 30)) in text
    the_clock.set_day(date(2027, 3, 30))

    record_transfer_objection(
        actor=writer(), transfer=transfer, received_on=date(2027, 3, 30), channel=Channel.LETTER
    )

    transfer.refresh_from_db()
    assert transfer.objected_on == date(2027, 3, 30)
    assert transfer.contract.events.filter(kind=EventKind.TRANSFER_OBJECTION).exists()


def test_video_transfer_objection_after_four_weeks_is_refused(monkeypatch: pytest.MonkeyPatch):
    the_clock, transfer = video_transfer(monkeypatch)
    the_clock.set_day(date(2027, 3, 31))
    before = counts()

    with pytest.raises(DomainError) as refused:
        record_transfer_objection(
            actor=writer(), transfer=transfer, received_on=date(2027, 3, 31), channel="letter"
        )

    assert refused.value.code == "objection_late"
    assert counts() == before


def test_video_customer_may_cancel_at_once_after_a_transfer(monkeypatch: pytest.MonkeyPatch):
    the_clock, transfer = video_transfer(monkeypatch)
    the_clock.set_day(date(2027, 3, 5))

    cancellation = special_cancellation(transfer.contract, date(2027, 3, 5), "transfer")

    assert cancellation.effective_on == date(2027, 3, 5)  # type: ignore[attr-defined]
    contract = Contract.objects.get(pk=transfer.contract.pk)
    assert contract.end_reason == EndReason.TRANSFER


def test_telephony_transfer_gives_the_special_right_and_no_objection(
    monkeypatch: pytest.MonkeyPatch,
):
    the_clock, contract = running(monkeypatch, ProductKind.TELEPHONY, date(2027, 3, 1))
    transfer = announce_transfer(
        actor=writer(),
        contract=contract,
        transferee="Neue Betrieb GmbH",
        received_on=date(2027, 3, 1),
        effective_on=date(2027, 4, 15),
    )

    assert transfer.objection_until is None
    assert transfer.special_right_until == date(2027, 6, 1)
    text = letter_text(transfer.letter)  # type: ignore[arg-type]
    assert "You have a special right to cancel" in text
    assert "counts as agreed with the new partner" in text
    the_clock.set_day(date(2027, 3, 10))
    before = counts()
    with pytest.raises(DomainError) as refused:
        record_transfer_objection(
            actor=writer(), transfer=transfer, received_on=date(2027, 3, 10), channel="letter"
        )
    assert refused.value.code == "no_objection"
    assert counts() == before

    cancellation = special_cancellation(contract, date(2027, 3, 10), "transfer")

    # It ends when the transfer would take effect, not before: the day before 15 April.
    assert cancellation.effective_on == date(2027, 4, 14)  # type: ignore[attr-defined]
