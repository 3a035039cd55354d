"""Provider switches (P-OP-9; § 5 (II), § 19 (I) of the terms): a customer coming in gets the
service on on the agreed day within the agreed time frame (on the deadline dashboard until
then); a customer leaving keeps the service until the new provider's is active, also past the
end of a cancellation, and the contract ends when the switch is done."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.conftest import client_for
from tests.contracts.conftest import writer
from tests.contracts.factories import BERLIN, contract_from, customer_with_contact, freeze
from treffpunkt.contracts import selectors, services
from treffpunkt.contracts.models import ContractState, EndReason, ProductKind, ProviderSwitch
from treffpunkt.contracts.services import switching
from treffpunkt.core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_a_customer_coming_in_is_switched_on_on_the_agreed_day_in_the_time_frame(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 3, 10))
    assert contract.state == ContractState.WAITING
    for day, start, end in (
        (date(2027, 2, 28), time(8), time(12)),  # in the past
        (date(2027, 3, 10), time(12), time(8)),  # the time frame ends before it starts
    ):
        with pytest.raises(DomainError):
            switching.record_switch_in(
                actor=writer(),
                contract=contract,
                other_provider="Alt-Telekom",
                agreed_on=day,
                window_from=start,
                window_until=end,
            )
    switch = switching.record_switch_in(
        actor=writer(),
        contract=contract,
        other_provider="Alt-Telekom",
        agreed_on=date(2027, 3, 10),
        window_from=time(8),
        window_until=time(12),
    )
    with translation.override("de"):
        wanted = gettext("Switch the service on: provider switch on the agreed day")
        kinds = [str(row.what) for row in selectors.deadlines_ahead(on=date(2027, 3, 1)).rows]
    assert wanted in kinds
    clock.now = datetime.combine(date(2027, 3, 10), time(10, 15), tzinfo=BERLIN)
    done = switching.switch_in_done(actor=writer(), switch=switch)
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE and contract.switched_on_at == clock.now
    assert done.done_in_time is True
    with pytest.raises(DomainError):
        switching.switch_in_done(actor=writer(), switch=switch)


def test_a_switch_in_late_in_the_day_is_recorded_as_outside_the_time_frame(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 3, 10))
    switch = switching.record_switch_in(
        actor=writer(),
        contract=contract,
        other_provider="Alt-Telekom",
        agreed_on=date(2027, 3, 10),
        window_from=time(8),
        window_until=time(12),
    )
    clock.now = datetime.combine(date(2027, 3, 10), time(13), tzinfo=BERLIN)
    assert switching.switch_in_done(actor=writer(), switch=switch).done_in_time is False


def test_a_customer_leaving_keeps_the_service_until_the_switch_is_done(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 1, 4))
    customer, _contact = customer_with_contact()
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 1, 4))
    services.switch_on(contract=contract, invoice_number="RE-2027-00001")
    type(contract).objects.filter(pk=contract.pk).update(
        state=ContractState.ENDING, ends_on=date(2027, 6, 30), end_reason=EndReason.CANCELLED
    )
    contract.refresh_from_db()
    switch = switching.record_switch_out(
        actor=writer(), contract=contract, other_provider="Neu-Video", expected_on=date(2027, 6, 30)
    )
    # The cancellation's end passes; the new provider is not active yet: the service stays.
    services.run_contracts_day(on=date(2027, 7, 2))
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    clock.set_day(date(2027, 7, 5))
    with pytest.raises(DomainError):
        switching.switch_out_done(actor=writer(), switch=switch, on=date(2027, 7, 6))
    switching.switch_out_done(actor=writer(), switch=switch, on=date(2027, 7, 5))
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert (contract.ends_on, contract.end_reason) == (date(2027, 7, 5), EndReason.PROVIDER_SWITCH)


def test_the_operator_records_a_switch_on_the_contract_page(monkeypatch: pytest.MonkeyPatch):
    clock = freeze(monkeypatch, date(2027, 3, 1))
    customer, _contact = customer_with_contact()
    contract = contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 3, 10))
    office = client_for(writer())
    url = reverse("backoffice:contracts:switch", args=[contract.pk])
    missing = office.post(
        url, {"direction": "in", "other_provider": "Alt", "agreed_on": "2027-03-10"}
    )
    assert missing.status_code == 400 and ProviderSwitch.objects.count() == 0
    response = office.post(
        url,
        {
            "direction": "in",
            "other_provider": "Alt",
            "agreed_on": "2027-03-10",
            "window_from": "08:00",
            "window_until": "12:00",
        },
    )
    assert response.status_code == 302
    switch = ProviderSwitch.objects.get()
    page = office.get(reverse("backoffice:contracts:contract", args=[contract.pk]))
    assert reverse("backoffice:contracts:switch_done", args=[switch.pk]) in page.content.decode()
    assert timedelta(hours=4) == datetime.combine(date.min, switch.window_until) - datetime.combine(
        date.min, switch.window_from
    )
