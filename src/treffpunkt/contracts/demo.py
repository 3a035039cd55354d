"""The contracts' part of the demo: a catalogue, a running video contract of the public body
inside its notice period (its organization is the demo organization, so the consultation
side stays switched on), a telephony contract of the company whose consent request is due,
and an order waiting for acceptance. Dates count from today, so the demo always shows them.
Idempotent."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from treffpunkt.accounts.models import Role, User
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    Contract,
    ContractState,
    EventKind,
    Order,
    Price,
    Product,
    ProductKind,
)
from treffpunkt.contracts.services import OrderItem, place_order
from treffpunkt.contracts.services._common import add_event, assign_number, today
from treffpunkt.contracts.services.terms import term_dates
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer

DEMO_PRODUCTS = (
    # code, kind, name, monthly fee, minutes included, per minute, unit price
    ("video-beratung", ProductKind.VIDEO, "Videoberatung", "249.00", 2000, "0.0400", None),
    ("telefonie", ProductKind.TELEPHONY, "Telefonie", "89.00", None, None, None),
    ("raumsystem-kamera", ProductKind.HARDWARE, "Raumsystem-Kamera", None, None, None, "1290.00"),
)
# Fixed, so that loading the demo twice finds the order of the first time.
DEMO_ORDER_KEY = uuid.UUID("6d5b5e0c-6f0e-4a53-9a53-2f1c1c0d0e01")


def load_contracts_demo() -> None:
    with transaction.atomic():
        products = {
            code: _product(code, kind, name, fee, minutes, per_minute, unit)
            for (code, kind, name, fee, minutes, per_minute, unit) in DEMO_PRODUCTS
        }
        company = Customer.objects.filter(kind="company").order_by("pk").first()
        public_body = Customer.objects.filter(kind="public_body").order_by("pk").first()
        if company is None or public_body is None:
            return
        day = today()
        if not Contract.objects.filter(customer=public_body).exists():
            # The notice deadline lies two weeks ahead: inside the notice period's last weeks.
            end = deadlines.add_months(day + timedelta(days=15), 3) - timedelta(days=1)
            _running(public_body, products["video-beratung"], start=_start_for(end), quantity=1)
        if not Contract.objects.filter(customer=company).exists():
            # The consent request is due in a week: the dashboard says to send it.
            end = day + timedelta(weeks=deadlines.CONSENT_REQUEST_WEEKS, days=7)
            _running(company, products["telefonie"], start=_start_for(end), quantity=5)
        if not Order.objects.filter(submission_key=DEMO_ORDER_KEY).exists():
            operator = User.objects.filter(role=Role.OPERATOR).order_by("pk").first()
            place_order(
                actor=operator,
                customer=company,
                items=[
                    OrderItem(products["video-beratung"], 1),
                    OrderItem(products["raumsystem-kamera"], 2),
                ],
                submission_key=DEMO_ORDER_KEY,
                channel="email",
                received_on=day - timedelta(days=3),
                requested_start=day + timedelta(days=14),
                note="Bitte Lieferung an die Zentrale.",
            )


def _product(
    code: str,
    kind: str,
    name: str,
    fee: str | None,
    minutes: int | None,
    per_minute: str | None,
    unit: str | None,
) -> Product:
    product, created = Product.objects.get_or_create(
        code=code, defaults={"kind": kind, "name": name}
    )
    if created:
        Price.objects.create(
            product=product,
            valid_from=date(2026, 1, 1),
            monthly_fee=Decimal(fee) if fee else None,
            included_minutes=minutes,
            per_minute=Decimal(per_minute) if per_minute else None,
            unit_price=Decimal(unit) if unit else None,
        )
    return product


def _start_for(end: date) -> date:
    """The start of a one-year term that ends on ``end``."""
    return deadlines.add_months(end + timedelta(days=1), -12)


def _running(customer: Customer, product: Product, *, start: date, quantity: int) -> Contract:
    contract = Contract.objects.create(
        customer=customer,
        product=product,
        kind=product.kind,
        quantity=quantity,
        state=ContractState.ACTIVE,
        start=start,
        switched_on_at=clock.now(),
        switched_on_by_invoice="Demo",
        **term_dates(product.kind, start),
    )
    assign_number(contract, prefix="V-")
    add_event(
        contract,
        kind=EventKind.CREATED,
        on=start,
        summary=f"Vertrag ab {start:%d.%m.%Y} (Demo).",
    )
    add_event(
        contract, kind=EventKind.SWITCHED_ON, on=start, summary="Dienst freigeschaltet (Demo)."
    )
    return contract


def describe_contracts_demo() -> list[str]:
    return [
        "Contracts: the back office's deadline dashboard is at /betrieb/fristen/ (a telephony "
        "contract whose consent request is due, a video contract inside its notice period, an "
        "order waiting for acceptance)."
    ]
