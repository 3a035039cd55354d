"""The availability jobs for the task worker."""

from __future__ import annotations

from django_tasks import task

from treffpunkt.availability.services import run_probe


@task()
def run_probe_task() -> dict[str, int]:
    return run_probe()
