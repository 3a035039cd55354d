"""Shared plumbing for the benchmarks in bench/ (see bench/README.md).

- ``Workspace``: a throw-away database (PostgreSQL ``treffpunkt_bench``, dropped and created
  anew, or a temporary SQLite file), a temporary ``TREFFPUNKT_VAR_DIR``, Django set up in this
  process against them and migrated; everything removed again on exit.
- scenario builders: an organization, staff with weekly hours, members, consultation types,
  logged-in sessions and CSRF tokens, all made with the ORM.
- ``Server``: uvicorn serving ``treffpunkt.asgi:application`` on a free port of 127.0.0.1.
- a small asyncio HTTP/1.1 client (keep-alive, Content-Length and chunked bodies) and
  ``run_load``, which drives a fixed list of requests with a fixed concurrency.
- figures: nearest-rank percentiles and ``emit`` for the ``name=value`` lines.
- video calls: Chromium through Playwright (async API), an appointment whose call page is open
  now, ``CallPair`` (the two call pages) and the CPU ticks of the browser's process tree.

Nothing here imports Django at module level: ``Workspace`` has to set the environment first.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from treffpunkt.accounts.models import Organization, User
    from treffpunkt.booking.models import ConsultationType

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
# ``BENCH_DB`` in the environment: another name, so that two people's runs on one PostgreSQL
# server do not drop each other's database (the message benchmarks add ``_msg``).
BENCH_DB = os.environ.get("BENCH_DB", "treffpunkt_bench")
BENCH_REDIS_URL = "redis://127.0.0.1:6379/15"
BENCH_PREFIX = "treffpunkt-bench"  # cache and channel-layer key prefix in Redis db 15

# Mon–Fri 9–12 and 13–17: 14 half-hour slots a day.
WORK_SPANS = ((clock_time(9), clock_time(12)), (clock_time(13), clock_time(17)))
WORKDAYS = range(5)


# --- output --------------------------------------------------------------------------------


def emit(name: str, value: object) -> None:
    """One figure on stdout, ``name=value``."""
    if isinstance(value, float):
        value = f"{value:.2f}"
    print(f"{name}={value}", flush=True)


def note(message: str) -> None:
    """Human-readable progress on stderr, so stdout stays ``name=value`` only. Every line of
    the message starts with ``#``."""
    text = "\n".join(f"# {line}" for line in str(message).splitlines() or [""])
    print(text, file=sys.stderr, flush=True)


def machine_figures(prefix: str) -> None:
    """The load of the machine while the benchmark runs: on a shared 2-core machine other
    processes change the figures, so a result is read together with these."""
    load1, _, _ = os.getloadavg()
    emit(f"{prefix}_cpus", os.cpu_count() or 0)
    emit(f"{prefix}_loadavg_1m", load1)


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system CPU ticks) of a process, from /proc."""
    fields = _proc_fields(pid)
    if fields is None:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _proc_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, …)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def postgres_cpu_seconds() -> float | None:
    """CPU seconds used so far by the local PostgreSQL server: every living postgres process,
    plus what the postmaster has collected from backends that ended (per-request connections
    end quickly). Other users' queries on the same server count too. None if not found."""
    total = 0
    found = False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        fields = _proc_fields(int(entry.name))
        if fields is None:
            continue
        found = True
        total += int(fields[11]) + int(fields[12])
        if _proc_name(int(fields[1])) != "postgres":  # the postmaster: add its reaped children
            total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK") if found else None


def _proc_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by a process and all its living descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)], ticks[int(entry.name)] = stat
    tree = {root}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


