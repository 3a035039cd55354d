from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# What stops Treffpunkt: Ctrl+C (SIGINT), a process manager or `kill` (SIGTERM), a closed
# terminal (SIGHUP). The children run in process groups of their own, so none of these reaches
# them directly: serve passes the stop on, and nothing is left behind when serve ends.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# After SIGTERM the children get this long before they are killed (SIGKILL).
STOP_TIMEOUT_SECONDS = 10
# uvicorn's own bound on finishing open requests and sockets, within the one above.
UVICORN_GRACEFUL_SECONDS = 5
POLL_SECONDS = 0.1


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def ended(self) -> bool:
        """Whether the process has ended. Where waitid() exists (Linux; macOS from Python
        3.13) it is not reaped until serve stops (WNOWAIT), so its pid, and with it its
        process group, cannot pass to another program meanwhile."""
        if not hasattr(os, "waitid"):
            return self.process.poll() is not None
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        try:
            return os.waitid(os.P_PID, self.process.pid, flags) is not None
        except ChildProcessError:  # already reaped
            return True


class Command(BaseCommand):
    help = (
        "Run Treffpunkt: uvicorn (HTTP and WebSocket), plus the task worker and the scheduler "
        "as child processes unless told otherwise. SIGTERM, SIGHUP or Ctrl+C stops all of them."
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
        host: str = options["host"]
        port: int = options["port"]
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "More than one worker needs REDIS_URL: the in-memory channel layer and cache "
                "cannot be shared between processes."
            )
        # Before anything starts: a taken port is then one clear line, and nothing runs on.
        self._check_port(host, port)

        received: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            received.append(signum)

        previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
        children: list[Child] = []
        ended: Child | None = None
        try:
            children.append(Child("The web server (uvicorn)", self._uvicorn(host, port, workers)))
            if not options["no_background"]:
                children.extend(self._start_background())
            ended = self._wait(children, received)
        finally:
            self._stop(children)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if ended is not None:
            raise CommandError(
                f"{ended.name} ended on its own ({_how(ended.process.returncode)}), "
                "so Treffpunkt stopped."
            )
        self.stdout.write("Stopped.")

    def _check_port(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # As uvicorn binds: a connection of the previous run in TIME_WAIT does not count.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise CommandError(
                        f"Port {port} on {host} is taken by another program; stop it or "
                        "choose another with --port."
                    ) from None
                raise CommandError(
                    f"Cannot listen on port {port} on {host}: {error.strerror}."
                ) from None

    def _uvicorn(self, host: str, port: int, workers: int) -> subprocess.Popen[bytes]:
        return _start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "treffpunkt.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--proxy-headers",
                "--no-server-header",
                "--lifespan",
                "off",
                "--timeout-graceful-shutdown",
                str(UVICORN_GRACEFUL_SECONDS),
                # Events are a few hundred bytes of JSON: compressing them saves little
                # and costs each socket a zlib context (half its memory) and every frame
                # CPU on the event loop (bench/README.md, 6 to 8).
                "--ws-per-message-deflate",
                "false",
            ]
        )

    def _start_background(self) -> list[Child]:
        manage = [sys.executable, "-m", "django"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "treffpunkt.settings"}
        children = [Child("The scheduler", _start([*manage, "run_scheduler"], env))]
        if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
            worker = _start([*manage, "db_worker", "--interval", "1"], env)
            children.append(Child("The task worker", worker))
        else:
            self.stdout.write("Tasks go to another backend: start its worker separately.")
        return children

    def _wait(self, children: list[Child], received: list[int]) -> Child | None:
        """Until a stop signal arrives (None) or a child ends on its own (that child)."""
        while True:
            if received:
                self.stdout.write(f"{signal.Signals(received[0]).name} received: stopping.")
                return None
            for child in children:
                if child.ended():
                    return child
            time.sleep(POLL_SECONDS)

    def _stop(self, children: list[Child]) -> None:
        """SIGTERM to each child still running, a bounded wait, SIGKILL to what is left of
        their process groups (also uvicorn's worker processes), then reap them all. Further
        stop signals change nothing: a Ctrl+C under ``uv run`` arrives twice (from the
        terminal, and passed on by uv)."""
        for child in children:
            if not child.ended():
                with suppress(ProcessLookupError):
                    os.kill(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while not all(child.ended() for child in children) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS / 2)
        for child in children:
            if not child.ended():
                self.stderr.write(
                    f"{child.name} did not stop within {STOP_TIMEOUT_SECONDS} s: killed."
                )
            if child.process.returncode is None:  # not reaped: the group is still ours
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.process.pid, signal.SIGKILL)
        for child in children:
            child.process.wait()


def _start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    # A process group of its own: a terminal's Ctrl+C or hang-up reaches serve only, which
    # stops the children in order; and SIGKILL to the group also takes uvicorn's workers.
    return subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        process_group=0,
        # preexec_fn is unsafe beside threads; serve starts its children before it has any.
        preexec_fn=_stop_with_parent(os.getpid()),
    )


# Linux's prctl(PR_SET_PDEATHSIG): the signal a process gets when its parent ends.
PR_SET_PDEATHSIG = 1


def _stop_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """For a child: SIGTERM when serve itself ends without stopping it (SIGKILL, a crash), so
    no web server keeps the port and no worker runs on unattended. Linux only; elsewhere only
    a stop through serve stops the children."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork, not in the child

    def set_death_signal() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # serve ended before the signal was set
            os.kill(os.getpid(), signal.SIGTERM)

    return set_death_signal


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
