"""The e-invoice promises: the XML of every kind of invoice passes the official rules (CEN,
KoSIT for XRechnung, Factur-X for ZUGFeRD) without an error, the rules demonstrably catch
errors, and the PDF is PDF/A-3b, carries that very XML and shows what § 14 (4) UStG asks for."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest

from tests.billing import einvoice_rules
from tests.documents.pdf_reading import fonts, open_pdf, page_texts, xmp
from treffpunkt.billing.einvoice import build_cii
from treffpunkt.billing.invoice_data import InvoiceData, Line, Party, Payment
from treffpunkt.billing.invoice_pdf import (
    InvoiceMismatch,
    invoice_attachment,
    invoice_document,
    invoice_template_data,
    invoice_title,
)
from treffpunkt.core.money import TaxableLine, format_money, vat_totals
from treffpunkt.documents import rendering
from treffpunkt.documents.models import DocumentKind
from treffpunkt.documents.storage import document_storage

LEITWEG_ID = "991-01234-38"
PAYMENT_TERMS = "Zahlbar innerhalb von 14 Tagen nach Zugang der Rechnung ohne Abzug."
OBJECTION = (
    "Einwendungen gegen die Höhe der Verbindungsentgelte können Sie innerhalb von acht Wochen "
    "nach Zugang dieser Rechnung erheben."
)
PDFA_ID = "{http://www.aiim.org/pdfa/ns/id/}"
PDFUA_ID = "{http://www.aiim.org/pdfua/ns/id/}"
MARCH = (date(2026, 3, 1), date(2026, 3, 31))

SELLER = Party(
    name="Treffpunkt Kommunikation GmbH",
    street="Hafenstraße 1",
    postal_code="20457",
    city="Hamburg",
    vat_id="DE136695976",
    tax_number="22/815/08154",
    contact_name="Bernd Buchhaltung",
    contact_phone="+49 40 1234567",
    contact_email="rechnung@treffpunkt.example",
    electronic_address="rechnung@treffpunkt.example",
)
COMPANY = Party(
    name="Beispiel Pflege GmbH",
    street="Musterweg 5",
    postal_code="12345",
    city="Musterstadt",
    vat_id="DE811907980",
    electronic_address="einkauf@beispiel-pflege.example",
)
PUBLIC_BODY = Party(
    name="Gesundheitskasse Musterland",
    street="Kassenplatz 3",
    postal_code="54321",
    city="Kassel",
    leitweg_id=LEITWEG_ID,
    electronic_address="eingangsrechnung@kasse.example",
)
PAYMENT = Payment(
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    bank_name="Commerzbank",
    account_name="Treffpunkt Kommunikation GmbH",
)


def line(
    position: int,
    description: str,
    quantity: str,
    unit: str,
    unit_price: str,
    vat_percent: str,
    period: tuple[date, date] = MARCH,
) -> Line:
    net = Decimal(quantity) * Decimal(unit_price)
    return Line(
        position=position,
        description=description,
        quantity=Decimal(quantity),
        unit=unit,
        unit_price=Decimal(unit_price),
        net=net.quantize(Decimal("0.01")),
        vat_percent=Decimal(vat_percent),
        supply_start=period[0],
        supply_end=period[1],
    )


def invoice(
    *,
    lines: tuple[Line, ...],
    buyer: Party = COMPANY,
    xrechnung: bool = False,
    kind: str = "380",
    number: str = "RE-2026-0042",
    **extra: object,
) -> InvoiceData:
    return InvoiceData(
        kind=kind,
        number=number,
        issue_date=date(2026, 4, 2),
        supply_start=min(item.supply_start for item in lines),
        supply_end=max(item.supply_end for item in lines),
        seller=SELLER,
        buyer=buyer,
        lines=lines,
        totals=vat_totals(
            TaxableLine(net=item.net, vat_percent=item.vat_percent) for item in lines
        ),
        xrechnung=xrechnung,
        payment=PAYMENT,
        payment_terms=PAYMENT_TERMS,
        notes=(OBJECTION,),
        **extra,  # type: ignore[arg-type]
    )


MONTHLY_LINES = (
    line(1, "Grundgebühr Videoberatung, März 2026", "1", "MON", "49.90", "19"),
    line(2, "Gesprächsminuten, März 2026", "312", "MIN", "0.045", "19"),
    line(3, "Informationsbroschüren, gedruckt", "2", "C62", "9.35", "7"),
)


def company_invoice() -> InvoiceData:
    """(a) ZUGFeRD for a company: monthly fee, minutes, and a 7 % line."""
    return invoice(lines=MONTHLY_LINES, due_date=date(2026, 4, 16))


def public_body_invoice() -> InvoiceData:
    """(b) the same for a public body: XRechnung with its Leitweg-ID."""
    return invoice(lines=MONTHLY_LINES, buyer=PUBLIC_BODY, xrechnung=True, number="RE-2026-0043")


def credit_note() -> InvoiceData:
    """(c) a credit note (381) for 100 minutes billed twice on invoice RE-2026-0042."""
    return invoice(
        lines=(
            line(1, "Gutschrift doppelt berechneter Gesprächsminuten", "100", "MIN", "0.045", "19"),
        ),
        kind="381",
        number="RK-2026-0001",
        original_number="RE-2026-0042",
        original_issue_date=date(2026, 4, 2),
    )


def damages_invoice() -> InvoiceData:
    """(d) the pre-set amount for ending a minimum-term contract early: consideration, so 19 %
    VAT (CJEU C-295/17 MEO)."""
    return invoice(
        lines=(
            line(
                1,
                "Pauschale bei vorzeitiger Vertragsbeendigung "
                "(Restlaufzeit April bis Dezember 2026)",
                "1",
                "C62",
                "112.27",
                "19",
                period=(date(2026, 4, 1), date(2026, 12, 31)),
            ),
        ),
        number="RE-2026-0044",
    )


ALL_KINDS: dict[str, Callable[[], InvoiceData]] = {
    "company_zugferd": company_invoice,
    "public_body_xrechnung": public_body_invoice,
    "credit_note": credit_note,
    "damages": damages_invoice,
}


# Per kind of invoice: its data, its XML and its PDF.
Made = dict[str, tuple[InvoiceData, bytes, bytes]]


def render_pdf(data: InvoiceData, xml: bytes) -> bytes:
    meta = rendering.Meta(
        title=invoice_title(data),
        language=data.language,
        reference=str(uuid.uuid4()),
        issued_on=data.issue_date,
        created_at=datetime(2026, 4, 2, 8, 0, tzinfo=UTC),
    )
    return rendering.render(
        template="invoice",
        data=invoice_template_data(data, xml),
        meta=meta,
        files=[invoice_attachment(data, xml)],
    )


# --- the XML ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_KINDS.values(), ids=ALL_KINDS.keys())
def test_every_kind_of_invoice_passes_the_official_rules(make: Callable[[], InvoiceData]) -> None:
    data = make()
    findings = einvoice_rules.errors(build_cii(data), xrechnung=data.xrechnung)
    assert findings == [], "\n".join(map(str, findings))


def test_the_xml_states_amounts_with_two_decimals_and_fine_unit_prices_with_up_to_four() -> None:
    xml = build_cii(company_invoice()).decode()
    assert "<ram:ChargeAmount>0.045</ram:ChargeAmount>" in xml
    assert "<ram:ChargeAmount>49.90</ram:ChargeAmount>" in xml
    assert "<ram:LineTotalAmount>14.04</ram:LineTotalAmount>" in xml
    assert '<ram:TaxTotalAmount currencyID="EUR">' in xml
    assert not re.search(r">[-0-9.]*[0-9][eE][-+]?[0-9]+<", xml)  # no exponent notation


def test_xrechnung_names_its_guideline_process_and_leitweg_id() -> None:
    xml = build_cii(public_body_invoice()).decode()
    assert "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0" in xml
    assert "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0" in xml
    assert f"<ram:BuyerReference>{LEITWEG_ID}</ram:BuyerReference>" in xml


def test_a_credit_note_names_the_invoice_it_corrects() -> None:
    xml = build_cii(credit_note()).decode()
    assert "<ram:TypeCode>381</ram:TypeCode>" in xml
    assert "<ram:IssuerAssignedID>RE-2026-0042</ram:IssuerAssignedID>" in xml


def test_a_wrong_grand_total_is_caught_by_br_co_15() -> None:
    data = company_invoice()
    wrong = dataclasses.replace(
        data, totals=dataclasses.replace(data.totals, gross=data.totals.gross + Decimal("0.01"))
    )
    findings = einvoice_rules.errors(build_cii(wrong), xrechnung=False)
    assert "BR-CO-15" in einvoice_rules.rule_ids(findings)


def test_a_missing_seller_vat_id_is_caught_by_br_s_02_and_br_co_26() -> None:
    data = company_invoice()
    without = dataclasses.replace(
        data, seller=dataclasses.replace(SELLER, vat_id="", tax_number="")
    )
    ids = einvoice_rules.rule_ids(einvoice_rules.errors(build_cii(without), xrechnung=False))
    assert {"BR-S-02", "BR-CO-26"} <= ids


def test_a_missing_leitweg_id_on_xrechnung_is_caught_by_br_de_15() -> None:
    data = public_body_invoice()
    without = dataclasses.replace(data, buyer=dataclasses.replace(PUBLIC_BODY, leitweg_id=""))
    ids = einvoice_rules.rule_ids(einvoice_rules.errors(build_cii(without), xrechnung=True))
    assert "BR-DE-15" in ids


def test_no_float_reaches_the_xml() -> None:
    data = company_invoice()
    bad = dataclasses.replace(
        data,
        lines=(dataclasses.replace(data.lines[0], unit_price=49.9),),  # type: ignore[arg-type]
    )
    with pytest.raises(TypeError):
        build_cii(bad)


@pytest.mark.parametrize("path", einvoice_rules.RULE_FILES, ids=lambda path: path.name)
def test_the_rule_files_are_the_pinned_ones(path: Path) -> None:
    assert einvoice_rules.sha256_of(path) == einvoice_rules.RULE_FILES[path]


# --- the PDF ---------------------------------------------------------------------------------


def embedded_files(pdf: pikepdf.Pdf) -> dict[str, tuple[bytes, str]]:
    """Each embedded file's bytes and its AFRelationship, from the document's /AF array."""
    found = {}
    for spec in pdf.Root.get("/AF", pikepdf.Array()):
        name = str(spec.get("/UF", spec.get("/F")))
        found[name] = (spec.EF.F.read_bytes(), str(spec.get("/AFRelationship")))
    return found


def pdf_text(content: bytes) -> str:
    with open_pdf(content) as pdf:
        return " ".join(page_texts(pdf))


def plain(text: str) -> str:
    """``text`` with its spaces as the PDF text reads them (a no-break space is a space)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def pdfs() -> Made:
    made = {}
    for name, make in ALL_KINDS.items():
        data = make()
        xml = build_cii(data)
        made[name] = (data, xml, render_pdf(data, xml))
    return made


