"""Every appointment has its conversation (opened with the request from now on); appointments
made before messages existed get theirs here."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def open_missing(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Appointment = apps.get_model("booking", "Appointment")
    Conversation = apps.get_model("messaging", "Conversation")
    missing = Appointment.objects.filter(conversation__isnull=True)
    Conversation.objects.bulk_create(
        Conversation(
            organization_id=appointment.organization_id,
            member_id=appointment.member_id,
            appointment_id=appointment.pk,
            assigned_to_id=appointment.staff_id,
            created_at=appointment.created_at,
        )
        for appointment in missing.iterator()
    )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(open_missing, migrations.RunPython.noop)]
