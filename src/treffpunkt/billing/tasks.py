from __future__ import annotations

from django_tasks import task

from treffpunkt.billing.services import run_billing


@task()
def run_billing_task() -> dict[str, int]:
    return run_billing()


@task()
def plan_hardware_deliveries_task() -> dict[str, int]:
    from treffpunkt.billing.services.hardware import plan_open_orders

    return plan_open_orders()


@task()
def run_dunning_task() -> dict[str, int]:
    from treffpunkt.billing.services.dunning import run_dunning

    return run_dunning()
