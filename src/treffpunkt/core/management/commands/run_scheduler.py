from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from treffpunkt.core import clock
from treffpunkt.core.registries import registry
from treffpunkt.core.scheduler import run_due_jobs


class Command(BaseCommand):
    help = "Enqueue the periodic jobs the apps register when they are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=15.0, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        schedule = registry.schedule()
        for job in schedule:
            self.stdout.write(f"scheduled: {job.name} {job.when} - {job.description}")
        while True:
            close_old_connections()
            try:
                run_due_jobs(jobs=schedule, at=clock.now())
            except DatabaseError as exc:
                if once:
                    raise
                # The database went away under a check (a restart): nothing was enqueued
                # twice (each run is recorded in the same transaction), so the next check
                # simply tries again on a fresh connection.
                self.stderr.write(f"database unavailable, trying again: {exc}")
                close_old_connections()
            if once:
                return
            time.sleep(interval)
