"""The e-invoice XML: UN/CEFACT Cross Industry Invoice (CII), written with ``drafthorse``.

One builder for both German formats:

- ZUGFeRD / Factur-X, profile EN 16931 (BT-24 ``urn:cen.eu:en16931:2017``), embedded in the
  PDF as ``factur-x.xml``;
- XRechnung 3.0 in its CII syntax, for public bodies (``InvoiceData.xrechnung``): the same
  document plus what the KoSIT rules ask for: the XRechnung guideline (BT-24), the business
  process (BT-23), the Leitweg-ID as buyer reference (BT-10), the seller contact (BG-6) and both
  electronic addresses (BT-34, BT-49).

Both: type code 380 (invoice) or 381 (credit note, naming the corrected invoice in BT-25/BT-26);
the invoicing period (BG-14) and each line's period (BG-26); every line VAT category "S" with its
rate; the VAT breakdown per rate (BG-23) and the totals (BG-22) taken from ``InvoiceData.totals``
as they are, so the official rules check what the invoice states; payment by SEPA credit
transfer (code 58) to the seller's IBAN; payment terms (BT-20), the due date (BT-9) when known
and the notes (BT-22).

A credit note carries positive amounts, like the invoice it corrects: the type code 381 says
the money flows back.

Every amount is a ``Decimal`` written with two decimals (unit prices with up to four); no float
is involved. The result is checked against the Factur-X EN 16931 XSD; the business
rules are checked in the tests (``tests/billing/einvoice_rules.py``).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import drafthorse
from drafthorse.models.accounting import (
    ApplicableTradeTax,
)
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import (
    PaymentMeans,
    PaymentTerms,
)
from drafthorse.models.tradelines import LineItem
from lxml import etree

from treffpunkt.billing.invoice_data import InvoiceData, Line, Party
from treffpunkt.core.money import CENT, CURRENCY, round_money

INVOICE = "380"
CREDIT_NOTE = "381"
KINDS = (INVOICE, CREDIT_NOTE)

# BT-24, the specification the document follows.
EN16931 = "urn:cen.eu:en16931:2017"
XRECHNUNG_3 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
# BT-23, the business process (the one XRechnung names for billing).
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
# The Factur-X EN 16931 XSD that drafthorse ships (the CII subset EN 16931 uses).
XSD_FILE = Path(drafthorse.__file__).resolve().parent / "schema" / "Factur-X_1.0.07_EN16931.xsd"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)

SEPA_CREDIT_TRANSFER = "58"  # BT-81, UNTDID 4461
VAT = "VAT"  # BT-118-0
STANDARD_RATED = "S"  # BT-118 / BT-151, UNCL 5305
VAT_ID_SCHEME = "VA"  # BT-31 / BT-48
TAX_NUMBER_SCHEME = "FC"  # BT-32
EMAIL_SCHEME = "EM"  # BT-34 / BT-49, the CEF EAS code for an e-mail address

UNIT_PRICE_PLACES = Decimal("0.0001")
PERCENT_PLACES = Decimal("0.01")

# What the PDF calls the document, in its language (the EN 16931 CII profile has no element
# for it). A correction is not called "Gutschrift": in German VAT law that word names a
# self-billed invoice (§ 14 (2) UStG).
DOCUMENT_NAMES = {
    "de": {INVOICE: "Rechnung", CREDIT_NOTE: "Rechnungskorrektur"},
    "en": {INVOICE: "Invoice", CREDIT_NOTE: "Credit note"},
}


def build_cii(data: InvoiceData) -> bytes:
    """The CII XML of ``data`` (UTF-8, with XML declaration), ZUGFeRD EN 16931 or, for
    ``data.xrechnung``, XRechnung 3.0. ``ValueError`` for data no invoice can carry (an unknown
    type code, a line without a rate, a unit price with more than four decimals); missing
    parties' details are left for the business rules to report."""
    if data.kind not in KINDS:
        raise ValueError(f"an invoice's type code is one of {', '.join(KINDS)}, not {data.kind}")
    if not data.lines:
        raise ValueError("an invoice has at least one line")
    doc = Document()
    doc.context.guideline_parameter.id = XRECHNUNG_3 if data.xrechnung else EN16931
    if data.xrechnung:
        doc.context.business_parameter.id = PEPPOL_BILLING

    header = doc.header
    header.id = data.number
    header.type_code = data.kind
    header.issue_date_time = data.issue_date
    for text in data.notes:
        header.notes.add(IncludedNote(content=text))

    for line in data.lines:
        doc.trade.items.add(_line_item(line))

    agreement = doc.trade.agreement
    buyer_reference = data.buyer.leitweg_id
    if buyer_reference:
        agreement.buyer_reference = buyer_reference  # BT-10
    _fill_party(agreement.seller, data.seller, seller=True)
    _fill_party(agreement.buyer, data.buyer, seller=False)

    settlement = doc.trade.settlement
    settlement.currency_code = CURRENCY
    settlement.payment_means.add(_payment_means(data))
    for rate in data.totals.rates:
        tax = ApplicableTradeTax()
        tax.calculated_amount = _amount(rate.vat)  # BT-117
        tax.type_code = VAT
        tax.basis_amount = _amount(rate.net)  # BT-116
        tax.category_code = STANDARD_RATED
        tax.rate_applicable_percent = _percent(rate.vat_percent)  # BT-119
        settlement.trade_tax.add(tax)
    settlement.period.start = data.supply_start  # BT-73
    settlement.period.end = data.supply_end  # BT-74
    if data.payment_terms or data.due_date is not None:
        terms = PaymentTerms()
        if data.payment_terms:
            terms.description = data.payment_terms  # BT-20
        if data.due_date is not None:
            terms.due = data.due_date  # BT-9
        settlement.terms.add(terms)

    totals = settlement.monetary_summation
    totals.line_total = _amount(sum((round_money(line.net) for line in data.lines), Decimal(0)))
    totals.tax_basis_total = (_amount(data.totals.net), None)  # BT-109
    totals.tax_total = (_amount(data.totals.vat), CURRENCY)  # BT-110
    totals.grand_total = (_amount(data.totals.gross), None)  # BT-112
    totals.due_amount = _amount(data.totals.gross)  # BT-115: nothing paid in advance

    if data.kind == CREDIT_NOTE and data.original_number:
        reference = settlement.invoice_referenced_document
        reference.issuer_assigned_id = data.original_number  # BT-25
        if data.original_issue_date is not None:
            reference.issue_date_time = data.original_issue_date  # BT-26

    # drafthorse would compile the XSD again for every document (about 5 ms); it is compiled
    # once here instead, and the document checked against it.
    xml: bytes = doc.serialize(schema=None)
    schema = _xsd()
    if not schema.validate(etree.fromstring(xml, parser=_PARSER)):
        raise ValueError(f"the CII XML does not match {XSD_FILE.name}: {schema.error_log}")
    return xml


