"""Hardware deliveries (P-BILL-4; §§ 25–30 of the terms): the only write path for
``HardwareDelivery``, and what the pages read about a delivery.

- Each hardware line of an accepted order gets one delivery, planned for the delivery date of
  the order confirmation (§ 26 (I)). Billing makes them (billing is above contracts): the back
  office by ``plan_deliveries``, the daily job by ``plan_open_orders`` for every accepted order
  that has none yet. Idempotent: a line never gets a second delivery.
- A delay is told to the customer at once, with the new date (§ 26 (III)): a letter in the
  same transaction that records it.
- On delivery the hardware is invoiced: the unit price in force on the day of the order (ex
  warehouse, packaging included) times the quantity, VAT on top; shipping, customs and fees at
  cost as lines of their own, with the amounts the operator enters (§ 25).
- The goods stay the operator's (retention of title, § 27 (I)) until every claim of the
  contract for the hardware is paid: every invoice of the order's deliveries.
- Claims for defects lapse one year after delivery (§ 30 (I)): the warranty ends on the day of
  the next year bearing the delivery day's number (§§ 187 (1), 188 (2), (3) BGB).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing.models import HardwareDelivery, Invoice, UnitCode
from treffpunkt.billing.selectors import ZERO, open_amounts
from treffpunkt.billing.services._common import require_billing
from treffpunkt.billing.services.issuing import AlreadyBilled, LineDraft, issue_invoice
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import Order, OrderLine, OrderState, ProductKind
from treffpunkt.contracts.services import letters, price_on
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import VatKind, round_money
from treffpunkt.documents.models import Document

WARRANTY_MONTHS = 12
MAX_REASON = 500


def billing_key(delivery: HardwareDelivery) -> str:
    """The key of the delivery's invoice: one invoice per delivery, whoever marks it."""
    return f"hardware:{delivery.pk}"


@dataclass(frozen=True)
class AtCost:
    """Shipping, customs or another fee, charged at cost (§ 25): net, VAT on top."""

    description: str
    amount: Decimal
    vat_kind: str = VatKind.STANDARD


# --- planning ---------------------------------------------------------------------------------


def hardware_lines(order: Order) -> list[OrderLine]:
    return list(
        order.lines.filter(product__kind=ProductKind.HARDWARE)
        .select_related("product")
        .order_by("pk")
    )


def deliveries_for_order(order: Order) -> list[HardwareDelivery]:
    """The deliveries of an accepted order's hardware lines, made on first call (planned for
    the order's delivery date). An order not accepted, or without hardware, has none."""
    if order.state != OrderState.ACCEPTED or order.delivery_date is None:
        return []
    found = []
    for line in hardware_lines(order):
        delivery = HardwareDelivery.objects.filter(order_line=line).first()
        if delivery is None:
            try:
                with transaction.atomic():
                    delivery = HardwareDelivery.objects.create(
                        order_line=line, planned_on=order.delivery_date
                    )
                    audit.record(
                        "billing.hardware.planned",
                        actor=None,
                        target=delivery,
                        data={
                            "order": order.number,
                            "line": line.pk,
                            "planned_on": order.delivery_date.isoformat(),
                        },
                    )
            except IntegrityError:
                # Planned at the same moment by someone else: theirs is the one.
                delivery = HardwareDelivery.objects.get(order_line=line)
        found.append(delivery)
    return found


def plan_deliveries(*, actor: User | None, order: Order) -> list[HardwareDelivery]:
    """The back office's planning of one order's deliveries (see ``deliveries_for_order``)."""
    require_billing(actor)
    order = Order.objects.get(pk=order.pk)
    if order.state != OrderState.ACCEPTED:
        raise DomainError(
            _("Only an accepted order has deliveries (order %(order)s: %(state)s).")
            % {"order": order.number, "state": order.get_state_display()},
            code="order",
        )
    if not hardware_lines(order):
        raise DomainError(
            _("Order %(order)s has no hardware.") % {"order": order.number}, code="order"
        )
    return deliveries_for_order(order)


