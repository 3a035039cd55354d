"""No message is lost when a web process loses Redis for a few seconds (issue 15).

With the Redis channel layer, events cross processes by Redis PUBLISH/SUBSCRIBE; a message
published while a process's subscription is down never reaches that process's pages. Here the
test's own web process (the live server runs in it) has its subscriber connections to Redis
killed again and again for three seconds while both people write. Afterwards both pages show
every stored message, in order, each once: the pages saw gaps in the event numbers (or the
number in a pong) and fetched what they missed."""

from __future__ import annotations

import os
import threading
import time

import pytest
import redis
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.test_messages_flow import (
    OpenAs,
    inquiry,
    member_on,
    open_as,
    topic,
    write,
)
from tests.conftest import LiveApp, World
from treffpunkt.messaging.models import Conversation, Message

__all__ = ["inquiry", "open_as", "topic"]  # fixtures, taken over by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs the Redis channel layer (REDIS_URL); CI's second pass runs it",
    ),
]

REDIS_PORT_HEX = "18EB"  # 6379


def own_redis_ports() -> set[int]:
    """Local ports of this process's TCP connections to Redis (its sockets' inodes looked up
    in the kernel's connection table)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if remote.endswith(f":{REDIS_PORT_HEX}") and inode in inodes:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def own_subscribers(client: redis.Redis) -> list[dict[str, str]]:
    ports = own_redis_ports()
    return [
        entry
        for entry in client.client_list()
        if int(entry.get("sub", 0)) + int(entry.get("psub", 0)) > 0
        and int(entry["addr"].rsplit(":", 1)[1]) in ports
    ]


def drop_subscriptions_for(client: redis.Redis, seconds: float, killed: list[int]) -> None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        for entry in own_subscribers(client):
            client.client_kill_filter(_id=entry["id"])
            killed.append(int(entry["id"]))
        time.sleep(0.05)


def texts_on(page: Page) -> list[str]:
    return page.locator("#message-list .message-item .message-text").all_inner_texts()


def test_after_redis_dropped_for_seconds_both_pages_show_every_message_in_order_once(
    live_app: LiveApp, world: World, inquiry: Conversation, page: Page, open_as: OpenAs
) -> None:
    if "pubsub" not in settings.CHANNEL_LAYERS["default"]["BACKEND"].lower():
        pytest.skip("this test drops the subscriptions of the Redis PUBLISH/SUBSCRIBE layer")
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    member = member_on(page, live_app, world.member)
    staff = open_as(world.staff)
    member_page = member.open_conversation(inquiry)
    staff_page = staff.open_conversation(inquiry)
    write(member_page, "Vorher")
    expect(staff_page.locator("#message-list .message-text", has_text="Vorher")).to_be_visible()
    assert own_subscribers(client), "the live server has no Redis subscription to drop"

    killed: list[int] = []
    dropper = threading.Thread(target=drop_subscriptions_for, args=(client, 3.0, killed))
    dropper.start()
    for number in range(3):
        write(member_page, f"Mitglied {number}")
        write(staff_page, f"Beratung {number}")
        time.sleep(0.4)
    dropper.join(timeout=10)
    assert killed, "no connection was dropped"

    # Back: the layer subscribes again by itself; the next messages show the gap.
    deadline = time.monotonic() + 15
    while not own_subscribers(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    write(member_page, "Danach Mitglied")
    write(staff_page, "Danach Beratung")

    # Every message stored: the question, "Vorher", six during the drop, two after.
    def stored() -> list[str]:
        texts = Message.objects.filter(conversation=inquiry).order_by("pk")
        return list(texts.values_list("text", flat=True))

    deadline = time.monotonic() + 15
    while len(stored()) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(stored()) == 10, stored()
    for shown in (member_page, staff_page):
        # Within a ping (30 s) at the latest, should the last event itself have been lost.
        items = shown.locator("#message-list .message-item")
        expect(items).to_have_count(10, timeout=45_000)
        assert texts_on(shown) == stored()
