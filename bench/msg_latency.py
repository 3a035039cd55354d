"""Benchmarks 6 and 7: how long a message takes from one person's conversation page to the
other's, with 1,000 pages open and 200 messages a second.

500 inquiries of one organization, each between a member and a staff member of its own; both
have the conversation open (1,000 sockets on ``/ws/nachrichten/<id>/``, logged in by session
cookie). A paced schedule sends 200 messages a second in all (``{"type": "send"}``), from the
clients in a fixed shuffled order, so each client writes one message every 5 s (12 a minute;
the app allows 30). A message's latency: when the OTHER person's socket receives its
``message`` event, minus the moment the sender's frame went out. 10 s warm-up, then 60 s
measured; then up to 30 s for the last deliveries.

    uv run python bench/msg_latency.py            # one uvicorn process, in-memory channel layer
    uv run python bench/msg_latency.py --redis    # two processes, Redis channel layer

``--redis``: members connect to one uvicorn process and staff to another; the processes share
the Redis channel layer, so every delivery crosses Redis. Its figures end in ``_redis``.

Prints msg_p50_ms, msg_p99_ms (goal ≤ 50), msg_max_ms, sent/received/lost/errors, the
achieved rate, the load generator's own lag, and the CPU of server, database and generator.
Quick trial: ``--clients 100 --rate 20 --duration 10 --warmup 3``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    CpuMeter,
    Server,
    Workspace,
    emit,
    machine_figures,
    note,
    percentile,
    run_async,
    tree_cpu_seconds,
)
from msg_common import (
    MSG_BENCH_DB,
    Pair,
    close_all,
    cpu_calibration_ms,
    make_conversations,
    open_socket,
    pids_named,
    raise_open_files_limit,
    thread_cpu_seconds,
)

GOAL_P99_MS = 50.0
CONNECT_CONCURRENCY = 50


@dataclass
class Client:
    index: int
    side: str  # "member" or "staff"
    conversation_id: int
    ws: Any = None


@dataclass
class Sent:
    """One message of the schedule and what became of it (perf_counter seconds)."""

    sender: Client
    due: float  # when the schedule meant to send it
    at: float  # when its frame went to the socket
    measured: bool  # due within the measured window
    acked: float = math.nan  # the sender's "sent"
    echoed: float = math.nan  # the sender's own "message" event
    delivered: float = math.nan  # the other person's "message" event
    error: str = ""
    message_id: int = 0  # from the sender's "sent"


@dataclass
class Run:
    sent: dict[int, Sent] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)  # error frames by code
    closed: int = 0  # sockets the server closed during the run
    stopping: bool = False
    loop_lags: list[float] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)


def message_text(seq: int, length: int) -> str:
    head = f"Nachricht {seq} "
    return head + "x" * max(0, length - len(head))


def seq_of(text: str) -> int | None:
    parts = text.split(" ", 2)
    if len(parts) >= 2 and parts[0] == "Nachricht" and parts[1].isdigit():
        return int(parts[1])
    return None


async def read_frames(client: Client, run: Run) -> None:
    """Everything the server sends to one client, noted as it arrives."""
    from websockets.exceptions import ConnectionClosed

    try:
        async for raw in client.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                seq = seq_of(frame.get("text", ""))
                record = run.sent.get(seq) if seq is not None else None
                if record is None:
                    continue
                if client is record.sender:
                    record.echoed = now
                elif client.conversation_id == record.sender.conversation_id:
                    record.delivered = now
                else:
                    run.errors["message_to_the_wrong_conversation"] += 1
            elif kind == "sent":
                ref = str(frame.get("ref", ""))
                if ref.isdigit() and int(ref) in run.sent:
                    run.sent[int(ref)].acked = now
                    run.sent[int(ref)].message_id = int(frame.get("id", 0))
            elif kind == "error":
                code = str(frame.get("code", "?"))
                run.errors[code] += 1
                ref = str(frame.get("ref", ""))
                if ref.isdigit() and int(ref) in run.sent:
                    run.sent[int(ref)].error = code
                if sum(run.errors.values()) <= 3:
                    note(f"error frame: {frame}")
    except ConnectionClosed as exc:
        if not run.stopping:
            run.closed += 1
            if run.closed <= 3:
                note(f"socket of client {client.index} closed by the server: {exc}")


async def probe_loop_lag(run: Run, interval: float = 0.01) -> None:
    """How late this process's event loop wakes up: a generator that cannot keep up shows
    here (and in the schedule slip)."""
    while not run.stopping:
        began = time.perf_counter()
        await asyncio.sleep(interval)
        run.loop_lags.append(time.perf_counter() - began - interval)


async def connect_clients(
    pairs: list[Pair], ports: tuple[int, int], *, deflate: bool
) -> list[Client]:
    """Both sockets of every conversation; members to ``ports[0]``, staff to ``ports[1]``."""
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients: list[Client] = []
    jobs = []
    for pair in pairs:
        for side, login, port in (
            ("member", pair.member, ports[0]),
            ("staff", pair.staff, ports[1]),
        ):
            client = Client(index=len(clients), side=side, conversation_id=pair.conversation_id)
            clients.append(client)
            jobs.append((client, login, port))

    async def one(client: Client, login: Any, port: int) -> None:
        async with semaphore:
            client.ws, hello = await open_socket(
                port, client.conversation_id, login, deflate=deflate
            )
            if hello.get("side") != client.side:
                raise RuntimeError(f"client {client.index}: hello says {hello}")

    started = time.perf_counter()
    results = await asyncio.gather(*(one(*job) for job in jobs), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        await close_all([client.ws for client in clients if client.ws is not None])
        raise RuntimeError(f"{len(failures)} of {len(clients)} sockets failed: {failures[0]!r}")
    note(f"{len(clients)} sockets open in {time.perf_counter() - started:.1f} s")
    return clients


async def send_on_schedule(
    clients: list[Client],
    run: Run,
    *,
    rate: float,
    warmup: float,
    duration: float,
    seed: int,
    text_chars: int,
) -> None:
    """Message ``n`` is due at start + n / rate, from the clients in a fixed shuffled order.
    A late loop sends what is due at once (the slip is kept: due → at)."""
    from websockets.exceptions import ConnectionClosed

    order = list(range(len(clients)))
    random.Random(seed).shuffle(order)
    total = round((warmup + duration) * rate)
    start = time.perf_counter() + 0.2
    run.window = (start + warmup, start + warmup + duration)
    for seq in range(total):
        due = start + seq / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client = clients[order[seq % len(order)]]
        frame = json.dumps({"type": "send", "text": message_text(seq, text_chars), "ref": str(seq)})
        record = Sent(
            sender=client,
            due=due,
            at=time.perf_counter(),
            measured=run.window[0] <= due < run.window[1],
        )
        run.sent[seq] = record
        try:
            await client.ws.send(frame)
        except ConnectionClosed:
            record.error = "socket_closed"


async def wait_for_deliveries(run: Run, *, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        open_ = [
            r
            for r in run.sent.values()
            if not r.error and (math.isnan(r.delivered) or math.isnan(r.acked))
        ]
        if not open_:
            return
        await asyncio.sleep(0.05)


@dataclass
class Usage:
    """CPU during the measured window: servers (whole process and per thread), database,
    Redis, this process, the machine."""

    seconds: float = 0.0
    meters: list[CpuMeter] = field(default_factory=list)
    threads: list[dict[int, float]] = field(default_factory=list)  # per server: tid → seconds
    redis_seconds: float = math.nan


def redis_cpu_seconds() -> float:
    return sum(tree_cpu_seconds(pid) for pid in pids_named("redis-server"))


async def measure_usage(run: Run, pids: list[int]) -> Usage:
    """CPU counters read at the start and end of the measured window (in a thread, so the
    event loop is not held up)."""
    usage = Usage()
    await asyncio.sleep(max(0.0, run.window[0] - time.perf_counter()))
    began = time.perf_counter()
    usage.meters = [CpuMeter(pid) for pid in pids]
    for meter in usage.meters:
        await asyncio.to_thread(meter.__enter__)
    threads_before = [await asyncio.to_thread(thread_cpu_seconds, pid) for pid in pids]
    redis_before = await asyncio.to_thread(redis_cpu_seconds)
    await asyncio.sleep(max(0.0, run.window[1] - time.perf_counter()))
    for meter in usage.meters:
        await asyncio.to_thread(meter.__exit__, None, None, None)
    threads_after = [await asyncio.to_thread(thread_cpu_seconds, pid) for pid in pids]
    usage.redis_seconds = await asyncio.to_thread(redis_cpu_seconds) - redis_before
    usage.seconds = time.perf_counter() - began
    usage.threads = [
        {tid: after[tid] - before.get(tid, 0.0) for tid in after}
        for before, after in zip(threads_before, threads_after, strict=True)
    ]
    return usage


async def drive(
    pairs: list[Pair], ports: tuple[int, int], pids: list[int], args: argparse.Namespace
) -> tuple[Run, Usage]:
    run = Run()
    clients = await connect_clients(pairs, ports, deflate=not args.no_deflate)
    readers = [asyncio.ensure_future(read_frames(client, run)) for client in clients]
    prober = asyncio.ensure_future(probe_loop_lag(run))
    tasks = [*readers, prober]
    try:
        await asyncio.sleep(1.0)  # let the last hellos and joins settle
        schedule = asyncio.ensure_future(
            send_on_schedule(
                clients,
                run,
                rate=args.rate,
                warmup=args.warmup,
                duration=args.duration,
                seed=args.seed,
                text_chars=args.text_chars,
            )
        )
        tasks.append(schedule)
        await asyncio.sleep(0.3)  # the schedule has set the window
        usage = await measure_usage(run, pids)
        await schedule
        await wait_for_deliveries(run, timeout=args.drain)
    finally:
        run.stopping = True
        for task in tasks[-1:]:
            task.cancel()  # the schedule, if it is still running (after an error)
        await close_all([client.ws for client in clients])
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return run, usage


def unstored_acks(run: Run, text_chars: int) -> int:
    """Acknowledged messages that are not in the database as sent (conversation, author's side,
    text): each would be a message the sender was told went out but that nobody can read."""
    from treffpunkt.messaging.models import Message

    acked = {r.message_id: (seq, r) for seq, r in run.sent.items() if r.message_id}
    rows = Message.objects.filter(pk__in=list(acked)).values_list(
        "pk", "conversation_id", "from_member", "text"
    )
    good = 0
    for pk, conversation_id, from_member, text in rows.iterator():
        seq, record = acked[pk]
        if (
            conversation_id == record.sender.conversation_id
            and from_member == (record.sender.side == "member")
            and text == message_text(seq, text_chars)
        ):
            good += 1
    return len(acked) - good


def report(
    run: Run,
    usage: Usage,
    args: argparse.Namespace,
    *,
    pids: list[int],
    stored: int,
    posted_before: int,
    unstored: int,
) -> bool:
    """The figures; True if the run itself is sound (nothing lost, no errors)."""
    sfx = "_redis" if args.redis else ""
    measured = [r for r in run.sent.values() if r.measured]
    delivered = [r for r in measured if not math.isnan(r.delivered)]
    lost = len(measured) - len(delivered)
    latencies = [(r.delivered - r.at) * 1000 for r in delivered]
    acks = [(r.acked - r.at) * 1000 for r in measured if not math.isnan(r.acked)]
    echoes = [(r.echoed - r.at) * 1000 for r in measured if not math.isnan(r.echoed)]
    slips = [(r.at - r.due) * 1000 for r in measured]
    lags = [lag * 1000 for lag in run.loop_lags]
    span = (max(r.at for r in measured) - min(r.at for r in measured)) if len(measured) > 1 else 0
    errors = sum(run.errors.values()) + run.closed
    sent_all = [r for r in run.sent.values() if r.error != "socket_closed"]
    acked_all = sum(1 for r in run.sent.values() if not math.isnan(r.acked))
    # What the server got done in the window: "sent" answers that arrived in it (any message's).
    acked_in_window = sum(1 for r in run.sent.values() if run.window[0] <= r.acked < run.window[1])

    emit(f"msg_clients{sfx}", args.clients)
    emit(f"msg_conversations{sfx}", args.clients // 2)
    emit(f"msg_server_processes{sfx}", 2 if args.redis else 1)
    emit(f"msg_rate_target{sfx}", float(args.rate))
    emit(f"msg_seconds{sfx}", args.duration)
    emit(f"msg_rate_achieved{sfx}", (len(measured) - 1) / span if span else math.nan)
    emit(f"msg_ack_rate{sfx}", acked_in_window / (run.window[1] - run.window[0]))
    emit(f"msg_sent{sfx}", len(measured))
    emit(f"msg_received{sfx}", len(delivered))
    emit(f"msg_lost{sfx}", lost)
    emit(f"msg_errors{sfx}", errors)
    emit(f"msg_p50_ms{sfx}", percentile(latencies, 50))
    emit(f"msg_p95_ms{sfx}", percentile(latencies, 95))
    emit(f"msg_p99_ms{sfx}", percentile(latencies, 99))
    emit(f"msg_max_ms{sfx}", max(latencies) if latencies else math.nan)
    emit(f"msg_ack_p50_ms{sfx}", percentile(acks, 50))
    emit(f"msg_ack_p99_ms{sfx}", percentile(acks, 99))
    emit(f"msg_echo_p99_ms{sfx}", percentile(echoes, 99))
    emit(f"msg_send_slip_p99_ms{sfx}", percentile(slips, 99))
    emit(f"msg_send_slip_max_ms{sfx}", max(slips) if slips else math.nan)
    emit(f"msg_client_loop_lag_p99_ms{sfx}", percentile(lags, 99))
    emit(f"msg_client_loop_lag_max_ms{sfx}", max(lags) if lags else math.nan)

    window = usage.seconds or math.nan
    servers = [meter.server_seconds for meter in usage.meters]
    main_threads = [t.get(pid, 0.0) for t, pid in zip(usage.threads, pids, strict=True)]
    others = [
        max((s for tid, s in t.items() if tid != pid), default=0.0)
        for t, pid in zip(usage.threads, pids, strict=True)
    ]
    first = usage.meters[0]
    emit(f"msg_server_cpu_pct{sfx}", 100 * sum(servers) / window)
    emit(f"msg_server_busiest_process_cpu_pct{sfx}", 100 * max(servers) / window)
    emit(f"msg_server_loop_thread_cpu_pct{sfx}", 100 * max(main_threads) / window)
    emit(f"msg_server_sync_thread_cpu_pct{sfx}", 100 * max(others) / window)
    emit(f"msg_db_cpu_pct{sfx}", 100 * first.database_seconds / window)
    if args.redis:
        emit(f"msg_redis_server_cpu_pct{sfx}", 100 * usage.redis_seconds / window)
    emit(f"msg_client_cpu_pct{sfx}", 100 * first.client_seconds / window)
    emit(f"msg_machine_cpu_busy_pct{sfx}", first.machine_busy_pct)
    emit(f"msg_server_cpu_ms_per_message{sfx}", 1000 * sum(servers) / max(acked_in_window, 1))
    emit(f"msg_stored{sfx}", stored - posted_before)
    emit(f"msg_acked{sfx}", acked_all)
    emit(f"msg_acked_not_stored{sfx}", unstored)
    p99 = percentile(latencies, 99)
    met = p99 <= GOAL_P99_MS and lost == 0 and errors == 0
    emit(f"msg_goal{sfx}", f"p99<={GOAL_P99_MS:.0f}ms")
    emit(f"msg_goal_met{sfx}", "yes" if met else "no")

    for number, (meter, threads, pid) in enumerate(
        zip(usage.meters, usage.threads, pids, strict=True)
    ):
        busy = sorted(threads.items(), key=lambda item: -item[1])[:4]
        note(
            f"server {number} (pid {pid}): {100 * meter.server_seconds / window:.0f} % CPU; "
            "threads: "
            + ", ".join(
                f"{'loop' if tid == pid else tid} {100 * s / window:.0f} %" for tid, s in busy
            )
        )
    if run.errors:
        note("error frames: " + ", ".join(f"{k} ×{v}" for k, v in run.errors.most_common()))
    if lost:
        late = [r for r in measured if math.isnan(r.delivered)]
        note(
            f"{lost} measured messages not delivered to the other side "
            f"({sum(1 for r in late if math.isnan(r.acked))} not acknowledged either)"
        )
    note(
        f"all phases: {len(sent_all)} sent, {acked_all} acknowledged; "
        f"{sum(1 for r in measured if not math.isnan(r.acked))} of {len(measured)} measured acked"
    )
    # Late or lost messages and dropped sockets miss the goal; a message acknowledged but not
    # stored, or delivered to another conversation, is a wrong result.
    return unstored == 0 and not run.errors["message_to_the_wrong_conversation"]


def probe_env(directory: Path, *, settings: str, profile: bool) -> dict[str, str]:
    """The environment of servers under observation (see msg_probe_settings.py): the probe's
    settings module wraps ``settings``."""
    directory.mkdir(parents=True, exist_ok=True)
    here = str(Path(__file__).resolve().parent)
    path = os.environ.get("PYTHONPATH", "")
    return {
        "DJANGO_SETTINGS_MODULE": "msg_probe_settings",
        "MSG_PROBE_BASE_SETTINGS": settings,
        "PYTHONPATH": f"{here}{os.pathsep}{path}" if path else here,
        "MSG_PROBE_DIR": str(directory.resolve()),
        "MSG_PROBE_PROFILE": "1" if profile else "0",
    }


def report_probe(directory: Path, pids: list[int], *, top: int) -> None:
    """Per server: the sync_to_async calls by function (count, mean time in the worker
    thread, mean time from call to result), and with ``top`` the busiest functions of the
    loop and worker threads by own time."""
    import pstats

    for number, pid in enumerate(pids):
        path = directory / f"sync-calls-{pid}.json"
        if not path.exists():
            note(f"server {number}: no probe data (did it shut down cleanly?)")
            continue
        table = json.loads(path.read_text())
        lines = [
            f"server {number}: sync_to_async calls by function: calls, then ms per call: "
            "wall in the worker thread, CPU in it, from the call to the result"
        ]
        for name, (calls, wall, cpu, total) in sorted(table.items(), key=lambda item: -item[1][3]):
            lines.append(
                f"  {int(calls):6d}  {1000 * wall / calls:7.2f}  {1000 * cpu / calls:7.2f}"
                f"  {1000 * total / calls:8.2f}  {name}"
            )
        note("\n".join(lines))
        for profile in sorted(directory.glob(f"profile-{pid}-*.prof")) if top else []:
            out = io.StringIO()
            stats = pstats.Stats(str(profile), stream=out)
            stats.sort_stats("tottime").print_stats(top)
            note(f"{profile.name}:\n{out.getvalue()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", action="store_true", help="two processes, Redis layer")
    parser.add_argument("--clients", type=int, default=1000, help="sockets (2 per conversation)")
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second in all")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--text-chars", type=int, default=100, help="length of each message")
    parser.add_argument("--no-deflate", action="store_true", help="no permessage-deflate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--settings",
        default="treffpunkt.settings",
        help="settings module for uvicorn (to try a change without touching the code)",
    )
    parser.add_argument(
        "--probe",
        metavar="DIR",
        help="run the servers with bench/msg_probe_settings.py: time every sync_to_async call "
        "(table on stderr, raw files in DIR)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="with --probe: cProfile of loop and worker threads"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.profile and not args.probe:
        parser.error("--profile needs --probe DIR")
    if args.clients < 2 or args.clients % 2:
        parser.error("--clients must be an even number ≥ 2 (member and staff of each conversation)")

    per_minute = args.rate * 60 / args.clients
    raise_open_files_limit(args.clients + 1024)
    note(
        f"message latency: {args.clients} sockets, {args.rate:g} messages/s "
        f"({per_minute:.1f} per client and minute), {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured, "
        + ("two uvicorn processes, Redis channel layer" if args.redis else "one uvicorn process")
    )
    with Workspace(db_name=MSG_BENCH_DB, redis=args.redis, keep=args.keep_db) as workspace:
        from django.conf import settings

        from treffpunkt.messaging.models import Message

        if per_minute > settings.MESSAGES_PER_MINUTE:
            raise SystemExit(
                f"{per_minute:.1f} messages per client and minute is over the app's limit of "
                f"{settings.MESSAGES_PER_MINUTE}: more --clients or a lower --rate"
            )
        started = time.perf_counter()
        pairs = make_conversations(args.clients // 2)
        posted_before = Message.objects.count()
        note(f"scenario built in {time.perf_counter() - started:.1f} s: {len(pairs)} conversations")

        env = {**workspace.env, "DJANGO_SETTINGS_MODULE": args.settings}
        if args.probe:
            env.update(probe_env(Path(args.probe), settings=args.settings, profile=args.profile))
        with contextlib.ExitStack() as stack:
            first = stack.enter_context(
                Server(env, workers=1, log_dir=_log_dir(workspace.var_dir, "a"))
            )
            second = (
                stack.enter_context(
                    Server(env, workers=1, log_dir=_log_dir(workspace.var_dir, "b"))
                )
                if args.redis
                else first
            )
            servers = [first, second] if args.redis else [first]
            pids = [server.pid for server in servers]
            machine_figures("msg")
            emit("msg_cpu_calibration_ms", cpu_calibration_ms())
            run, usage = run_async(drive(pairs, (first.port, second.port), pids, args))
            logs = [server.log_tail() for server in servers]
        stored = Message.objects.count()
        sound = report(
            run,
            usage,
            args,
            pids=pids,
            stored=stored,
            posted_before=posted_before,
            unstored=unstored_acks(run, args.text_chars),
        )
        if args.probe:
            report_probe(Path(args.probe), pids, top=25 if args.profile else 0)
        for number, log in enumerate(logs):
            if log.strip():
                note(f"uvicorn log of server {number} (tail):\n{log}")
    return 0 if sound else 1


def _log_dir(var_dir: Path, name: str) -> Path:
    path = var_dir / f"server-{name}"
    path.mkdir(exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
