"""What the message benchmarks (msg_latency.py, idle_ws.py) share: conversations with a logged-in
member and staff member each, and opening their conversation sockets (``/ws/nachrichten/<id>/``)
with the ``websockets`` client that uvicorn[standard] brings.

Like ``common``, nothing here imports Django at module level.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import BENCH_DB, HOST, Login, log_in, make_organization, make_users, note

# The messages benchmarks' own database: they may run while another benchmark uses
# ``treffpunkt_bench``.
MSG_BENCH_DB = f"{BENCH_DB}_msg"


@dataclass(frozen=True)
class Pair:
    """One conversation and its two people, logged in."""

    conversation_id: int
    member: Login
    staff: Login


def make_conversations(count: int) -> list[Pair]:
    """``count`` inquiries of one organization, each from a member of its own and assigned to a
    staff member of its own (so no one writes more than the per-user limit allows). Each starts
    as the app starts it, with the member's first message (``start_inquiry``)."""
    from treffpunkt.accounts.models import Role
    from treffpunkt.messaging import services
    from treffpunkt.messaging.models import Conversation, InquiryTopic

    org = make_organization()
    staff = make_users(org, role=Role.STAFF, count=count, prefix="berater")
    members = make_users(org, role=Role.MEMBER, count=count, prefix="mitglied")
    topic = InquiryTopic.objects.create(organization=org, name="Bench")
    pairs = []
    member_logins = log_in(members)
    staff_logins = log_in(staff)
    for member, person, member_login, staff_login in zip(
        members, staff, member_logins, staff_logins, strict=True
    ):
        conversation = services.start_inquiry(member=member, topic=topic, text="Guten Tag!")
        Conversation.objects.filter(pk=conversation.pk).update(assigned_to=person)
        pairs.append(Pair(conversation.pk, member_login, staff_login))
    return pairs


def socket_path(conversation_id: int) -> str:
    return f"/ws/nachrichten/{conversation_id}/"


async def open_socket(
    port: int, conversation_id: int, login: Login, *, deflate: bool = True, timeout: float = 30.0
) -> tuple[Any, dict[str, Any]]:
    """A conversation socket as the page opens it (session cookie, ``Origin`` of the site),
    and its ``hello`` frame. ``deflate``: offer permessage-deflate, as browsers do."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    async def go() -> tuple[Any, dict[str, Any]]:
        ws = await connect(
            f"ws://{HOST}:{port}{socket_path(conversation_id)}",
            origin=Origin(f"http://{HOST}:{port}"),
            additional_headers={"Cookie": login.cookie_header()},
            compression="deflate" if deflate else None,
            ping_interval=None,  # the server pings (every 20 s); pages send no pings of their own
            open_timeout=timeout,
            max_queue=None,  # the benchmark's reader keeps up; never push back on the server
        )
        try:
            hello = json.loads(await ws.recv())
        except BaseException:
            await ws.close()
            raise
        if hello.get("type") != "hello":
            await ws.close()
            raise RuntimeError(f"expected hello, got {hello}")
        return ws, hello

    return await asyncio.wait_for(go(), timeout=timeout)


async def close_all(sockets: list[Any], *, timeout: float = 15.0) -> None:
    """Close the sockets (the server runs its ``disconnect`` for each); whatever has not
    closed after ``timeout`` is dropped."""
    if not sockets:
        return
    tasks = [asyncio.ensure_future(ws.close()) for ws in sockets]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    for ws in sockets:
        transport = getattr(ws, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.abort()
    if pending:
        note(f"{len(pending)} sockets did not close within {timeout:.0f} s: dropped")


def raise_open_files_limit(needed: int) -> int:
    """Raise this process's soft limit of open files to at least ``needed`` (up to the hard
    limit). Processes started afterwards (uvicorn) inherit it. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    if soft < needed:
        note(f"open-files limit {soft} < {needed}: some sockets will fail")
    return soft


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def pids_named(name: str) -> list[int]:
    """Processes whose command name (/proc/<pid>/comm) is ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each thread of a process, by thread id. The main
    thread's id is the pid: in uvicorn it runs the event loop; Channels' database calls run in
    another (``database_sync_to_async``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found
