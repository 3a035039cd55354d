"""Sending an invoice (P-BILL-1): by mail through the outbox to every contact of the customer,
the PDF attached (and the XRechnung XML on its own for a public body's receiving system), or as
a letter the operator printed and posted. The day of receipt is recorded (the sending day for
e-mail, ``INVOICE_RECEIPT_DAYS_POST`` days after posting for a letter), and the due date counts
from it: § 8 of the terms, due on the 14th day after receipt (§ 187 (1) BGB: the day of receipt
does not count)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing.models import EInvoiceFormat, Invoice
from treffpunkt.billing.services._common import require_billing
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.customers.models import CustomerContact
from treffpunkt.documents.models import Document
from treffpunkt.documents.selectors import mail_attachment
from treffpunkt.documents.services import mark_sent
from treffpunkt.notifications.services import MailAttachment, queue_mail


def send_invoice(*, actor: User | None, invoice: Invoice) -> Invoice:
    """Mail ``invoice`` and record when it counts as received and when it is due. Once."""
    if actor is not None:
        require_billing(actor)
    with transaction.atomic():
        locked = _locked_unsent(invoice)
        contacts = list(
            CustomerContact.objects.filter(customer_id=locked.customer_id)
            .select_related("user")
            .order_by("pk")
        )
        if not contacts:
            raise DomainError(
                _("The customer has no contact to send the invoice to."), code="no_contact"
            )
        document = _record_sent(
            locked,
            at=clock.now(),
            sent_on=clock.operator_today(),
            receipt_after_days=settings.INVOICE_RECEIPT_DAYS_EMAIL,
            actor=actor,
        )
        attachments = [mail_attachment(document)]
        if locked.e_invoice_format == EInvoiceFormat.XRECHNUNG:
            attachments.append(
                MailAttachment(
                    filename=f"{locked.number}.xml",
                    mimetype="application/xml",
                    content=locked.xml.encode("utf-8"),
                )
            )
        url = settings.SITE_URL + reverse("customer_area:billing:invoices")
        for contact in contacts:
            queue_mail(
                template="billing/invoice",
                context={
                    "invoice": locked,
                    "contact_name": contact.name,
                    "area_url": url,
                },
                recipient=contact.user,
                to_address=contact.email,
                language=contact.user.preferred_language if contact.user else None,
                attachments=attachments,
            )
        audit.record(
            "billing.invoice.sent",
            actor=actor,
            target=locked,
            data={
                "received_on": str(locked.received_on),
                "due_on": str(locked.due_on),
                "recipients": len(contacts),
            },
        )
    return locked


def record_posted(*, actor: User | None, invoice: Invoice, posted_on: date) -> Invoice:
    """Record that ``invoice`` was printed and posted as a letter on ``posted_on`` (for a
    customer who asked for paper, or has no contact yet). It counts as received
    ``INVOICE_RECEIPT_DAYS_POST`` days later and is due counted from then. Once; no mail."""
    operator = require_billing(actor)
    if posted_on > clock.operator_today():
        raise DomainError(_("A posting cannot be recorded in advance."), code="posted_on")
    if posted_on < invoice.issue_date:
        raise DomainError(
            _("An invoice cannot be posted before the day it was issued."), code="posted_on"
        )
    with transaction.atomic():
        locked = _locked_unsent(invoice)
        # The posting's day is what counts; its hour is not known, noon keeps it on that day.
        at = (
            clock.now()
            if posted_on == clock.operator_today()
            else datetime.combine(posted_on, time(12), tzinfo=timezone.get_default_timezone())
        )
        _record_sent(
            locked,
            at=at,
            sent_on=posted_on,
            receipt_after_days=settings.INVOICE_RECEIPT_DAYS_POST,
            actor=operator,
        )
        audit.record(
            "billing.invoice.posted",
            actor=operator,
            target=locked,
            data={
                "posted_on": posted_on.isoformat(),
                "received_on": str(locked.received_on),
                "due_on": str(locked.due_on),
            },
        )
    return locked


def _locked_unsent(invoice: Invoice) -> Invoice:
    """The invoice locked for sending, its document with it; refused when it has no PDF yet
    or was sent already. Only the invoice's row is locked: PostgreSQL cannot lock the nullable
    side of an outer join, and the document is only read."""
    if invoice.document_id is None:
        raise DomainError(_("The invoice's PDF is not ready yet."), code="no_pdf")
    locked = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("document")
        .get(pk=invoice.pk)
    )
    if locked.sent_at is not None:
        raise DomainError(_("This invoice has already been sent."), code="already_sent")
    return locked


def _record_sent(
    locked: Invoice, *, at: datetime, sent_on: date, receipt_after_days: int, actor: User | None
) -> Document:
    """Sent ``at`` (on ``sent_on``), received ``receipt_after_days`` later, due counted from
    then; the PDF marked as sent with the same receipt."""
    locked.sent_at = at
    locked.received_on = sent_on + timedelta(days=receipt_after_days)
    locked.due_on = locked.received_on + timedelta(days=settings.INVOICE_DUE_DAYS)
    locked.save(update_fields=["sent_at", "received_on", "due_on"])
    document = locked.document
    if document is None:  # pragma: no cover - _locked_unsent refuses an invoice without one
        raise DomainError(_("The invoice's PDF is not ready yet."), code="no_pdf")
    mark_sent(document=document, at=at, receipt_after_days=receipt_after_days, actor=actor)
    return document
