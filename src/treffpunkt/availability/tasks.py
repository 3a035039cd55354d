"""The availability jobs for the task worker."""

from __future__ import annotations

from django_tasks import task

from treffpunkt.availability.services import (
    clean_probe_results,
    flag_months_below_goal,
    run_probe,
)


@task()
def run_probe_task() -> dict[str, int]:
    return run_probe()


@task()
def clean_probe_results_task() -> int:
    return clean_probe_results()


@task()
def flag_months_below_goal_task() -> dict[str, int]:
    return flag_months_below_goal()