@pytest.mark.parametrize("name", ALL_KINDS)
def test_the_pdf_is_pdf_a_3b_and_carries_the_xml_as_its_alternative(pdfs: Made, name: str) -> None:
    data, xml, content = pdfs[name]
    with open_pdf(content) as pdf:
        identification = xmp(pdf)
        assert identification[f"{PDFA_ID}part"] == "3"
        assert identification[f"{PDFA_ID}conformance"] == "B"
        assert identification[f"{PDFUA_ID}part"] == "1"
        files = embedded_files(pdf)
    expected_name = "xrechnung.xml" if data.xrechnung else "factur-x.xml"
    assert files == {expected_name: (xml, "/Alternative")}


@pytest.mark.parametrize("name", ALL_KINDS)
def test_the_pdf_shows_what_the_vat_act_requires(pdfs: Made, name: str) -> None:
    data, _, content = pdfs[name]
    text = pdf_text(content)
    for part in (
        data.number,
        "02.04.2026",
        data.seller.name,
        data.seller.street,
        "20457 Hamburg",
        data.seller.vat_id,
        data.seller.tax_number,
        data.buyer.name,
        data.buyer.street,
        f"{data.buyer.postal_code} {data.buyer.city}",
        PAYMENT_TERMS,
        OBJECTION,
        format_money(data.totals.gross, "de"),
        format_money(data.totals.net, "de"),
    ):
        assert plain(part) in text, part
    for item in data.lines:
        assert item.description in text
        assert plain(format_money(item.net, "de")) in text
    for rate in data.totals.rates:
        assert plain(f"USt. {rate.vat_percent} % auf {format_money(rate.net, 'de')}") in text
        assert plain(format_money(rate.vat, "de")) in text


