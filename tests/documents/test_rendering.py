"""Rendering: PDF/A-3b (and PDF/UA-1) from a Typst template, fonts embedded, files attached
byte for byte, user text printed literally. No database needed."""

from __future__ import annotations

import pytest

from tests.documents.letters import MARKUP, english_letter, german_letter, meta
from tests.documents.pdf_reading import fonts, open_pdf, page_texts, xmp
from treffpunkt.documents.rendering import (
    EmbeddedFile,
    Relationship,
    UnprintableText,
    render,
)

PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
PDFUAID = "{http://www.aiim.org/pdfua/ns/id/}"
DC = "{http://purl.org/dc/elements/1.1/}"

INVOICE_XML = (
    '\ufeff<?xml version="1.0" encoding="UTF-8"?>\r\n'
    "<rsm:CrossIndustryInvoice><ram:Name>Müller &amp; Söhne #1 *x* $y$ [z]</ram:Name>"
    "</rsm:CrossIndustryInvoice>\n"
).encode()


def test_the_pdf_declares_pdf_a_3b_and_pdf_ua_1_in_its_xmp_metadata():
    metadata = xmp(open_pdf(render(template="letter", data=german_letter(), meta=meta())))
    assert metadata[f"{PDFAID}part"] == "3"
    assert metadata[f"{PDFAID}conformance"] == "B"
    assert metadata[f"{PDFUAID}part"] == "1"
    assert metadata[f"{DC}title"] == "Ihre Anfrage"


def test_the_pdf_is_tagged_and_names_its_language_and_title():
    pdf = open_pdf(render(template="letter", data=german_letter(), meta=meta()))
    assert pdf.Root.MarkInfo.Marked is True
    assert "/StructTreeRoot" in pdf.Root
    assert str(pdf.Root.Lang) == "de"
    assert pdf.Root.ViewerPreferences.DisplayDocTitle is True


def test_the_letter_renders_without_typst_warnings(caplog):
    with caplog.at_level("WARNING", logger="treffpunkt.documents.rendering"):
        render(template="letter", data=english_letter(), meta=meta("en"))
        render(template="letter", data=german_letter(), meta=meta())
    assert caplog.records == []


def test_every_font_is_embedded_including_the_descendants_of_composite_fonts():
    pdf = open_pdf(render(template="letter", data=english_letter(), meta=meta("en")))
    seen = list(fonts(pdf))
    assert any(font.Subtype == "/Type0" for font in seen)
    for font in seen:
        if font.Subtype == "/Type0":
            continue  # a composite font has no descriptor; its descendant has
        if font.Subtype == "/Type3":
            continue  # glyphs drawn in the PDF itself: nothing to embed
        descriptor = font.FontDescriptor
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), font.BaseFont


def test_no_system_font_is_used():
    pdf = open_pdf(render(template="letter", data=english_letter(), meta=meta("en")))
    names = {str(font.BaseFont).split("+")[-1] for font in fonts(pdf)}
    assert names
    assert all(name.startswith("LibertinusSerif") for name in names), names


def test_an_attached_xml_file_comes_back_byte_identical_with_its_relationship():
    files = [
        EmbeddedFile(
            filename="factur-x.xml",
            content=INVOICE_XML,
            mimetype="text/xml",
            description="Factur-X invoice",
            relationship=Relationship.ALTERNATIVE,
        )
    ]
    pdf = open_pdf(render(template="letter", data=german_letter(), meta=meta(), files=files))
    [(name, spec)] = pdf.attachments.items()
    assert name == "factur-x.xml"
    assert spec.get_file().read_bytes() == INVOICE_XML
    assert spec.obj.AFRelationship == "/Alternative"
    assert spec.get_file().obj.Subtype == "/text/xml"
    # PDF/A-3 wants the file listed as associated with the document itself.
    assert [str(item.UF) for item in pdf.Root.AF] == ["factur-x.xml"]


def test_a_binary_attachment_comes_back_byte_identical():
    content = bytes(range(256)) * 3
    files = [EmbeddedFile(filename="data.bin", content=content, mimetype="application/zip")]
    pdf = open_pdf(render(template="letter", data=german_letter(), meta=meta(), files=files))
    assert pdf.attachments["data.bin"].get_file().read_bytes() == content
    assert pdf.attachments["data.bin"].obj.AFRelationship == "/Data"


