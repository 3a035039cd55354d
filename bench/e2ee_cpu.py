"""Benchmark 5: what the end-to-end encryption of a video call costs in browser CPU.

The same 60-second call twice, on loopback, each in a fresh headless Chromium (fake camera and
microphone) with the member's and the staff member's page in two contexts: once as the app
runs it (every audio and video frame through the encryption worker, key exchange, key rotation
every 30 s), once with a server started with CALL_BENCHMARK_PLAIN_MEDIA=1 (no transforms, no
key exchange). The figure is the CPU time (user + system, from /proc) of the whole Chromium
process tree — browser, zygote, both renderers, GPU and utility processes — during the 60 s,
counted from 3 s after both pages showed the other's video.

    uv run python bench/e2ee_cpu.py

Prints e2ee_cpu_seconds, plain_cpu_seconds, e2ee_cpu_ratio (goal ≤ 1.15) and
e2ee_cpu_goal_met. ``--seconds 10`` for a quick trial; ``--rounds 3`` repeats the pair of calls
in alternating order (plain first, then encrypted first, …) and compares the sums, which evens
out a machine whose other load changes.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from common import (
    CallPair,
    CallParties,
    Server,
    Workspace,
    call_server_env,
    chromium_root_pid,
    emit,
    launch_chromium,
    machine_cpu_ticks,
    machine_figures,
    make_call_parties,
    note,
    process_tree,
    require_chromium,
    tree_cpu_ticks,
)

GOAL_RATIO = 1.15
MODES = ("plain", "e2ee")


@dataclass
class Measurement:
    mode: str
    seconds: float = 0.0  # wall time of the window
    cpu_seconds: float = 0.0  # the Chromium tree's CPU during it
    processes: dict[int, str] = field(default_factory=dict)
    frames_decoded: list[int] = field(default_factory=list)  # member, staff; in the window
    video_sizes: list[str] = field(default_factory=list)  # member, staff; at the end
    encrypted: int = 0  # frames through the worker in the window, both pages together
    decrypted: int = 0
    decrypt_failures: int = 0
    machine_busy_pct: float = math.nan

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else math.nan


def totals(counters: list[dict[str, Any]]) -> tuple[int, int, int]:
    return (
        sum(side["encrypted"] for side in counters),
        sum(side["decrypted"] for side in counters),
        sum(side["decryptFailures"] for side in counters),
    )


async def measure(
    origin: str, parties: CallParties, *, mode: str, seconds: float, settle: float, timeout: float
) -> Measurement:
    """One call in a fresh browser; the browser tree's CPU over ``seconds`` of media."""
    from playwright.async_api import async_playwright

    plain = mode == "plain"
    result = Measurement(mode=mode)
    clock_ticks = os.sysconf("SC_CLK_TCK")
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        pair = CallPair(browser, origin, parties, plain=plain)
        try:
            root = chromium_root_pid()
            await pair.open()
            await pair.wait_for_start_dialogs(timeout=timeout)
            await pair.press_start()
            await pair.wait_for_remote_frames(timeout=timeout)
            state = await pair.evaluate_both(
                "() => document.getElementById('e2ee-state').textContent"
            )
            note(f"{mode}: media flows (the page says: {state[0]!r}); {settle:.0f} s to settle")
            await asyncio.sleep(settle)

            # Nothing of the harness talks to the browser inside the window.
            frames_before = await pair.frames_decoded()
            counters_before = await pair.counters() if not plain else []
            result.processes = process_tree(root)
            machine_before = machine_cpu_ticks()
            ticks_before = tree_cpu_ticks(root)
            started = time.monotonic()
            await asyncio.sleep(seconds)
            ticks_after = tree_cpu_ticks(root)
            result.seconds = time.monotonic() - started
            busy, total = machine_cpu_ticks()
            result.cpu_seconds = (ticks_after - ticks_before) / clock_ticks
            span = total - machine_before[1]
            result.machine_busy_pct = 100 * (busy - machine_before[0]) / span if span else math.nan
            if not plain:
                before = totals(counters_before)
                after = totals(await pair.counters())
                result.encrypted, result.decrypted, result.decrypt_failures = (
                    b - a for a, b in zip(before, after, strict=True)
                )
            result.video_sizes = await pair.remote_video_sizes()
            # The statistics behind frames_decoded are read every 2 s: wait for the next read.
            await asyncio.sleep(2.5)
            frames_after = await pair.frames_decoded()
            result.frames_decoded = [
                b - a for a, b in zip(frames_before, frames_after, strict=True)
            ]
            if not await pair.in_call():
                raise RuntimeError(f"{mode}: the call ended during the measurement")
            await pair.hang_up()
        except Exception:
            note(await pair.describe())
            raise
        finally:
            foreign = pair.foreign()
            await pair.close()
            await browser.close()
    if foreign:
        raise RuntimeError("the pages asked hosts other than 127.0.0.1:\n  " + "\n  ".join(foreign))
    names: dict[str, int] = {}
    for name in result.processes.values():
        names[name] = names.get(name, 0) + 1
    note(
        f"{mode}: {result.cpu_seconds:.2f} CPU s in {result.seconds:.1f} s "
        f"({result.cores:.2f} cores, machine {result.machine_busy_pct:.0f} % busy); "
        f"video frames decoded member/staff {result.frames_decoded}, "
        f"size {'/'.join(result.video_sizes)}; "
        f"{len(result.processes)} processes ({', '.join(f'{k} ×{v}' for k, v in names.items())})"
    )
    if not plain:
        note(
            f"{mode}: frames encrypted {result.encrypted}, decrypted {result.decrypted}, "
            f"decryption failures {result.decrypt_failures}"
        )
    return result


