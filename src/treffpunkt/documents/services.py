"""The only way documents come into being and are marked as sent.

``create_document`` renders the PDF, hashes it, writes the file once and records the row and
an audit entry in one transaction. ``mark_sent`` sets when the document went out and from that
when it counts as received, once. Nothing ever changes or deletes a document (see models).
"""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.documents import rendering
from treffpunkt.documents.models import TITLE_MAX_LENGTH, Document, DocumentKind
from treffpunkt.documents.storage import document_storage

if TYPE_CHECKING:
    from treffpunkt.accounts.models import Organization, User

# Typical values for ``mark_sent(receipt_after_days=…)``: an e-mail counts as received the
# day it was sent. For letters the number of days is the caller's (contract's, law's) rule;
# it is a parameter on purpose, not a constant here.
RECEIPT_AFTER_DAYS_EMAIL = 0


def create_document(
    *,
    kind: DocumentKind,
    title: str,
    template: str,
    data: Mapping[str, Any],
    language: str,
    organization: Organization | None = None,
    attachments: Sequence[rendering.EmbeddedFile] = (),
    actor: User | None = None,
    issued_on: date | None = None,
) -> Document:
    """Render ``template`` with ``data`` to PDF/A-3b, store it once and record it.

    ``issued_on`` (the date printed on the document) defaults to today in the organization's
    time zone. ``attachments`` are embedded in the PDF (e.g. the XML of an e-invoice). The
    file is written before the row: a committed document always has its file; a transaction
    that fails afterwards can leave an unreferenced file, never a row without one.
    """
    kind = DocumentKind(kind)  # a stored kind must be one of the choices
    if not title.strip() or len(title) > TITLE_MAX_LENGTH:
        raise ValueError(f"a document title has 1 to {TITLE_MAX_LENGTH} characters")
    created_at = clock.now()
    reference = uuid.uuid4()
    meta = rendering.Meta(
        title=title,
        language=language,
        reference=str(reference),
        issued_on=issued_on or _local_date(created_at, organization),
        created_at=created_at,
    )
    pdf = rendering.render(template=template, data=data, meta=meta, files=attachments)
    digest = hashlib.sha256(pdf).hexdigest()
    file_name = _store(pdf, digest=digest)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                reference=reference,
                organization=organization,
                kind=kind,
                title=title,
                language=language,
                template=template,
                file_name=file_name,
                sha256=digest,
                size=len(pdf),
                created_at=created_at,
            )
            audit.record(
                "documents.document.created",
                actor=actor,
                target=document,
                organization=organization,
                data={
                    "kind": str(kind),
                    "template": template,
                    "sha256": digest,
                    "size": len(pdf),
                    "attachments": [item.filename for item in attachments],
                },
            )
    except BaseException:
        document_storage().delete(file_name)
        raise
    return document


def mark_sent(
    *,
    document: Document,
    at: datetime,
    receipt_after_days: int,
    actor: User | None = None,
) -> Document:
    """Record that ``document`` went out at ``at``; it counts as received ``receipt_after_days``
    days later (0 for e-mail; for post, the number of days the applicable rule names).

    Both times are set once: a document already sent is refused.
    """
    if receipt_after_days < 0:
        raise ValueError("a document cannot be received before it was sent")
    received_at = at + timedelta(days=receipt_after_days)
    with transaction.atomic():
        # The condition makes "once" hold when two requests mark the same document at once.
        marked = Document.objects.filter(pk=document.pk, sent_at__isnull=True).update(
            sent_at=at, received_at=received_at
        )
        if not marked:
            raise DomainError(_("This document has already been sent."), code="already_sent")
        audit.record(
            "documents.document.sent",
            actor=actor,
            target=document,
            organization=document.organization,
            data={
                "sent_at": at.isoformat(),
                "received_at": received_at.isoformat(),
                "receipt_after_days": receipt_after_days,
            },
        )
    document.sent_at = at
    document.received_at = received_at
    return document


def _local_date(moment: datetime, organization: Organization | None) -> date:
    zone = (
        zoneinfo.ZoneInfo(organization.time_zone)
        if organization is not None
        else timezone.get_default_timezone()
    )
    return timezone.localtime(moment, zone).date()


def _store(pdf: bytes, *, digest: str) -> str:
    """Write the PDF under a name made of its hash; never overwrite a file."""
    storage = document_storage()
    wanted = f"{digest[:2]}/{digest}.pdf"
    if storage.exists(wanted):
        # Only a file left by a failed earlier attempt with these very bytes can be there.
        raise FileExistsError(f"document file {wanted} exists already")
    stored = storage.save(wanted, ContentFile(pdf))
    if stored != wanted:
        storage.delete(stored)
        raise FileExistsError(f"document file {wanted} appeared while it was written")
    return stored
