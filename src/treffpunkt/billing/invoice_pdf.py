"""The invoice as a PDF: PDF/A-3b (and PDF/UA-1) with its e-invoice XML inside.

``invoice_template_data`` turns an ``InvoiceData`` into the data of
``documents/templates/documents/invoice.typ``: every text already in the invoice's language,
every amount formatted by ``core.money.format_money``. The PDF shows what § 14 (4) UStG asks for
(both parties' names and addresses, the seller's VAT id and/or tax number, issue date, number,
quantity and kind of each supply, the period of supply, net per rate, rate and VAT, gross), the
payment terms (BT-20) and the notes (BT-22) as the data states them, a credit note's reference
to the invoice it corrects, a public body's Leitweg-ID and, on an invoice, a GiroCode (EPC QR)
for the gross amount.

``invoice_document`` stores it as a ``documents.Document`` with the XML embedded as
``factur-x.xml`` (ZUGFeRD / Factur-X) or ``xrechnung.xml`` (XRechnung), relationship
"alternative": the XML is the invoice, the PDF its visible form.

Not written: the Factur-X XMP extension schema (fx:DocumentType, fx:DocumentFileName, fx:Version,
fx:ConformanceLevel). Typst cannot set custom XMP yet (typst/typst#5667), and rewriting the PDF
afterwards with another library would no longer be the file Typst checked for PDF/A and PDF/UA.
The XML is embedded and linked through ``/AF`` with AFRelationship Alternative.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import segno.helpers
from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from treffpunkt.billing.einvoice import CREDIT_NOTE, attachment_name, document_name
from treffpunkt.billing.invoice_data import InvoiceData, Line, Party
from treffpunkt.core.money import format_money, round_money
from treffpunkt.documents.rendering import EmbeddedFile, Relationship

if TYPE_CHECKING:
    from treffpunkt.accounts.models import Organization, User
    from treffpunkt.documents.models import Document

TEMPLATE: Final = "invoice"
XML_MIMETYPE: Final = "text/xml"
CII_NAMESPACES: Final = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
# EPC069-12: the beneficiary's name has at most 70 characters, the remittance text 140.
EPC_NAME_LENGTH: Final = 70
EPC_TEXT_LENGTH: Final = 140

MONTHS_EN: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip

# The units invoices use (UN/ECE Recommendation 20), as a reader says them.
UNITS: Final = {
    "de": {"MON": "Monat", "MIN": "Min.", "C62": "Stück", "HUR": "Std.", "DAY": "Tag"},
    "en": {"MON": "month", "MIN": "min", "C62": "unit", "HUR": "h", "DAY": "day"},
}

LABELS: Final = {
    "de": {
        "number": "Rechnungsnummer",
        "credit_number": "Nummer",
        "issue_date": "Rechnungsdatum",
        "credit_issue_date": "Datum",
        "period": "Leistungszeitraum",
        "buyer_reference": "Leitweg-ID",
        "buyer_vat_id": "Ihre USt-IdNr.",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "contact": "Ansprechpartner",
        "phone": "Telefon",
        "email": "E-Mail",
        "position": "Pos.",
        "description": "Leistung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "vat_rate": "USt.",
        "net": "Netto",
        "vat_breakdown": "Umsatzsteuer",
        "vat_on": "USt. {rate} auf {net}",
        "net_total": "Summe netto",
        "vat_total": "Umsatzsteuer",
        "gross": "Rechnungsbetrag",
        "credit_gross": "Korrekturbetrag",
        "payment": "Zahlung",
        "bank": "Kreditinstitut",
        "account_holder": "Kontoinhaber",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Verwendungszweck",
        "girocode": "GiroCode: mit der Banking-App scannen, um {amount} an {name} zu überweisen "
        "(IBAN {iban}, Verwendungszweck {text}).",
        "girocode_caption": "GiroCode",
        "corrects": "Diese Rechnungskorrektur bezieht sich auf die Rechnung {number} vom {date}.",
        "corrects_no_date": "Diese Rechnungskorrektur bezieht sich auf die Rechnung {number}.",
        "einvoice": "Diese PDF-Datei enthält die elektronische Rechnung als {file} ({format}).",
        "page": "Seite",
        "of": "von",
    },
    "en": {
        "number": "Invoice number",
        "credit_number": "Number",
        "issue_date": "Invoice date",
        "credit_issue_date": "Date",
        "period": "Period of supply",
        "buyer_reference": "Leitweg-ID",
        "buyer_vat_id": "Your VAT ID",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "contact": "Contact",
        "phone": "Phone",
        "email": "Email",
        "position": "No.",
        "description": "Service",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "vat_rate": "VAT",
        "net": "Net",
        "vat_breakdown": "VAT",
        "vat_on": "VAT {rate} on {net}",
        "net_total": "Total net",
        "vat_total": "VAT",
        "gross": "Amount due",
        "credit_gross": "Amount credited",
        "payment": "Payment",
        "bank": "Bank details",
        "account_holder": "Account holder",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Reference",
        "girocode": "GiroCode: scan with a banking app to transfer {amount} to {name} "
        "(IBAN {iban}, reference {text}).",
        "girocode_caption": "GiroCode",
        "corrects": "This credit note corrects invoice {number} of {date}.",
        "corrects_no_date": "This credit note corrects invoice {number}.",
        "einvoice": "This PDF file carries the electronic invoice as {file} ({format}).",
        "page": "Page",
        "of": "of",
    },
}


class InvoiceMismatch(ValueError):
    """The XML to embed states another invoice than the data to print."""


def invoice_title(data: InvoiceData) -> str:
    """The PDF's title: "Rechnung RE-2026-0042" / "Credit note RK-2026-0001"."""
    return f"{document_name(data)} {data.number}"


