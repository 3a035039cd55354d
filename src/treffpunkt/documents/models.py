"""Generated documents: letters, invoices, credit notes … as PDF/A, stored once with a hash.

A ``Document`` never changes after it was created and is never deleted: it is the record of
what was issued. Only the moment it was sent, and from that the moment it counts as received,
are set later, once (``services.mark_sent``). A correction is a new document.

The rule holds on three levels: ``save()`` and ``delete()`` of the model, the query set's
``update()`` and ``delete()``, and, below the ORM, database triggers (migration 0002) on
SQLite and PostgreSQL that refuse any other UPDATE and every DELETE.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, models
from django.db.models import F, Q
from django.db.models.base import ModelBase
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import Organization

# The only columns that change after creation: each goes once from empty to a time.
SET_ONCE: frozenset[str] = frozenset({"sent_at", "received_at"})
TITLE_MAX_LENGTH = 200


class DocumentImmutable(IntegrityError):
    """Refused before the database is asked: documents are not changed or deleted. An
    ``IntegrityError``, as the database triggers would raise for the same attempt."""


class DocumentKind(models.TextChoices):
    # Add kinds here (a migration records the choices); never rename a stored value.
    LETTER = "letter", _("letter")
    INVOICE = "invoice", _("invoice")
    CREDIT_NOTE = "credit_note", _("credit note")
    REMINDER = "reminder", _("payment reminder")


class DocumentQuerySet(models.QuerySet["Document"]):
    def update(self, **kwargs: Any) -> int:
        """Only ``sent_at`` and ``received_at`` may be written (the trigger refuses to
        overwrite a time already set)."""
        changing = set(kwargs) - SET_ONCE
        if changing:
            raise DocumentImmutable(
                f"documents never change (tried: {', '.join(sorted(changing))})"
            )
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise DocumentImmutable("documents are never deleted")

    # Django's own markers on QuerySet.delete (templates never call it, managers do not copy
    # it); mypy cannot type attributes set on a function.
    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class Document(models.Model):
    """One issued document: its PDF in the ``documents`` storage and what it is."""

    # Printed in the document and its metadata: a reference to quote, and it makes every
    # document's bytes (so its hash) unique even when two have the same text.
    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        # Documents are never deleted, so neither is an organization that has some.
        on_delete=models.PROTECT,
        related_name="documents",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    language = models.CharField(_("language"), max_length=8)
    template = models.CharField(_("template"), max_length=60)
    file_name = models.CharField(_("file in the document storage"), max_length=200, unique=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    created_at = models.DateTimeField(_("created"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("counts as received"), null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True, received_at__isnull=True)
                | Q(sent_at__isnull=False, received_at__gte=F("sent_at")),
                name="document_received_not_before_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}: {self.title}"

    def save(
        self,
        *,
        force_insert: bool | tuple[ModelBase, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        """Inserts only: a document is written once (``services.create_document``)."""
        if not self._state.adding or force_update or update_fields is not None:
            raise DocumentImmutable("documents never change; only services.mark_sent sets times")
        # An INSERT even if a primary key was given: saving must never update an existing row.
        super().save(force_insert=True, using=using)

    def delete(self, using: Any = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        raise DocumentImmutable("documents are never deleted")
