from __future__ import annotations

from django_tasks import task

from treffpunkt.messaging import services


@task()
def send_member_notices() -> int:
    return services.send_member_notices()


@task()
def send_staff_digests() -> int:
    return services.send_staff_digests()


@task()
def delete_expired_messages() -> int:
    return services.delete_expired_messages()
