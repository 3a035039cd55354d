"""What every contract service shares: who may act, today's date, numbers, timeline entries."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, require_capability
from treffpunkt.contracts.models import Contract, ContractEvent, EventKind
from treffpunkt.core import clock
from treffpunkt.core.errors import NotAllowed
from treffpunkt.customers.models import Customer, CustomerContact
from treffpunkt.documents.models import Document


def require_operator(user: User | None) -> User:
    """The operator's staff member holding ``Capability.CUSTOMERS``, or ``NotAllowed``."""
    return require_capability(user, Capability.CUSTOMERS)


def require_contact_of(user: User | None, customer: Customer) -> CustomerContact:
    """``user``'s contact record at ``customer``; anyone else is refused."""
    if user is None or not user.is_authenticated or not user.is_customer_contact:
        raise NotAllowed
    contact = CustomerContact.objects.filter(user=user, customer=customer).first()
    if contact is None:
        raise NotAllowed
    return contact


def today() -> date:
    """The operator's calendar day: the terms count days in Berlin (settings.TIME_ZONE)."""
    return clock.operator_today()


def assign_number(instance: models.Model, *, prefix: str) -> str:
    """``<prefix>00001`` from the primary key, set in the creating transaction (unique without
    a lock; a rolled-back transaction leaves a gap, which these numbers may have)."""
    number = f"{prefix}{instance.pk:05d}"
    type(instance)._default_manager.filter(pk=instance.pk).update(number=number)
    instance.number = number  # type: ignore[attr-defined]  # every numbered model has it
    return number


def add_event(
    contract: Contract,
    *,
    kind: EventKind,
    on: date,
    summary: str,
    document: Document | None = None,
) -> ContractEvent:
    return ContractEvent.objects.create(
        contract=contract, kind=kind, on=on, summary=summary, document=document
    )


def iso(day: date | None) -> Any:
    return day.isoformat() if day is not None else None
