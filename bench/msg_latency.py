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
    uv run python bench/msg_latency.py --redis --layer lists    # the older Redis layer
    uv run python bench/msg_latency.py --overload               # 450 messages/s: nothing lost?
    uv run --with py-spy python bench/msg_latency.py --profile  # where the server's CPU goes

``--redis``: members connect to one uvicorn process and staff to another; the processes share
the Redis channel layer (``--layer pubsub|lists``, the servers' ``CHANNEL_LAYER``), so every
delivery crosses Redis. Its figures end in ``_redis``. It also runs a shorter in-memory pass
(``msg_redis_cpu_ratio``) and the capacity of one process with each layer
(``msg_redis_capacity_share``).

The clients behave as the page does when the server numbers the conversation's events
(``seq``): a gap not filled within 300 ms, or a higher number in ``hello``/``pong``, makes them
ask for what they missed (``{"type": "sync", "after_seq": n}``). At the end every client pings
and catches up; then every message the run stored is looked up: ``msg_lost`` counts those the
other person's page never showed. Then the same clients, rate and duration against a bare
WebSocket relay (``ws_relay.py``): ``msg_floor_ratio``.

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
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    HOST,
    CpuMeter,
    Login,
    PySpy,
    Server,
    Workspace,
    cpu_calibration_ms,
    emit,
    free_port,
    machine_figures,
    note,
    percentile,
    profile_summary,
    py_spy_executable,
    run_async,
    tree_cpu_seconds,
)
from msg_common import (
    MSG_BENCH_DB,
    Pair,
    close_all,
    make_conversations,
    open_socket,
    pids_named,
    raise_open_files_limit,
    thread_cpu_seconds,
)

GOAL_P99_MS = 50.0
GOAL_REDIS_CPU_RATIO = 1.3
GOAL_REDIS_CAPACITY_SHARE = 0.9
CONNECT_CONCURRENCY = 50
# How long a client waits for a skipped event number to turn up before it asks (as the page).
GAP_GRACE_SECONDS = 0.3
# A sync that gets no ``state`` answer within this is given up (and asked again at the next gap).
SYNC_TIMEOUT_SECONDS = 10.0
RECONNECTS_PER_CLIENT = 10
# Overload: a rate above what the setups get through on the 2-core machine, still under the
# app's 30 messages per person and minute with 1,000 clients (27).
OVERLOAD_RATE = 450.0
# Capacity passes: the per-person limit is lifted (the server's environment), so that the
# benchmark measures the process and not the limit; the check itself costs the same.
CAPACITY_MESSAGES_PER_MINUTE = "100000"


@dataclass
class Client:
    index: int
    side: str  # "member" or "staff"
    conversation_id: int
    login: Login | None = None  # None: a socket of the relay
    port: int = 0
    ws: Any = None
    # Event numbers (when the server sends them): everything up to ``last_seq`` has arrived;
    # ``ahead`` holds numbers beyond a gap.
    seq_mode: bool = False
    last_seq: int = 0
    ahead: set[int] = field(default_factory=set)
    syncing: bool = False
    gap_timer: Any = None
    sync_timer: Any = None
    pong_seq: int = -1
    pong: asyncio.Event | None = None
    state: asyncio.Event | None = None
    # Message ids this page has shown → True if first shown by the answer to a sync.
    seen: dict[int, bool] = field(default_factory=dict)
    reconnects: int = 0


@dataclass
class Sent:
    """One message of the schedule and what became of it (perf_counter seconds)."""

    sender: Client
    due: float  # when the schedule meant to send it
    at: float  # when its frame went to the socket
    measured: bool  # due within the measured window
    acked: float = math.nan  # the sender's "sent"
    echoed: float = math.nan  # the sender's own "message" event
    delivered: float = math.nan  # the other person's "message" event, as it happened
    resynced: float = math.nan  # … or, if it never came so, in the answer to a sync
    error: str = ""
    message_id: int = 0  # from the sender's "sent"

    @property
    def shown(self) -> float:
        """When the other person's page first showed it (nan: never)."""
        return self.delivered if not math.isnan(self.delivered) else self.resynced


@dataclass
class Run:
    name: str = "main"
    sent: dict[int, Sent] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)  # error frames by code
    closed: int = 0  # sockets the server closed during the run
    stopping: bool = False
    loop_lags: list[float] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)
    syncs: Counter[str] = field(default_factory=Counter)  # sync frames sent, by reason
    sync_timeouts: int = 0
    states: int = 0
    duplicates: int = 0  # message events a page got a second time
    reconnects: int = 0
    reconnect_failures: int = 0  # attempts to open a socket again that failed (and were repeated)
    without_socket: int = -1  # pages without an open socket after catching up (-1: not counted)
    seq_seen: bool = False  # the server numbers its events
    # Capacity passes: messages sent and not yet shown to the other person (seq → client).
    inflight: dict[int, int] = field(default_factory=dict)
    inflight_since: dict[int, float] = field(default_factory=dict)
    freed: asyncio.Event | None = None
    opener: Callable[[Client], Awaitable[tuple[Any, dict[str, Any]]]] | None = None


def message_text(seq: int, length: int) -> str:
    head = f"Nachricht {seq} "
    return head + "x" * max(0, length - len(head))


