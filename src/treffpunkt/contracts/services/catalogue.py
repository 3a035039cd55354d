"""The catalogue: products and their dated prices. A price applies from its ``valid_from`` on
until the next one's; a price change never reaches back before the day it is entered, so an
invoice already written stays right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.contracts.models import Price, Product, ProductKind
from treffpunkt.contracts.services._common import require_operator, today
from treffpunkt.core import audit
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import VatKind, parse_money


@dataclass(frozen=True)
class PriceTerms:
    """A price as entered. Services: ``monthly_fee`` (and optionally ``included_minutes`` with
    ``per_minute``); hardware: ``unit_price``. Amounts net, as text or Decimal."""

    vat_kind: str = VatKind.STANDARD
    monthly_fee: Decimal | str | None = None
    included_minutes: int | None = None
    per_minute: Decimal | str | None = None
    unit_price: Decimal | str | None = None


def _amount(value: Decimal | str | None, *, field: str, places: int = 2) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    amount = value if isinstance(value, Decimal) else parse_money(value, places=places)
    if amount < 0:
        raise DomainError(_("An amount cannot be negative."), code=field)
    return amount


def checked_price_fields(kind: str, terms: PriceTerms) -> dict[str, object]:
    fields: dict[str, object] = {"vat_kind": VatKind(terms.vat_kind)}
    if kind == ProductKind.HARDWARE:
        unit_price = _amount(terms.unit_price, field="unit_price")
        if unit_price is None:
            raise DomainError(_("Hardware needs a unit price."), code="unit_price")
        if terms.monthly_fee not in (None, "") or terms.per_minute not in (None, ""):
            raise DomainError(
                _("Hardware has a unit price, no monthly fee or minute price."), code="unit_price"
            )
        return {**fields, "unit_price": unit_price}
    monthly_fee = _amount(terms.monthly_fee, field="monthly_fee")
    if monthly_fee is None:
        raise DomainError(_("A service needs a monthly fee."), code="monthly_fee")
    per_minute = _amount(terms.per_minute, field="per_minute", places=4)
    if (terms.included_minutes is None) != (per_minute is None):
        raise DomainError(
            _("Give both the minutes included and the price per further minute, or neither."),
            code="per_minute",
        )
    if terms.included_minutes is not None and terms.included_minutes < 0:
        raise DomainError(_("Minutes cannot be negative."), code="included_minutes")
    return {
        **fields,
        "monthly_fee": monthly_fee,
        "included_minutes": terms.included_minutes,
        "per_minute": per_minute,
    }


def add_product(
    *,
    actor: User | None,
    code: str,
    kind: str,
    name: str,
    description: str = "",
    price: PriceTerms,
    valid_from: date,
) -> Product:
    """A new product with its first price."""
    operator = require_operator(actor)
    kind = ProductKind(kind)
    fields = checked_price_fields(kind, price)
    if not name.strip():
        raise DomainError(_("A product needs a name."), code="name")
    try:
        with transaction.atomic():
            product = Product.objects.create(
                code=code, kind=kind, name=name.strip(), description=description.strip()
            )
            Price.objects.create(product=product, valid_from=valid_from, **fields)
            audit.record(
                "contracts.product.created",
                actor=operator,
                target=product,
                data={"code": code, "kind": str(kind), "valid_from": valid_from.isoformat()},
            )
    except IntegrityError as clash:
        raise DomainError(_("This product code is taken."), code="code") from clash
    return product


def set_price(
    *, actor: User | None, product: Product, valid_from: date, price: PriceTerms
) -> Price:
    """A new price of ``product`` from ``valid_from`` on. Not before today: what was charged
    under the old price stays as it was."""
    operator = require_operator(actor)
    if valid_from < today():
        raise DomainError(_("A new price can apply from today at the earliest."), code="valid_from")
    fields = checked_price_fields(product.kind, price)
    try:
        with transaction.atomic():
            created = Price.objects.create(product=product, valid_from=valid_from, **fields)
            audit.record(
                "contracts.price.set",
                actor=operator,
                target=product,
                data={
                    "valid_from": valid_from.isoformat(),
                    **{k: str(v) for k, v in fields.items()},
                },
            )
    except IntegrityError as clash:
        raise DomainError(
            _("This product already has a price from that day."), code="valid_from"
        ) from clash
    return created


def price_on(product: Product, day: date) -> Price | None:
    """The price in force on ``day``: the latest one valid from that day or earlier."""
    return product.prices.filter(valid_from__lte=day).order_by("-valid_from").first()
