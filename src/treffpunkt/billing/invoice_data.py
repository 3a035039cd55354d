"""An invoice as plain data: what the e-invoice XML and the PDF are made from. No models, no
database, so the XML and the PDF can be built and checked on their own (tests, benchmarks).

Field names carry the EN 16931 business terms (BT-…) they fill."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from treffpunkt.core.money import VatTotals


@dataclass(frozen=True)
class Party:
    name: str  # BT-27 / BT-44
    street: str  # BT-35 / BT-50
    postal_code: str  # BT-38 / BT-53
    city: str  # BT-37 / BT-52
    country: str = "DE"  # BT-40 / BT-55
    vat_id: str = ""  # BT-31 / BT-48
    tax_number: str = ""  # BT-32 (seller only)
    leitweg_id: str = ""  # BT-10, the buyer reference of a public body
    contact_name: str = ""  # BT-41 / BT-56
    contact_phone: str = ""  # BT-42 / BT-57
    contact_email: str = ""  # BT-43 / BT-58
    # BT-34 / BT-49: the electronic address (an e-mail address, scheme "EM").
    electronic_address: str = ""


@dataclass(frozen=True)
class Line:
    position: int  # BT-126
    description: str  # BT-153
    quantity: Decimal  # BT-129
    unit: str  # BT-130: "MON", "MIN", "C62"
    unit_price: Decimal  # BT-146 (net)
    net: Decimal  # BT-131, rounded to the cent
    vat_percent: Decimal  # BT-152 (category "S")
    supply_start: date  # BT-134
    supply_end: date  # BT-135


@dataclass(frozen=True)
class Payment:
    iban: str  # BT-84
    bic: str = ""  # BT-86
    bank_name: str = ""
    account_name: str = ""  # BT-85


@dataclass(frozen=True)
class InvoiceData:
    kind: str  # BT-3: "380" invoice, "381" credit note
    number: str  # BT-1
    issue_date: date  # BT-2
    supply_start: date  # BT-73
    supply_end: date  # BT-74
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    totals: VatTotals  # BG-22, BG-23
    xrechnung: bool  # XRechnung 3.0 (public bodies) instead of ZUGFeRD EN 16931
    payment: Payment
    payment_terms: str  # BT-20, in the invoice's language
    language: str = "de"
    due_date: date | None = None  # BT-9, when known (set at sending; the PDF states the rule)
    # A credit note names the invoice it corrects (BT-25, BT-26).
    original_number: str = ""
    original_issue_date: date | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)  # BT-22
