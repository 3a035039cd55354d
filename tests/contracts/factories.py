"""Helpers for the contract service tests: a clock pinned to a Berlin day, products, customers
with a contact, orders and contracts made through the services, a count of everything the
services write, and the text of a letter's PDF."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Model

from tests.customers.conftest import contact_of, make_customer, writer
from tests.documents.pdf_reading import open_pdf, page_texts
from tests.factories import OrganizationFactory
from treffpunkt.accounts.models import Organization, User
from treffpunkt.contracts.models import (
    Block,
    Cancellation,
    ChangeNotice,
    Contract,
    ContractEvent,
    CustomerDocument,
    Order,
    OrderLine,
    Product,
    ProductKind,
    RunRecord,
    Transfer,
)
from treffpunkt.contracts.services import (
    OrderItem,
    PriceTerms,
    accept_order,
    add_product,
    place_order,
)
from treffpunkt.core import clock
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers.models import Customer, CustomerOrganization
from treffpunkt.documents.models import Document
from treffpunkt.documents.selectors import document_bytes
from treffpunkt.notifications.models import OutboxMail

BERLIN = ZoneInfo("Europe/Berlin")
_codes = itertools.count(1)


@dataclass
class Clock:
    """The time the services read through ``treffpunkt.core.clock``."""

    now: datetime

    def set_day(self, day: date, hour: int = 9) -> None:
        self.now = datetime.combine(day, time(hour), tzinfo=BERLIN)


def freeze(monkeypatch: pytest.MonkeyPatch, day: date, hour: int = 9) -> Clock:
    """Pin the clock to ``day`` at ``hour`` in Berlin (as tests/booking's ``frozen_clock``)."""
    state = Clock(now=datetime.combine(day, time(hour), tzinfo=BERLIN))
    monkeypatch.setattr(clock, "now", lambda: state.now)
    return state


# --- the catalogue ----------------------------------------------------------------------------

PRICED_FROM = date(2026, 1, 1)


def product(kind: str, name: str | None = None) -> Product:
    """A product of ``kind`` with a price from 2026 on, added through the service."""
    code = f"{kind}-{next(_codes)}"
    if kind == ProductKind.HARDWARE:
        price = PriceTerms(unit_price="1290.00")
    else:
        price = PriceTerms(monthly_fee="249.00")
    return add_product(
        actor=writer(),
        code=code,
        kind=kind,
        name=name or f"{ProductKind(kind).label} {code}",
        price=price,
        valid_from=PRICED_FROM,
    )


# --- customers --------------------------------------------------------------------------------


def customer_with_contact(**contact_fields: Any) -> tuple[Customer, User]:
    """A company customer and one contact with a login, writing in English (the letters are
    then in English too: they follow the first contact's language)."""
    customer = make_customer()
    contact_fields.setdefault("preferred_language", "en")
    return customer, contact_of(customer, **contact_fields)


def linked_organization(customer: Customer) -> Organization:
    organization: Organization = OrganizationFactory()
    CustomerOrganization.objects.create(customer=customer, organization=organization)
    return organization


# --- orders and contracts ---------------------------------------------------------------------


def order_for(
    customer: Customer,
    *products: Product,
    actor: User | None = None,
    received_on: date | None = None,
    channel: str = "email",
) -> Order:
    return place_order(
        actor=actor or writer(),
        customer=customer,
        items=[OrderItem(item) for item in products],
        submission_key=uuid.uuid4(),
        channel=channel,
        received_on=received_on,
    )


def contract_from(
    the_clock: Clock,
    customer: Customer,
    kind: str,
    *,
    start: date,
    ordered_on: date | None = None,
) -> Contract:
    """A contract of ``kind`` from ``start``, ordered and accepted through the services on
    ``ordered_on`` (default: the start day). The clock is left on that day."""
    day = ordered_on or start
    the_clock.set_day(day)
    order = order_for(customer, product(kind), received_on=day)
    accept_order(actor=writer(), order=order, start=start)
    return Contract.objects.get(order=order)


# --- what the services write ------------------------------------------------------------------

WRITTEN: tuple[type[Model], ...] = (
    Order,
    OrderLine,
    Contract,
    ContractEvent,
    Cancellation,
    ChangeNotice,
    Transfer,
    Block,
    CustomerDocument,
    RunRecord,
    Document,
    OutboxMail,
    AuditEntry,
)


def counts() -> dict[str, int]:
    """How many rows of each kind the contract services write there are."""
    return {model.__name__: model._default_manager.count() for model in WRITTEN}


def contract_rows() -> list[dict[str, Any]]:
    return list(Contract.objects.order_by("pk").values())


def run_snapshot() -> dict[str, Any]:
    """Everything a contract run writes, except its own "finished" audit entry."""
    found: dict[str, Any] = counts()
    found["AuditEntry"] = AuditEntry.objects.exclude(code="contracts.run.finished").count()
    found["contracts"] = contract_rows()
    found["orders"] = list(Order.objects.order_by("pk").values("pk", "state"))
    found["changes"] = list(ChangeNotice.objects.order_by("pk").values("pk", "in_effect"))
    found["transfers"] = list(Transfer.objects.order_by("pk").values("pk", "in_effect"))
    return found


# --- letters ----------------------------------------------------------------------------------


def letter_text(document: Document) -> str:
    """The text of a letter's PDF, on one line."""
    return " ".join(page_texts(open_pdf(document_bytes(document))))


def audit_codes(target: Model | None = None) -> list[str]:
    entries = AuditEntry.objects.order_by("pk")
    if target is not None:
        entries = entries.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    return list(entries.values_list("code", flat=True))