def test_the_company_invoice_shows_both_rates_and_the_supply_period(pdfs: Made) -> None:
    text = pdf_text(pdfs["company_zugferd"][2])
    assert "01.03.2026 – 31.03.2026" in text
    assert "312 Min." in text
    assert "0,045 €" in text
    assert "19 %" in text and "7 %" in text


def test_the_public_body_invoice_shows_the_leitweg_id(pdfs: Made) -> None:
    assert f"Leitweg-ID {LEITWEG_ID}" in pdf_text(pdfs["public_body_xrechnung"][2])


def test_the_credit_note_names_the_original_invoice(pdfs: Made) -> None:
    text = pdf_text(pdfs["credit_note"][2])
    assert "Rechnungskorrektur RK-2026-0001" in text
    assert "bezieht sich auf die Rechnung RE-2026-0042 vom 02.04.2026" in text


def girocodes(content: bytes) -> list[str]:
    """The alternative texts of the figures in the structure tree that are GiroCodes."""
    found = []
    with open_pdf(content) as pdf:
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
                continue
            if not isinstance(node, pikepdf.Dictionary):
                continue
            alt = node.get("/Alt")
            if node.get("/S") == "/Figure" and alt is not None and "GiroCode" in str(alt):
                found.append(str(alt))
            kids = node.get("/K")
            if kids is not None:
                stack.append(kids)
    return found