def seq_of(text: str) -> int | None:
    parts = text.split(" ", 2)
    if len(parts) >= 2 and parts[0] == "Nachricht" and parts[1].isdigit():
        return int(parts[1])
    return None


# --- the client: reading, event numbers, catching up -----------------------------------------


_background: set[asyncio.Future[None]] = set()  # frames on their way (a reference each)


def _send_frame(client: Client, frame: dict[str, Any]) -> None:
    ws = client.ws
    if ws is None:
        return

    async def go() -> None:
        with contextlib.suppress(Exception):
            await ws.send(json.dumps(frame))

    task = asyncio.ensure_future(go())
    _background.add(task)
    task.add_done_callback(_background.discard)


def request_sync(client: Client, run: Run, reason: str) -> None:
    """Ask for everything after ``last_seq`` (once at a time)."""
    if client.syncing or client.ws is None or run.stopping:
        return
    client.syncing = True
    run.syncs[reason] += 1
    _send_frame(client, {"type": "sync", "after_seq": client.last_seq})
    loop = asyncio.get_running_loop()
    client.sync_timer = loop.call_later(SYNC_TIMEOUT_SECONDS, _sync_timed_out, client, run)


def _sync_timed_out(client: Client, run: Run) -> None:
    client.sync_timer = None
    if client.syncing:
        client.syncing = False
        run.sync_timeouts += 1
        if client.ahead:
            _schedule_gap_check(client, run)


def _schedule_gap_check(client: Client, run: Run) -> None:
    if client.gap_timer is None:
        loop = asyncio.get_running_loop()
        client.gap_timer = loop.call_later(GAP_GRACE_SECONDS, _gap_check, client, run)


def _gap_check(client: Client, run: Run) -> None:
    client.gap_timer = None
    if client.ahead and not client.syncing:
        request_sync(client, run, "gap")


def _advance(client: Client) -> None:
    while client.last_seq + 1 in client.ahead:
        client.last_seq += 1
        client.ahead.discard(client.last_seq)
    client.ahead = {seq for seq in client.ahead if seq > client.last_seq}


def note_seq(client: Client, run: Run, seq: int) -> None:
    """A numbered conversation event arrived."""
    if seq <= client.last_seq:
        return
    client.ahead.add(seq)
    _advance(client)
    if client.ahead:
        _schedule_gap_check(client, run)


def on_hello(client: Client, run: Run, hello: dict[str, Any], *, again: bool) -> None:
    seq = hello.get("seq")
    if not isinstance(seq, int):
        return
    client.seq_mode = run.seq_seen = True
    if not again:
        client.last_seq = seq
    elif seq > client.last_seq:
        request_sync(client, run, "hello")


def on_frame(client: Client, run: Run, frame: dict[str, Any], now: float) -> None:
    kind = frame.get("type")
    seq = frame.get("seq")
    if kind == "message":
        message_id = frame.get("id")
        first = isinstance(message_id, int) and message_id not in client.seen
        via_sync = client.syncing
        if isinstance(message_id, int):
            if first:
                client.seen[message_id] = via_sync
            else:
                run.duplicates += 1
        text_seq = seq_of(frame.get("text", ""))
        record = run.sent.get(text_seq) if text_seq is not None else None
        if record is not None and first:
            if client is record.sender:
                record.echoed = now
            elif client.conversation_id == record.sender.conversation_id:
                if via_sync:
                    record.resynced = now
                else:
                    record.delivered = now
                if run.freed is not None and run.inflight.pop(text_seq, None) is not None:
                    run.inflight_since.pop(text_seq, None)
                    run.freed.set()
            else:
                run.errors["message_to_the_wrong_conversation"] += 1
        if isinstance(seq, int):
            note_seq(client, run, seq)
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
            if run.freed is not None and run.inflight.pop(int(ref), None) is not None:
                run.inflight_since.pop(int(ref), None)
                run.freed.set()
        if sum(run.errors.values()) <= 3:
            note(f"error frame: {frame}")
    elif kind == "pong":
        if isinstance(seq, int):
            client.pong_seq = seq
            if seq > client.last_seq:
                request_sync(client, run, "pong")
        if client.pong is not None:
            client.pong.set()
    elif kind == "state":
        run.states += 1
        client.syncing = False
        if client.sync_timer is not None:
            client.sync_timer.cancel()
            client.sync_timer = None
        if isinstance(seq, int) and seq > client.last_seq:
            client.last_seq = seq
            _advance(client)
        if client.state is not None:
            client.state.set()
        if client.ahead:
            _schedule_gap_check(client, run)
    elif isinstance(seq, int):  # status, assigned, read: numbered too
        note_seq(client, run, seq)


