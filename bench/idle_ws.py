"""Benchmark 8: how many idle conversation sockets one uvicorn process holds per GB of memory.

1,501 inquiries, each with its member and its staff member logged in; they open the
conversation page's socket (``/ws/nachrichten/<id>/``, session cookie, ``Origin`` of the site,
permessage-deflate offered as browsers do), 3,000 sockets in all, and wait for ``hello``. Then
nothing is sent. The server's resident memory (VmRSS of /proc/<pid>/status) is read before the
sockets open (after a warm-up of a few sockets opened and closed, so the first-use imports and
caches are in) and after they have been open and idle for a while:

    idle_ws_per_gb = sockets ÷ (RSS after − RSS before, in GB of 2^30 bytes)

    uv run python bench/idle_ws.py

Prints idle_ws_per_gb (goal ≥ 5,000), idle_ws_kb_per_socket, the RSS before and after, and the
server's CPU while the sockets idle. ``--sockets 400`` for a quick trial; ``--no-deflate`` shows
what the compression contexts cost.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from common import Server, Workspace, emit, machine_figures, note, run_async, tree_cpu_seconds
from msg_common import (
    MSG_BENCH_DB,
    Pair,
    close_all,
    make_conversations,
    open_socket,
    raise_open_files_limit,
    rss_bytes,
)

GOAL_PER_GB = 5000.0
GB = 2**30
CONNECT_CONCURRENCY = 50
WARMUP_SOCKETS = 20


async def open_many(
    port: int, pairs: list[Pair], count: int, *, deflate: bool
) -> tuple[list[Any], list[BaseException]]:
    """``count`` sockets, member and staff of each conversation in turn."""
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    everyone = [
        (pair.conversation_id, login) for pair in pairs for login in (pair.member, pair.staff)
    ]
    jobs = everyone[:count]

    async def one(conversation_id: int, login: Any) -> Any:
        async with semaphore:
            ws, _hello = await open_socket(port, conversation_id, login, deflate=deflate)
            return ws

    results = await asyncio.gather(*(one(*job) for job in jobs), return_exceptions=True)
    sockets = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    return sockets, failures


async def drive(server: Server, pairs: list[Pair], args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    deflate = not args.no_deflate
    # Warm-up: the first sockets load what a socket needs (consumer, session and auth code,
    # the database pool), which is not the sockets' own memory.
    warm, failed = await open_many(server.port, pairs, WARMUP_SOCKETS, deflate=deflate)
    if failed:
        raise RuntimeError(f"warm-up sockets failed: {failed[0]!r}")
    await close_all(warm)
    await asyncio.sleep(args.settle)
    figures["rss_before"] = rss_bytes(server.pid)

    started = time.perf_counter()
    sockets, failures = await open_many(server.port, pairs, args.sockets, deflate=deflate)
    figures["open_seconds"] = time.perf_counter() - started
    figures["failures"] = len(failures)
    if failures:
        note(f"{len(failures)} sockets failed, the first: {failures[0]!r}")
    try:
        await asyncio.sleep(args.settle)
        cpu_before = tree_cpu_seconds(server.pid)
        idle_started = time.perf_counter()
        peak = 0
        while time.perf_counter() - idle_started < args.idle:
            peak = max(peak, rss_bytes(server.pid))
            await asyncio.sleep(1.0)
        figures["rss_after"] = rss_bytes(server.pid)
        figures["rss_peak"] = max(peak, figures["rss_after"])
        figures["idle_cpu_pct"] = (
            100 * (tree_cpu_seconds(server.pid) - cpu_before) / (time.perf_counter() - idle_started)
        )
        figures["still_open"] = sum(1 for ws in sockets if ws.close_code is None)
        figures["sockets"] = len(sockets)
    finally:
        await close_all(sockets, timeout=60)
    await asyncio.sleep(args.settle)
    figures["rss_closed"] = rss_bytes(server.pid)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=3000)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds the sockets idle")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before each reading")
    parser.add_argument("--no-deflate", action="store_true", help="no permessage-deflate")
    parser.add_argument(
        "--settings",
        default="treffpunkt.settings",
        help="settings module for uvicorn (to try a change without touching the code)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.sockets < 2:
        parser.error("--sockets must be at least 2")

    raise_open_files_limit(args.sockets + 1024)
    note(
        f"idle sockets: {args.sockets} conversation sockets on one uvicorn process, "
        f"permessage-deflate {'off' if args.no_deflate else 'offered'}"
    )
    with Workspace(db_name=MSG_BENCH_DB, keep=args.keep_db) as workspace:
        started = time.perf_counter()
        pairs = make_conversations(max(args.sockets, WARMUP_SOCKETS) // 2 + 1)
        note(f"scenario built in {time.perf_counter() - started:.1f} s: {len(pairs)} conversations")
        env = {**workspace.env, "DJANGO_SETTINGS_MODULE": args.settings}
        with Server(env, workers=1, log_dir=workspace.var_dir) as server:
            machine_figures("idle_ws")
            figures = run_async(drive(server, pairs, args))
            log = server.log_tail()

    grown = figures["rss_after"] - figures["rss_before"]
    opened = figures["sockets"]
    per_gb = opened / (grown / GB) if grown > 0 else float("inf")
    emit("idle_ws_sockets", opened)
    emit("idle_ws_failures", figures["failures"])
    emit("idle_ws_still_open", figures["still_open"])
    emit("idle_ws_open_seconds", figures["open_seconds"])
    emit("idle_ws_rss_before_mb", figures["rss_before"] / 2**20)
    emit("idle_ws_rss_after_mb", figures["rss_after"] / 2**20)
    emit("idle_ws_rss_peak_mb", figures["rss_peak"] / 2**20)
    emit("idle_ws_rss_after_close_mb", figures["rss_closed"] / 2**20)
    emit("idle_ws_kb_per_socket", grown / max(opened, 1) / 1024)
    emit("idle_ws_per_gb", per_gb)
    emit("idle_ws_server_idle_cpu_pct", figures["idle_cpu_pct"])
    emit("idle_ws_deflate", "no" if args.no_deflate else "offered")
    emit("idle_ws_goal", f"per_gb>={GOAL_PER_GB:.0f}")
    sound = figures["failures"] == 0 and figures["still_open"] == opened
    emit("idle_ws_goal_met", "yes" if sound and per_gb >= GOAL_PER_GB else "no")
    if log.strip():
        note("uvicorn log (tail):\n" + log)
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