@pytest.mark.parametrize("name", ["company_zugferd", "public_body_xrechnung", "damages"])
def test_an_invoice_carries_a_girocode_for_its_gross_amount(pdfs: Made, name: str) -> None:
    data, _, content = pdfs[name]
    (alt,) = girocodes(content)
    assert format_money(data.totals.gross, "de") in alt
    assert "DE89 3704 0044 0532 0130 00" in alt
    assert data.number in alt


def test_a_credit_note_carries_no_girocode(pdfs: Made) -> None:
    assert girocodes(pdfs["credit_note"][2]) == []


def test_the_girocode_refuses_an_invalid_iban() -> None:
    data = dataclasses.replace(
        company_invoice(), payment=dataclasses.replace(PAYMENT, iban="DE00370400440532013000")
    )
    with pytest.raises(ValueError, match="IBAN"):
        invoice_template_data(data, build_cii(data))


def test_the_pdf_refuses_an_xml_of_another_invoice() -> None:
    with pytest.raises(InvoiceMismatch):
        invoice_template_data(company_invoice(), build_cii(damages_invoice()))


def test_the_embedded_xml_passes_the_rules_as_read_back_from_the_pdf(pdfs: Made) -> None:
    _, _, content = pdfs["public_body_xrechnung"]
    with open_pdf(content) as pdf:
        (embedded,) = (xml for xml, _ in embedded_files(pdf).values())
    assert einvoice_rules.errors(embedded, xrechnung=True) == []


@pytest.mark.django_db
def test_invoice_document_stores_an_invoice_and_a_credit_note_with_their_xml() -> None:
    for data, kind in (
        (company_invoice(), DocumentKind.INVOICE),
        (credit_note(), DocumentKind.CREDIT_NOTE),
    ):
        xml = build_cii(data)
        document = invoice_document(data=data, xml=xml, actor=None, language="de")
        assert document.kind == kind
        assert document.template == "invoice"
        assert document.title == invoice_title(data)
        with document_storage().open(document.file_name) as stored:
            content = stored.read()
        with open_pdf(content) as pdf:
            assert embedded_files(pdf) == {"factur-x.xml": (xml, "/Alternative")}


def test_every_font_of_the_invoice_is_embedded(pdfs: Made) -> None:
    with open_pdf(pdfs["company_zugferd"][2]) as pdf:
        descriptors = [font.FontDescriptor for font in fonts(pdf) if "/FontDescriptor" in font]
        assert descriptors
        for descriptor in descriptors:
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"


def test_an_english_invoice_is_written_in_english() -> None:
    data = dataclasses.replace(company_invoice(), language="en")
    text = pdf_text(render_pdf(data, build_cii(data)))
    assert "Invoice RE-2026-0042" in text
    assert "Amount due €96.10" in text
    assert "VAT 7% on €18.70 €1.31" in text
    assert "1 March 2026 – 31 March 2026" in text