async def read_frames(client: Client, run: Run) -> None:
    """Everything the server sends to one client, noted as it arrives. A socket the server
    closes is opened again, as the page does (attempts 1, 2, 4, 5, 5 … s apart until the run
    ends; at most 10 reconnections per client), and catches up."""
    from websockets.exceptions import ConnectionClosed

    while True:
        try:
            async for raw in client.ws:
                on_frame(client, run, json.loads(raw), time.perf_counter())
            reason = "closed"
        except ConnectionClosed as exc:
            reason = str(exc)
        if run.stopping:
            return
        run.closed += 1
        if run.closed <= 3:
            note(f"socket of client {client.index} closed by the server: {reason}")
        client.ws = None
        client.syncing = False
        if run.opener is None or client.reconnects >= RECONNECTS_PER_CLIENT:
            return
        client.reconnects += 1
        run.reconnects += 1
        delay = 1.0
        while client.ws is None:
            try:
                client.ws, hello = await run.opener(client)
            except Exception as exc:
                run.reconnect_failures += 1
                if run.reconnect_failures <= 3:
                    note(f"client {client.index}: reconnecting failed: {exc!r}; trying again")
                if run.stopping:
                    return
                await asyncio.sleep(delay)
                delay = min(2 * delay, 5.0)
                continue
            on_hello(client, run, hello, again=True)


async def catch_up(clients: list[Client], run: Run, *, timeout: float = 10.0) -> None:
    """At the end: each client pings; one that is behind the number in the ``pong`` (or holds
    a gap) syncs until it is not. So losses are counted after recovery. A client whose socket
    is being opened again is waited for (up to 60 s)."""
    semaphore = asyncio.Semaphore(100)

    async def one(client: Client) -> None:
        for _ in range(60):
            if client.ws is not None or client.reconnects >= RECONNECTS_PER_CLIENT:
                break
            await asyncio.sleep(1.0)
        async with semaphore:
            for _ in range(4):
                if client.ws is None:
                    return
                client.pong, client.state = asyncio.Event(), asyncio.Event()
                _send_frame(client, {"type": "ping"})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.pong.wait(), timeout)
                if client.ahead and not client.syncing:
                    request_sync(client, run, "final")
                if not client.syncing:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.state.wait(), timeout)

    await asyncio.gather(*(one(client) for client in clients if client.seq_mode))
    run.without_socket = sum(1 for client in clients if client.ws is None)


async def probe_loop_lag(run: Run, interval: float = 0.01) -> None:
    """How late this process's event loop wakes up: a generator that cannot keep up shows
    here (and in the schedule slip)."""
    while not run.stopping:
        began = time.perf_counter()
        await asyncio.sleep(interval)
        run.loop_lags.append(time.perf_counter() - began - interval)


# --- opening sockets -----------------------------------------------------------------------


def app_opener(deflate: bool) -> Callable[[Client], Awaitable[tuple[Any, dict[str, Any]]]]:
    async def opener(client: Client) -> tuple[Any, dict[str, Any]]:
        assert client.login is not None
        return await open_socket(client.port, client.conversation_id, client.login, deflate=deflate)

    return opener


def relay_opener(deflate: bool) -> Callable[[Client], Awaitable[tuple[Any, dict[str, Any]]]]:
    """A socket of the relay, opened like the app's (``Origin``, deflate offered)."""

    async def opener(client: Client) -> tuple[Any, dict[str, Any]]:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        async def go() -> tuple[Any, dict[str, Any]]:
            ws = await connect(
                f"ws://{HOST}:{client.port}/relay/{client.conversation_id}/{client.side}",
                origin=Origin(f"http://{HOST}:{client.port}"),
                compression="deflate" if deflate else None,
                ping_interval=None,
                open_timeout=30,
                max_queue=None,
            )
            hello = json.loads(await ws.recv())
            return ws, hello

        return await asyncio.wait_for(go(), timeout=30)

    return opener