class CpuMeter:
    """CPU used during a stretch of time: by this process, by the server's process tree, and
    how busy the whole machine was (other processes included: PostgreSQL, other users)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> CpuMeter:
        self._self = time.process_time()
        self._server = tree_cpu_seconds(self.server_pid)
        self._database = postgres_cpu_seconds()
        self._machine = machine_cpu_ticks()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client_seconds = time.process_time() - self._self
        self.server_seconds = tree_cpu_seconds(self.server_pid) - self._server
        database = postgres_cpu_seconds()
        self.database_seconds = (
            database - self._database
            if database is not None and self._database is not None
            else math.nan
        )
        busy, total = machine_cpu_ticks()
        span = total - self._machine[1]
        self.machine_busy_pct = 100 * (busy - self._machine[0]) / span if span else math.nan

    def emit(self, prefix: str, requests: int) -> None:
        per = max(requests, 1)
        emit(f"{prefix}_server_cpu_ms_per_request", 1000 * self.server_seconds / per)
        emit(f"{prefix}_db_cpu_ms_per_request", 1000 * self.database_seconds / per)
        emit(f"{prefix}_client_cpu_ms_per_request", 1000 * self.client_seconds / per)
        emit(f"{prefix}_machine_cpu_busy_pct", self.machine_busy_pct)


def calibration_loop(iterations: int = 2_000_000) -> tuple[float, float]:
    """(CPU ms, wall ms) of a fixed pure-Python loop in this process. The CPU time says how
    fast a core is right now; the wall time is longer by the time the process waited for a
    core (other processes on the machine)."""
    began, began_wall = time.process_time(), time.perf_counter()
    total = 0
    for number in range(iterations):
        total += number * number
    return 1000 * (time.process_time() - began), 1000 * (time.perf_counter() - began_wall)


def cpu_calibration_ms(iterations: int = 2_000_000) -> float:
    """CPU milliseconds this process needs for a fixed pure-Python loop: how fast a core of the
    machine is right now. On a shared virtual machine that changes (a busy sibling hyperthread,
    other guests), and every CPU figure changes with it: compare runs with similar values, or
    divide by it (``slot_search_calibrated``)."""
    return calibration_loop(iterations)[0]


def median_calibration_ms(times: int = 3) -> float:
    """The median of a few calibration loops (one is easily hit by another process's burst)."""
    values = sorted(cpu_calibration_ms() for _ in range(times))
    return values[len(values) // 2]


# --- sampling profiles of a server (py-spy) --------------------------------------------------


def py_spy_executable() -> str:
    """py-spy, from $PY_SPY, the PATH or next to this Python; it is not a project dependency:
    ``python3 -m uv run --frozen --with py-spy python bench/<name>.py --profile`` brings it."""
    candidates = [os.environ.get("PY_SPY", ""), shutil.which("py-spy") or ""]
    candidates.append(str(Path(sys.executable).parent / "py-spy"))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit(
        "--profile needs py-spy: run the benchmark with "
        "`python3 -m uv run --frozen --with py-spy python bench/...` (or set PY_SPY)"
    )


class PySpy:
    """``py-spy record`` attached to a running process (and with ``subprocesses`` its children,
    e.g. uvicorn's workers) from ``start()`` to ``stop()``: 100 samples a second of the thread
    holding the GIL (``--gil``: Python running; a thread waiting for the database or in the
    event loop's poll has released it, and py-spy's own idle detection counts such waits as
    busy). py-spy pauses the process for each sample (a few per cent of its speed; without the
    pause, stacks came out torn). Collapsed stacks by function go to ``output``. C code that
    runs with the GIL released (zlib, parts of psycopg and uvloop) is not seen."""

    def __init__(
        self, pid: int, output: Path, *, subprocesses: bool = False, rate: int = 100
    ) -> None:
        self.pid = pid
        self.output = output
        self.subprocesses = subprocesses
        self.rate = rate
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PySpy:
        command = [
            py_spy_executable(),
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--gil",
            "--function",
            "--format",
            "raw",
            "--output",
            str(self.output),
        ]
        if self.subprocesses:
            command.append("--subprocesses")
        log = self.output.with_suffix(".log").open("wb")
        with log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        return self

    def stop(self) -> None:
        """Ctrl+C, as py-spy expects: it writes its file and ends."""
        process = self.process
        if process is None:
            return
        self.process = None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                note(f"py-spy of {self.pid} did not stop: killed, no profile")


def _short_frame(frame: str) -> str:
    """``func (/long/path/site-packages/django/db/x.py)`` → ``func (django/db/x.py)``."""
    name, _, path = frame.partition(" (")
    path = path.rstrip(")")
    head, colon, line = path.rpartition(":")
    if colon and line.isdigit():
        path = head  # py-spy's --function: the function's first line; not needed here
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    return f"{name} ({path})" if path else name


def _package_of(frame: str) -> str:
    """The package a (shortened) frame belongs to: ``django.db``, ``treffpunkt.messaging``,
    ``stdlib.asyncio``, ``channels_redis``…"""
    _, _, path = frame.partition(" (")
    parts = path.rstrip(")").removesuffix(".py").split("/")
    if not parts or not parts[0]:
        return "?"
    if parts[0] in {"treffpunkt", "django", "stdlib"} and len(parts) > 2:
        return ".".join(parts[:2])
    return parts[0]


def profile_summary(path: Path, title: str, *, top: int = 12) -> dict[str, Any]:
    """Read py-spy's collapsed stacks and note on stderr, as shares of all samples: the
    functions by own time (the frame running when sampled) and by cumulative time (anywhere
    in the stack), own time by package, and how the samples split between uvicorn's event-loop
    thread and worker threads. Returns the tables (for a caller that wants figures)."""
    own: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    packages: dict[str, int] = {}
    threads = {"event loop": 0, "worker threads": 0}
    total = 0
    if not path.exists():
        note(f"{title}: no profile written ({path})")
        return {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if frame]
        while frames and (frames[0].startswith("process ") or frames[0].startswith("thread ")):
            frames.pop(0)
        if not frames:
            continue
        frames = [_short_frame(frame) for frame in frames]
        total += count
        worker = any("threading.py" in frame for frame in frames[:3])
        threads["worker threads" if worker else "event loop"] += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        package = _package_of(frames[-1])
        packages[package] = packages.get(package, 0) + count
        for frame in set(frames):
            cumulative[frame] = cumulative.get(frame, 0) + count
    if not total:
        note(f"{title}: no samples")
        return {}

    def table(counts: dict[str, int], limit: int) -> list[str]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:limit]
        return [f"  {100 * n / total:5.1f} %  {name}" for name, n in ranked]

    # Cumulative: leave out the frames every sample of a thread passes through (uvicorn's
    # run, the loop's run_forever, the thread's bootstrap) – they say nothing.
    boring = (
        "run_forever",
        "_run_once",
        "_bootstrap",
        "run (",
        "<module>",
        "_run_code",
        "run_until_complete",
        "main (",
        "worker (",
        "_worker (",
        "serve (",
        "_serve (",
        "subprocess_started",
        "_main (",
        "run_module",
        "asyncio_run",
        "spawn_main",
        "target (",
        "startup (",
        "(click/",
        "uvicorn/main.py",
        "uvicorn/server.py",
    )
    interesting = {name: n for name, n in cumulative.items() if not any(b in name for b in boring)}
    lines = [f"{title}: {total} samples holding the GIL ({total / 100:.1f} s at 100 Hz)"]
    lines.append(
        "  split: " + ", ".join(f"{name} {100 * n / total:.0f} %" for name, n in threads.items())
    )
    lines.append(f" by own time (top {top}):")
    lines += table(own, top)
    lines.append(f" by cumulative time (top {top + 10}):")
    lines += table(interesting, top + 10)
    own_code = {
        name: n
        for name, n in cumulative.items()
        if any(mark in name for mark in ("(treffpunkt/", "(booking_floor", "(ws_relay"))
    }
    lines.append(f" the project's own functions by cumulative time (top {top + 5}):")
    lines += table(own_code, top + 5)
    lines.append(" own time by package:")
    lines += table(packages, 15)
    note("\n".join(lines))
    return {"total": total, "own": own, "cumulative": cumulative, "packages": packages}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of values at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# --- database, environment, Django ---------------------------------------------------------


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True, connect_timeout=10)


