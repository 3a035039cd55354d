"""Benchmark: the CPU share of one process that the per-minute availability probe costs.

``availability.services.run_probe()`` (what the task worker runs every minute: each check of
``availability.probes`` once, its results stored, incidents opened or closed) runs ``--runs``
times (default 30, after 2 warm-up rounds, ``--warmup``) in this process, against a throw-away
PostgreSQL test database of its own (``test_treffpunkt_bench_probe`` on ``BENCH_PG_URL``;
``contracts_data.throwaway_database``). ``settings.PROBE_BASE_URL`` points at a small HTTP
server started in a thread of this process: Django's ``ThreadedWSGIServer`` with
``get_wsgi_application()`` on a free port of 127.0.0.1, so the pages and sign-in checks ask the
project's real pages. The channel layer is the settings' default without ``REDIS_URL`` (the
embedded mode's in-process layer); no TURN/STUN server is configured, so that check is left out.

Per round, around ``run_probe()``: wall time (``time.perf_counter``), the CPU of the calling
thread (``time.thread_time``) and the CPU of the whole process (``resource.getrusage``,
user + system), read once the server's request threads have finished (they close their database
connections after answering). The figure is the whole process:

    probe_cpu_pct = median CPU seconds of one round (whole process, the server thread answering
                    the two page requests included) / 60 s × 100           goal ≤ 1 %

The PostgreSQL server's CPU is not in it (another process); ``probe_db_cpu_ms`` shows it for
information (other users of that server count too).

    uv run python bench/probe_cpu.py     # in this checkout: python3 -m uv run --frozen python …

Prints probe_round_ms (wall, median), probe_cpu_ms (median CPU per round, whole process),
probe_cpu_pct, probe_thread_cpu_ms / probe_thread_cpu_pct (calling thread only), probe_checks
and probe_all_ok. Exit 1 if a check failed (then the figure is not that of a working probe).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import threading
import time
from typing import Any

from common import PG_SERVER_URL, emit, machine_figures, note, percentile, postgres_cpu_seconds

GOAL_PCT = 1.0
PERIOD_S = 60.0  # the probe runs once a minute
DB_NAME = "treffpunkt_bench_probe"  # Django's test database: test_treffpunkt_bench_probe


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class PageServer:
    """The project's pages over HTTP on 127.0.0.1, served by threads of this process."""

    def __init__(self) -> None:
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
        from django.core.wsgi import get_wsgi_application

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
        self.httpd.set_app(get_wsgi_application())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="pages", daemon=True)

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def wait_for_threads(count: int, *, limit_s: float = 2.0) -> None:
    """Until only ``count`` threads are left (the server's request threads have ended)."""
    deadline = time.monotonic() + limit_s
    while threading.active_count() > count and time.monotonic() < deadline:
        time.sleep(0.002)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed probe rounds")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()

    # Our own database name (the helper would name it after the script); DATABASE_URL wins.
    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER_URL}/{DB_NAME}")
    from contracts_data import throwaway_database

    with throwaway_database(keep=args.keep_db) as where, PageServer() as server:
        from django.conf import settings
        from django.db import connection

        from treffpunkt.availability.models import ProbeResult
        from treffpunkt.availability.probes import checks
        from treffpunkt.availability.services import run_probe

        settings.PROBE_BASE_URL = server.url
        emit("probe_database", where)
        emit("probe_backend", connection.vendor)
        emit("probe_base_url", server.url)
        emit("probe_channel_layer", settings.CHANNEL_LAYERS["default"]["BACKEND"])
        emit("probe_checks", len(checks()))
        emit("probe_check_names", ",".join(function.value for function, _check in checks()))
        machine_figures("probe")

        for _ in range(args.warmup):
            run_probe()
        wait_for_threads(2)
        baseline_threads = threading.active_count()

        wall_ms: list[float] = []
        cpu_ms: list[float] = []
        thread_ms: list[float] = []
        failed = 0
        db_before = postgres_cpu_seconds()
        for _ in range(args.runs):
            process_before = process_cpu_seconds()
            thread_before = time.thread_time()
            began = time.perf_counter()
            outcome = run_probe()
            wall_ms.append((time.perf_counter() - began) * 1000)
            thread_ms.append((time.thread_time() - thread_before) * 1000)
            wait_for_threads(baseline_threads)
            cpu_ms.append((process_cpu_seconds() - process_before) * 1000)
            failed += outcome["failed"]
        db_after = postgres_cpu_seconds()

        cpu = statistics.median(cpu_ms)
        thread_cpu = statistics.median(thread_ms)
        emit("probe_runs", len(wall_ms))
        emit("probe_round_ms", statistics.median(wall_ms))
        emit("probe_round_p95_ms", percentile(wall_ms, 95))
        emit("probe_cpu_ms", cpu)
        emit("probe_cpu_p95_ms", percentile(cpu_ms, 95))
        emit("probe_thread_cpu_ms", thread_cpu)
        # Three places: the figures are far below 1 %.
        emit("probe_cpu_pct", f"{cpu / (PERIOD_S * 1000) * 100:.3f}")
        emit("probe_thread_cpu_pct", f"{thread_cpu / (PERIOD_S * 1000) * 100:.3f}")
        if db_before is not None and db_after is not None:
            emit("probe_db_cpu_ms", (db_after - db_before) * 1000 / max(len(wall_ms), 1))
        emit("probe_cpu_figure", "whole process (getrusage), server thread included")
        emit("probe_goal_pct", GOAL_PCT)
        emit("probe_goal_met", "yes" if cpu / (PERIOD_S * 1000) * 100 <= GOAL_PCT else "no")

        failing = list(
            ProbeResult.objects.filter(ok=False)
            .values_list("function", "detail")
            .distinct()
            .order_by("function")
        )
        emit("probe_all_ok", "no" if failing or failed else "yes")
        for function, detail in failing:
            note(f"check failed: {function}: {detail}")
        if failing or failed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
