"""Orders (§ 2 of the terms, P-OP-2): an order is the customer's offer; the operator accepts it
in writing within two weeks of receipt (or by providing the service), and an order nobody
accepted in time lapses with a notice to the customer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    Channel,
    Contract,
    ContractState,
    EventKind,
    Order,
    OrderLine,
    OrderState,
    Product,
    ProductKind,
)
from treffpunkt.contracts.services import letters
from treffpunkt.contracts.services._common import (
    add_event,
    assign_number,
    iso,
    require_contact_of,
    require_operator,
    today,
)
from treffpunkt.contracts.services.catalogue import price_on
from treffpunkt.contracts.services.holds import sync_holds
from treffpunkt.contracts.services.terms import term_dates
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.customers.models import Customer
from treffpunkt.documents.models import Document

MAX_QUANTITY = 1000
MAX_LINES = 20


@dataclass(frozen=True)
class OrderItem:
    product: Product
    quantity: int = 1


def _check_items(items: Sequence[OrderItem], *, on: date) -> None:
    if not items:
        raise DomainError(_("An order needs at least one product."), code="items")
    if len(items) > MAX_LINES:
        raise DomainError(_("An order has at most 20 lines."), code="items")
    for item in items:
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise DomainError(_("A quantity is a whole number from 1 to 1000."), code="quantity")
        if not item.product.orderable:
            raise DomainError(
                _("%(product)s can no longer be ordered.") % {"product": item.product.name},
                code="items",
            )
        if price_on(item.product, on) is None:
            raise DomainError(
                _("%(product)s has no price yet and cannot be ordered.")
                % {"product": item.product.name},
                code="items",
            )


def place_order(
    *,
    actor: User | None,
    customer: Customer,
    items: Sequence[OrderItem],
    submission_key: uuid.UUID,
    channel: str = Channel.CUSTOMER_AREA,
    received_on: date | None = None,
    requested_start: date | None = None,
    note: str = "",
) -> Order:
    """Record an order. Entered by the operator (with the channel and day it arrived) or
    placed by one of the customer's contacts in the customer area (received today).

    ``submission_key`` comes from the form: the same form sent twice records one order."""
    if actor is not None and actor.is_customer_contact:
        require_contact_of(actor, customer)
        channel, received_on = Channel.CUSTOMER_AREA, today()
    else:
        require_operator(actor)
        channel = Channel(channel)
        if received_on is None:
            received_on = today()
    if received_on > today():
        raise DomainError(_("An order cannot arrive in the future."), code="received_on")
    if requested_start is not None and requested_start < received_on:
        raise DomainError(
            _("The requested start cannot lie before the order arrived."), code="requested_start"
        )
    _check_items(items, on=requested_start or received_on)
    if Order.objects.filter(submission_key=submission_key).exists():
        raise _duplicate(submission_key)
    try:
        with transaction.atomic():
            order = Order.objects.create(
                customer=customer,
                submission_key=submission_key,
                channel=channel,
                received_on=received_on,
                accept_by=deadlines.acceptance_deadline(received_on),
                placed_by=actor,
                requested_start=requested_start,
                note=note.strip(),
            )
            assign_number(order, prefix="A-")
            OrderLine.objects.bulk_create(
                OrderLine(order=order, product=item.product, quantity=item.quantity)
                for item in items
            )
            audit.record(
                "contracts.order.received",
                actor=actor,
                target=order,
                data={
                    "customer": customer.pk,
                    "channel": str(channel),
                    "received_on": received_on.isoformat(),
                    "accept_by": order.accept_by.isoformat(),
                    "lines": [[item.product.code, item.quantity] for item in items],
                },
            )
    except IntegrityError as clash:
        # Two submissions of one form at the same moment: the second finds the first.
        raise _duplicate(submission_key) from clash
    return order


def _duplicate(submission_key: uuid.UUID) -> DomainError:
    existing = Order.objects.filter(submission_key=submission_key).first()
    number = existing.number if existing is not None else ""
    return DomainError(
        _("This order has already been received (%(number)s); it was not recorded twice.")
        % {"number": number},
        code="duplicate_order",
    )


def accept_order(
    *,
    actor: User | None,
    order: Order,
    start: date,
    delivery_date: date | None = None,
) -> Order:
    """Accept ``order`` in writing: a contract for each service line from ``start`` and the
    order confirmation (a letter with the contract start and, for hardware, the delivery date),
    sent to the customer's contacts. The services go on with their first invoice (P-OP-3)."""
    operator = require_operator(actor)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        _check_acceptable(order, start=start, delivery_date=delivery_date)
        lines = list(order.lines.select_related("product"))
        order.state = OrderState.ACCEPTED
        order.decided_at = clock.now()
        order.decided_by = operator
        order.confirmed_start = start
        order.delivery_date = delivery_date if _has_hardware(lines) else None
        order.save(
            update_fields=["state", "decided_at", "decided_by", "confirmed_start", "delivery_date"]
        )
        contracts = [
            _conclude(order=order, line=line, start=start)
            for line in lines
            if line.product.kind != ProductKind.HARDWARE
        ]
        audit.record(
            "contracts.order.accepted",
            actor=operator,
            target=order,
            data={
                "start": start.isoformat(),
                "delivery_date": iso(order.delivery_date),
                "contracts": [contract.number for contract in contracts],
            },
        )
        letter = _confirmation_letter(order=order, lines=lines, contracts=contracts, actor=operator)
        for contract in contracts:
            add_event(
                contract,
                kind=EventKind.CREATED,
                on=today(),
                summary=_("Order %(order)s accepted; the contract starts on %(start)s.")
                % {"order": order.number, "start": letters.long_date(start)},
                document=letter,
            )
        if contracts:
            # A new video contract waits for its first invoice: until then it is not on.
            sync_holds(order.customer, actor=operator)
    return order


