from __future__ import annotations

from django_tasks import task

from treffpunkt.booking import services


@task()
def expire_unanswered_requests() -> int:
    return services.expire_unanswered_requests()


@task()
def send_due_reminders() -> int:
    return services.send_due_reminders()
