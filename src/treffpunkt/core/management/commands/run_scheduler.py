from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

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
            run_due_jobs(jobs=schedule, at=clock.now())
            if once:
                return
            time.sleep(interval)
