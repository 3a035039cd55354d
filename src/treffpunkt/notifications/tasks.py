from __future__ import annotations

from django_tasks import task

from treffpunkt.notifications import services


@task()
def deliver_mail(*, mail_id: int) -> bool:
    return services.deliver(mail_id=mail_id)


@task()
def deliver_mails(*, mail_ids: list[int]) -> int:
    """The mails one transaction queued, in order; returns how many went out now."""
    return sum(services.deliver(mail_id=mail_id) for mail_id in mail_ids)


@task()
def send_due_mail() -> int:
    return services.send_due_mail()
