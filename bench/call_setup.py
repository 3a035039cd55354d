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
MAX_FAILURES = 3


async def one_call(pair: CallPair, *, first: str, timeout: float) -> dict[str, float]:
    """Both press start (``first`` before the other); wait until both show the other's
    video; the marks of the pages."""
    await pair.wait_for_start_dialogs(timeout=timeout)
    await pair.press_start(first=first)
    await pair.wait_for_remote_frames(timeout=timeout)
    marks = await pair.times()
    codes = await pair.verification_codes()
    if not pair.plain and (codes[0] != codes[1] or not codes[0]):
        raise RuntimeError(f"the two pages show different verification codes: {codes}")
    counters = await pair.counters() if not pair.plain else []
    if any(side["decrypted"] == 0 or side["decryptFailures"] for side in counters):
        raise RuntimeError(f"encryption counters look wrong: {counters}")
    return marks


async def recover(pair: CallPair) -> None:
    """After a failed call: hang up wherever a call is still running (the next call reloads
    both pages anyway)."""
    for side in pair.sides:
        try:
            if await side.evaluate("() => window.treffpunktCall.inCall()"):
                await side.page.click("#hangup-button", timeout=5_000)
                await asyncio.sleep(1)
        except Exception as exc:
            note(f"{side.role}: could not hang up after the failure: {exc}")


async def run_calls(
    origin: str, parties: CallParties, *, calls: int, warmup: int, timeout: float
) -> tuple[list[dict[str, float]], list[str]]:
    """The calls, one after the other: the marks of each successful measured call, and a line
    for each call that did not come up (the run gives up after MAX_FAILURES of them)."""
    from playwright.async_api import async_playwright

    results: list[dict[str, float]] = []
    failures: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        pair = CallPair(browser, origin, parties)
        try:
            await pair.open()
            for number in range(warmup + calls):
                label = "warm-up" if number < warmup else f"call {number - warmup + 1}"
                if number:
                    await pair.reload()
                # Who presses second (and so starts the call) alternates.
                first = "member" if number % 2 == 0 else "staff"
                try:
                    marks = await one_call(pair, first=first, timeout=timeout)
                except Exception as exc:
                    failures.append(f"{label}: {str(exc).splitlines()[0]}")
                    note(f"{label} FAILED: {exc}")
                    if len(failures) >= MAX_FAILURES:
                        note(f"{len(failures)} calls failed: giving up")
                        break
                    await recover(pair)
                    continue
                later = max(marks["member_pressed"], marks["staff_pressed"])
                marks["setup"] = max(marks["member_frame"], marks["staff_frame"]) - later
                note(
                    f"{label}: {marks['setup']:.0f} ms (member sees staff after "
                    f"{marks['member_frame'] - later:.0f} ms, staff sees member after "
                    f"{marks['staff_frame'] - later:.0f} ms; {first} pressed first, "
                    f"{abs(marks['member_pressed'] - marks['staff_pressed']):.0f} ms before)"
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
    return results, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="measured calls")
    parser.add_argument("--warmup", type=int, default=0, help="calls before the measured ones")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per step at most")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if not 1 <= args.calls <= 200 or not 0 <= args.warmup <= 20:
        parser.error("--calls must be between 1 and 200, --warmup between 0 and 20")
    require_chromium()

    note(f"call setup: {args.calls} calls (+{args.warmup} warm-up) in Chromium on loopback")
    with Workspace(sqlite=args.sqlite, keep=args.keep_db) as workspace:
        (parties,) = make_call_parties(1)
        env = call_server_env(workspace.env)
        with Server(env, workers=1, log_dir=workspace.var_dir) as server:
            machine_figures("call_setup")
            started = time.perf_counter()
            results, failures = asyncio.run(
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
    emit("call_setup_calls", len(setups))
    emit("call_setup_failures", len(failures))
    for failure in failures:
        note(f"failed: {failure}")
    if not setups:
        emit("call_setup_goal_met", "false")
        return 1
    pressed = [max(m["member_pressed"], m["staff_pressed"]) for m in results]
    member_side = [m["member_frame"] - at for m, at in zip(results, pressed, strict=True)]
    staff_side = [m["staff_frame"] - at for m, at in zip(results, pressed, strict=True)]
    median = statistics.median(setups)
    note("single calls (ms): " + ", ".join(f"{value:.0f}" for value in setups))
    emit("call_setup_ms", median)
    emit("call_setup_p90_ms", percentile(setups, 90))
    emit("call_setup_max_ms", max(setups))
    emit("call_setup_min_ms", min(setups))
    emit("call_setup_member_ms", statistics.median(member_side))
    emit("call_setup_staff_ms", statistics.median(staff_side))
    emit("call_setup_goal", f"median<={GOAL_MS:.0f}ms,no_failures")
    # A call that never comes up is worse than a slow one: it fails the goal and the run.
    emit("call_setup_goal_met", "true" if median <= GOAL_MS and not failures else "false")
    if server_log.strip():
        note("uvicorn log (tail):\n" + server_log)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
