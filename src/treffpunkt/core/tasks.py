from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from treffpunkt.core import clock, realtime
from treffpunkt.core.scheduler import forget_old_runs


@task()
def prune_scheduler_history() -> int:
    """Forget scheduler rows older than a week, except each job's newest (see forget_old_runs)."""
    return forget_old_runs(before=clock.now() - timedelta(days=7))


@task()
def forget_old_live_events() -> int:
    """Delete live events kept for pages that missed them, once they are a day old."""
    return realtime.forget_old_live_events()
