"""A restart of PostgreSQL under a running server costs a short wait, not an error page.

The server runs as an operator runs it (``manage.py serve`` with its worker and scheduler) on a
database of the test's own; the restart is what it does to the server's connections: all of them
are ended (``pg_terminate_backend``), while the pool still holds them as idle.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest

from tests.core.test_serve_stops import (
    HAS_PROC,
    free_port,
    http_status,
    migrate,
    server_env,
    serving,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRESQL = (
    bool(DATABASE_URL)
    and dj_database_url.parse(DATABASE_URL)["ENGINE"] == "django.db.backends.postgresql"
)

pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): only a database server "
        "restarts under a running Treffpunkt; the embedded SQLite file has no connections",
    ),
    pytest.mark.skipif(not HAS_PROC, reason="finds the server's processes through /proc"),
]


def _url_for(database: str) -> str:
    """DATABASE_URL with another database name (same server, user and options)."""
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _admin() -> Any:
    import psycopg

    return psycopg.connect(_url_for("postgres"), autocommit=True, connect_timeout=10)


@pytest.fixture
def own_database() -> Iterator[str]:
    """An empty database of this test, dropped afterwards (also when the test failed)."""
    from psycopg import sql

    name = f"treffpunkt_reconnect_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _restart_as_seen_by_the_server(database: str) -> int:
    """End every connection to ``database``, as a restart of PostgreSQL does; how many."""
    with _admin() as admin:
        ended = admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()) AS ended",
            [database],
        ).fetchone()
    assert ended is not None
    return int(ended[0])


def _connections_to(database: str) -> int:
    with _admin() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchone()
    assert row is not None
    return int(row[0])


def _wait_for_connections(database: str, count: int, output: Callable[[], str]) -> None:
    deadline = time.monotonic() + 20
    while (found := _connections_to(database)) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{found} connections to {database}, not {count}:\n{output()}")
        time.sleep(0.2)


# Tasks the worker has still to run or is running (a READY task without a time to wait for has
# django_tasks_db's largest date as its run_after).
UNFINISHED_TASKS = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING' "
    "OR (status = 'READY' AND (run_after <= now() OR run_after >= '9999-01-01'))"
)


def _wait_until_quiet(database: str, output: Callable[[], str]) -> None:
    """Until the worker has run what the scheduler enqueued at its start and every connection
    to ``database`` is idle, for half a second: the restart comes at a quiet moment. (One that
    ends a connection in the middle of the scheduler's or the worker's query ends that process,
    and then serve as a whole: the pool can only replace connections it hands out.)"""
    import psycopg

    deadline = time.monotonic() + 30
    quiet_since: float | None = None
    while True:
        with psycopg.connect(_url_for(database), autocommit=True) as own:
            row = own.execute(UNFINISHED_TASKS).fetchone()
        with _admin() as admin:
            busy = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state <> 'idle'",
                [database],
            ).fetchone()
        assert row is not None and busy is not None
        now = time.monotonic()
        if row[0] == 0 and busy[0] == 0:
            quiet_since = quiet_since or now
            if now - quiet_since >= 0.5:
                return
        else:
            quiet_since = None
        if now > deadline:
            pytest.fail(f"{row[0]} tasks unfinished, {busy[0]} connections busy:\n{output()}")
        time.sleep(0.1)


def test_after_a_database_restart_every_request_is_answered_and_the_server_keeps_running(
    own_database: str, tmp_path: Path
):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = server_env(var_dir, DATABASE_URL=_url_for(own_database))
    migrate(env, tmp_path / "migrate.log")

    with serving(env, var_dir, free_port()) as serve:
        assert serve.wait_until_answering() == 200, serve.output()
        serve.wait_for_children("uvicorn", "run_scheduler", "db_worker")
        # Each process's pool holds a connection: the web server's, the worker's, the
        # scheduler's (the last two once they looked at the database for the first time).
        _wait_for_connections(own_database, 3, serve.output)
        _wait_until_quiet(own_database, serve.output)

        assert _restart_as_seen_by_the_server(own_database) >= 3

        statuses = [http_status(serve.port) for _ in range(20)]
        assert statuses == [200] * 20, f"{statuses}\n{serve.output()}"
        # The task worker looks for tasks every second: it, too, came through the restart.
        time.sleep(1.5)
        assert serve.process is not None
        assert serve.process.poll() is None, serve.output()
        assert http_status(serve.port) == 200
