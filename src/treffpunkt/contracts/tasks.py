from __future__ import annotations

from django_tasks import task

from treffpunkt.contracts.services import run_contracts_day


@task()
def run_contracts_day_task() -> dict[str, int]:
    return run_contracts_day()
