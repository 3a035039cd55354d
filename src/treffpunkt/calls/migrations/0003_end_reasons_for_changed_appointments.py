from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0002_callstatistic"),
    ]

    operations = [
        migrations.AlterField(
            model_name="callsession",
            name="end_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("hung_up", "hung up"),
                    ("everyone_left", "both left the page"),
                    ("window_closed", "the call window closed"),
                    ("cancelled", "the appointment was cancelled"),
                    ("moved", "the appointment was moved"),
                ],
                max_length=16,
                verbose_name="end",
            ),
        ),
    ]