def test_an_attachment_name_must_be_a_plain_file_name():
    files = [EmbeddedFile(filename="../etc/passwd", content=b"x", mimetype="text/plain")]
    with pytest.raises(ValueError, match="plain file name"):
        render(template="letter", data=german_letter(), meta=meta(), files=files)


def test_a_german_letter_has_german_dates_and_page_numbers():
    [text] = page_texts(open_pdf(render(template="letter", data=german_letter(), meta=meta())))
    assert "Hamburg, 7. März 2025" in text
    assert "Ihre Anfrage vom 3. März" in text
    assert "Seite 1 von 1" in text
    assert "Kasse Nord · Hafenstraße 1 · 20457 Hamburg" in text  # the return address line
    assert "Mia Mitglied Musterweg 5 12345 Musterstadt" in text


def test_an_english_letter_with_a_table_of_lines():
    [text] = page_texts(open_pdf(render(template="letter", data=english_letter(), meta=meta("en"))))
    assert "7 March 2025" in text
    assert "Page 1 of 1" in text
    assert "No. Description Amount" in text
    assert "1 Consultation 100.00 EUR" in text
    assert "Total 120.00 EUR" in text
    assert "Document 3f2a9c1e-0000-4000-8000-000000000001" in text


def test_a_long_letter_continues_on_numbered_pages():
    data = german_letter(paragraphs=[f"Absatz {n}. " + "Text " * 80 for n in range(1, 16)])
    pdf = open_pdf(render(template="letter", data=data, meta=meta()))
    texts = page_texts(pdf)
    assert len(texts) == len(pdf.pages) >= 2
    assert f"Seite 1 von {len(texts)}" in texts[0]
    assert f"Seite {len(texts)} von {len(texts)}" in texts[-1]
    assert "Mia Mitglied" in texts[0] and "Mia Mitglied" not in texts[1]
    assert "Absatz 15." in texts[-1]


def test_typst_markup_in_user_text_is_printed_literally():
    data = german_letter(subject=f"Betreff {MARKUP}", paragraphs=[MARKUP, "#pagebreak()"])
    pdf = open_pdf(render(template="letter", data=data, meta=meta(title=f"Titel {MARKUP}")))
    assert len(pdf.pages) == 1  # neither "#pagebreak()" nor "width: 1cm" took effect
    [text] = page_texts(pdf)
    assert f"Betreff {MARKUP}" in text
    assert f"{MARKUP} #pagebreak()" in text
    assert xmp(pdf)[f"{DC}title"] == f"Titel {MARKUP}"


def test_control_characters_are_dropped_and_line_breaks_kept():
    data = german_letter(paragraphs=["eins\tzwei\x07drei\r\nvier"])
    [text] = page_texts(open_pdf(render(template="letter", data=data, meta=meta())))
    assert "eins zweidrei vier" in text


def test_text_the_fonts_cannot_show_is_refused_with_a_message():
    with pytest.raises(UnprintableText, match="😀"):
        render(template="letter", data=german_letter(subject="Danke 😀"), meta=meta())


def test_the_same_input_gives_the_same_bytes():
    first = render(template="letter", data=german_letter(), meta=meta())
    assert render(template="letter", data=german_letter(), meta=meta()) == first


@pytest.mark.parametrize("template", ["../letter", "Letter", "missing", "letter.typ"])
def test_only_templates_of_the_documents_folder_are_rendered(template: str):
    with pytest.raises(ValueError, match="no document template"):
        render(template=template, data=german_letter(), meta=meta())


def test_only_german_and_english_are_rendered():
    with pytest.raises(ValueError, match="not fr"):
        render(template="letter", data=german_letter(), meta=meta("fr"))


def test_the_pdf_is_structurally_sound():
    content = render(template="letter", data=english_letter(), meta=meta("en"))
    assert content.startswith(b"%PDF-1.7")
    assert open_pdf(content).check_pdf_syntax() == []  # qpdf's own check of the file