def _has_hardware(lines: Sequence[OrderLine]) -> bool:
    return any(line.product.kind == ProductKind.HARDWARE for line in lines)


def _check_acceptable(order: Order, *, start: date, delivery_date: date | None) -> None:
    if order.state != OrderState.RECEIVED:
        raise DomainError(
            _("This order is no longer waiting for acceptance (%(state)s).")
            % {"state": order.get_state_display()},
            code="order_state",
        )
    if today() > order.accept_by:
        raise DomainError(
            _(
                "The two weeks for accepting this order ended on %(day)s (§ 2 (II) of the "
                "terms). The order has lapsed; ask the customer to order again."
            )
            % {"day": letters.long_date(order.accept_by)},
            code="order_lapsed",
        )
    if start < order.received_on:
        raise DomainError(_("The contract cannot start before the order arrived."), code="start")
    has_hardware = order.lines.filter(product__kind=ProductKind.HARDWARE).exists()
    if has_hardware and delivery_date is None:
        raise DomainError(
            _("The order includes hardware: give its delivery date."), code="delivery_date"
        )
    if delivery_date is not None and delivery_date < today():
        raise DomainError(_("The delivery date cannot lie in the past."), code="delivery_date")


def _conclude(*, order: Order, line: OrderLine, start: date) -> Contract:
    kind = ProductKind(line.product.kind)
    contract = Contract.objects.create(
        customer=order.customer,
        order=order,
        product=line.product,
        kind=kind,
        quantity=line.quantity,
        state=ContractState.WAITING,
        start=start,
        **term_dates(kind, start),
    )
    assign_number(contract, prefix="V-")
    return contract


