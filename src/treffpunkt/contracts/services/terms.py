"""The stored dates of a contract's current term, computed by ``contracts.deadlines``."""

from __future__ import annotations

from datetime import date
from typing import Any

from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import ProductKind


def term_dates(kind: str, term_start: date) -> dict[str, Any]:
    """The fields of a term starting on ``term_start``: its end and the deadline that goes with
    it (video: the notice deadline; telephony: the day the consent request is due)."""
    end = deadlines.term_end(term_start)
    return {"term_start": term_start, "term_end": end, **deadline_fields(kind, end)}


def deadline_fields(kind: str, term_end: date) -> dict[str, Any]:
    if kind == ProductKind.VIDEO:
        return {"notice_deadline": deadlines.latest_notice_day(term_end), "consent_due": None}
    return {
        "notice_deadline": None,
        "consent_due": deadlines.consent_request_due(term_end),
        "consent_requested_on": None,
        "consent_reminded_on": None,
        "consent_given_on": None,
    }
