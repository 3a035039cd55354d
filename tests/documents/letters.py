"""Letter data for the document tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from treffpunkt.documents.rendering import LetterData, Meta

# Typst markup a member or staff member might type; it must come out as these characters.
MARKUP = "#set page(width: 1cm) *nicht fett* $x^2$ [Klammer] _kursiv_ @ref <label> // kein"


def german_letter(**changes: object) -> LetterData:
    data: LetterData = {
        "sender": {"name": "Kasse Nord", "lines": ["Hafenstraße 1", "20457 Hamburg"]},
        "recipient": {"lines": ["Frau", "Mia Mitglied", "Musterweg 5", "12345 Musterstadt"]},
        "place": "Hamburg",
        "subject": "Ihre Anfrage vom 3. März",
        "salutation": "Sehr geehrte Frau Mitglied,",
        "paragraphs": ["vielen Dank für Ihre Nachricht.", "Wir melden uns bald."],
        "closing": "Mit freundlichen Grüßen",
        "signature": "Bernd Berater",
    }
    data.update(changes)
    return data


def english_letter() -> LetterData:
    return {
        "sender": {"name": "Kasse Nord", "lines": ["Hafenstraße 1", "20457 Hamburg"]},
        "recipient": {"lines": ["Ms Mia Member", "5 Sample Road", "Sampletown"]},
        "subject": "Your enquiry",
        "salutation": "Dear Ms Member,",
        "paragraphs": ["thank you for your message."],
        "table": {
            "columns": ["No.", "Description", "Amount"],
            "align": ["left", "left", "right"],
            "rows": [["1", "Consultation", "100.00 EUR"], ["2", "Surcharge", "20.00 EUR"]],
            "totals": [["", "Total", "120.00 EUR"]],
        },
        "closing": "Kind regards",
        "signature": "Bernd Berater",
    }


def meta(language: str = "de", *, title: str = "Ihre Anfrage") -> Meta:
    return Meta(
        title=title,
        language=language,
        reference="3f2a9c1e-0000-4000-8000-000000000001",
        issued_on=date(2025, 3, 7),
        created_at=datetime(2025, 3, 7, 9, 30, 15, 123456, tzinfo=UTC),
    )