def invoice_attachment(data: InvoiceData, xml: bytes) -> EmbeddedFile:
    """The XML as the file the PDF carries (``factur-x.xml`` or ``xrechnung.xml``)."""
    return EmbeddedFile(
        filename=attachment_name(data),
        content=xml,
        mimetype=XML_MIMETYPE,
        description=_format_name(data),
        relationship=Relationship.ALTERNATIVE,
    )


def invoice_document(
    *,
    data: InvoiceData,
    xml: bytes,
    actor: User | None,
    language: str | None = None,
    organization: Organization | None = None,
) -> Document:
    """Render and store the invoice (or credit note) with its XML embedded.

    ``language`` is the PDF's language (the invoice's own by default); ``xml`` is
    ``einvoice.build_cii(data)``, checked to state the same number, type and gross amount."""
    # Imported here: the rest of this module (template data, rendering) runs without the
    # model registry, as the benchmark does.
    from treffpunkt.documents.models import DocumentKind
    from treffpunkt.documents.services import create_document

    language = language or data.language
    return create_document(
        kind=DocumentKind.CREDIT_NOTE if data.kind == CREDIT_NOTE else DocumentKind.INVOICE,
        title=invoice_title(data),
        template=TEMPLATE,
        data=invoice_template_data(data, xml, language=language),
        language=language,
        organization=organization,
        attachments=[invoice_attachment(data, xml)],
        actor=actor,
        issued_on=data.issue_date,
    )


