"""The support jobs for the task worker."""

from __future__ import annotations

from django_tasks import task

from treffpunkt.support.mailbox import import_support_mails


@task()
def import_support_mails_task() -> dict[str, int]:
    return import_support_mails()
