"""Provider switches (P-OP-9; § 5 (II) and § 19 (I) of the terms).

Coming in: the operator records the agreed day and time frame; the deadline dashboard shows it;
on that day support switches the service on and records it (in the time frame or not). Going
out: the operator records the switch with the expected day; the service stays on, even past a
cancellation's end, until the operator records that the new provider's service is active; then
the contract ends that day."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.contracts.models import (
    LIVE_STATES,
    Contract,
    ContractState,
    EndReason,
    EventKind,
    ProviderSwitch,
    SwitchDirection,
)
from treffpunkt.contracts.services._common import add_event, require_operator, today
from treffpunkt.contracts.services.lifecycle import end_contract, switch_on
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError


def _provider(name: str) -> str:
    text = name.strip()
    if not text:
        raise DomainError(_("Name the other provider."), code="other_provider")
    return text[:200]


def _no_open_switch(contract: Contract) -> None:
    if ProviderSwitch.objects.filter(contract=contract, done_at__isnull=True).exists():
        raise DomainError(_("This contract already has a switch under way."), code="contract")


def record_switch_in(
    *,
    actor: User | None,
    contract: Contract,
    other_provider: str,
    agreed_on: date,
    window_from: time,
    window_until: time,
) -> ProviderSwitch:
    operator = require_operator(actor)
    if contract.state != ContractState.WAITING:
        raise DomainError(
            _("Only a contract whose service is not on yet can take a switch in."), code="contract"
        )
    if agreed_on < today():
        raise DomainError(_("The agreed day cannot lie in the past."), code="agreed_on")
    if window_until <= window_from:
        raise DomainError(_("The time frame ends after it starts."), code="window_until")
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        _no_open_switch(locked)
        switch = ProviderSwitch.objects.create(
            contract=locked,
            direction=SwitchDirection.IN,
            other_provider=_provider(other_provider),
            agreed_on=agreed_on,
            window_from=window_from,
            window_until=window_until,
            recorded_by=operator,
        )
        add_event(
            locked,
            kind=EventKind.SWITCH_AGREED,
            on=today(),
            summary=_(
                "Switch from %(provider)s agreed: service on %(day)s between %(start)s and %(end)s."
            )
            % {
                "provider": switch.other_provider,
                "day": agreed_on.strftime("%d.%m.%Y"),
                "start": window_from.strftime("%H:%M"),
                "end": window_until.strftime("%H:%M"),
            },
        )
        audit.record("contracts.switch.agreed", actor=operator, target=locked, data={"in": True})
    return switch


def switch_in_done(*, actor: User | None, switch: ProviderSwitch) -> ProviderSwitch:
    """The service is on now; whether that was on the agreed day in the agreed time frame is
    recorded (and shown)."""
    operator = require_operator(actor)
    if switch.direction != SwitchDirection.IN:
        raise DomainError(_("This is not a switch in."), code="direction")
    now = clock.now()
    local = timezone.localtime(now)
    with transaction.atomic():
        locked = ProviderSwitch.objects.select_for_update().get(pk=switch.pk)
        if locked.done_at is not None:
            raise DomainError(_("This switch is already done."), code="done")
        start, end = locked.window_from, locked.window_until
        locked.done_at = now
        locked.done_in_time = bool(
            start is not None
            and end is not None
            and local.date() == locked.agreed_on
            and start <= local.time() <= end
        )
        locked.save(update_fields=["done_at", "done_in_time"])
        switch_on(
            contract=locked.contract,
            invoice_number="",
            actor=operator,
            because=_("Service switched on for the switch from %(provider)s.")
            % {"provider": locked.other_provider},
        )
        audit.record(
            "contracts.switch.done",
            actor=operator,
            target=locked.contract,
            data={"in": True, "in_time": locked.done_in_time},
        )
    return locked


def record_switch_out(
    *, actor: User | None, contract: Contract, other_provider: str, expected_on: date
) -> ProviderSwitch:
    operator = require_operator(actor)
    if contract.state not in LIVE_STATES or contract.state == ContractState.WAITING:
        raise DomainError(
            _("Only a contract whose service is on can switch away."), code="contract"
        )
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        _no_open_switch(locked)
        switch = ProviderSwitch.objects.create(
            contract=locked,
            direction=SwitchDirection.OUT,
            other_provider=_provider(other_provider),
            agreed_on=expected_on,
            recorded_by=operator,
        )
        add_event(
            locked,
            kind=EventKind.SWITCH_AGREED,
            on=today(),
            summary=_(
                "Switch to %(provider)s expected on %(day)s; the service stays on until theirs "
                "is active."
            )
            % {"provider": switch.other_provider, "day": expected_on.strftime("%d.%m.%Y")},
        )
        audit.record("contracts.switch.agreed", actor=operator, target=locked, data={"in": False})
    return switch


def switch_out_done(*, actor: User | None, switch: ProviderSwitch, on: date) -> ProviderSwitch:
    """The new provider's service is active since ``on``: the contract ends that day."""
    operator = require_operator(actor)
    if switch.direction != SwitchDirection.OUT:
        raise DomainError(_("This is not a switch away."), code="direction")
    if on > today():
        raise DomainError(_("A switch cannot be recorded as done in advance."), code="on")
    with transaction.atomic():
        locked = ProviderSwitch.objects.select_for_update().get(pk=switch.pk)
        if locked.done_at is not None:
            raise DomainError(_("This switch is already done."), code="done")
        locked.done_at = datetime.combine(on, time(12), tzinfo=timezone.get_default_timezone())
        locked.save(update_fields=["done_at"])
        contract = Contract.objects.select_for_update().get(pk=locked.contract_id)
        if contract.state in LIVE_STATES:
            contract.ends_on = on
            end_contract(contract, reason=EndReason.PROVIDER_SWITCH)
        audit.record("contracts.switch.done", actor=operator, target=contract, data={"in": False})
    return locked