def invoice_template_data(
    data: InvoiceData, xml: bytes, *, language: str | None = None
) -> dict[str, Any]:
    """The data of ``invoice.typ`` (see the template's head for its shape)."""
    language = language or data.language
    _check_same_invoice(data, xml)
    words = LABELS[language]
    credit = data.kind == CREDIT_NOTE
    facts: list[list[str]] = [
        [words["credit_number" if credit else "number"], data.number],
        [words["credit_issue_date" if credit else "issue_date"], _date(data.issue_date, language)],
        [words["period"], _period(data.supply_start, data.supply_end, language)],
    ]
    if data.buyer.leitweg_id:
        facts.append([words["buyer_reference"], data.buyer.leitweg_id])
    if data.buyer.vat_id:
        facts.append([words["buyer_vat_id"], data.buyer.vat_id])

    references: list[str] = []
    if credit and data.original_number:
        references.append(
            words["corrects"].format(
                number=data.original_number, date=_date(data.original_issue_date, language)
            )
            if data.original_issue_date is not None
            else words["corrects_no_date"].format(number=data.original_number)
        )

    def money(amount: Decimal) -> str:
        return format_money(amount, language)

    totals = data.totals
    result: dict[str, Any] = {
        "seller": _seller(data.seller, words),
        "recipient": {"lines": _address_lines(data.buyer)},
        "title": invoice_title(data),
        "facts": facts,
        "references": references,
        "lines": {
            "columns": [
                words["position"],
                words["description"],
                words["quantity"],
                words["unit_price"],
                words["vat_rate"],
                words["net"],
            ],
            "rows": [_line_row(line, language) for line in data.lines],
        },
        "vat": [
            [
                words["vat_on"].format(
                    rate=_percent(rate.vat_percent, language), net=money(rate.net)
                ),
                money(rate.vat),
            ]
            for rate in totals.rates
        ],
        "totals": [
            [words["net_total"], money(totals.net)],
            [words["vat_total"], money(totals.vat)],
        ],
        "gross": [words["credit_gross" if credit else "gross"], money(totals.gross)],
        "payment_heading": words["payment"],
        "payment_terms": data.payment_terms,
        "bank": _bank(data, words),
        "notes": list(data.notes),
        "einvoice": words["einvoice"].format(file=attachment_name(data), format=_format_name(data)),
        "words": {"page": words["page"], "of": words["of"]},
    }
    if not credit and totals.gross > 0:
        result["girocode"] = girocode(data, language=language)
    return result


EPC_MASK = 0
EPC_MAX_VERSION = 13


def epc_payload(*, name: str, iban: str, bic: str, amount: Decimal, text: str) -> bytes:
    """The text of a GiroCode after EPC069-12, version 002 (BIC optional), UTF-8: service tag,
    version, character set, SEPA credit transfer, BIC, name, IBAN, amount, purpose, structured
    reference (empty), unstructured remittance text. Trailing empty lines are left out. Bytes,
    so that the QR code carries UTF-8 as the third line says (segno would pick Latin-1 for a
    text that fits it)."""
    lines = ["BCD", "002", "1", "SCT", bic, name, iban, f"EUR{amount:.2f}", "", "", text]
    return "\n".join(lines).rstrip("\n").encode("utf-8")


def girocode(data: InvoiceData, *, language: str) -> dict[str, str]:
    """The GiroCode (EPC QR) of an invoice: pay the gross amount to the seller's IBAN with the
    invoice number as the remittance text. The IBAN is checked first (``segno`` checks only
    lengths); an invalid one is refused with ``ValueError`` rather than printed."""
    try:
        iban = IBAN(data.payment.iban)
    except SchwiftyException as error:
        raise ValueError(f"the seller's IBAN is not valid: {error}") from error
    name = (data.payment.account_name or data.seller.name)[:EPC_NAME_LENGTH]
    text = data.number[:EPC_TEXT_LENGTH]
    amount = round_money(data.totals.gross)
    # As ``segno.helpers.make_epc_qr`` makes it (level M, no boost), with a fixed mask:
    # searching the best of eight masks was most of a GiroCode's time (about 11 ms of 13), and
    # any mask gives a valid code.
    payload = epc_payload(
        name=name, iban=iban.compact, bic=data.payment.bic, amount=amount, text=text
    )
    code = segno.make_qr(payload, error="m", boost_error=False, mask=EPC_MASK)
    if int(code.version) > EPC_MAX_VERSION:
        raise ValueError(f"an EPC QR code is at most version 13, not {code.designator}")
    svg = io.BytesIO()
    code.save(svg, kind="svg", xmldecl=False, svgns=True, nl=False, border=0)
    words = LABELS[language]
    return {
        "svg": svg.getvalue().decode("ascii"),
        "caption": words["girocode_caption"],
        "alt": words["girocode"].format(
            amount=format_money(amount, language), name=name, iban=iban.formatted, text=text
        ),
    }


