"""Fault reports by e-mail (P-SLA-2; § 12 of the terms: "über die Supportemail").

The mail server delivers the support address into a Maildir (``SUPPORT_MAILDIR``, e.g. what
Postfix or Dovecot write); every minute each new mail becomes a ticket when its sender is a
contact of a customer (the address as stored, in any case), with its PDF, JPEG and PNG
attachments checked as in the customer area. The mail then moves to the Maildir folder
``.done``; a mail from an unknown sender, or one that cannot be read, to ``.refused`` with the
reason in a header, for support to look at. Nothing is ever lost, and a mail is read once."""

from __future__ import annotations

import email.policy
import logging
import mailbox
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.customers.models import CustomerContact
from treffpunkt.support import services

logger = logging.getLogger(__name__)
MAX_ATTACHMENTS = 5


def _contact_for(sender: str) -> CustomerContact | None:
    address = parseaddr(sender)[1].strip()
    if not address:
        return None
    return (
        CustomerContact.objects.filter(email__iexact=address)
        .select_related("customer", "user")
        .order_by("pk")
        .first()
    )


def _received_at(message: EmailMessage) -> datetime:
    try:
        moment = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        return clock.now()
    return moment if moment.tzinfo is not None else clock.now()


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = body.get_content()
    return str(text).strip()[: services.MAX_TEXT]


def _uploads(message: EmailMessage) -> list[SimpleUploadedFile]:
    found: list[SimpleUploadedFile] = []
    for part in message.iter_attachments():
        content = part.get_content()
        if isinstance(content, bytes) and len(found) < MAX_ATTACHMENTS:
            found.append(SimpleUploadedFile(part.get_filename() or "attachment", content))
    return found


def import_support_mails(directory: str | None = None) -> dict[str, int]:
    """Turn the new mails of the support Maildir into tickets (the job of every minute)."""
    path = directory or settings.SUPPORT_MAILDIR
    counts = {"tickets": 0, "refused": 0}
    if not path:
        return counts
    box = mailbox.Maildir(Path(path), factory=None, create=True)
    done = _folder(box, "done")
    refused = _folder(box, "refused")
    for key in list(box.iterkeys()):
        raw = box.get_bytes(key)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)  # noqa: S101  # the default policy's class
        reason = _handle(message)
        if reason:
            message["X-Treffpunkt-Refused"] = reason
            refused.add(message)
            counts["refused"] += 1
        else:
            done.add(raw)
            counts["tickets"] += 1
        box.remove(key)
    if counts["tickets"] or counts["refused"]:
        audit.record("support.mailbox.imported", actor=None, data=counts)
    return counts


def _folder(box: mailbox.Maildir, name: str) -> mailbox.Maildir:
    if name in box.list_folders():
        return box.get_folder(name)
    return box.add_folder(name)


def _handle(message: EmailMessage) -> str:
    """Open the ticket; the reason it was refused, or "" when it was opened."""
    contact = _contact_for(str(message.get("From", "")))
    if contact is None:
        return "the sender is no contact of a customer"
    try:
        services.report_by_mail(
            contact=contact,
            subject=str(message.get("Subject", "")).strip()[: services.MAX_SUBJECT],
            description=_text_of(message) or "(ohne Text)",
            received_at=_received_at(message),
            uploads=_uploads(message),
        )
    except DomainError as refusal:
        return str(refusal.message)
    except (LookupError, ValueError) as broken:
        logger.warning("support mail not readable: %s", broken)
        return "the mail could not be read"
    return ""
