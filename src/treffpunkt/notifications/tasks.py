from __future__ import annotations

from django_tasks import task

from treffpunkt.notifications import services


@task()
def deliver_mail(*, mail_id: int) -> bool:
    return services.deliver(mail_id=mail_id)


@task()
def send_due_mail() -> int:
    return services.send_due_mail()