def _confirmation_letter(
    *, order: Order, lines: Sequence[OrderLine], contracts: Sequence[Contract], actor: User
) -> Document:
    customer = order.customer
    with letters.in_language_of(customer) as language:
        paragraphs = [
            _(
                "Thank you for your order %(order)s of %(received)s. We accept it with this "
                "letter (§ 2 (III) of our terms)."
            )
            % {"order": order.number, "received": letters.long_date(order.received_on)},
        ]
        for contract in contracts:
            paragraphs.append(
                _(
                    "Contract %(contract)s (%(product)s) starts on %(start)s and runs for one "
                    "year, until %(end)s."
                )
                % {
                    "contract": contract.number,
                    "product": contract.product.name,
                    "start": letters.long_date(contract.start),
                    "end": letters.long_date(contract.term_end),
                }
                + " "
                + renewal_sentence(contract)
            )
        if order.delivery_date is not None:
            paragraphs.append(
                _("We deliver the hardware on %(day)s.")
                % {"day": letters.long_date(order.delivery_date)}
            )
        if contracts:
            paragraphs.append(
                _("We switch the services on as soon as we have issued their first invoice.")
            )
        table = {
            "columns": [_("Quantity"), _("Product")],
            "align": ["right", "left"],
            "rows": [[str(line.quantity), line.product.name] for line in lines],
        }
        subject = _("Order confirmation %(order)s") % {"order": order.number}
    return letters.send_letter(
        customer=customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        table=table,  # type: ignore[arg-type]  # the TypedDict's shape, built inline
        order=order,
        actor=actor,
    )


def renewal_sentence(contract: Contract) -> str:
    if contract.kind == ProductKind.VIDEO:
        return _(
            "It renews by one year at a time unless cancelled at the latest three months "
            "before the end of a term (§ 22 (I) of our terms)."
        )
    return _(
        "It renews by one year only with your express consent; we will ask you for it at the "
        "latest six weeks before the end (§ 20 (I) of our terms)."
    )


def decline_order(*, actor: User | None, order: Order, reason: str) -> Order:
    """Decline ``order`` with a letter that gives the reason."""
    operator = require_operator(actor)
    if not reason.strip():
        raise DomainError(_("Say why the order is declined."), code="reason")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.state != OrderState.RECEIVED:
            raise DomainError(
                _("This order is no longer waiting for acceptance."), code="order_state"
            )
        order.state = OrderState.DECLINED
        order.decided_at = clock.now()
        order.decided_by = operator
        order.save(update_fields=["state", "decided_at", "decided_by"])
        audit.record(
            "contracts.order.declined", actor=operator, target=order, data={"reason": reason}
        )
        with letters.in_language_of(order.customer) as language:
            letters.send_letter(
                customer=order.customer,
                language=language,
                subject=_("Your order %(order)s") % {"order": order.number},
                paragraphs=[
                    _("We cannot accept your order %(order)s of %(received)s.")
                    % {"order": order.number, "received": letters.long_date(order.received_on)},
                    reason.strip(),
                ],
                order=order,
                actor=operator,
            )
    return order


def lapse_order(order: Order, *, on: date) -> bool:
    """Let an order nobody accepted within two weeks lapse, with a notice (the daily run)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.state != OrderState.RECEIVED or locked.accept_by >= on:
            return False
        locked.state = OrderState.LAPSED
        locked.decided_at = clock.now()
        locked.save(update_fields=["state", "decided_at"])
        audit.record(
            "contracts.order.lapsed",
            actor=None,
            target=locked,
            data={"accept_by": locked.accept_by.isoformat()},
        )
        with letters.in_language_of(locked.customer) as language:
            letters.send_letter(
                customer=locked.customer,
                language=language,
                subject=_("Your order %(order)s has lapsed") % {"order": locked.number},
                paragraphs=[
                    _(
                        "We could not accept your order %(order)s of %(received)s within two "
                        "weeks (§ 2 (II) of our terms), so it has lapsed and no contract came "
                        "about. Please order again if you still want the service."
                    )
                    % {
                        "order": locked.number,
                        "received": letters.long_date(locked.received_on),
                    },
                ],
                order=locked,
                actor=None,
            )
    return True