def _check_same_invoice(data: InvoiceData, xml: bytes) -> None:
    """Refuse to put an XML into the PDF that states another number, type or gross amount."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    stated = {
        "number": root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=CII_NAMESPACES),
        "kind": root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=CII_NAMESPACES),
        "gross": root.findtext(".//ram:GrandTotalAmount", namespaces=CII_NAMESPACES),
    }
    expected = {
        "number": data.number,
        "kind": data.kind,
        "gross": str(round_money(data.totals.gross)),
    }
    if stated != expected:
        raise InvoiceMismatch(f"the XML states {stated}, the data {expected}")


def _format_name(data: InvoiceData) -> str:
    return "XRechnung 3.0 (CII)" if data.xrechnung else "ZUGFeRD / Factur-X EN 16931"


def _seller(party: Party, words: dict[str, str]) -> dict[str, Any]:
    lines = [party.street, f"{party.postal_code} {party.city}"]
    if party.country != "DE":
        lines.append(party.country)
    tax = []
    if party.vat_id:
        tax.append(f"{words['vat_id']} {party.vat_id}")
    if party.tax_number:
        tax.append(f"{words['tax_number']} {party.tax_number}")
    contact = []
    if party.contact_name:
        contact.append(f"{words['contact']}: {party.contact_name}")
    if party.contact_phone:
        contact.append(f"{words['phone']} {party.contact_phone}")
    if party.contact_email:
        contact.append(f"{words['email']} {party.contact_email}")
    return {"name": party.name, "lines": lines + tax + contact}


def _address_lines(party: Party) -> list[str]:
    lines = [party.name]
    if party.contact_name:
        lines.append(party.contact_name)
    lines += [party.street, f"{party.postal_code} {party.city}"]
    if party.country != "DE":
        lines.append(party.country)
    return lines


def _bank(data: InvoiceData, words: dict[str, str]) -> list[list[str]]:
    payment = data.payment
    rows = []
    if payment.account_name:
        rows.append([words["account_holder"], payment.account_name])
    rows.append([words["iban"], _spaced_iban(payment.iban)])
    if payment.bic:
        rows.append([words["bic"], payment.bic])
    if payment.bank_name:
        rows.append([words["bank"], payment.bank_name])
    rows.append([words["reference"], data.number])
    return rows


def _spaced_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _line_row(line: Line, language: str) -> list[str]:
    unit = UNITS[language].get(line.unit, line.unit)
    description = f"{line.description}\n{_period(line.supply_start, line.supply_end, language)}"
    return [
        str(line.position),
        description,
        f"{_number(line.quantity, language)} {unit}",
        _unit_price(line.unit_price, language),
        _percent(line.vat_percent, language),
        format_money(line.net, language),
    ]


def _unit_price(price: Decimal, language: str) -> str:
    """A unit price as money; with its third and fourth decimal when it has them (0,045 €)."""
    if price == round_money(price):
        return format_money(price, language)
    number = _number(price, language)
    return f"{number}\u00a0€" if language == "de" else f"€{number}"


def _number(value: Decimal, language: str) -> str:
    """A quantity as the language writes it, without trailing zeros: 1.234 / 1,5 (de)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    grouped = format(Decimal(whole), ",") + (f".{fraction}" if fraction else "")
    separators = {"de": ".,", "en": ",."}[language]
    return grouped.translate(str.maketrans(",.", separators))


def _percent(value: Decimal, language: str) -> str:
    number = _number(value, language)
    return f"{number}\u00a0%" if language == "de" else f"{number}%"


def _date(day: date, language: str) -> str:
    if language == "de":
        return day.strftime("%d.%m.%Y")
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def _period(start: date, end: date, language: str) -> str:
    if start == end:
        return _date(start, language)
    return f"{_date(start, language)} – {_date(end, language)}"
