from django.conf import settings
from django.db import migrations, models

NUMBER_EXISTING_MESSAGES = """
UPDATE messaging_message SET seq = (
    SELECT COUNT(*) FROM messaging_message AS earlier
    WHERE earlier.conversation_id = messaging_message.conversation_id
      AND earlier.id <= messaging_message.id
)
"""
COUNTERS_AFTER_THEM = """
UPDATE messaging_conversation SET event_seq = COALESCE((
    SELECT MAX(seq) FROM messaging_message
    WHERE messaging_message.conversation_id = messaging_conversation.id
), 0)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_conversations_for_existing_appointments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="event_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        # Messages written before numbering: numbered in the order they were written, and each
        # conversation's counter starts after its last one. Plain SQL that SQLite and
        # PostgreSQL both run.
        migrations.RunSQL(
            NUMBER_EXISTING_MESSAGES, reverse_sql=migrations.RunSQL.noop, elidable=False
        ),
        migrations.RunSQL(COUNTERS_AFTER_THEM, reverse_sql=migrations.RunSQL.noop, elidable=False),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("conversation", "seq"), name="messaging_message_unique_seq"
            ),
        ),
    ]
