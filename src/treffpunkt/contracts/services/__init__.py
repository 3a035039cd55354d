"""The only write path for the catalogue, orders and contracts (P-OP-2 … P-OP-7, P-SLA-3).

Every function is keyword-only, checks who may act, runs in one transaction and writes an
audit entry; mails and letters leave only when that transaction commits (the outbox).
"""

from treffpunkt.contracts.services.blocks import block_service, lift_block
from treffpunkt.contracts.services.catalogue import PriceTerms, add_product, price_on, set_price
from treffpunkt.contracts.services.daily import run_contracts_day
from treffpunkt.contracts.services.lifecycle import (
    cancel_in_customer_area,
    give_consent_in_customer_area,
    record_cancellation,
    record_consent,
    switch_on,
)
from treffpunkt.contracts.services.notices import (
    announce_change,
    announce_transfer,
    record_transfer_objection,
)
from treffpunkt.contracts.services.orders import (
    OrderItem,
    accept_order,
    decline_order,
    place_order,
)

__all__ = [
    "OrderItem",
    "PriceTerms",
    "accept_order",
    "add_product",
    "announce_change",
    "announce_transfer",
    "block_service",
    "cancel_in_customer_area",
    "decline_order",
    "give_consent_in_customer_area",
    "lift_block",
    "place_order",
    "price_on",
    "record_cancellation",
    "record_consent",
    "record_transfer_objection",
    "run_contracts_day",
    "set_price",
    "switch_on",
]
