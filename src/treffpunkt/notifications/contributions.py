"""What notifications bring to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import timedelta

from treffpunkt.core.registries import registry
from treffpunkt.core.scheduler import Every, PeriodicJob


def register() -> None:
    from treffpunkt.notifications.tasks import send_due_mail

    registry.add_periodic_jobs(
        PeriodicJob(
            name="notifications.send_due_mail",
            task=send_due_mail,
            when=Every(timedelta(minutes=1)),
            description="Send mails that are due: retries after a failure, and any missed task.",
        )
    )
