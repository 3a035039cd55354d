"""``manage.py serve`` as an operator runs it: a real process with its web server, task worker
and scheduler on a real port, stopped with the signals a process manager, ``kill`` or a closed
terminal send. Whatever happens, nothing it started may outlive it or keep the port.

Every process a test starts carries the test's own ``TREFFPUNKT_VAR_DIR`` in its environment;
that is how the tests find them (also after they were orphaned) and kill what is left, by pid.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# serve gives its children 10 s after SIGTERM before it kills them; a little more for itself.
STOP_WAIT_SECONDS = 15

HAS_PROC = Path("/proc/self/environ").exists()

pytestmark = pytest.mark.skipif(
    not HAS_PROC, reason="finds the server's processes through /proc (Linux)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on the port (as uvicorn binds: SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def http_status(port: int, path: str = "/", timeout: float = 30) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def server_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The embedded mode on a var/ directory of the test's own; ``extra`` on top."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "TASKS_BACKEND", "DEBUG", "SECRET_KEY"}
        and not name.startswith(("TREFFPUNKT_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="treffpunkt.settings",
        TREFFPUNKT_MODE="embedded",
        TREFFPUNKT_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def migrate(env: dict[str, str], log: Path) -> None:
    with log.open("wb") as output:
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, log.read_text(errors="replace")


# --- the processes of one test ----------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def processes_of(var_dir: Path) -> dict[int, str]:
    """Every living process (pid: command line) started with this var/ directory. Zombies
    (dead, not yet reaped) have no environment any more and are not counted."""
    marker = f"TREFFPUNKT_VAR_DIR={var_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found[int(entry.name)] = _cmdline(int(entry.name))
    return found


def kill_processes_of(var_dir: Path) -> None:
    """SIGKILL what is left of a test's processes: each by its pid, after finding it again by
    its environment (so a pid reused by another program is left alone)."""
    for _ in range(3):
        left = processes_of(var_dir)
        if not left:
            return
        for pid in left:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


class Serve:
    """``python manage.py serve`` on ``port``, its output in a file."""

    def __init__(self, env: dict[str, str], var_dir: Path, port: int, *args: str) -> None:
        self.env = env
        self.var_dir = var_dir
        self.port = port
        self.args = args
        self.log_path = var_dir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    *self.args,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_until_answering(self, timeout: float = 40) -> int:
        """Wait until the server answers HTTP on its port; its status code."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited early ({self.process.returncode}):\n{self.output()}")
            try:
                return http_status(self.port, timeout=5)
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"serve did not answer HTTP within {timeout:.0f} s:\n{self.output()}")

    def wait_for_children(self, *needles: str, timeout: float = 20) -> dict[int, str]:
        """Wait until the processes whose command lines contain ``needles`` run; all of the
        test's processes then."""
        deadline = time.monotonic() + timeout
        while True:
            running = processes_of(self.var_dir)
            missing = [n for n in needles if not any(n in line for line in running.values())]
            if not missing:
                return running
            if time.monotonic() > deadline:
                pytest.fail(f"not running after {timeout:.0f} s: {missing}\n{self.output()}")
            time.sleep(0.1)

    def wait_for_exit(self, timeout: float = STOP_WAIT_SECONDS) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running {timeout:.0f} s later:\n{self.output()}")

    def stop_everything(self) -> None:
        """The test's own cleanup: serve and everything carrying its var/ directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        kill_processes_of(self.var_dir)


@contextmanager
def serving(env: dict[str, str], var_dir: Path, port: int, *args: str) -> Iterator[Serve]:
    serve = Serve(env, var_dir, port, *args)
    try:
        serve.start()
        yield serve
    finally:
        serve.stop_everything()


def is_running(pid: int, var_dir: Path) -> bool:
    """Whether ``pid`` is a living (not zombie) process of this test."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return pid in processes_of(var_dir)


def assert_nothing_left(serve: Serve, before: dict[int, str]) -> None:
    """None of the processes recorded before runs, nothing else of the test either, and the
    port is free for the next start."""
    # Allow the kernel a moment to free the port of a process that just ended.
    deadline = time.monotonic() + 3
    while (processes_of(serve.var_dir) or not port_is_free(serve.port)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    still = {pid: line for pid, line in before.items() if is_running(pid, serve.var_dir)}
    assert not still, f"still running after serve exited: {still}\n{serve.output()}"
    left = processes_of(serve.var_dir)
    assert not left, f"still running after serve exited: {left}\n{serve.output()}"
    assert port_is_free(serve.port), f"port {serve.port} still taken:\n{serve.output()}"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ directory with the embedded mode's SQLite database migrated, made once."""
    var_dir = tmp_path_factory.mktemp("serve-migrated")
    migrate(server_env(var_dir), tmp_path_factory.mktemp("serve-migrate-log") / "migrate.log")
    return var_dir


@pytest.fixture
def var_dir(migrated_var_dir: Path, tmp_path: Path) -> Path:
    """A copy of the migrated var/ directory, the test's own."""
    own = tmp_path / "var"
    shutil.copytree(migrated_var_dir, own)
    return own


# --- tests ------------------------------------------------------------------------------------

CHILDREN = ("uvicorn", "run_scheduler", "db_worker")


@pytest.mark.parametrize(
    "stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name
)
def test_a_stop_signal_to_serve_stops_web_server_worker_and_scheduler_and_frees_the_port(
    var_dir: Path, stop: signal.Signals
):
    with serving(server_env(var_dir), var_dir, free_port()) as serve:
        assert serve.wait_until_answering() < 500
        before = serve.wait_for_children(*CHILDREN)
        assert len(before) == 4, before  # serve and its three children

        os.kill(serve.pid, stop)

        assert serve.wait_for_exit() == 0, serve.output()
        assert_nothing_left(serve, before)
        output = serve.output()
        assert f"{stop.name} received: stopping." in output
        assert "did not stop" not in output  # each child stopped on SIGTERM, none was killed
        assert "Traceback" not in output


def test_when_a_child_dies_serve_stops_the_others_and_exits_non_zero_saying_which(
    var_dir: Path,
):
    with serving(server_env(var_dir), var_dir, free_port()) as serve:
        serve.wait_until_answering()
        before = serve.wait_for_children(*CHILDREN)
        worker = next(pid for pid, line in before.items() if "db_worker" in line)

        os.kill(worker, signal.SIGKILL)

        assert serve.wait_for_exit() == 1, serve.output()
        assert_nothing_left(serve, before)
        assert "The task worker ended on its own (killed by SIGKILL)" in serve.output()


def test_a_start_on_a_taken_port_says_so_in_one_line_and_leaves_nothing_running(
    var_dir: Path,
):
    with socket.socket() as other_program:
        other_program.bind((HOST, 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        with serving(server_env(var_dir), var_dir, port) as serve:
            code = serve.wait_for_exit(timeout=20)
            output = serve.output()
            assert code != 0, output
            assert (
                f"Port {port} on {HOST} is taken by another program; stop it or choose "
                "another with --port." in output
            )
            assert "Traceback" not in output
            assert len(output.strip().splitlines()) == 1, output
            assert processes_of(var_dir) == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_when_serve_itself_is_killed_its_children_stop_and_free_the_port(var_dir: Path):
    with serving(server_env(var_dir), var_dir, free_port()) as serve:
        serve.wait_until_answering()
        before = serve.wait_for_children(*CHILDREN)

        os.kill(serve.pid, signal.SIGKILL)  # no chance to stop anything itself

        assert serve.wait_for_exit() == -signal.SIGKILL
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while processes_of(serve.var_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert_nothing_left(serve, before)
