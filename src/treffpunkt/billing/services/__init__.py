"""The only write path for invoices and credit notes (P-BILL-1, P-OP-3)."""

from treffpunkt.billing.services.issuing import (
    AlreadyBilled,
    LineDraft,
    issue_credit_note,
    issue_invoice,
    render_pdf,
)
from treffpunkt.billing.services.payments import (
    ImportResult,
    allocate_by_hand,
    import_statement,
)
from treffpunkt.billing.services.run import run_billing
from treffpunkt.billing.services.sending import record_posted, send_invoice

__all__ = [
    "AlreadyBilled",
    "ImportResult",
    "LineDraft",
    "allocate_by_hand",
    "import_statement",
    "issue_credit_note",
    "issue_invoice",
    "record_posted",
    "render_pdf",
    "run_billing",
    "send_invoice",
]
