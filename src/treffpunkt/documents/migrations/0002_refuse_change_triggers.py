"""Database triggers that refuse changing or deleting a document, below the ORM.

Allowed is only what ``services.mark_sent`` does: setting ``sent_at`` and ``received_at``
from empty to a time, once. Everything else (another column, a time already set, DELETE)
fails with an integrity error, whoever sends the SQL.

SQLite names each column of the row; PostgreSQL compares the whole row without the two time
columns, so a column added later is covered there without touching the trigger. On SQLite a
migration that rebuilds the table (Django does so for many ALTERs) drops its triggers: such a
migration must create them again (tests/documents checks that they are there and complete).
Other databases get no trigger; the model and query set still refuse.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CONTENT_COLUMNS = (
    "id",
    "reference",
    "organization_id",
    "kind",
    "title",
    "language",
    "template",
    "file_name",
    "sha256",
    "size",
    "created_at",
)

SQLITE_CHANGED = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in CONTENT_COLUMNS)

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER documents_document_refuse_update
    BEFORE UPDATE ON documents_document
    WHEN {SQLITE_CHANGED}
      OR (OLD.sent_at IS NOT NULL AND NEW.sent_at IS NOT OLD.sent_at)
      OR (OLD.received_at IS NOT NULL AND NEW.received_at IS NOT OLD.received_at)
    BEGIN
      SELECT RAISE(ABORT, 'documents never change: only sent_at and received_at are set, once');
    END
    """,
    """
    CREATE TRIGGER documents_document_refuse_delete
    BEFORE DELETE ON documents_document
    BEGIN
      SELECT RAISE(ABORT, 'documents are never deleted');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS documents_document_refuse_update",
    "DROP TRIGGER IF EXISTS documents_document_refuse_delete",
]

POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION documents_document_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'documents are never deleted'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF (to_jsonb(NEW) - 'sent_at' - 'received_at')
           IS DISTINCT FROM (to_jsonb(OLD) - 'sent_at' - 'received_at')
         OR (OLD.sent_at IS NOT NULL AND NEW.sent_at IS DISTINCT FROM OLD.sent_at)
         OR (OLD.received_at IS NOT NULL AND NEW.received_at IS DISTINCT FROM OLD.received_at)
      THEN
        RAISE EXCEPTION 'documents never change: only sent_at and received_at are set, once'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END
    $$
    """,
    # Row triggers: TRUNCATE (Django's flush between transactional tests) is not covered.
    """
    CREATE TRIGGER documents_document_refuse_change
    BEFORE UPDATE OR DELETE ON documents_document
    FOR EACH ROW EXECUTE FUNCTION documents_document_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS documents_document_refuse_change ON documents_document",
    "DROP FUNCTION IF EXISTS documents_document_refuse_change()",
]

CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
