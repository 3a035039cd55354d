"""The one scheduler: it enqueues the periodic jobs declared in ``treffpunkt.schedule``.

Each job runs once per time slot of its interval. A row per (job, slot) with a unique
constraint makes a second scheduler started by mistake harmless: it cannot enqueue a slot twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django_tasks.base import Task

from treffpunkt.core.models import ScheduledRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task[[], Any]
    every: timedelta
    description: str


def slot_start(at: datetime, every: timedelta) -> datetime:
    """The start of the interval that contains ``at``, counted from the Unix epoch."""
    seconds = int(every.total_seconds())
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=at.tzinfo)


def run_due_jobs(*, jobs: list[PeriodicJob], at: datetime) -> list[str]:
    """Enqueue every job whose current slot has not been enqueued yet. Returns their names."""
    enqueued = []
    for job in jobs:
        start = slot_start(at, job.every)
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(job=job.name, slot_start=start)
                transaction.on_commit(job.task.enqueue)
        except IntegrityError:
            continue  # this slot was enqueued already
        enqueued.append(job.name)
        logger.info("enqueued %s for %s", job.name, start.isoformat())
    return enqueued


def forget_old_runs(*, before: datetime) -> int:
    deleted, _ = ScheduledRun.objects.filter(slot_start__lt=before).delete()
    return deleted
