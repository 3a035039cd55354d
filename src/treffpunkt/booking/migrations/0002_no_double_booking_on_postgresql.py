"""P-BOOK-6 in the database: no two holding appointments of one staff member overlap.

PostgreSQL gets an exclusion constraint over (staff member, blocked time range) for every
requested, proposed or confirmed appointment. SQLite has no such constraint; there the booking
service serializes its write transactions instead (BEGIN IMMEDIATE, see settings.DATABASES).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

HOLDING = "('requested', 'proposed', 'confirmed')"


def add_constraint(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        "ALTER TABLE booking_appointment ADD CONSTRAINT appointment_staff_time_exclusive "
        "EXCLUDE USING gist (staff_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&) "
        f"WHERE (status IN {HOLDING})"
    )


def drop_constraint(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appointment_staff_time_exclusive"
    )


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
