"""Settings for a server under observation (``msg_latency.py --probe``/``--profile``): the
settings of ``$MSG_PROBE_BASE_SETTINGS`` (default ``treffpunkt.settings``; ``--settings`` of the
benchmark), plus measurements of where the time goes, written to ``$MSG_PROBE_DIR`` when uvicorn
shuts down.

- always: every ``sync_to_async`` call (Channels' ``database_sync_to_async`` too): by function,
  how many, the wall and CPU time in the worker thread, and the time from the call to its
  result on the event loop. Wall minus CPU in the thread is waiting (for the database, for the
  event loop in ``async_to_sync``, for the GIL, for a CPU); call-to-result minus wall is
  waiting for the single worker thread (and getting back).
- ``MSG_PROBE_PROFILE=1``: cProfile of the event-loop thread and of the worker thread(s).
- ``MSG_PROBE_SWITCH_INTERVAL_MS``: Python's GIL switch interval (default 5 ms), to see whether
  the worker thread waits for the GIL while the event loop runs.

Only for benchmarks: the patches are at import of the settings, nothing in the app changes.
"""

from __future__ import annotations

import cProfile
import importlib
import json
import os
import sys
import threading
import time
from collections import defaultdict
from typing import Any

import asgiref.sync
import uvicorn.server

_base = importlib.import_module(os.environ.get("MSG_PROBE_BASE_SETTINGS", "treffpunkt.settings"))
globals().update({name: getattr(_base, name) for name in dir(_base) if name.isupper()})
_DIR = os.environ.get("MSG_PROBE_DIR", ".")
_PROFILE = os.environ.get("MSG_PROBE_PROFILE") == "1"
_lock = threading.Lock()
# function name → [calls, wall seconds in the worker thread, CPU seconds in the worker thread,
# seconds from call to result]
_calls: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
_profiles: dict[int, cProfile.Profile] = {}
_loop_profile = cProfile.Profile()

_call = asgiref.sync.SyncToAsync.__call__
_thread_handler: Any = asgiref.sync.SyncToAsync.thread_handler  # untyped in asgiref
_shutdown = uvicorn.server.Server.shutdown


def _name(function: Any) -> str:
    function = getattr(function, "func", function)  # functools.partial
    module = getattr(function, "__module__", "") or ""
    return f"{module}.{getattr(function, '__qualname__', repr(function))}"


async def _timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
    began = time.perf_counter()
    try:
        return await _call(self, *args, **kwargs)
    finally:
        elapsed = time.perf_counter() - began
        with _lock:
            entry = _calls[_name(self.func)]
            entry[0] += 1
            entry[3] += elapsed


def _timed_thread_handler(self: Any, *args: Any, **kwargs: Any) -> Any:
    profile = None
    if _PROFILE:
        with _lock:
            profile = _profiles.setdefault(threading.get_ident(), cProfile.Profile())
        profile.enable()
    began, cpu = time.perf_counter(), time.thread_time()
    try:
        return _thread_handler(self, *args, **kwargs)
    finally:
        elapsed, cpu = time.perf_counter() - began, time.thread_time() - cpu
        if profile is not None:
            profile.disable()
        with _lock:
            entry = _calls[_name(self.func)]
            entry[1] += elapsed
            entry[2] += cpu


def _dump() -> None:
    pid = os.getpid()
    with _lock:
        table = {name: list(entry) for name, entry in _calls.items()}
    with open(os.path.join(_DIR, f"sync-calls-{pid}.json"), "w") as out:
        json.dump(table, out)
    if _PROFILE:
        _loop_profile.disable()
        _loop_profile.dump_stats(os.path.join(_DIR, f"profile-{pid}-loop.prof"))
        for number, profile in enumerate(_profiles.values()):
            profile.dump_stats(os.path.join(_DIR, f"profile-{pid}-worker{number}.prof"))


async def _shutdown_and_dump(self: Any, *args: Any, **kwargs: Any) -> None:
    # uvicorn raises SIGTERM again after its graceful shutdown, so atexit would not run.
    try:
        await _shutdown(self, *args, **kwargs)
    finally:
        _dump()


# Instrumenting a benchmark server is the point of this module: replacing these methods is
# deliberate, and mypy's method-assign check is the one it must be told about.
asgiref.sync.SyncToAsync.__call__ = _timed_call  # type: ignore[method-assign]
asgiref.sync.SyncToAsync.thread_handler = _timed_thread_handler  # type: ignore[method-assign]
uvicorn.server.Server.shutdown = _shutdown_and_dump  # type: ignore[method-assign]
if os.environ.get("MSG_PROBE_SWITCH_INTERVAL_MS"):
    sys.setswitchinterval(float(os.environ["MSG_PROBE_SWITCH_INTERVAL_MS"]) / 1000)
if _PROFILE:
    _loop_profile.enable()  # uvicorn loads the app (and so these settings) in its loop thread
