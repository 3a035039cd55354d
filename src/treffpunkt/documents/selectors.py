"""Reading documents: lists per organization, one by reference, the file's bytes (checked
against the stored hash) and a document as a mail attachment."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from django.utils.text import slugify

from treffpunkt.documents.models import Document, DocumentQuerySet
from treffpunkt.documents.storage import document_storage
from treffpunkt.notifications.services import MailAttachment

if TYPE_CHECKING:
    from treffpunkt.accounts.models import Organization


class DocumentDamaged(RuntimeError):
    """The stored file is missing or no longer has the hash recorded when it was created."""


def documents_of(organization: Organization) -> DocumentQuerySet:
    """An organization's documents, newest first. Never another organization's."""
    return Document.objects.filter(organization=organization)


def document_for(organization: Organization, reference: uuid.UUID | str) -> Document:
    """One document of ``organization``; ``Document.DoesNotExist`` for any other's."""
    return documents_of(organization).get(reference=reference)


def document_bytes(document: Document) -> bytes:
    """The PDF exactly as created. Refuses a file whose bytes differ from the recorded hash,
    so a changed or damaged file is never sent out as the document."""
    try:
        with document_storage().open(document.file_name, "rb") as stored:
            content: bytes = stored.read()
    except FileNotFoundError as missing:
        raise DocumentDamaged(f"the file of document {document.reference} is missing") from missing
    if len(content) != document.size or hashlib.sha256(content).hexdigest() != document.sha256:
        raise DocumentDamaged(f"the file of document {document.reference} was changed")
    return content


def download_name(document: Document) -> str:
    """A file name for the recipient: the title in plain letters, with the kind as fallback."""
    stem = slugify(document.title)[:80].strip("-") or document.kind.replace("_", "-")
    return f"{stem}.pdf"


def mail_attachment(document: Document) -> MailAttachment:
    """The document as an attachment for ``notifications.services.queue_mail``::

    queue_mail(template=..., context=..., recipient=member,
               attachments=[mail_attachment(document)])
    """
    return MailAttachment(
        filename=download_name(document),
        mimetype="application/pdf",
        content=document_bytes(document),
    )
