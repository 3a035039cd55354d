from __future__ import annotations

from django_tasks import task

from treffpunkt.contracts.services import run_contracts_day


@task()
def run_contracts_day_task() -> dict[str, int]:
    return run_contracts_day()


@task()
def erase_former_contacts_task() -> dict[str, int]:
    from treffpunkt.contracts.services.master_data import erase_contacts_of_former_customers

    return erase_contacts_of_former_customers()