async def connect_clients(
    pairs: list[Pair],
    ports: tuple[int, int],
    run: Run,
) -> list[Client]:
    """Both sockets of every conversation; members to ``ports[0]``, staff to ``ports[1]``."""
    assert run.opener is not None
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients: list[Client] = []
    for pair in pairs:
        for side, login, port in (
            ("member", pair.member, ports[0]),
            ("staff", pair.staff, ports[1]),
        ):
            clients.append(
                Client(
                    index=len(clients),
                    side=side,
                    conversation_id=pair.conversation_id,
                    login=login,
                    port=port,
                )
            )

    async def one(client: Client) -> None:
        assert run.opener is not None
        async with semaphore:
            client.ws, hello = await run.opener(client)
            if hello.get("side") != client.side:
                raise RuntimeError(f"client {client.index}: hello says {hello}")
            on_hello(client, run, hello, again=False)

    started = time.perf_counter()
    results = await asyncio.gather(*(one(client) for client in clients), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        await close_all([client.ws for client in clients if client.ws is not None])
        raise RuntimeError(f"{len(failures)} of {len(clients)} sockets failed: {failures[0]!r}")
    note(f"{run.name}: {len(clients)} sockets open in {time.perf_counter() - started:.1f} s")
    return clients


# --- sending -------------------------------------------------------------------------------


async def send_one(client: Client, run: Run, seq: int, *, due: float, text_chars: int) -> None:
    from websockets.exceptions import ConnectionClosed

    frame = json.dumps({"type": "send", "text": message_text(seq, text_chars), "ref": str(seq)})
    record = Sent(
        sender=client,
        due=due,
        at=time.perf_counter(),
        measured=run.window[0] <= due < run.window[1],
    )
    run.sent[seq] = record
    if client.ws is None:
        record.error = "socket_closed"
        return
    try:
        await client.ws.send(frame)
    except ConnectionClosed:
        record.error = "socket_closed"


async def send_on_schedule(
    clients: list[Client],
    run: Run,
    *,
    rate: float,
    warmup: float,
    duration: float,
    seed: int,
    text_chars: int,
    first_seq: int,
) -> None:
    """Message ``n`` is due at start + n / rate, from the clients in a fixed shuffled order.
    A late loop sends what is due at once (the slip is kept: due → at)."""
    order = list(range(len(clients)))
    random.Random(seed).shuffle(order)
    total = round((warmup + duration) * rate)
    start = time.perf_counter() + 0.2
    run.window = (start + warmup, start + warmup + duration)
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client = clients[order[n % len(order)]]
        await send_one(client, run, first_seq + n, due=due, text_chars=text_chars)


async def send_saturated(
    clients: list[Client],
    run: Run,
    *,
    inflight: int,
    warmup: float,
    duration: float,
    seed: int,
    text_chars: int,
    first_seq: int,
) -> None:
    """Closed loop: ``inflight`` messages are always on their way (sent, not yet shown to the
    other person); each one shown frees its place for the next, from the next client in a
    fixed shuffled order that has none on the way. The server always has work queued and the
    backlog never grows beyond ``inflight``: deliveries per second are what it gets through.
    A message not shown within 10 s gives its place up (and is counted at the end)."""
    order = list(range(len(clients)))
    random.Random(seed).shuffle(order)
    run.freed = asyncio.Event()
    start = time.perf_counter() + 0.2
    run.window = (start + warmup, start + warmup + duration)
    await asyncio.sleep(0.2)
    position = 0
    n = 0
    while time.perf_counter() < run.window[1]:
        busy = set(run.inflight.values())
        scanned = 0
        while len(run.inflight) < inflight and scanned < len(order):
            client = clients[order[position % len(order)]]
            position += 1
            scanned += 1
            if client.index in busy or client.ws is None:
                continue
            seq = first_seq + n
            n += 1
            run.inflight[seq] = client.index
            run.inflight_since[seq] = time.perf_counter()
            busy.add(client.index)
            await send_one(client, run, seq, due=time.perf_counter(), text_chars=text_chars)
        run.freed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.freed.wait(), 0.05)
        stale = time.perf_counter() - 10.0
        for seq, since in list(run.inflight_since.items()):
            if since < stale:
                run.inflight.pop(seq, None)
                run.inflight_since.pop(seq, None)


