"""Benchmark 4: how long a video call takes to set up, from the second press of "Gespräch
starten" to the first decoded video frame of the other side, on both sides.

A member and a staff member open the call page of their confirmed appointment in two contexts
of one Chromium (fake camera and microphone, headless), both press "Gespräch starten", and the
pages note (test hooks, wall-clock ms of that browser) when each pressed and when each showed
its first decoded frame of the other's video. One call's setup time is

    max(member's first frame, staff's first frame) − max(member's press, staff's press)

i.e. until both see each other, counted from the press that started the call. Everything runs
on loopback: uvicorn (1 worker, in-memory channel layer) and PostgreSQL on 127.0.0.1. Between
calls the staff member hangs up and both pages are reloaded, so every call starts from fresh
pages (new peer connection, new keys, new encryption worker).

    uv run python bench/call_setup.py

Prints call_setup_ms (median of 10 calls; goal ≤ 1000), call_setup_p90_ms, call_setup_max_ms
and call_setup_goal_met; the single calls go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from common import (
    CallPair,
    CallParties,
    Server,
    Workspace,
    call_server_env,
    emit,
    launch_chromium,
    machine_figures,
    make_call_parties,
    note,
    percentile,
    require_chromium,
)

GOAL_MS = 1000.0


async def one_call(pair: CallPair, *, timeout: float) -> dict[str, float]:
    """Both press start; wait until both show the other's video; the marks of the pages."""
    await pair.wait_for_start_dialogs(timeout=timeout)
    await pair.press_start()
    await pair.wait_for_remote_frames(timeout=timeout)
    marks = await pair.times()
    codes = await pair.verification_codes()
    if not pair.plain and (codes[0] != codes[1] or not codes[0]):
        raise RuntimeError(f"the two pages show different verification codes: {codes}")
    counters = await pair.counters() if not pair.plain else []
    if any(side["decrypted"] == 0 or side["decryptFailures"] for side in counters):
        raise RuntimeError(f"encryption counters look wrong: {counters}")
    return marks


async def run_calls(origin: str, parties: CallParties, *, calls: int, warmup: int, timeout: float):
    from playwright.async_api import async_playwright

    results: list[dict[str, float]] = []
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        pair = CallPair(browser, origin, parties)
        try:
            await pair.open()
            for number in range(warmup + calls):
                if number:
                    await pair.reload()
                marks = await one_call(pair, timeout=timeout)
                setup = max(marks["member_frame"], marks["staff_frame"]) - max(
                    marks["member_pressed"], marks["staff_pressed"]
                )
                marks["setup"] = setup
                label = "warm-up" if number < warmup else f"call {number - warmup + 1}"
                later = max(marks["member_pressed"], marks["staff_pressed"])
                note(
                    f"{label}: {setup:.0f} ms (member sees staff after "
                    f"{marks['member_frame'] - later:.0f} ms, staff sees member after "
                    f"{marks['staff_frame'] - later:.0f} ms; presses "
                    f"{abs(marks['member_pressed'] - marks['staff_pressed']):.0f} ms apart)"
                )
                if number >= warmup:
                    results.append(marks)
                await pair.hang_up()
        finally:
            foreign = pair.foreign()
            await pair.close()
            await browser.close()
    if foreign:
        raise RuntimeError("the pages asked hosts other than 127.0.0.1:\n  " + "\n  ".join(foreign))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="measured calls")
    parser.add_argument("--warmup", type=int, default=0, help="calls before the measured ones")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per step at most")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    require_chromium()

    note(f"call setup: {args.calls} calls (+{args.warmup} warm-up) in Chromium on loopback")
    with Workspace(sqlite=args.sqlite, keep=args.keep_db) as workspace:
        (parties,) = make_call_parties(1)
        env = call_server_env(workspace.env)
        with Server(env, workers=1, log_dir=workspace.var_dir) as server:
            machine_figures("call_setup")
            started = time.perf_counter()
            results = asyncio.run(
                run_calls(
                    server.origin,
                    parties,
                    calls=args.calls,
                    warmup=args.warmup,
                    timeout=args.timeout,
                )
            )
            note(f"{len(results)} calls in {time.perf_counter() - started:.1f} s")
            server_log = server.log_tail()

    setups = [marks["setup"] for marks in results]
    member_side = [
        m["member_frame"] - max(m["member_pressed"], m["staff_pressed"]) for m in results
    ]
    staff_side = [m["staff_frame"] - max(m["member_pressed"], m["staff_pressed"]) for m in results]
    median = statistics.median(setups)
    note("single calls (ms): " + ", ".join(f"{value:.0f}" for value in setups))
    emit("call_setup_calls", len(setups))
    emit("call_setup_ms", median)
    emit("call_setup_p90_ms", percentile(setups, 90))
    emit("call_setup_max_ms", max(setups))
    emit("call_setup_min_ms", min(setups))
    emit("call_setup_member_ms", statistics.median(member_side))
    emit("call_setup_staff_ms", statistics.median(staff_side))
    emit("call_setup_goal", f"median<={GOAL_MS:.0f}ms")
    emit("call_setup_goal_met", "true" if median <= GOAL_MS else "false")
    if server_log.strip():
        note("uvicorn log (tail):\n" + server_log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
