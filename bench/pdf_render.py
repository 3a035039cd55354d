"""Benchmark 9: rendering a one-page letter to PDF/A-3b (and PDF/UA-1) with Typst.

One run is ``treffpunkt.documents.rendering.render`` of the letter template: sender, address,
subject, four paragraphs and a table of five lines, with a new reference each time (as every
real document has), so no two runs render the same text. Rendering only: no database, no
file written, nothing read from or written to var/.

    uv run python bench/pdf_render.py

Prints pdf_page_ms (median milliseconds per page), its p95 and maximum, the first (cold)
render, the size of a PDF and the machine's load. Exit status 1 if a PDF is not one page of
PDF/A-3b.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from common import emit, machine_figures, note, percentile

PARAGRAPH = (
    "vielen Dank für Ihre Nachricht vom 3. März. Wir haben Ihre Unterlagen geprüft und "
    "bestätigen Ihnen hiermit die Beratung zu den besprochenen Terminen. Bitte halten Sie "
    "zum Gespräch Ihre Versichertennummer bereit; die Zugangsdaten erhalten Sie per E-Mail."
)


def letter() -> dict[str, Any]:
    return {
        "sender": {"name": "Kasse Nord", "lines": ["Hafenstraße 1", "20457 Hamburg"]},
        "recipient": {"lines": ["Frau", "Mia Mitglied", "Musterweg 5", "12345 Musterstadt"]},
        "place": "Hamburg",
        "subject": "Ihre Beratung im März",
        "salutation": "Sehr geehrte Frau Mitglied,",
        "paragraphs": [PARAGRAPH] * 4,
        "table": {
            "columns": ["Pos.", "Beschreibung", "Menge", "Betrag"],
            "align": ["left", "left", "right", "right"],
            "rows": [[str(n), f"Beratung {n}", "1", "80,00 €"] for n in range(1, 6)],
            "totals": [["", "Summe", "", "400,00 €"]],
        },
        "closing": "Mit freundlichen Grüßen",
        "signature": "Bernd Berater",
    }


def render_once() -> bytes:
    from treffpunkt.documents.rendering import Meta, render

    meta = Meta(
        title="Ihre Beratung im März",
        language="de",
        reference=str(uuid.uuid4()),
        issued_on=date(2025, 3, 7),
        created_at=datetime.now(UTC),
    )
    return render(template="letter", data=letter(), meta=meta)


def is_one_page_pdf_a_3b(content: bytes) -> bool:
    import pikepdf

    with pikepdf.open(io.BytesIO(content)) as pdf, pdf.open_metadata() as meta:
        return (
            len(pdf.pages) == 1
            and meta.get("pdfaid:part") == "3"
            and meta.get("pdfaid:conformance") == "B"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="measured renders (at least 20)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit of the runs")
    args = parser.parse_args()
    runs = max(20, args.runs)

    # Rendering needs no database; minimal settings keep the project's var/ untouched.
    from django.conf import settings

    settings.configure(USE_I18N=False)

    began = time.perf_counter()
    first = render_once()
    first_ms = (time.perf_counter() - began) * 1000
    if not is_one_page_pdf_a_3b(first):
        note("the letter is not one page of PDF/A-3b")
        return 1
    for _ in range(args.warmup):
        render_once()

    machine_figures("pdf_page")
    timings: list[float] = []
    cpu: list[float] = []
    limit = time.perf_counter() + args.max_seconds
    last = first
    while len(timings) < runs and time.perf_counter() < limit:
        began, began_cpu = time.perf_counter(), time.process_time()
        last = render_once()
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    if not is_one_page_pdf_a_3b(last):
        note("the last letter is not one page of PDF/A-3b")
        return 1

    emit("pdf_page_ms", statistics.median(timings))
    emit("pdf_page_p95_ms", percentile(timings, 95))
    emit("pdf_page_max_ms", max(timings))
    emit("pdf_page_cpu_ms", statistics.median(cpu))
    emit("pdf_page_first_ms", first_ms)
    emit("pdf_page_runs", len(timings))
    emit("pdf_page_bytes", len(last))
    return 0


if __name__ == "__main__":
    sys.exit(main())
