from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmail",
            name="message_id",
            field=models.CharField(blank=True, max_length=250, verbose_name="Message-ID"),
        ),
    ]