def recreate_database(name: str) -> None:
    from psycopg import sql

    with _admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    from psycopg import sql

    with _admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def clear_redis() -> None:
    """Remove the benchmark's own keys (prefix ``treffpunkt-bench``) from Redis db 15."""
    try:
        import redis

        client = redis.Redis.from_url(BENCH_REDIS_URL, socket_timeout=5)
        keys = list(client.scan_iter(match=f"{BENCH_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception as exc:  # Redis is optional for the slot search
        note(f"could not clean Redis db 15: {exc}")


class Workspace:
    """A database and a var/ directory of the benchmark's own, and Django set up on them.

    PostgreSQL (default): database ``db_name`` is dropped and created at the start and dropped
    at the end. ``sqlite=True``: the embedded mode's SQLite file inside the temporary var/.
    The environment for uvicorn is in ``env``; this process gets the same variables.
    """

    def __init__(
        self,
        *,
        sqlite: bool = False,
        db_name: str = BENCH_DB,
        redis: bool = False,
        keep: bool = False,
    ) -> None:
        self.sqlite = sqlite
        self.db_name = db_name
        self.redis = redis
        self.keep = keep
        self.var_dir = Path()
        self.env: dict[str, str] = {}

    @property
    def database_url(self) -> str:
        return "" if self.sqlite else f"{PG_SERVER_URL}/{self.db_name}"

    def __enter__(self) -> Workspace:
        try:
            self._start()
        except BaseException:
            self._cleanup()
            raise
        return self

    def _start(self) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="treffpunkt-bench-"))
        for name in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TASKS_BACKEND"):
            os.environ.pop(name, None)
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "treffpunkt.settings",
                "TREFFPUNKT_MODE": "embedded",
                "TREFFPUNKT_VAR_DIR": str(self.var_dir),
                # Sessions and login hashes are signed: this process and uvicorn share a key.
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": HOST,
                "LOG_LEVEL": "WARNING",
                "EMAIL_URL": f"file://{self.var_dir / 'mail'}",
                "SITE_URL": f"http://{HOST}:8000",
                "CACHE_KEY_PREFIX": BENCH_PREFIX,
                "CHANNEL_PREFIX": BENCH_PREFIX,
            }
        )
        if not self.sqlite:
            env["DATABASE_URL"] = self.database_url
            note(f"database: PostgreSQL {self.db_name} (dropped and created anew)")
            recreate_database(self.db_name)
        else:
            note(f"database: SQLite in {self.var_dir}")
        if self.redis:
            env["REDIS_URL"] = BENCH_REDIS_URL
            clear_redis()
        self.env = env
        os.environ.update(env)

        import django
        from django.core.management import call_command

        django.setup()
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        note(f"migrated in {time.perf_counter() - started:.1f} s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as exc:
            note(f"closing connections: {exc}")
        if not self.sqlite and not self.keep:
            try:
                drop_database(self.db_name)
            except Exception as exc:
                note(f"could not drop database {self.db_name}: {exc}")
        if self.redis:
            clear_redis()
        if self.keep:
            note(f"kept: database {self.db_name}, var dir {self.var_dir}")
        elif self.var_dir.name.startswith("treffpunkt-bench-"):
            shutil.rmtree(self.var_dir, ignore_errors=True)


# --- scenario ------------------------------------------------------------------------------


def make_organization(slug: str = "bench") -> Organization:
    from treffpunkt.accounts.models import Organization

    return Organization.objects.create(name="Bench-Kasse", slug=slug, time_zone="Europe/Berlin")


def make_users(org: Organization, *, role: str, count: int, prefix: str) -> list[User]:
    """Users with unusable passwords (no Argon2 hashing: a session is made for them directly)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from treffpunkt.accounts.models import User

    now = timezone.now()
    users = [
        User(
            email=f"{prefix}{n}@bench.example.org",
            display_name=f"{prefix.capitalize()} {n}",
            role=role,
            organization=org,
            email_confirmed_at=now,
            password=make_password(None),
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(organization=org, role=role).order_by("pk"))


def give_work_week(staff: Iterable[User]) -> None:
    from treffpunkt.booking.models import WeeklyHours

    WeeklyHours.objects.bulk_create(
        [
            WeeklyHours(staff=person, weekday=day, start=start, end=end)
            for person in staff
            for day in WORKDAYS
            for start, end in WORK_SPANS
        ]
    )


def make_type(
    org: Organization, staff: Sequence[User], *, name: str, duration: int = 30
) -> ConsultationType:
    from treffpunkt.booking.models import ConsultationType

    ctype = ConsultationType.objects.create(
        organization=org,
        name=name,
        duration_minutes=duration,
        min_notice_minutes=120,
        horizon_days=56,
    )
    ctype.staff.set(staff)
    return ConsultationType.objects.select_related("organization").get(pk=ctype.pk)


def working_slot_starts(day: date, *, duration: int = 30) -> list[datetime]:
    """The aware (UTC) starts of every slot of one working day, Europe/Berlin opening hours."""
    from treffpunkt.booking.availability import local_span

    zone = _berlin()
    starts = []
    step = timedelta(minutes=duration)
    for start, end in WORK_SPANS:
        span_start, span_end = local_span(day, start, end, zone)
        moment = span_start
        while moment + step <= span_end:
            starts.append(moment)
            moment += step
    return starts


def is_working_day(day: date) -> bool:
    from treffpunkt.booking.availability import public_holidays

    return day.weekday() in WORKDAYS and day not in public_holidays(day.year, "")


def _berlin() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Login:
    """What a browser of a logged-in member sends: the session cookie and a CSRF token."""

    user_id: int
    session_key: str
    csrf_token: str

    def cookie_header(self) -> str:
        from django.conf import settings

        return (
            f"{settings.SESSION_COOKIE_NAME}={self.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={self.csrf_token}"
        )


def log_in(users: Iterable[User]) -> list[Login]:
    """A server-side session per user (as django.contrib.auth.login would store it) and a CSRF
    secret of our own making, sent both as cookie and as form field."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import get_random_string

    store = import_module(settings.SESSION_ENGINE).SessionStore
    logins = []
    for user in users:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        assert session.session_key is not None
        token = get_random_string(32, allowed_chars=string.ascii_letters + string.digits)
        logins.append(Login(user_id=user.pk, session_key=session.session_key, csrf_token=token))
    return logins


def request_path(ctype_id: int) -> str:
    from django.urls import reverse

    return reverse("booking:request", kwargs={"type_id": ctype_id})


def taken_marker() -> bytes:
    """The text of the "slot was just taken" answer, as the (German) page shows it."""
    import html

    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("de"):
        text = gettext("This time slot was just taken. Please choose another one.")
    return html.escape(text).encode()


# --- uvicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """uvicorn with ``workers`` processes on a free port; stopped (by its own pid) on exit."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, log_dir: Path) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log_path = log_dir / "uvicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "treffpunkt.asgi:application",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--lifespan",
            "off",
            "--no-server-header",
            "--log-level",
            "warning",
            # As `manage.py serve` runs it (see there).
            "--ws-per-message-deflate",
            "false",
        ]
        note(f"starting uvicorn, {self.workers} workers, on {self.origin}")
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: its workers go with it
            )
        try:
            self._wait_ready(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{self.log_tail()}")
            try:
                response = run_async(_get_once(self.port, "/"))
                if response.status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"uvicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The end of uvicorn's output, without Django's warning for each 409 answer."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [line for line in text.splitlines() if "django.request: Conflict:" not in line]
        return "\n".join(kept[-lines:])

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        self.process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                note("uvicorn did not stop in 20 s: killing its process group")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Its worker processes share its process group (it was started in a session of its own):
        # give them a moment to finish, then make sure none is left.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        try:
            os.killpg(process.pid, signal.SIGKILL)
            note("killed left-over uvicorn workers")
        except ProcessLookupError:
            pass


# --- a small HTTP/1.1 client ---------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection. Opened on first use, reopened after a close."""

    def __init__(self, port: int, host: str = HOST) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        await self.open()
        assert self.reader is not None
        assert self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            return await self._read_response()
        except BaseException:
            self.close()
            raise

    async def _read_response(self) -> Response:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed before the answer")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif "chunked" in headers.get("transfer-encoding", ""):
            body = await self._read_chunked()
        else:
            body = await self.reader.read()
            self.close()
            return Response(status, headers, body)
        if "close" in headers.get("connection", "").lower():
            self.close()
        return Response(status, headers, body)

    async def _read_chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


async def _get_once(port: int, path: str) -> Response:
    conn = Connection(port)
    try:
        return await asyncio.wait_for(conn.request("GET", path), timeout=5)
    finally:
        conn.close()


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on uvloop when it is there (uvicorn[standard] brings it)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


@dataclass(frozen=True)
class Job:
    """One POST of the booking form."""

    path: str
    login: Login
    start: datetime
    note: str = ""

    def encode(self, origin: str) -> tuple[dict[str, str], bytes]:
        body = urlencode(
            {
                "csrfmiddlewaretoken": self.login.csrf_token,
                "start": self.start.isoformat(),
                "request_key": str(uuid.uuid4()),
                "note": self.note,
                "book": "1",
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": self.login.cookie_header(),
            "Origin": origin,
            "Referer": f"{origin}{self.path}",
            "Accept": "text/html",
        }
        return headers, body


@dataclass
class Outcome:
    job: Job
    seconds: float
    status: int = 0  # 0: no answer (connection error or timeout)
    location: str = ""
    body: bytes = b""
    error: str = ""


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    stopped_by_deadline: bool = False


async def run_load(
    jobs: Sequence[Job],
    *,
    port: int,
    concurrency: int,
    max_seconds: float,
    request_timeout: float = 30.0,
    synchronized_start: bool = False,
    keep_body: Callable[[Response], bool] = lambda response: response.status != 302,
) -> LoadResult:
    """Send ``jobs`` over ``concurrency`` keep-alive connections, each taking the next job when
    its answer is in. Stops when the jobs are done or ``max_seconds`` have passed.

    ``synchronized_start``: every connection is opened first and all send at the same moment
    (for the contention benchmark, with concurrency == number of jobs).
    """
    origin = f"http://{HOST}:{port}"
    queue = iter(jobs)
    result = LoadResult()
    go = asyncio.Event()
    ready = 0
    deadline = 0.0

    async def client() -> None:
        nonlocal ready
        conn = Connection(port)
        try:
            if synchronized_start:
                try:
                    await asyncio.wait_for(conn.open(), timeout=request_timeout)
                except (TimeoutError, OSError):
                    conn.close()  # the request below tries again
                finally:
                    ready += 1
                    if ready == count:
                        go.set()
                await asyncio.wait_for(go.wait(), timeout=request_timeout)
            while True:
                if time.perf_counter() >= deadline:
                    result.stopped_by_deadline = True
                    return
                job = next(queue, None)
                if job is None:
                    return
                headers, body = job.encode(origin)
                started = time.perf_counter()
                outcome = Outcome(job=job, seconds=0.0)
                try:
                    response = await asyncio.wait_for(
                        conn.request("POST", job.path, headers=headers, body=body),
                        timeout=request_timeout,
                    )
                    outcome.status = response.status
                    outcome.location = response.headers.get("location", "")
                    if keep_body(response):
                        outcome.body = response.body
                except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                    outcome.error = f"{type(exc).__name__}: {exc}"
                    conn.close()
                outcome.seconds = time.perf_counter() - started
                result.outcomes.append(outcome)
        finally:
            conn.close()

    count = min(concurrency, len(jobs)) if not synchronized_start else concurrency
    began = time.perf_counter()
    deadline = began + max_seconds
    await asyncio.gather(*(client() for _ in range(count)))
    result.wall_seconds = time.perf_counter() - began
    return result


def appointment_id_from(location: str) -> int | None:
    """``/termine/<id>/`` (the appointment page) → id; anything else → None."""
    parts = [part for part in urlsplit(location).path.split("/") if part]
    if len(parts) == 2 and parts[0] == "termine" and parts[1].isdigit():
        return int(parts[1])
    return None


def latency_figures(prefix: str, seconds: Sequence[float]) -> None:
    millis = [value * 1000 for value in seconds]
    emit(f"{prefix}_p50_ms", percentile(millis, 50))
    emit(f"{prefix}_p95_ms", percentile(millis, 95))
    emit(f"{prefix}_p99_ms", percentile(millis, 99))
    emit(f"{prefix}_max_ms", max(millis) if millis else math.nan)


# --- video calls in Chromium ---------------------------------------------------------------
#
# Used by call_setup.py and e2ee_cpu.py. Playwright's async API; every Django ORM call happens
# before the browser's event loop runs (the scenario) or after it ended (the clean-up).

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Schemes that never leave the browser, and the hosts a page may talk to.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome", "chrome-extension", "devtools"})
LOCAL_HOSTS = frozenset({"127.0.0.1"})


def require_chromium() -> None:
    """Exit with a clear message when the browser or Playwright is missing."""
    if not CHROMIUM.exists():
        raise SystemExit(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(apt-get install chromium) to run the call benchmarks"
        )
    if importlib.util.find_spec("playwright") is None:
        raise SystemExit("Playwright for Python is missing: run `uv sync`")


def call_server_env(env: dict[str, str], *, plain_media: bool = False) -> dict[str, str]:
    """The server's environment for a call benchmark: the page's test hooks on and, for the
    baseline of the encryption benchmark, calls without frame encryption."""
    extra = {"CALL_TEST_HOOKS": "1", "CALL_BENCHMARK_PLAIN_MEDIA": "1" if plain_media else "0"}
    return {**env, **extra}


@dataclass(frozen=True)
class CallParties:
    """A confirmed appointment whose call page is open now, and its two people, logged in."""

    appointment_id: int
    member: Login
    staff: Login

    @property
    def path(self) -> str:
        return f"/termine/{self.appointment_id}/gespraech/"


def make_call_parties(count: int = 1, *, minutes: int = 30) -> list[CallParties]:
    """``count`` appointments, each with a member and a staff member of its own (a staff member
    cannot hold two appointments at one time), starting in 2 minutes and lasting ``minutes``:
    the call page is open from now (10 minutes before the start) until 30 minutes after the end.
    No terms of use are published, so the members have nothing to accept first."""
    from django.utils import timezone

    from treffpunkt.accounts.models import Role
    from treffpunkt.booking.models import Appointment, AppointmentStatus

    org = make_organization()
    staff = make_users(org, role=Role.STAFF, count=count, prefix="berater")
    members = make_users(org, role=Role.MEMBER, count=count, prefix="mitglied")
    ctype = make_type(org, staff, name="Videoberatung")
    start = timezone.now() + timedelta(minutes=2)
    end = start + timedelta(minutes=minutes)
    parties = []
    for person, member in zip(staff, members, strict=True):
        appointment = Appointment.objects.create(
            organization=org,
            consultation_type=ctype,
            member=member,
            staff=person,
            start=start,
            end=end,
            blocked_start=start,
            blocked_end=end,
            request_key=uuid.uuid4(),
            status=AppointmentStatus.CONFIRMED,
        )
        member_login, staff_login = log_in([member, person])
        parties.append(CallParties(appointment.pk, member_login, staff_login))
    return parties


@dataclass
class CallSide:
    """One side's browser context and call page."""

    role: str
    context: Any
    page: Any
    console: list[str] = field(default_factory=list)

    async def evaluate(self, expression: str) -> Any:
        return await self.page.evaluate(expression)

    async def status(self) -> str:
        """What the page says (status line and alert), for error messages."""
        return str(
            await self.page.evaluate(
                "() => [document.getElementById('call-status')?.textContent,"
                " document.getElementById('call-alert')?.textContent].filter(Boolean).join(' | ')"
            )
        )


_DESCRIBE_PAGE = """async () => {
  const hooks = window.treffpunktCall;
  const video = document.getElementById("remote-video");
  const counters = hooks
    ? await Promise.race([hooks.counters(), new Promise((ok) => setTimeout(() => ok(null), 2000))])
    : null;
  return JSON.stringify({
    inCall: hooks?.inCall(),
    pressedAt: hooks?.pressedAt(),
    firstRemoteFrameAt: hooks?.firstRemoteFrameAt(),
    keys: document.getElementById("key-generation")?.textContent,
    code: hooks?.verificationCode(),
    quality: document.getElementById("connection-quality")?.textContent,
    framesDecoded: document.getElementById("connection-quality")?.dataset.framesDecoded,
    video: {
      readyState: video?.readyState,
      paused: video?.paused,
      size: `${video?.videoWidth}x${video?.videoHeight}`,
      currentTime: video?.currentTime,
      tracks: video?.srcObject?.getTracks().map((t) => `${t.kind}:${t.readyState}:${t.muted}`),
    },
    visibility: document.visibilityState,
    counters,
  });
}"""


class CallPair:
    """The member's and the staff member's call page in two contexts of one browser.

    Every request and WebSocket of both pages is recorded; ``foreign()`` lists those that went
    anywhere but 127.0.0.1 (the pages must not talk to third parties)."""

    def __init__(
        self, browser: Any, origin: str, parties: CallParties, *, plain: bool = False
    ) -> None:
        self.browser = browser
        self.origin = origin
        self.parties = parties
        self.plain = plain  # the server runs with CALL_BENCHMARK_PLAIN_MEDIA
        self.urls: list[str] = []
        self.sides: list[CallSide] = []

    @property
    def member(self) -> CallSide:
        return self.sides[0]

    @property
    def staff(self) -> CallSide:
        return self.sides[1]

    async def open(self) -> None:
        from django.conf import settings

        for role, login in (("member", self.parties.member), ("staff", self.parties.staff)):
            context = await self.browser.new_context(
                locale="de-DE", viewport={"width": 1280, "height": 800}
            )
            context.set_default_timeout(20_000)
            context.set_default_navigation_timeout(20_000)
            await context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": login.session_key,
                        "url": self.origin,
                        "httpOnly": True,
                        "sameSite": "Lax",
                    }
                ]
            )
            context.on("request", lambda request: self.urls.append(request.url))
            page = await context.new_page()
            side = CallSide(role=role, context=context, page=page)
            page.on("websocket", lambda socket: self.urls.append(socket.url))
            page.on("console", lambda message, side=side: self._console(side, message))
            page.on("pageerror", lambda error, side=side: side.console.append(f"error: {error}"))
            self.sides.append(side)
        await asyncio.gather(
            *(side.page.goto(self.origin + self.parties.path) for side in self.sides)
        )

    @staticmethod
    def _console(side: CallSide, message: Any) -> None:
        if message.type in {"error", "warning"}:
            side.console[-19:] = [*side.console[-19:], f"{message.type}: {message.text}"]

    async def reload(self) -> None:
        await asyncio.gather(*(side.page.reload() for side in self.sides))

    async def wait_for_start_dialogs(self, *, timeout: float = 30.0) -> None:
        """Until both pages show the start window (both are on the page and the server said
        so), and still do half a second later: a page that came back from a reload can see the
        other side's previous page leave only after it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            await asyncio.gather(
                *(
                    side.page.wait_for_selector(
                        "#start-dialog[open] #start-button:enabled",
                        timeout=max(1.0, deadline - time.monotonic()) * 1000,
                    )
                    for side in self.sides
                )
            )
            await asyncio.sleep(0.5)
            still = await asyncio.gather(
                *(
                    side.page.is_visible("#start-dialog[open] #start-button:enabled")
                    for side in self.sides
                )
            )
            if all(still):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the start window did not stay open on both pages")

    async def press_start(self, *, first: str = "member") -> None:
        """Both press "Gespräch starten", one after the other, as two people do: ``first``
        presses; when the other page shows it (its start window says the other is waiting),
        the other presses. Not both at the same moment: the line that appears in the other's
        start window moves its button, and a click aimed just before would miss it."""
        one, two = sorted(self.sides, key=lambda side: side.role != first)
        await self._press(one)
        await two.page.wait_for_function(
            "() => document.getElementById('start-waiting').textContent.trim() !== ''"
        )
        await self._press(two)

    @staticmethod
    async def _press(side: CallSide) -> None:
        await side.page.click("#start-button")
        try:
            await side.page.wait_for_function(
                "() => window.treffpunktCall.pressedAt() !== null", timeout=5_000
            )
        except Exception as exc:
            raise RuntimeError(f"{side.role}: the press of the start button did not count") from exc

    async def wait_for_remote_frames(self, *, timeout: float = 30.0) -> None:
        """Until both pages are in the call and have shown a first decoded frame of the other."""
        try:
            await asyncio.gather(
                *(
                    side.page.wait_for_function(
                        "() => window.treffpunktCall.inCall()"
                        " && window.treffpunktCall.firstRemoteFrameAt() !== null",
                        timeout=timeout * 1000,
                        polling=20,
                    )
                    for side in self.sides
                )
            )
        except Exception as exc:
            raise RuntimeError(
                f"no remote video on both sides: {exc}\n{await self.describe()}"
            ) from exc

    async def times(self) -> dict[str, float]:
        """The pages' wall-clock marks (ms): pressedAt and firstRemoteFrameAt of both sides."""
        marks = {}
        for side in self.sides:
            pressed, frame = await side.evaluate(
                "() => [window.treffpunktCall.pressedAt(),"
                " window.treffpunktCall.firstRemoteFrameAt()]"
            )
            marks[f"{side.role}_pressed"] = float(pressed)
            marks[f"{side.role}_frame"] = float(frame)
        return marks

    async def counters(self) -> list[dict[str, Any]]:
        """The encryption worker's counters of both pages."""
        return [
            await side.evaluate("() => window.treffpunktCall.counters()") for side in self.sides
        ]

    async def frames_decoded(self) -> list[int]:
        """Video frames decoded so far on the current connection, as the page's statistics
        (read every 2 s) last saw them."""
        values = [
            await side.evaluate(
                "() => Number(document.getElementById('connection-quality')"
                ".dataset.framesDecoded || 0)"
            )
            for side in self.sides
        ]
        return [int(value) for value in values]

    async def evaluate_both(self, expression: str) -> list[Any]:
        return [await side.evaluate(expression) for side in self.sides]

    async def remote_video_sizes(self) -> list[str]:
        """The size of the other's video as each page decodes it now, ``WIDTHxHEIGHT``."""
        return await self.evaluate_both(
            "() => { const v = document.getElementById('remote-video');"
            " return `${v.videoWidth}x${v.videoHeight}`; }"
        )

    async def in_call(self) -> bool:
        return all(await self.evaluate_both("() => window.treffpunktCall.inCall()"))

    async def verification_codes(self) -> list[str]:
        return [
            str(await side.evaluate("() => window.treffpunktCall.verificationCode()"))
            for side in self.sides
        ]

    async def hang_up(self, *, timeout: float = 20.0) -> None:
        """The staff member hangs up; both pages leave the call."""
        await self.staff.page.click("#hangup-button")
        await asyncio.gather(
            *(
                side.page.wait_for_function(
                    "() => !window.treffpunktCall.inCall()", timeout=timeout * 1000
                )
                for side in self.sides
            )
        )

    async def describe(self) -> str:
        """Where each page stands: status line, call state, video element, encryption
        counters, the last console warnings and errors (for the message of a failed run)."""
        lines = []
        for side in self.sides:
            try:
                status = await side.status()
                details = await asyncio.wait_for(side.evaluate(_DESCRIBE_PAGE), timeout=5)
            except Exception as exc:
                status, details = f"(page not readable: {exc})", ""
            lines.append(f"{side.role}: {status}")
            lines.append(f"  {details}")
            lines.extend(f"  {line}" for line in side.console[-10:])
        return "\n".join(lines)

    def foreign(self) -> list[str]:
        """Requests of the pages to anywhere but 127.0.0.1."""
        found = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOCAL_HOSTS:
                found.append(url)
        return found

    async def close(self) -> None:
        for side in self.sides:
            with contextlib.suppress(Exception):
                await side.context.close()
        self.sides = []