async def wait_for_deliveries(run: Run, *, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        open_ = [
            r
            for r in run.sent.values()
            if not r.error and (math.isnan(r.shown) or math.isnan(r.acked))
        ]
        if not open_:
            return
        await asyncio.sleep(0.05)


# --- CPU -----------------------------------------------------------------------------------


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


async def measure_usage(run: Run, pids: list[int], *, profile_dir: Path | None) -> Usage:
    """CPU counters read at the start and end of the measured window (in a thread, so the
    event loop is not held up); with ``profile_dir``, py-spy samples each server meanwhile."""
    usage = Usage()
    await asyncio.sleep(max(0.0, run.window[0] - time.perf_counter()))
    began = time.perf_counter()
    spies = (
        [PySpy(pid, profile_dir / f"{run.name}-{pid}.pyspy").start() for pid in pids]
        if profile_dir is not None
        else []
    )
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
    for spy in spies:
        await asyncio.to_thread(spy.stop)
    return usage


# --- a pass: clients connected, a load, the counts -----------------------------------------


@dataclass
class PassSpec:
    name: str
    ports: tuple[int, int]
    pids: list[int]
    relay: bool = False
    saturate: bool = False
    rate: float = 200.0
    warmup: float = 10.0
    duration: float = 60.0
    drain: float = 30.0
    inflight: int = 64
    first_seq: int = 0
    profile_dir: Path | None = None


async def drive(
    pairs: list[Pair], spec: PassSpec, args: argparse.Namespace
) -> tuple[Run, Usage, list[Client]]:
    run = Run(name=spec.name)
    deflate = not args.no_deflate
    run.opener = relay_opener(deflate) if spec.relay else app_opener(deflate)
    clients = await connect_clients(pairs, spec.ports, run)
    readers = [asyncio.ensure_future(read_frames(client, run)) for client in clients]
    prober = asyncio.ensure_future(probe_loop_lag(run))
    tasks = [*readers, prober]
    try:
        await asyncio.sleep(1.0)  # let the last hellos and joins settle
        timing = {
            "warmup": spec.warmup,
            "duration": spec.duration,
            "seed": args.seed,
            "text_chars": args.text_chars,
            "first_seq": spec.first_seq,
        }
        if spec.saturate:
            load = send_saturated(clients, run, inflight=spec.inflight, **timing)
        else:
            load = send_on_schedule(clients, run, rate=spec.rate, **timing)
        schedule = asyncio.ensure_future(load)
        tasks.append(schedule)
        await asyncio.sleep(0.3)  # the schedule has set the window
        usage = await measure_usage(run, spec.pids, profile_dir=spec.profile_dir)
        await schedule
        await wait_for_deliveries(run, timeout=spec.drain)
        if run.seq_seen:
            began = time.perf_counter()
            await catch_up(clients, run)
            await asyncio.sleep(0.5)  # the last answers
            note(f"{run.name}: catching up at the end took {time.perf_counter() - began:.1f} s")
    finally:
        run.stopping = True
        for task in tasks[-1:]:
            task.cancel()  # the schedule, if it is still running (after an error)
        await close_all([client.ws for client in clients if client.ws is not None])
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return run, usage, clients


@dataclass
class Shown:
    """The run's stored messages and what the other person's page showed of them."""

    stored: int = 0
    live: int = 0
    resynced: int = 0
    lost: int = 0
    lost_examples: list[tuple[int, int, bool]] = field(default_factory=list)


def shown_to_other_party(clients: list[Client], *, after_pk: int) -> Shown:
    """Every message stored in the pass's conversations after ``after_pk``, against what the
    page of the person it was written to showed (as it happened, or in a sync's answer)."""
    from treffpunkt.messaging.models import Message

    pages = {(client.conversation_id, client.side): client for client in clients}
    conversations = {client.conversation_id for client in clients}
    rows = Message.objects.filter(pk__gt=after_pk, conversation_id__in=conversations).values_list(
        "pk", "conversation_id", "from_member"
    )
    shown = Shown()
    for pk, conversation_id, from_member in rows.iterator():
        shown.stored += 1
        receiver = pages[(conversation_id, "staff" if from_member else "member")]
        via_sync = receiver.seen.get(pk)
        if via_sync is None:
            shown.lost += 1
            if len(shown.lost_examples) < 5:
                shown.lost_examples.append((pk, conversation_id, from_member))
        elif via_sync:
            shown.resynced += 1
        else:
            shown.live += 1
    return shown


def last_message_pk() -> int:
    from django.db.models import Max

    from treffpunkt.messaging.models import Message

    return int(Message.objects.aggregate(top=Max("pk"))["top"] or 0)


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


def delivered_in_window(run: Run) -> int:
    """Messages (of any phase) first shown to the other person within the measured window."""
    return sum(1 for r in run.sent.values() if run.window[0] <= r.shown < run.window[1])


def latencies_ms(records: list[Sent]) -> list[float]:
    """Sender's frame → the other person's page showed it (live or by a sync)."""
    return [(r.shown - r.at) * 1000 for r in records if not math.isnan(r.shown)]


# --- figures -------------------------------------------------------------------------------


def report(
    run: Run,
    usage: Usage,
    args: argparse.Namespace,
    *,
    sfx: str,
    pids: list[int],
    stored: int,
    posted_before: int,
    unstored: int,
    shown: Shown,
) -> bool:
    """The figures of the main pass; True if the run itself is sound (nothing acknowledged
    and not stored, nothing delivered into another conversation)."""
    measured = [r for r in run.sent.values() if r.measured]
    delivered = [r for r in measured if not math.isnan(r.delivered)]
    resynced = [r for r in measured if math.isnan(r.delivered) and not math.isnan(r.resynced)]
    lost_live = len(measured) - len(delivered)
    latencies = latencies_ms(measured)
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
    shown_in_window = delivered_in_window(run)

    emit(f"msg_clients{sfx}", args.clients)
    emit(f"msg_conversations{sfx}", args.clients // 2)
    emit(f"msg_server_processes{sfx}", 2 if args.redis else 1)
    if args.redis:
        emit(f"msg_layer{sfx}", args.layer)
    emit(f"msg_rate_target{sfx}", float(args.rate))
    emit(f"msg_seconds{sfx}", args.duration)
    emit(f"msg_rate_achieved{sfx}", (len(measured) - 1) / span if span else math.nan)
    emit(f"msg_ack_rate{sfx}", acked_in_window / (run.window[1] - run.window[0]))
    emit(f"msg_sent{sfx}", len(measured))
    emit(f"msg_received{sfx}", len(delivered))
    emit(f"msg_resynced_measured{sfx}", len(resynced))
    emit(f"msg_lost_live{sfx}", lost_live)
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
    emit(
        f"msg_server_cpu_ms_per_delivered{sfx}",
        1000 * sum(servers) / max(shown_in_window, 1),
    )
    emit(f"msg_stored{sfx}", stored - posted_before)
    emit(f"msg_acked{sfx}", acked_all)
    emit(f"msg_acked_not_stored{sfx}", unstored)
    # After the end's catching up: every stored message of the run against the other page.
    emit(f"msg_seq{sfx}", "yes" if run.seq_seen else "no")
    emit(f"msg_lost{sfx}", shown.lost)
    emit(f"msg_resynced{sfx}", shown.resynced)
    emit(f"msg_shown_live{sfx}", shown.live)
    emit(f"msg_syncs{sfx}", sum(run.syncs.values()))
    emit(f"msg_duplicates{sfx}", run.duplicates)
    emit(f"msg_reconnects{sfx}", run.reconnects)
    emit(f"msg_reconnect_failures{sfx}", run.reconnect_failures)
    # A page left without a socket never catches up: what it missed counts in msg_lost.
    emit(f"msg_pages_without_socket{sfx}", max(run.without_socket, 0))
    p99 = percentile(latencies, 99)
    met = p99 <= GOAL_P99_MS and shown.lost == 0 and errors == 0
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
    describe_run(run, shown)
    note(
        f"all phases: {len(sent_all)} sent, {acked_all} acknowledged; "
        f"{sum(1 for r in measured if not math.isnan(r.acked))} of {len(measured)} measured acked"
    )
    # Late or lost messages and dropped sockets miss the goal; a message acknowledged but not
    # stored, or delivered to another conversation, is a wrong result.
    return unstored == 0 and not run.errors["message_to_the_wrong_conversation"]


def describe_run(run: Run, shown: Shown | None) -> None:
    if run.errors:
        note(
            f"{run.name}: error frames: "
            + ", ".join(f"{k} ×{v}" for k, v in run.errors.most_common())
        )
    measured = [r for r in run.sent.values() if r.measured]
    late = [r for r in measured if math.isnan(r.delivered)]
    if late:
        note(
            f"{run.name}: {len(late)} measured messages not delivered live to the other side "
            f"({sum(1 for r in late if not math.isnan(r.resynced))} shown by a sync later, "
            f"{sum(1 for r in late if math.isnan(r.acked))} not acknowledged)"
        )
    if run.syncs or run.sync_timeouts:
        note(
            f"{run.name}: syncs by reason: {dict(run.syncs)}; answered {run.states}, "
            f"timed out {run.sync_timeouts}"
        )
    if shown is not None:
        note(
            f"{run.name}: {shown.stored} messages stored: {shown.live} shown live, "
            f"{shown.resynced} only by a sync, {shown.lost} never shown to the other person"
            + (
                f" (e.g. pk, conversation, from member: {shown.lost_examples})"
                if shown.lost
                else ""
            )
        )


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


# --- the relay (the floor) -----------------------------------------------------------------


class Relay:
    """``ws_relay.py`` on a free port, in its own process group; stopped on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_path = log_dir / "relay.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> Relay:
        script = Path(__file__).resolve().parent / "ws_relay.py"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(script), "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the relay exited: {self.log_path.read_text()[-2000:]}")
            if "ready" in self.log_path.read_text():
                return self
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("the relay did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- main ----------------------------------------------------------------------------------


@dataclass
class PassResult:
    run: Run
    usage: Usage
    clients: list[Client]
    shown: Shown | None = None
    unstored: int = 0

    def server_seconds(self) -> float:
        return sum(meter.server_seconds for meter in self.usage.meters)

    def cpu_ms_per_delivered(self) -> float:
        return 1000 * self.server_seconds() / max(delivered_in_window(self.run), 1)

    def cpu_ms_per_ack(self) -> float:
        run = self.run
        acked = sum(1 for r in run.sent.values() if run.window[0] <= r.acked < run.window[1])
        return 1000 * self.server_seconds() / max(acked, 1)

    def delivered_per_second(self) -> float:
        return delivered_in_window(self.run) / (self.run.window[1] - self.run.window[0])


def app_pass(
    pairs: list[Pair],
    spec: PassSpec,
    args: argparse.Namespace,
    *,
    env: dict[str, str],
    var_dir: Path,
    processes: int,
) -> tuple[PassResult, list[int], list[str]]:
    """``processes`` uvicorn servers (1: both sides on it; 2: members on the first, staff on
    the second), the pass, and the messages it stored against what the pages showed."""
    before = last_message_pk()
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                Server(env, workers=1, log_dir=_log_dir(var_dir, f"{spec.name}-{number}"))
            )
            for number in range(processes)
        ]
        spec.ports = (servers[0].port, servers[-1].port)
        spec.pids = [server.pid for server in servers]
        run, usage, clients = run_async(drive(pairs, spec, args))
        logs = [server.log_tail() for server in servers]
    result = PassResult(run, usage, clients)
    result.shown = shown_to_other_party(clients, after_pk=before)
    result.unstored = unstored_acks(run, args.text_chars)
    return result, spec.pids, logs


def summary_of_pass(prefix: str, result: PassResult) -> None:
    """The figures of a side pass (compare, capacity, floor) under ``prefix``."""
    run = result.run
    measured = [r for r in run.sent.values() if r.measured]
    latencies = latencies_ms(measured)
    window = result.usage.seconds or math.nan
    emit(f"{prefix}_delivered_per_s", result.delivered_per_second())
    emit(f"{prefix}_p50_ms", percentile(latencies, 50))
    emit(f"{prefix}_p99_ms", percentile(latencies, 99))
    emit(f"{prefix}_server_cpu_pct", 100 * result.server_seconds() / window)
    emit(f"{prefix}_server_cpu_ms_per_delivered", result.cpu_ms_per_delivered())
    first = result.usage.meters[0]
    emit(f"{prefix}_db_cpu_pct", 100 * first.database_seconds / window)
    emit(f"{prefix}_client_cpu_pct", 100 * first.client_seconds / window)
    emit(f"{prefix}_machine_cpu_busy_pct", first.machine_busy_pct)
    emit(f"{prefix}_errors", sum(run.errors.values()) + run.closed)
    if result.shown is not None:
        emit(f"{prefix}_lost", result.shown.lost)
        emit(f"{prefix}_resynced", result.shown.resynced)
    else:
        emit(f"{prefix}_lost_live", sum(1 for r in measured if math.isnan(r.shown)))
    describe_run(run, result.shown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", action="store_true", help="two processes, Redis layer")
    parser.add_argument(
        "--layer",
        choices=("pubsub", "lists"),
        default="pubsub",
        help="with --redis: channels_redis's pub/sub layer or the older list layer",
    )
    parser.add_argument("--clients", type=int, default=1000, help="sockets (2 per conversation)")
    parser.add_argument("--rate", type=float, default=None, help="messages per second in all")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--drain", type=float, default=None, help="seconds to wait at the end")
    parser.add_argument("--text-chars", type=int, default=100, help="length of each message")
    parser.add_argument("--no-deflate", action="store_true", help="no permessage-deflate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--overload",
        action="store_true",
        help=f"offer {OVERLOAD_RATE:g} messages/s (unless --rate), drain 60 s, no side passes: "
        "is nothing lost when the server cannot keep up?",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the relay pass")
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="with --redis: skip the in-memory pass and the capacity passes",
    )
    parser.add_argument(
        "--capacity",
        action="store_true",
        help="without --redis: also the capacity of the one in-memory process",
    )
    parser.add_argument(
        "--compare-duration", type=float, default=30.0, help="measured s of the in-memory pass"
    )
    parser.add_argument(
        "--capacity-duration", type=float, default=20.0, help="measured s of a capacity pass"
    )
    parser.add_argument(
        "--capacity-inflight",
        type=int,
        default=64,
        help="messages on their way at once in a capacity pass",
    )
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
        "--profile",
        action="store_true",
        help="py-spy samples of the server(s) in the measured window (top functions on stderr; "
        "run with `uv run --with py-spy`); with --probe DIR: cProfile inside the servers instead",
    )
    parser.add_argument("--profile-top", type=int, default=15, help="rows of each profile table")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.clients < 2 or args.clients % 2:
        parser.error("--clients must be an even number ≥ 2 (member and staff of each conversation)")
    if args.rate is None:
        args.rate = OVERLOAD_RATE if args.overload else 200.0
    if args.drain is None:
        args.drain = 60.0 if args.overload else 30.0
    if args.overload:
        args.no_floor = args.no_compare = True
        args.capacity = False
    py_spy = args.profile and not args.probe
    if py_spy:
        py_spy_executable()  # fail now, not after building the scenario

    per_minute = args.rate * 60 / args.clients
    raise_open_files_limit(args.clients + 1024)
    note(
        f"message latency: {args.clients} sockets, {args.rate:g} messages/s "
        f"({per_minute:.1f} per client and minute), {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured, "
        + (
            f"two uvicorn processes, Redis channel layer ({args.layer})"
            if args.redis
            else "one uvicorn process"
        )
    )
    if args.redis:
        os.environ["CHANNEL_LAYER"] = args.layer
    sfx = ("_redis" if args.redis else "") + ("_overload" if args.overload else "")
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
        memory_env = {k: v for k, v in env.items() if k != "REDIS_URL"}
        layer_env_plain = dict(env)  # the capacity pass runs without the probe
        if args.probe:
            env.update(probe_env(Path(args.probe), settings=args.settings, profile=args.profile))
        profile_dir = workspace.var_dir / "profiles" if py_spy else None
        if profile_dir is not None:
            profile_dir.mkdir()

        machine_figures("msg")
        emit("msg_cpu_calibration_ms", cpu_calibration_ms())
        spec = PassSpec(
            name="main",
            ports=(0, 0),
            pids=[],
            rate=args.rate,
            warmup=args.warmup,
            duration=args.duration,
            drain=args.drain,
            profile_dir=profile_dir,
        )
        main_pass, pids, logs = app_pass(
            pairs,
            spec,
            args,
            env=env,
            var_dir=workspace.var_dir,
            processes=2 if args.redis else 1,
        )
        stored = Message.objects.count()
        assert main_pass.shown is not None
        sound = report(
            main_pass.run,
            main_pass.usage,
            args,
            sfx=sfx,
            pids=pids,
            stored=stored,
            posted_before=posted_before,
            unstored=main_pass.unstored,
            shown=main_pass.shown,
        )
        if profile_dir is not None:
            for number, pid in enumerate(pids):
                profile_summary(
                    profile_dir / f"main-{pid}.pyspy",
                    f"profile of server {number} (pid {pid}) in the measured window",
                    top=args.profile_top,
                )
        if args.probe:
            report_probe(Path(args.probe), pids, top=25 if args.profile else 0)
        for number, log in enumerate(logs):
            if log.strip():
                note(f"uvicorn log of server {number} (tail):\n{log}")
        main_p99 = percentile(
            latencies_ms([r for r in main_pass.run.sent.values() if r.measured]), 99
        )
        next_seq = 10_000_000

        side_passes: list[PassResult] = []
        if args.redis and not args.no_compare:
            # The same load on one in-memory process (shorter): CPU per delivered message.
            note("in-memory pass for the CPU comparison")
            compare, _, _ = app_pass(
                pairs,
                PassSpec(
                    name="compare-memory",
                    ports=(0, 0),
                    pids=[],
                    rate=args.rate,
                    warmup=5.0,
                    duration=args.compare_duration,
                    drain=args.drain,
                    first_seq=next_seq,
                ),
                args,
                env=memory_env,
                var_dir=workspace.var_dir,
                processes=1,
            )
            next_seq += 10_000_000
            side_passes.append(compare)
            summary_of_pass("msg_compare_memory", compare)
            ratio = main_pass.cpu_ms_per_delivered() / compare.cpu_ms_per_delivered()
            emit("msg_redis_cpu_ratio", ratio)
            redis_ms = (
                1000 * main_pass.usage.redis_seconds / max(delivered_in_window(main_pass.run), 1)
            )
            emit(
                "msg_redis_cpu_ratio_with_redis_server",
                (main_pass.cpu_ms_per_delivered() + redis_ms) / compare.cpu_ms_per_delivered(),
            )
            # Per "sent" answer instead: the same when both keep up; when a pass falls behind,
            # deliveries in the window lag the work done in it and this one is the steadier.
            emit(
                "msg_redis_cpu_ratio_per_ack",
                main_pass.cpu_ms_per_ack() / compare.cpu_ms_per_ack(),
            )
            emit("msg_redis_cpu_ratio_goal", f"<={GOAL_REDIS_CPU_RATIO}")
            emit(
                "msg_redis_cpu_ratio_goal_met",
                "yes" if ratio <= GOAL_REDIS_CPU_RATIO else "no",
            )

        capacities: dict[str, float] = {}
        layers = []
        if args.redis and not args.no_compare:
            layers = [("redis", layer_env_plain), ("memory", memory_env)]
        elif args.capacity:
            layers = [("memory", memory_env)]
        for label, layer_env in layers:
            note(f"capacity of one process, {label} layer")
            result, _, _ = app_pass(
                pairs,
                PassSpec(
                    name=f"capacity-{label}",
                    ports=(0, 0),
                    pids=[],
                    saturate=True,
                    inflight=args.capacity_inflight,
                    warmup=5.0,
                    duration=args.capacity_duration,
                    drain=args.drain,
                    first_seq=next_seq,
                ),
                args,
                env={**layer_env, "MESSAGES_PER_MINUTE": CAPACITY_MESSAGES_PER_MINUTE},
                var_dir=workspace.var_dir,
                processes=1,
            )
            next_seq += 10_000_000
            side_passes.append(result)
            capacities[label] = result.delivered_per_second()
            summary_of_pass(f"msg_capacity_{label}", result)
        if "redis" in capacities and capacities.get("memory"):
            by_layer = {result.run.name: result for result in side_passes}
            # CPU per message of one saturated process, Redis ÷ in memory: both in a steady
            # state (the closed loop), so deliveries in the window are the work done in it.
            emit(
                "msg_capacity_cpu_ratio",
                by_layer["capacity-redis"].cpu_ms_per_delivered()
                / by_layer["capacity-memory"].cpu_ms_per_delivered(),
            )
            share = capacities["redis"] / capacities["memory"]
            emit("msg_redis_capacity_share", share)
            emit("msg_redis_capacity_share_goal", f">={GOAL_REDIS_CAPACITY_SHARE}")
            emit(
                "msg_redis_capacity_share_goal_met",
                "yes" if share >= GOAL_REDIS_CAPACITY_SHARE else "no",
            )

        if not args.no_floor:
            note("floor: the same load over a bare websockets relay")
            with Relay(workspace.var_dir) as relay:
                floor_spec = PassSpec(
                    name="floor",
                    ports=(relay.port, relay.port),
                    pids=[relay.pid],
                    relay=True,
                    rate=args.rate,
                    warmup=args.warmup,
                    duration=args.duration,
                    drain=args.drain,
                    first_seq=next_seq,
                )
                run, usage, clients = run_async(drive(pairs, floor_spec, args))
            floor = PassResult(run, usage, clients)
            floor_measured = [r for r in run.sent.values() if r.measured]
            floor_p99 = percentile(latencies_ms(floor_measured), 99)
            emit(f"msg_floor_p50_ms{sfx}", percentile(latencies_ms(floor_measured), 50))
            emit(f"msg_floor_p99_ms{sfx}", floor_p99)
            emit(
                f"msg_floor_server_cpu_ms_per_message{sfx}",
                floor.cpu_ms_per_delivered(),
            )
            emit(
                f"msg_floor_lost_live{sfx}",
                sum(1 for r in floor_measured if math.isnan(r.shown)),
            )
            emit(f"msg_floor_ratio{sfx}", main_p99 / floor_p99 if floor_p99 else math.nan)
            emit(
                f"msg_floor_cpu_ratio{sfx}",
                main_pass.cpu_ms_per_delivered() / floor.cpu_ms_per_delivered(),
            )
            describe_run(run, None)

        for result in side_passes:
            if result.unstored or result.run.errors["message_to_the_wrong_conversation"]:
                note(f"{result.run.name}: acknowledged but not stored, or wrong conversation")
                sound = False
    return 0 if sound else 1


def _log_dir(var_dir: Path, name: str) -> Path:
    path = var_dir / f"server-{name}"
    path.mkdir(exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
