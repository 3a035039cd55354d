"""Benchmark 12: one e-invoice, from data to PDF/A-3b with its XML inside.

One run is what issuing an invoice costs besides the database: ``billing.einvoice.build_cii``
(the ZUGFeRD EN 16931 XML, checked against its XSD by drafthorse), ``invoice_template_data``
(texts, amounts, the GiroCode) and ``documents.rendering.render`` of the invoice template with
the XML embedded as ``factur-x.xml``. The invoice has three lines at 19 % and 7 %, and a new
number and reference each time. No database, no file written, nothing read from or written to
var/; the official business rules are not run (the tests do that).

    uv run python bench/invoice_pdf.py

Prints invoice_pdf_ms (median milliseconds per invoice; goal ≤ 50), its p95 and maximum, the
parts (XML, PDF), the first (cold) run, the size of a PDF and the machine's load. Exit status 1
if a PDF is not one page of PDF/A-3b carrying its XML byte for byte.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from common import emit, machine_figures, note, percentile

GOAL_MS = 50.0
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def invoice(number: str) -> Any:
    from treffpunkt.billing.invoice_data import InvoiceData, Line, Party, Payment
    from treffpunkt.core.money import TaxableLine, vat_totals

    def line(position: int, text: str, quantity: str, unit: str, price: str, rate: str) -> Line:
        return Line(
            position=position,
            description=text,
            quantity=Decimal(quantity),
            unit=unit,
            unit_price=Decimal(price),
            net=(Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01")),
            vat_percent=Decimal(rate),
            supply_start=MARCH[0],
            supply_end=MARCH[1],
        )

    lines = (
        line(1, "Grundgebühr Videoberatung, März 2026", "1", "MON", "49.90", "19"),
        line(2, "Gesprächsminuten, März 2026", "312", "MIN", "0.045", "19"),
        line(3, "Informationsbroschüren, gedruckt", "2", "C62", "9.35", "7"),
    )
    return InvoiceData(
        kind="380",
        number=number,
        issue_date=date(2026, 4, 2),
        supply_start=MARCH[0],
        supply_end=MARCH[1],
        seller=Party(
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
        ),
        buyer=Party(
            name="Beispiel Pflege GmbH",
            street="Musterweg 5",
            postal_code="12345",
            city="Musterstadt",
            electronic_address="einkauf@beispiel-pflege.example",
        ),
        lines=lines,
        totals=vat_totals(
            TaxableLine(net=item.net, vat_percent=item.vat_percent) for item in lines
        ),
        xrechnung=False,
        payment=Payment(iban="DE89370400440532013000", bic="COBADEFFXXX"),
        payment_terms="Zahlbar innerhalb von 14 Tagen nach Zugang der Rechnung ohne Abzug.",
        notes=(
            "Einwendungen gegen die Höhe der Verbindungsentgelte können Sie innerhalb von acht "
            "Wochen nach Zugang dieser Rechnung erheben.",
        ),
    )


def issue_once(run: int) -> tuple[bytes, bytes, float]:
    """The XML and the PDF of one invoice, and the milliseconds the XML took."""
    from treffpunkt.billing.einvoice import build_cii
    from treffpunkt.billing.invoice_pdf import (
        invoice_attachment,
        invoice_template_data,
        invoice_title,
    )
    from treffpunkt.documents.rendering import Meta, render

    data = invoice(f"RE-2026-{run:05d}")
    began = time.perf_counter()
    xml = build_cii(data)
    xml_ms = (time.perf_counter() - began) * 1000
    meta = Meta(
        title=invoice_title(data),
        language="de",
        reference=str(uuid.uuid4()),
        issued_on=data.issue_date,
        created_at=datetime.now(UTC),
    )
    pdf = render(
        template="invoice",
        data=invoice_template_data(data, xml),
        meta=meta,
        files=[invoice_attachment(data, xml)],
    )
    return xml, pdf, xml_ms


def is_one_page_pdf_a_3b_with(content: bytes, xml: bytes) -> bool:
    import pikepdf

    with pikepdf.open(io.BytesIO(content)) as pdf, pdf.open_metadata() as meta:
        attached = [
            (spec.EF.F.read_bytes(), str(spec.get("/AFRelationship")))
            for spec in pdf.Root.get("/AF", pikepdf.Array())
        ]
        return (
            len(pdf.pages) == 1
            and meta.get("pdfaid:part") == "3"
            and meta.get("pdfaid:conformance") == "B"
            and attached == [(xml, "/Alternative")]
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="measured invoices (at least 20)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit of the runs")
    args = parser.parse_args()
    runs = max(20, args.runs)

    # Neither the XML nor the PDF needs a database; minimal settings keep var/ untouched.
    from django.conf import settings

    settings.configure(USE_I18N=False)

    began = time.perf_counter()
    xml, first, _ = issue_once(0)
    first_ms = (time.perf_counter() - began) * 1000
    if not is_one_page_pdf_a_3b_with(first, xml):
        note("the invoice is not one page of PDF/A-3b carrying its XML")
        return 1
    for run in range(1, args.warmup + 1):
        issue_once(run)

    machine_figures("invoice_pdf")
    timings: list[float] = []
    xml_timings: list[float] = []
    cpu: list[float] = []
    limit = time.perf_counter() + args.max_seconds
    last, last_xml = first, xml
    while len(timings) < runs and time.perf_counter() < limit:
        began, began_cpu = time.perf_counter(), time.process_time()
        last_xml, last, xml_ms = issue_once(1000 + len(timings))
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        xml_timings.append(xml_ms)
    if not is_one_page_pdf_a_3b_with(last, last_xml):
        note("the last invoice is not one page of PDF/A-3b carrying its XML")
        return 1

    median = statistics.median(timings)
    emit("invoice_pdf_ms", median)
    emit("invoice_pdf_p95_ms", percentile(timings, 95))
    emit("invoice_pdf_max_ms", max(timings))
    emit("invoice_pdf_cpu_ms", statistics.median(cpu))
    emit("invoice_pdf_xml_ms", statistics.median(xml_timings))
    emit("invoice_pdf_first_ms", first_ms)
    emit("invoice_pdf_runs", len(timings))
    emit("invoice_pdf_bytes", len(last))
    emit("invoice_pdf_goal_met", int(median <= GOAL_MS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