async def launch_chromium(playwright: Any) -> Any:
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def _all_processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command name) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            stat = _proc_stat(pid)
            if stat is not None:
                found[pid] = (stat[0], _proc_name(pid))
    return found


def chromium_root_pid() -> int:
    """The pid of the Chromium browser process this process started (through Playwright's
    driver): a ``chromium`` process whose parent is not one, descending from this process."""
    processes = _all_processes()
    me = os.getpid()

    def ours(pid: int) -> bool:
        seen = set()
        while pid > 1 and pid not in seen:
            seen.add(pid)
            if pid == me:
                return True
            pid = processes.get(pid, (0, ""))[0]
        return False

    roots = [
        pid
        for pid, (parent, name) in processes.items()
        if name == "chromium" and processes.get(parent, (0, ""))[1] != "chromium" and ours(pid)
    ]
    if len(roots) != 1:
        raise RuntimeError(f"expected one Chromium browser process of ours, found {roots}")
    return roots[0]


def process_tree(root: int) -> dict[int, str]:
    """pid → command name of a process and all its living descendants."""
    processes = _all_processes()
    tree = {root} if root in processes else set()
    grew = True
    while grew:
        found = {pid for pid, (parent, _) in processes.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return {pid: processes[pid][1] for pid in sorted(tree)}


def tree_cpu_ticks(root: int) -> int:
    """User + system CPU ticks of a process tree so far: every living process of it, plus what
    its members have collected from children that ended and were reaped (cutime + cstime), so
    that a helper process that exits during a measurement still counts."""
    total = 0
    for pid in process_tree(root):
        fields = _proc_fields(pid)
        if fields is not None:
            total += sum(int(value) for value in fields[11:15])
    return total
