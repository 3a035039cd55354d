"""Documents: rendered, hashed and stored once; never changed or deleted, by the ORM or by SQL
below it, on SQLite and PostgreSQL; marked as sent once; sent by mail as the exact bytes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from tests.conftest import World, deliver_outbox
from tests.documents.letters import german_letter
from tests.documents.pdf_reading import open_pdf, xmp
from treffpunkt.core.errors import DomainError
from treffpunkt.core.models import AuditEntry
from treffpunkt.documents.models import SET_ONCE, Document, DocumentImmutable, DocumentKind
from treffpunkt.documents.rendering import EmbeddedFile, Relationship
from treffpunkt.documents.selectors import (
    DocumentDamaged,
    document_bytes,
    document_for,
    documents_of,
    mail_attachment,
)
from treffpunkt.documents.services import create_document, mark_sent
from treffpunkt.documents.storage import document_storage
from treffpunkt.notifications.services import queue_mail

pytestmark = pytest.mark.django_db

SENT = datetime(2025, 3, 7, 10, 0, tzinfo=UTC)


def _letter(world: World, **changes: object) -> Document:
    arguments: dict[str, object] = {
        "kind": DocumentKind.LETTER,
        "title": "Ihre Anfrage",
        "template": "letter",
        "data": german_letter(),
        "language": "de",
        "organization": world.org,
        "actor": world.staff,
    }
    arguments.update(changes)
    return create_document(**arguments)


def _stored_path(document: Document) -> Path:
    return Path(document_storage().path(document.file_name))


# --- creating --------------------------------------------------------------------------------


def test_a_document_is_stored_once_with_the_hash_and_size_of_its_file(world: World):
    document = _letter(world)
    content = _stored_path(document).read_bytes()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content)
    assert document_bytes(document) == content
    assert xmp(open_pdf(content))["{http://www.aiim.org/pdfa/ns/id/}part"] == "3"
    stored = Document.objects.get()
    assert (stored.kind, stored.title, stored.language, stored.template) == (
        "letter",
        "Ihre Anfrage",
        "de",
        "letter",
    )
    assert stored.organization == world.org
    assert stored.sent_at is None and stored.received_at is None


def test_the_file_lies_in_the_private_documents_directory_and_has_no_url(world: World):
    document = _letter(world)
    path = _stored_path(document)
    assert path.is_relative_to(Path(settings.PRIVATE_FILES_DIR) / "documents")
    assert not path.is_relative_to(Path(settings.STATIC_ROOT))
    assert path.stat().st_mode & 0o077 == 0  # readable by the service account only
    with pytest.raises(ValueError, match="no public address"):
        document_storage().url(document.file_name)


def test_creating_a_document_writes_an_audit_entry(world: World):
    document = _letter(world)
    entry = AuditEntry.objects.get(code="documents.document.created")
    assert entry.actor == world.staff
    assert entry.organization == world.org
    assert entry.target_id == str(document.pk)
    assert entry.data["sha256"] == document.sha256
    assert entry.data["kind"] == "letter"


def test_two_documents_with_the_same_text_are_two_files(world: World):
    first, second = _letter(world), _letter(world)
    assert first.sha256 != second.sha256  # each carries its own reference
    assert first.reference != second.reference


def test_the_reference_is_printed_into_the_pdf_metadata(world: World):
    document = _letter(world)
    keywords = xmp(open_pdf(document_bytes(document)))["{http://ns.adobe.com/pdf/1.3/}Keywords"]
    assert keywords == str(document.reference)


def test_an_attached_xml_file_comes_back_from_the_stored_document(world: World):
    xml = b'<?xml version="1.0"?><Invoice>100.00</Invoice>\n'
    document = _letter(
        world,
        kind=DocumentKind.INVOICE,
        attachments=[
            EmbeddedFile(
                filename="factur-x.xml",
                content=xml,
                mimetype="text/xml",
                relationship=Relationship.ALTERNATIVE,
            )
        ],
    )
    pdf = open_pdf(document_bytes(document))
    assert pdf.attachments["factur-x.xml"].get_file().read_bytes() == xml


def test_no_row_and_no_file_remain_when_the_row_cannot_be_written(world: World, monkeypatch):
    from treffpunkt.core import audit

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", failing)
    directory = Path(settings.PRIVATE_FILES_DIR) / "documents"
    before = set(directory.rglob("*.pdf")) if directory.exists() else set()
    with pytest.raises(RuntimeError, match="audit log"):
        _letter(world)
    assert not Document.objects.exists()
    assert set(directory.rglob("*.pdf")) == before


def test_a_changed_file_is_never_handed_out_as_the_document(world: World):
    document = _letter(world)
    path = _stored_path(document)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes().replace(b"Ihre Anfrage", b"Ihre Anfragf", 1))
    with pytest.raises(DocumentDamaged, match="changed"):
        document_bytes(document)


# --- tenancy ---------------------------------------------------------------------------------


def test_an_organization_sees_only_its_own_documents(world: World):
    own = _letter(world)
    other = _letter(world, organization=world.other_org)
    assert list(documents_of(world.org)) == [own]
    assert document_for(world.org, own.reference) == own
    with pytest.raises(Document.DoesNotExist):
        document_for(world.org, other.reference)


# --- sending ---------------------------------------------------------------------------------


def test_a_letter_counts_as_received_some_days_after_posting(world: World):
    document = mark_sent(document=_letter(world), at=SENT, receipt_after_days=4)
    stored = Document.objects.get(pk=document.pk)
    assert stored.sent_at == SENT
    assert stored.received_at == SENT + timedelta(days=4)
    entry = AuditEntry.objects.get(code="documents.document.sent")
    assert entry.data["receipt_after_days"] == 4


def test_an_e_mail_counts_as_received_the_same_day(world: World):
    document = mark_sent(document=_letter(world), at=SENT, receipt_after_days=0)
    assert Document.objects.get(pk=document.pk).received_at == SENT


def test_a_document_is_marked_as_sent_only_once(world: World):
    document = mark_sent(document=_letter(world), at=SENT, receipt_after_days=4)
    with pytest.raises(DomainError, match="bereits versandt"):
        mark_sent(document=document, at=SENT + timedelta(days=1), receipt_after_days=0)
    assert Document.objects.get(pk=document.pk).sent_at == SENT


def test_a_negative_receipt_delay_is_refused(world: World):
    with pytest.raises(ValueError, match="before it was sent"):
        mark_sent(document=_letter(world), at=SENT, receipt_after_days=-1)


def test_a_document_goes_out_by_mail_as_the_exact_pdf(world: World):
    document = _letter(world)
    queue_mail(
        template="accounts/confirm_email",
        context={"confirm_url": "http://testserver/x", "hours": 48},
        recipient=world.member,
        attachments=[mail_attachment(document)],
    )
    [message] = deliver_outbox()
    parsed = message_from_bytes(message.message().as_bytes())
    [part] = [part for part in parsed.walk() if part.get_content_type() == "application/pdf"]
    assert part.get_payload(decode=True) == document_bytes(document)
    assert part.get_filename() == "ihre-anfrage.pdf"


# --- immutability ----------------------------------------------------------------------------


def test_saving_a_changed_document_is_refused(world: World):
    document = _letter(world)
    document.title = "Geändert"
    with pytest.raises(DocumentImmutable):
        document.save()
    with pytest.raises(DocumentImmutable):
        document.save(update_fields=["sent_at"])
    assert Document.objects.get().title == "Ihre Anfrage"


def test_saving_with_an_existing_primary_key_never_updates(world: World):
    document = _letter(world)
    copy = Document(pk=document.pk, title="Fälschung", sha256="0" * 64, size=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert Document.objects.get().title == "Ihre Anfrage"


def test_deleting_a_document_is_refused(world: World):
    document = _letter(world)
    with pytest.raises(DocumentImmutable):
        document.delete()
    with pytest.raises(DocumentImmutable):
        Document.objects.filter(pk=document.pk).delete()
    assert Document.objects.count() == 1


@pytest.mark.parametrize(
    "changes",
    [{"title": "Geändert"}, {"sha256": "0" * 64}, {"size": 1}, {"kind": "invoice"}],
)
def test_updating_content_through_the_query_set_is_refused(world: World, changes: dict):
    document = _letter(world)
    with pytest.raises(DocumentImmutable):
        Document.objects.filter(pk=document.pk).update(**changes)
    with pytest.raises(DocumentImmutable):
        Document.objects.filter(pk=document.pk).update(sent_at=SENT, **changes)


def test_a_time_once_set_is_not_overwritten_even_through_the_query_set(world: World):
    document = mark_sent(document=_letter(world), at=SENT, receipt_after_days=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(sent_at=SENT + timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(received_at=None)
    assert Document.objects.get().sent_at == SENT


def _execute(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("title", "Geändert"),
        ("sha256", "0" * 64),
        ("size", 1),
        ("file_name", "other.pdf"),
        ("created_at", "2020-01-01 00:00:00"),
        ("organization_id", None),
    ],
)
def test_the_database_refuses_changing_content_below_the_orm(
    world: World, column: str, value: object
):
    document = _letter(world)
    with pytest.raises(IntegrityError):
        _execute(f"UPDATE documents_document SET {column} = %s WHERE id = %s", [value, document.pk])  # noqa: S608
    assert Document.objects.get().title == "Ihre Anfrage"


def test_the_database_refuses_deleting_below_the_orm(world: World):
    document = _letter(world)
    with pytest.raises(IntegrityError):
        _execute("DELETE FROM documents_document WHERE id = %s", [document.pk])
    assert Document.objects.count() == 1


def test_the_database_lets_the_send_times_be_set_once(world: World):
    document = _letter(world)
    received = SENT + timedelta(days=4)
    _execute(
        "UPDATE documents_document SET sent_at = %s, received_at = %s WHERE id = %s",
        [SENT, received, document.pk],
    )
    assert Document.objects.get().received_at == received
    with pytest.raises(IntegrityError):
        _execute(
            "UPDATE documents_document SET sent_at = %s WHERE id = %s", [received, document.pk]
        )


def test_the_triggers_cover_every_content_column():
    """A migration that rebuilds the table on SQLite drops its triggers, and a new column is
    not in the SQLite trigger until someone adds it: this test notices both."""
    content_columns = {
        field.column for field in Document._meta.concrete_fields if field.name not in SET_ONCE
    }
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'documents_document'"
            )
            triggers = dict(cursor.fetchall())
            assert set(triggers) == {
                "documents_document_refuse_update",
                "documents_document_refuse_delete",
            }
            update = triggers["documents_document_refuse_update"]
            for column in content_columns:
                assert f"NEW.{column} IS NOT OLD.{column}" in update, column
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'documents_document'::regclass "
                "AND NOT tgisinternal"
            )
            assert [row[0] for row in cursor.fetchall()] == ["documents_document_refuse_change"]