def check(result: Measurement, seconds: float) -> list[str]:
    """What would make a measurement worthless: no video, or encryption not doing its job."""
    problems = []
    # The fake camera sends about 20 frames a second; far fewer means the call was not running.
    if min(result.frames_decoded) < 5 * seconds:
        problems.append(f"{result.mode}: few video frames decoded: {result.frames_decoded}")
    if result.mode == "e2ee" and (result.decrypted == 0 or result.decrypt_failures):
        problems.append(f"e2ee: decrypted {result.decrypted}, failures {result.decrypt_failures}")
    return problems


def order(rounds: int) -> list[str]:
    """plain, e2ee; then e2ee, plain; … so that neither mode always runs second."""
    return [mode for n in range(rounds) for mode in (MODES if n % 2 == 0 else MODES[::-1])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per call")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds after the first frames before measuring"
    )
    parser.add_argument("--rounds", type=int, default=1, help="pairs of calls (alternating)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per step at most")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be between 1 and 10")
    require_chromium()

    runs = order(args.rounds)
    note(
        f"e2ee CPU: {args.rounds} × a {args.seconds:.0f} s call without and with encryption, "
        "a fresh Chromium for each"
    )
    results: list[Measurement] = []
    with Workspace(sqlite=args.sqlite, keep=args.keep_db) as workspace:
        # An appointment (and pair of people) per call: nothing of one call (presence, a
        # running session) is left over when the next starts. The call window lasts long
        # enough for all of them.
        minutes = max(30, math.ceil(len(runs) * (args.seconds + 60) / 60))
        all_parties = make_call_parties(len(runs), minutes=minutes)
        machine_figures("e2ee_cpu")
        for mode, parties in zip(runs, all_parties, strict=True):
            env = call_server_env(workspace.env, plain_media=mode == "plain")
            with Server(env, workers=1, log_dir=workspace.var_dir) as server:
                results.append(
                    asyncio.run(
                        measure(
                            server.origin,
                            parties,
                            mode=mode,
                            seconds=args.seconds,
                            settle=args.settle,
                            timeout=args.timeout,
                        )
                    )
                )
                server_log = server.log_tail()
            if server_log.strip():
                note(f"uvicorn log ({mode}, tail):\n{server_log}")

    plain = [result for result in results if result.mode == "plain"]
    e2ee = [result for result in results if result.mode == "e2ee"]
    plain_cpu = sum(result.cpu_seconds for result in plain)
    e2ee_cpu = sum(result.cpu_seconds for result in e2ee)
    ratio = e2ee_cpu / plain_cpu if plain_cpu else math.nan
    if args.rounds > 1:
        note(
            "ratio per round: "
            + ", ".join(
                f"{b.cpu_seconds / a.cpu_seconds:.3f}" for a, b in zip(plain, e2ee, strict=True)
            )
        )
    window = sum(result.seconds for result in results) / len(results)
    emit("e2ee_cpu_rounds", args.rounds)
    emit("e2ee_cpu_window_seconds", window)
    emit("e2ee_cpu_seconds", e2ee_cpu)
    emit("plain_cpu_seconds", plain_cpu)
    emit("e2ee_cpu_ratio", f"{ratio:.3f}")
    emit("e2ee_cpu_cores", e2ee_cpu / (window * len(e2ee)))
    emit("plain_cpu_cores", plain_cpu / (window * len(plain)))
    emit("e2ee_cpu_frames_decoded", sum(sum(result.frames_decoded) for result in e2ee))
    emit("plain_cpu_frames_decoded", sum(sum(result.frames_decoded) for result in plain))
    emit("e2ee_cpu_video_size", "/".join(e2ee[-1].video_sizes))
    emit("plain_cpu_video_size", "/".join(plain[-1].video_sizes))
    emit("e2ee_cpu_frames_encrypted", sum(result.encrypted for result in e2ee))
    emit("e2ee_cpu_frames_decrypted", sum(result.decrypted for result in e2ee))
    emit("e2ee_cpu_decrypt_failures", sum(result.decrypt_failures for result in e2ee))
    emit("e2ee_cpu_machine_busy_pct", statistics.mean(r.machine_busy_pct for r in e2ee))
    emit("plain_cpu_machine_busy_pct", statistics.mean(r.machine_busy_pct for r in plain))
    emit("e2ee_cpu_goal", f"ratio<={GOAL_RATIO}")
    emit("e2ee_cpu_goal_met", "true" if ratio <= GOAL_RATIO else "false")
    problems = [problem for result in results for problem in check(result, args.seconds)]
    for problem in problems:
        note(f"not a valid measurement: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