def orders_without_deliveries() -> list[Order]:
    """Accepted orders with a hardware line that has no delivery yet."""
    return list(
        Order.objects.filter(
            state=OrderState.ACCEPTED,
            delivery_date__isnull=False,
            lines__product__kind=ProductKind.HARDWARE,
            lines__delivery__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )


def plan_open_orders() -> dict[str, int]:
    """The daily job: plan the deliveries of every accepted order that lacks them."""
    planned = 0
    for order in orders_without_deliveries():
        before = HardwareDelivery.objects.filter(order_line__order=order).count()
        planned += len(deliveries_for_order(order)) - before
    return {"deliveries_planned": planned}


# --- a delay ----------------------------------------------------------------------------------


def postpone_delivery(
    *, actor: User | None, delivery: HardwareDelivery, new_date: date, reason: str
) -> HardwareDelivery:
    """Move the delivery to ``new_date`` and tell the customer at once, in writing, with the
    new date (§ 26 (III)). The delay is recorded on the delivery with the letter."""
    operator = require_billing(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the delivery is delayed."), code="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("Keep the reason under 500 characters."), code="reason")
    today = clock.operator_today()
    with transaction.atomic():
        locked = (
            HardwareDelivery.objects.select_for_update()
            .select_related("order_line__order__customer", "order_line__product")
            .get(pk=delivery.pk)
        )
        if locked.delivered_on is not None:
            raise DomainError(_("This hardware has already been delivered."), code="delivered")
        if new_date <= locked.planned_on:
            raise DomainError(
                _("A delay moves the delivery after the date planned so far (%(day)s).")
                % {"day": letters.long_date(locked.planned_on)},
                code="new_date",
            )
        if new_date < today:
            raise DomainError(_("The new delivery date cannot lie in the past."), code="new_date")
        order = locked.order_line.order
        letter = _delay_letter(locked, new_date=new_date, reason=reason, actor=operator)
        locked.delays = [
            *locked.delays,
            {
                "from": locked.planned_on.isoformat(),
                "to": new_date.isoformat(),
                "told_on": today.isoformat(),
                "reason": reason,
                "letter": letter.pk,
            },
        ]
        previous = locked.planned_on
        locked.planned_on = new_date
        locked.save(update_fields=["planned_on", "delays"])
        audit.record(
            "billing.hardware.postponed",
            actor=operator,
            target=locked,
            data={
                "order": order.number,
                "from": previous.isoformat(),
                "to": new_date.isoformat(),
                "letter": letter.pk,
            },
        )
    return locked


def _delay_letter(
    delivery: HardwareDelivery, *, new_date: date, reason: str, actor: User
) -> Document:
    line = delivery.order_line
    order = line.order
    with letters.in_language_of(order.customer) as language:
        paragraphs = [
            _(
                "We cannot deliver the hardware of your order %(order)s (%(quantity)s × "
                "%(product)s) on %(old)s as confirmed."
            )
            % {
                "order": order.number,
                "quantity": line.quantity,
                "product": line.product.name,
                "old": letters.long_date(delivery.planned_on),
            },
            _("The reason: %(reason)s") % {"reason": reason},
            _("We now expect to deliver it on %(new)s (§ 26 (III) of our terms).")
            % {"new": letters.long_date(new_date)},
        ]
        subject = _("Delivery of your order %(order)s delayed") % {"order": order.number}
    return letters.send_letter(
        customer=order.customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        order=order,
        actor=actor,
    )


# --- delivery and its invoice -----------------------------------------------------------------


def delivery_lines(
    delivery: HardwareDelivery, *, on: date, at_cost: Sequence[AtCost] = (), language: str
) -> list[LineDraft]:
    """The invoice's lines: the hardware at the price in force on the day of the order, and
    the costs entered; described in the customer's ``language`` (errors stay in the
    operator's)."""
    line = delivery.order_line
    order = line.order
    price = price_on(line.product, order.received_on)
    if price is None or price.unit_price is None:
        raise DomainError(
            _("%(product)s had no unit price on %(day)s, the day of the order.")
            % {"product": line.product.name, "day": letters.long_date(order.received_on)},
            code="price",
        )
    with translation.override(language):
        description = _("%(product)s, order %(order)s, delivered on %(day)s") % {
            "product": line.product.name,
            "order": order.number,
            "day": on.strftime("%d.%m.%Y"),
        }
    drafts = [
        LineDraft(
            description=description,
            quantity=Decimal(line.quantity),
            unit=UnitCode.PIECE,
            unit_price=price.unit_price,
            supply_start=on,
            supply_end=on,
            vat_kind=price.vat_kind,
        )
    ]
    for cost in at_cost:
        if not cost.description.strip():
            raise DomainError(_("Every cost needs a description."), code="at_cost")
        if round_money(cost.amount) != cost.amount or cost.amount <= 0:
            raise DomainError(_("A cost is a positive amount in whole cents."), code="at_cost")
        with translation.override(language):
            cost_description = _("%(cost)s (at cost)") % {"cost": cost.description.strip()}
        drafts.append(
            LineDraft(
                description=cost_description,
                quantity=Decimal(1),
                unit=UnitCode.PIECE,
                unit_price=cost.amount,
                supply_start=on,
                supply_end=on,
                vat_kind=cost.vat_kind,
            )
        )
    return drafts


def mark_delivered(
    *,
    actor: User | None,
    delivery: HardwareDelivery,
    on: date,
    at_cost: Sequence[AtCost] = (),
    issue_date: date | None = None,
) -> HardwareDelivery:
    """Record the delivery on ``on`` and issue its invoice (linked to it). The invoice carries
    the key "hardware:<id>": marked twice, or retried after a failure between issuing and
    recording, the delivery still has exactly one invoice."""
    operator = require_billing(actor)
    today = clock.operator_today()
    current = HardwareDelivery.objects.select_related(
        "order_line__order__customer", "order_line__product"
    ).get(pk=delivery.pk)
    if current.delivered_on is not None:
        raise DomainError(_("This hardware has already been delivered."), code="delivered")
    order = current.order_line.order
    if on > today:
        raise DomainError(_("A delivery cannot be recorded in advance."), code="on")
    if on < order.received_on:
        raise DomainError(_("The hardware cannot be delivered before it was ordered."), code="on")
    language = letters.customer_language(order.customer)
    drafts = delivery_lines(current, on=on, at_cost=at_cost, language=language)
    key = billing_key(current)
    try:
        invoice = issue_invoice(
            actor=operator,
            customer=order.customer,
            lines=drafts,
            billing_key=key,
            issue_date=issue_date,
            language=language,
        )
    except AlreadyBilled:
        # An earlier attempt issued it and stopped before recording the delivery.
        invoice = Invoice.objects.get(billing_key=key)
    with transaction.atomic():
        locked = HardwareDelivery.objects.select_for_update().get(pk=current.pk)
        if locked.delivered_on is not None:
            raise DomainError(_("This hardware has already been delivered."), code="delivered")
        locked.delivered_on = on
        locked.invoice = invoice
        locked.save(update_fields=["delivered_on", "invoice"])
        audit.record(
            "billing.hardware.delivered",
            actor=operator,
            target=locked,
            data={
                "order": order.number,
                "delivered_on": on.isoformat(),
                "invoice": invoice.number,
                "at_cost": [[cost.description, str(cost.amount)] for cost in at_cost],
            },
        )
    return locked


# --- reading ----------------------------------------------------------------------------------


def retention_by_order(order_ids: Iterable[int]) -> dict[int, bool]:
    """Per order: is any invoice of its deliveries still (partly) open? (§ 27 (I))"""
    invoices: dict[int, list[int]] = {}
    rows = HardwareDelivery.objects.filter(
        order_line__order_id__in=list(order_ids), invoice__isnull=False
    ).values_list("order_line__order_id", "invoice_id")
    for order_id, invoice_id in rows:
        invoices.setdefault(order_id, []).append(invoice_id)
    still_open = open_amounts(pk for pks in invoices.values() for pk in pks)
    return {
        order_id: any(still_open.get(pk, ZERO) > ZERO for pk in pks)
        for order_id, pks in invoices.items()
    }


def retention_of_title(delivery: HardwareDelivery) -> bool:
    """Does the delivered hardware still belong to the operator? Yes while any invoice of the
    order's hardware has an amount open. Hardware not delivered yet is not under retention:
    it has not left the warehouse."""
    if delivery.delivered_on is None:
        return False
    order_id = delivery.order_line.order_id
    return retention_by_order([order_id]).get(order_id, False)


def warranty_until(delivery: HardwareDelivery) -> date | None:
    """The last day of the warranty: one year after delivery (§ 30 (I) of the terms; §§ 187 (1),
    188 (2), (3) BGB: delivered on 29 February, it ends on 28 February of the next year)."""
    if delivery.delivered_on is None:
        return None
    return deadlines.add_months(delivery.delivered_on, WARRANTY_MONTHS)


def is_warranty_case(delivery: HardwareDelivery, on: date) -> bool:
    """Is a fault reported on ``on`` a warranty case? From delivery until the warranty's last
    day, both included."""
    until = warranty_until(delivery)
    if until is None or delivery.delivered_on is None:
        return False
    return delivery.delivered_on <= on <= until
