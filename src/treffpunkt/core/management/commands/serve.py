from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Run Treffpunkt: uvicorn (HTTP and WebSocket), plus the task worker and the scheduler "
        "as child processes unless told otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
        parser.add_argument(
            "--no-background",
            action="store_true",
            help="do not start the task worker and the scheduler (run them elsewhere)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers: int = options["workers"]
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "More than one worker needs REDIS_URL: the in-memory channel layer and cache "
                "cannot be shared between processes."
            )
        children = [] if options["no_background"] else self._start_background()
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "treffpunkt.asgi:application",
                    "--host",
                    options["host"],
                    "--port",
                    str(options["port"]),
                    "--workers",
                    str(workers),
                    "--proxy-headers",
                    "--no-server-header",
                    "--lifespan",
                    "off",
                    # Events are a few hundred bytes of JSON: compressing them saves little
                    # and costs each socket a zlib context (half its memory) and every frame
                    # CPU on the event loop (bench/README.md, 6 to 8).
                    "--ws-per-message-deflate",
                    "false",
                ],
                check=False,
            )
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _start_background(self) -> list[subprocess.Popen[bytes]]:
        manage = [sys.executable, "-m", "django"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "treffpunkt.settings"}
        children = [subprocess.Popen([*manage, "run_scheduler"], env=env)]
        if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
            children.append(subprocess.Popen([*manage, "db_worker", "--interval", "1"], env=env))
        else:
            self.stdout.write("Tasks go to another backend: start its worker separately.")
        return children