@cache
def _xsd() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(XSD_FILE))


def _line_item(line: Line) -> LineItem:
    item = LineItem()
    item.document.line_id = str(line.position)  # BT-126
    item.product.name = line.description  # BT-153
    item.agreement.net.amount = _unit_price(line.unit_price)  # BT-146
    item.delivery.billed_quantity = (_quantity(line.quantity), line.unit)  # BT-129, BT-130
    item.settlement.trade_tax.type_code = VAT
    item.settlement.trade_tax.category_code = STANDARD_RATED  # BT-151
    item.settlement.trade_tax.rate_applicable_percent = _percent(line.vat_percent)  # BT-152
    item.settlement.period.start = line.supply_start  # BT-134
    item.settlement.period.end = line.supply_end  # BT-135
    item.settlement.monetary_summation.total_amount = _amount(line.net)  # BT-131
    return item


# drafthorse takes an identifier with its scheme as (scheme, identifier).
def _fill_party(target: Any, party: Party, *, seller: bool) -> None:
    target.name = party.name  # BT-27 / BT-44
    if party.contact_name or party.contact_phone or party.contact_email:
        contact = target.contact  # BG-6 / BG-9
        if party.contact_name:
            contact.person_name = party.contact_name
        if party.contact_phone:
            contact.telephone.number = party.contact_phone
        if party.contact_email:
            contact.email.address = party.contact_email
    address = target.address
    address.postcode = party.postal_code
    address.line_one = party.street
    address.city_name = party.city
    address.country_id = party.country
    if party.electronic_address:  # BT-34 / BT-49
        target.electronic_address.uri_ID = (EMAIL_SCHEME, party.electronic_address)
    if party.vat_id:
        target.tax_registrations.add(TaxRegistration(id=(VAT_ID_SCHEME, party.vat_id)))
    if seller and party.tax_number:
        target.tax_registrations.add(TaxRegistration(id=(TAX_NUMBER_SCHEME, party.tax_number)))


def _payment_means(data: InvoiceData) -> PaymentMeans:
    means = PaymentMeans()
    means.type_code = SEPA_CREDIT_TRANSFER
    means.payee_account.iban = data.payment.iban.replace(" ", "")  # BT-84
    if data.payment.account_name:
        means.payee_account.account_name = data.payment.account_name  # BT-85
    if data.payment.bic:
        means.payee_institution.bic = data.payment.bic  # BT-86
    return means


def _finite(value: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"an invoice amount is a Decimal, never {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"an invoice amount is finite, not {value}")
    return value


def _amount(value: Decimal) -> Decimal:
    """An amount with exactly two decimals (rounded half up, as ``core.money`` rounds)."""
    return round_money(_finite(value))


def _unit_price(value: Decimal) -> Decimal:
    """A unit price with two decimals, or up to four where the price needs them (a price per
    minute); more is refused rather than rounded, since the line net was computed from it."""
    value = _finite(value)
    exact = value.quantize(UNIT_PRICE_PLACES)
    if exact != value:
        raise ValueError(f"a unit price has at most four decimals: {value}")
    cents = exact.quantize(CENT)
    if cents == exact:
        return cents
    return exact.normalize()  # 0.0450 → 0.045: more than two decimals, at most four


def _quantity(value: Decimal) -> Decimal:
    value = _finite(value)
    exact = value.quantize(UNIT_PRICE_PLACES)
    if exact != value:
        raise ValueError(f"a quantity has at most four decimals: {value}")
    return value


def _percent(value: Decimal) -> Decimal:
    return _finite(value).quantize(PERCENT_PLACES)


def document_name(data: InvoiceData) -> str:
    """BT-3's text: "Rechnung" / "Rechnungskorrektur", or "Invoice" / "Credit note"."""
    return DOCUMENT_NAMES.get(data.language, DOCUMENT_NAMES["en"])[data.kind]


def attachment_name(data: InvoiceData) -> str:
    """The file name the XML carries inside the PDF."""
    return "xrechnung.xml" if data.xrechnung else "factur-x.xml"
