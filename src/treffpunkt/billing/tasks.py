from __future__ import annotations

from django_tasks import task

from treffpunkt.billing.services import run_billing


@task()
def run_billing_task() -> dict[str, int]:
    return run_billing()
