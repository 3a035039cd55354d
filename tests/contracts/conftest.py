"""Products, orders and contracts for the tests, made through ``contracts.services`` like the
back office and the customer area make them.

Plain helpers (no fixtures needed besides the database)::

    product = video_product()
    contract = accepted_contract(make_customer(), product, start=today())
    switch_on(contract)

A contract that starts in the past is concluded on its start day (``on_day`` moves the clock
the services read), so every date on it is one the services themselves computed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.backoffice.conftest import customer_contact, operator_with, people
from tests.customers.conftest import contact_of, make_customer, writer
from treffpunkt.accounts.models import User
from treffpunkt.contracts import services
from treffpunkt.contracts.models import Contract, Order, Product, ProductKind
from treffpunkt.contracts.services._common import today
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer

__all__ = [
    "accept_order",
    "accepted_contract",
    "add_product",
    "contact_of",
    "customer_contact",
    "hardware_product",
    "make_customer",
    "on_day",
    "operator_with",
    "people",
    "place_order",
    "switch_on",
    "telephony_product",
    "today",
    "video_product",
    "writer",
]

BERLIN = ZoneInfo("Europe/Berlin")
# Early enough that every product has a price on any day a test uses.
PRICED_FROM = date(2020, 1, 1)


@contextmanager
def on_day(day: date, at: time = time(10, 0)) -> Iterator[None]:
    """The services' clock (``core.clock.now``) stands at ``at`` on ``day`` in Berlin."""
    moment = datetime.combine(day, at, tzinfo=BERLIN)
    original = clock.now
    clock.now = lambda: moment  # type: ignore[assignment]  # restored below
    try:
        yield
    finally:
        clock.now = original  # type: ignore[assignment]


def add_product(
    *,
    code: str,
    kind: str,
    name: str,
    price: services.PriceTerms,
    valid_from: date = PRICED_FROM,
    actor: User | None = None,
) -> Product:
    """The product ``code``, added through the service unless it exists already."""
    existing = Product.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return services.add_product(
        actor=actor or writer(),
        code=code,
        kind=kind,
        name=name,
        price=price,
        valid_from=valid_from,
    )


def video_product(code: str = "video-basis", name: str = "Videoberatung Basis") -> Product:
    return add_product(
        code=code,
        kind=ProductKind.VIDEO,
        name=name,
        price=services.PriceTerms(monthly_fee="49,00"),
    )


def telephony_product(code: str = "telefonie", name: str = "Telefonie Plus") -> Product:
    return add_product(
        code=code,
        kind=ProductKind.TELEPHONY,
        name=name,
        price=services.PriceTerms(monthly_fee="19,90", included_minutes=500, per_minute="0,019"),
    )


def hardware_product(code: str = "kamera", name: str = "Konferenzkamera") -> Product:
    return add_product(
        code=code,
        kind=ProductKind.HARDWARE,
        name=name,
        price=services.PriceTerms(unit_price="899,00"),
    )


def place_order(
    customer: Customer,
    *products: Product,
    quantity: int = 1,
    received_on: date | None = None,
    requested_start: date | None = None,
    channel: str = "letter",
    actor: User | None = None,
    submission_key: uuid.UUID | None = None,
) -> Order:
    """An order of ``products`` (one line each), entered by an operator."""
    return services.place_order(
        actor=actor or writer(),
        customer=customer,
        items=[services.OrderItem(product=product, quantity=quantity) for product in products],
        submission_key=submission_key or uuid.uuid4(),
        channel=channel,
        received_on=received_on,
        requested_start=requested_start,
    )


def accept_order(
    order: Order, start: date, delivery_date: date | None = None, actor: User | None = None
) -> Order:
    return services.accept_order(
        actor=actor or writer(), order=order, start=start, delivery_date=delivery_date
    )


def accepted_contract(customer: Customer, product: Product, start: date) -> Contract:
    """A contract for ``product`` from ``start``: ordered and accepted today, or on ``start``
    itself when that lies in the past. Waits for its first invoice (see ``switch_on``)."""
    day = min(today(), start)
    with on_day(day):
        order = place_order(customer, product, received_on=day)
        accept_order(order, start=start)
    return order.contracts.get()


def switch_on(contract: Contract, invoice_number: str = "RE-2027-00001") -> Contract:
    """The billing's hook: the first invoice was issued, the service goes on."""
    services.switch_on(contract=contract, invoice_number=invoice_number)
    contract.refresh_from_db()
    return contract


@pytest.fixture
def operator(db: None) -> User:
    """An operator holding ``Capability.CUSTOMERS`` (and no other)."""
    return writer()
