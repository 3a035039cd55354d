from __future__ import annotations

from django_tasks import task

from treffpunkt.calls import services


@task()
def end_abandoned_calls() -> int:
    return services.end_abandoned_calls()


@task()
def clean_presence() -> int:
    return services.clean_presence()
