"""Database triggers that refuse changing or deleting an issued invoice or its lines, below the
ORM (P-BILL-1: issued documents never change; a correction is a credit note).

Allowed on an invoice is only what the services do after the issuing transaction: linking the
PDF, and recording when it was sent, received and is due, each from empty to a value, once.
Everything else (another column, a value already set, DELETE) fails with an integrity error,
whoever sends the SQL. Lines never change at all.

PostgreSQL compares the whole row without the set-once columns, so a column added later is
covered without touching the trigger. SQLite names each column; a migration that rebuilds the
table there drops its triggers and must create them again (the tests check they are there).
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SET_ONCE = ("document_id", "sent_at", "received_on", "due_on")
FIXED_COLUMNS = (
    "id",
    "kind",
    "number",
    "customer_id",
    "contract_id",
    "original_id",
    "billing_key",
    "issue_date",
    "supply_start",
    "supply_end",
    "seller",
    "buyer",
    "e_invoice_format",
    "note",
    "net_total",
    "vat_total",
    "gross_total",
    "xml",
    "issued_by_id",
    "created_at",
)

SQLITE_CHANGED = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in FIXED_COLUMNS)
SQLITE_SET_TWICE = " OR ".join(
    f"(OLD.{column} IS NOT NULL AND NEW.{column} IS NOT OLD.{column})" for column in SET_ONCE
)

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER billing_invoice_refuse_update
    BEFORE UPDATE ON billing_invoice
    WHEN {SQLITE_CHANGED} OR {SQLITE_SET_TWICE}
    BEGIN
      SELECT RAISE(ABORT, 'issued invoices never change: write a credit note');
    END
    """,
    """
    CREATE TRIGGER billing_invoice_refuse_delete
    BEFORE DELETE ON billing_invoice
    BEGIN
      SELECT RAISE(ABORT, 'issued invoices are never deleted');
    END
    """,
    """
    CREATE TRIGGER billing_invoiceline_refuse_update
    BEFORE UPDATE ON billing_invoiceline
    BEGIN
      SELECT RAISE(ABORT, 'issued invoices never change: write a credit note');
    END
    """,
    """
    CREATE TRIGGER billing_invoiceline_refuse_delete
    BEFORE DELETE ON billing_invoiceline
    BEGIN
      SELECT RAISE(ABORT, 'issued invoices are never deleted');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS billing_invoice_refuse_update",
    "DROP TRIGGER IF EXISTS billing_invoice_refuse_delete",
    "DROP TRIGGER IF EXISTS billing_invoiceline_refuse_update",
    "DROP TRIGGER IF EXISTS billing_invoiceline_refuse_delete",
]

_WITHOUT_SET_ONCE = " ".join(f"- '{column}'" for column in SET_ONCE)
_SET_TWICE = " OR ".join(
    f"(OLD.{column} IS NOT NULL AND NEW.{column} IS DISTINCT FROM OLD.{column})"
    for column in SET_ONCE
)

POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION billing_invoice_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'issued invoices are never deleted'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF (to_jsonb(NEW) {_WITHOUT_SET_ONCE}) IS DISTINCT FROM (to_jsonb(OLD) {_WITHOUT_SET_ONCE})
         OR {_SET_TWICE}
      THEN
        RAISE EXCEPTION 'issued invoices never change: write a credit note'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END
    $$
    """,
    # Row triggers: TRUNCATE (Django's flush between transactional tests) is not covered.
    """
    CREATE TRIGGER billing_invoice_refuse_change
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_refuse_change()
    """,
    """
    CREATE FUNCTION billing_invoiceline_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'issued invoices never change: write a credit note'
        USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER billing_invoiceline_refuse_change
    BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS billing_invoice_refuse_change ON billing_invoice",
    "DROP FUNCTION IF EXISTS billing_invoice_refuse_change()",
    "DROP TRIGGER IF EXISTS billing_invoiceline_refuse_change ON billing_invoiceline",
    "DROP FUNCTION IF EXISTS billing_invoiceline_refuse_change()",
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
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
