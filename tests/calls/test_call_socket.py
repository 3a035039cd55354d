"""The call socket (P-CALL-2, P-CALL-3, P-CALL-4, P-CALL-7): who may join, presence, the two
presses, the relay between exactly two people, resuming, hanging up, and every frame checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import override_settings

from tests.calls.conftest import call_appointment, join, refusal_code
from tests.conftest import World
from tests.factories import StaffFactory
from tests.sockets import cookie_of, next_of_type, receive_json, send_json
from treffpunkt.booking.models import Appointment, AppointmentStatus
from treffpunkt.calls import services
from treffpunkt.calls.models import CallParticipation, CallPresence, CallSession, EndReason
from treffpunkt.calls.selectors import call_window
from treffpunkt.core.models import AuditEntry

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sockets_closed_at_the_end"),
]

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
PUBLIC_KEY = base64.b64encode(b"\x04" + bytes(64)).decode()


@pytest.fixture
def appointment(world: World) -> Appointment:
    return call_appointment(world)


async def join_as(user: Any, appointment: Appointment) -> WebsocketCommunicator:
    communicator, connected, code = await join(appointment.pk, await cookie_of(user))
    assert connected, code
    hello = await receive_json(communicator)
    assert hello["type"] == "hello"
    return communicator


async def both_in_call(world: World, appointment: Appointment) -> tuple[Any, Any]:
    member = await join_as(world.member, appointment)
    staff = await join_as(world.staff, appointment)
    await send_json(member, {"type": "ready"})
    await send_json(staff, {"type": "ready"})
    await next_of_type(member, "start")
    await next_of_type(staff, "start")
    return member, staff


# --- who may join ------------------------------------------------------------------------------


async def test_anonymous_visitors_cannot_join_a_call(appointment: Appointment):
    assert await refusal_code(appointment.pk, None) == 4401


@pytest.mark.parametrize(
    "role", ["other_member", "org_admin", "other_staff", "other_admin", "operator"]
)
async def test_nobody_but_the_two_people_can_join_the_signalling(
    world: World, appointment: Appointment, role: str
):
    assert await refusal_code(appointment.pk, await cookie_of(world.people[role])) == 4404
    assert not await sync_to_async(CallPresence.objects.exists)()


async def test_a_colleague_of_the_staff_member_cannot_join_either(
    world: World, appointment: Appointment
):
    colleague = await sync_to_async(StaffFactory)(organization=world.org)
    assert await refusal_code(appointment.pk, await cookie_of(colleague)) == 4404


async def test_a_forged_appointment_id_is_not_found(world: World, appointment: Appointment):
    assert await refusal_code(appointment.pk + 1000, await cookie_of(world.member)) == 4404


@pytest.mark.parametrize(
    ("starts_in", "status"),
    [
        (timedelta(hours=2), AppointmentStatus.CONFIRMED),  # window not open yet
        (timedelta(hours=-2), AppointmentStatus.CONFIRMED),  # window closed
        (timedelta(minutes=5), AppointmentStatus.REQUESTED),  # not confirmed
        (timedelta(minutes=5), AppointmentStatus.CANCELLED),
    ],
    ids=["too-early", "too-late", "requested", "cancelled"],
)
async def test_outside_the_window_or_unconfirmed_even_the_two_are_refused(
    world: World, starts_in: timedelta, status: str
):
    appointment = await sync_to_async(call_appointment)(world, starts_in=starts_in, status=status)
    for user in (world.member, world.staff):
        assert await refusal_code(appointment.pk, await cookie_of(user)) == 4403


# --- presence and the two presses (P-CALL-2, P-CALL-3) --------------------------------------------


async def test_when_both_are_on_the_page_both_are_told(world: World, appointment: Appointment):
    member = await join_as(world.member, appointment)
    alone = await next_of_type(member, "presence")
    assert alone["member_here"] and not alone["staff_here"]

    staff = await join_as(world.staff, appointment)
    for side in (member, staff):
        presence = await next_of_type(side, "presence")
        assert presence["member_here"] and presence["staff_here"]
        assert not (presence["member_ready"] or presence["staff_ready"])
    await member.disconnect()
    left = await next_of_type(staff, "presence")
    assert not left["member_here"] and left["staff_here"]
    await staff.disconnect()


async def test_one_press_starts_nothing_and_the_server_refuses_signalling(
    world: World, appointment: Appointment
):
    member = await join_as(world.member, appointment)
    staff = await join_as(world.staff, appointment)
    await send_json(member, {"type": "ready"})
    assert (await next_of_type(member, "waiting")) == {"type": "waiting"}
    presence = await next_of_type(staff, "presence")
    while not presence["member_ready"]:
        presence = await next_of_type(staff, "presence")
    assert not presence["staff_ready"]

    # A page that skips the button and sends an offer anyway gets nowhere.
    await send_json(member, {"type": "offer", "sdp": OFFER})
    assert (await next_of_type(member, "error"))["code"] == "not_in_call"
    while not await staff.receive_nothing(timeout=0.2):
        assert (await receive_json(staff))["type"] == "presence"
    assert not await sync_to_async(CallSession.objects.exists)()
    await member.disconnect()
    await staff.disconnect()


async def test_both_presses_start_the_call_with_staff_making_the_offer(
    world: World, appointment: Appointment
):
    member, staff = await both_in_call(world, appointment)
    session = await sync_to_async(CallSession.objects.get)(appointment=appointment)
    assert session.ended_at is None
    users = await sync_to_async(
        lambda: set(
            CallParticipation.objects.filter(session=session).values_list("user", flat=True)
        )
    )()
    assert users == {world.member.pk, world.staff.pk}
    assert await sync_to_async(
        AuditEntry.objects.filter(code="calls.call.started", target_id=str(session.pk)).exists
    )()
    await member.disconnect()
    await staff.disconnect()


async def test_start_tells_each_side_its_part(world: World, appointment: Appointment):
    member = await join_as(world.member, appointment)
    staff = await join_as(world.staff, appointment)
    await send_json(staff, {"type": "ready"})
    await send_json(member, {"type": "ready"})
    for side, role in ((member, "member"), (staff, "staff")):
        start = await next_of_type(side, "start")
        assert start["role"] == role
        assert start["offerer"] is (role == "staff")
        assert start["resume"] is False
        assert start["rotationSeconds"] == 30
        assert start["iceTransportPolicy"] == "all"
    await member.disconnect()
    await staff.disconnect()


# --- the relay (P-CALL-4) ---------------------------------------------------------------------


async def test_signalling_reaches_the_other_side_only_and_unchanged(
    world: World, appointment: Appointment
):
    member, staff = await both_in_call(world, appointment)
    frames = [
        {"type": "commit", "hash": base64.b64encode(bytes(32)).decode()},
        {"type": "pubkey", "key": PUBLIC_KEY},
        {"type": "offer", "sdp": OFFER},
        {
            "type": "ice",
            "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
        },
        {"type": "restart_ice"},
    ]
    for frame in frames:
        await send_json(staff, frame)
        assert await next_of_type(member, "signal") == {"type": "signal", "frame": frame}
    assert await staff.receive_nothing(timeout=0.2)
    await send_json(member, {"type": "answer", "sdp": OFFER})
    assert (await next_of_type(staff, "signal"))["frame"]["type"] == "answer"
    await member.disconnect()
    await staff.disconnect()


@override_settings(
    CALL_TURN_URLS=["turn:127.0.0.1:3478?transport=udp"],
    CALL_TURN_SECRET="geheim",
    CALL_STUN_URLS=["stun:127.0.0.1:3478"],
)
async def test_turn_credentials_are_per_user_and_call_and_expire_with_the_window(
    world: World, appointment: Appointment
):
    member = await join_as(world.member, appointment)
    staff = await join_as(world.staff, appointment)
    await send_json(member, {"type": "ready"})
    await send_json(staff, {"type": "ready"})
    names = set()
    closes = int(call_window(appointment).closes_at.timestamp())
    starts = {side: await next_of_type(side, "start") for side in (member, staff)}
    session = await sync_to_async(CallSession.objects.get)(appointment=appointment)
    for side, user in ((member, world.member), (staff, world.staff)):
        servers = starts[side]["iceServers"]
        assert servers[0] == {"urls": ["stun:127.0.0.1:3478"]}
        turn = servers[1]
        assert turn["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
        assert turn["username"] == f"{closes}:call{session.pk}-user{user.pk}"
        expected = base64.b64encode(
            hmac.new(b"geheim", turn["username"].encode(), hashlib.sha1).digest()
        ).decode()
        assert turn["credential"] == expected
        names.add(turn["username"])
    assert len(names) == 2
    await member.disconnect()
    await staff.disconnect()


# --- frames are checked ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        json.dumps([1]),
        json.dumps({"type": "framekey", "key": "AAAA"}),  # no such thing passes the server
        json.dumps({"type": "offer"}),
        json.dumps({"type": "offer", "sdp": "hello"}),
        json.dumps({"type": "offer", "sdp": "v=0" + "x" * 31_000}),
        json.dumps({"type": "ready", "extra": True}),
        json.dumps({"type": "pubkey", "key": base64.b64encode(b"\x04" + bytes(10)).decode()}),
        json.dumps({"type": "pubkey", "key": "not base64!"}),
        json.dumps({"type": "commit", "hash": base64.b64encode(bytes(31)).decode()}),
        json.dumps({"type": "ice", "candidate": "x" * 2000, "sdpMid": "0", "sdpMLineIndex": 0}),
        json.dumps({"type": "ice", "candidate": "c", "sdpMid": "0", "sdpMLineIndex": -1}),
        json.dumps({"type": "stats", "pc": "a b", "bytes_sent": 1, "bytes_received": 1}),
        json.dumps({"type": "stats", "pc": "a", "bytes_sent": -1, "bytes_received": 1}),
        json.dumps({"type": "stats", "pc": "a", "bytes_sent": True, "bytes_received": 1}),
    ],
    ids=[
        "not-json",
        "not-object",
        "unknown-type",
        "missing-field",
        "not-sdp",
        "oversized-sdp",
        "extra-field",
        "short-public-key",
        "bad-base64",
        "short-commitment",
        "long-candidate",
        "negative-line",
        "bad-connection-id",
        "negative-bytes",
        "boolean-bytes",
    ],
)
async def test_broken_frames_get_a_clear_error_and_change_nothing(
    world: World, appointment: Appointment, frame: str
):
    member, staff = await both_in_call(world, appointment)
    await member.send_to(text_data=frame)
    error = await next_of_type(member, "error")
    assert error["code"] == "invalid_frame"
    assert error["detail"]
    assert await staff.receive_nothing(timeout=0.2)
    await member.disconnect()
    await staff.disconnect()


async def test_binary_frames_are_refused(world: World, appointment: Appointment):
    member = await join_as(world.member, appointment)
    await member.send_to(bytes_data=b"\x00\x01")
    assert (await next_of_type(member, "error"))["code"] == "invalid_frame"
    await member.disconnect()


async def test_too_many_frames_close_the_socket(world: World, appointment: Appointment):
    member = await join_as(world.member, appointment)
    for _ in range(201):
        await send_json(member, {"type": "ping"})
    for _ in range(250):
        output = await member.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            assert output["code"] == 4408
            break
    else:
        raise AssertionError("the socket stayed open")


# --- reload, second window, hang-up, leaving ------------------------------------------------------


async def test_after_a_reload_the_call_resumes_without_a_second_press(
    world: World, appointment: Appointment
):
    member, staff = await both_in_call(world, appointment)
    await member.disconnect()
    member = await join_as(world.member, appointment)
    start = await next_of_type(member, "start")
    assert start["resume"] is True
    assert (await next_of_type(staff, "restart")) == {"type": "restart"}
    assert await sync_to_async(CallSession.objects.filter(ended_at__isnull=True).count)() == 1
    await member.disconnect()
    await staff.disconnect()


async def test_a_second_window_replaces_the_first(world: World, appointment: Appointment):
    first = await join_as(world.member, appointment)
    second = await join_as(world.member, appointment)
    assert (await next_of_type(first, "replaced")) == {"type": "replaced"}
    while True:
        output = await first.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            assert output["code"] == 4409
            break
    presence = await next_of_type(second, "presence")
    assert presence["member_here"]
    await second.disconnect()


async def test_hanging_up_ends_the_call_for_both(world: World, appointment: Appointment):
    member, staff = await both_in_call(world, appointment)
    await send_json(member, {"type": "hangup"})
    for side in (member, staff):
        ended = await next_of_type(side, "ended")
        assert ended == {"type": "ended", "reason": "hung_up", "by": "member"}
    session = await sync_to_async(CallSession.objects.get)(appointment=appointment)
    assert session.ended_at is not None
    assert session.end_reason == EndReason.HUNG_UP
    # After the hang-up nothing is relayed any more, and a new call needs both presses again.
    await send_json(staff, {"type": "offer", "sdp": OFFER})
    assert (await next_of_type(staff, "error"))["code"] == "not_in_call"
    await send_json(staff, {"type": "ready"})
    assert (await next_of_type(staff, "waiting")) == {"type": "waiting"}
    await member.disconnect()
    await staff.disconnect()


async def test_the_call_ends_when_both_have_left(world: World, appointment: Appointment):
    member, staff = await both_in_call(world, appointment)
    await member.disconnect()
    session = await sync_to_async(CallSession.objects.get)(appointment=appointment)
    assert session.ended_at is None  # one is still there: a reload can come back
    await staff.disconnect()
    await sync_to_async(session.refresh_from_db)()
    assert session.end_reason == EndReason.EVERYONE_LEFT


# --- the call record (P-CALL-7) ----------------------------------------------------------------


async def test_the_call_record_keeps_byte_counts_as_the_browsers_report_them(
    world: World, appointment: Appointment
):
    member, staff = await both_in_call(world, appointment)
    await send_json(
        member, {"type": "stats", "pc": "pc-1", "bytes_sent": 1000, "bytes_received": 2000}
    )
    await send_json(
        member, {"type": "stats", "pc": "pc-1", "bytes_sent": 500, "bytes_received": 2500}
    )
    assert (await next_of_type(member, "error"))["code"] == "invalid_stats"
    await send_json(member, {"type": "hangup"})
    await next_of_type(member, "ended")
    row = await sync_to_async(CallParticipation.objects.get)(user=world.member)
    assert (row.bytes_sent, row.bytes_received) == (1000, 2000)
    await member.disconnect()
    await staff.disconnect()


def test_a_call_record_holds_traffic_data_and_nothing_else():
    """Adding a field for content (a transcript, a recording path) must be a conscious change
    of this promise, so this test names every stored field."""
    session_fields = {f.name for f in CallSession._meta.concrete_fields}
    participant_fields = {f.name for f in CallParticipation._meta.concrete_fields}
    assert session_fields == {"id", "appointment", "started_at", "ended_at", "end_reason"}
    assert participant_fields == {"id", "session", "user", "bytes_sent", "bytes_received"}


def test_calls_are_ended_when_the_window_closes(world: World):
    appointment = call_appointment(world, starts_in=timedelta(minutes=-80))
    session = CallSession.objects.create(appointment=appointment, started_at=appointment.start)
    assert services.end_abandoned_calls() == 1
    session.refresh_from_db()
    assert session.end_reason == EndReason.WINDOW_CLOSED
    assert AuditEntry.objects.filter(code="calls.call.ended", target_id=str(session.pk)).exists()


def test_calls_nobody_is_on_any_more_are_ended(world: World, appointment: Appointment):
    session = CallSession.objects.create(appointment=appointment, started_at=appointment.start)
    assert services.end_abandoned_calls() == 1
    session.refresh_from_db()
    assert session.end_reason == EndReason.EVERYONE_LEFT


async def test_traffic_reports_cannot_inflate_the_record(world: World, appointment: Appointment):
    member, staff = await both_in_call(world, appointment)
    await send_json(
        member, {"type": "stats", "pc": "pc-1", "bytes_sent": 10**12, "bytes_received": 0}
    )
    assert (await next_of_type(member, "error"))["code"] == "invalid_stats"
    for number in range(25):  # a new connection id each time, to dodge the running totals
        await send_json(
            member, {"type": "stats", "pc": f"pc-{number}", "bytes_sent": 1, "bytes_received": 1}
        )
    assert (await next_of_type(member, "error"))["code"] == "invalid_stats"
    row = await sync_to_async(CallParticipation.objects.get)(user=world.member)
    assert row.bytes_sent <= 25
    await member.disconnect()
    await staff.disconnect()


async def test_a_press_during_a_running_call_hands_the_call_to_that_page(
    world: World, appointment: Appointment
):
    member, staff = await both_in_call(world, appointment)
    await send_json(member, {"type": "ready"})
    start = await next_of_type(member, "start")
    assert start["resume"] is True
    assert (await next_of_type(staff, "restart")) == {"type": "restart"}
    assert await sync_to_async(CallSession.objects.count)() == 1
    await member.disconnect()
    await staff.disconnect()


# --- the appointment changes under a running call -------------------------------------------


async def test_cancelling_the_appointment_ends_the_running_call_on_both_screens(
    world: World, appointment: Appointment
):
    from treffpunkt.booking import services as booking

    member, staff = await both_in_call(world, appointment)
    await sync_to_async(booking.cancel_appointment)(
        actor=world.staff, appointment_id=appointment.pk, reason="Krankheit"
    )
    for side in (member, staff):
        ended = await next_of_type(side, "ended")
        assert ended == {"type": "ended", "reason": "cancelled", "by": "staff"}
    session = await sync_to_async(CallSession.objects.get)(appointment=appointment)
    assert session.ended_at is not None and session.end_reason == EndReason.CANCELLED
    # And no new call: the appointment is no longer confirmed.
    await send_json(member, {"type": "ready"})
    await send_json(staff, {"type": "ready"})
    assert await sync_to_async(CallSession.objects.count)() == 1


async def test_moving_the_appointment_ends_the_running_call_with_its_reason(
    world: World, appointment: Appointment
):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from treffpunkt.booking import services as booking
    from treffpunkt.booking.models import WeeklyHours

    berlin = ZoneInfo("Europe/Berlin")
    new_start = datetime.combine(
        datetime.now(berlin).date() + timedelta(days=2), time(10), tzinfo=berlin
    )
    await sync_to_async(WeeklyHours.objects.create)(
        staff=world.staff, weekday=new_start.weekday(), start=time(8), end=time(18)
    )
    member, staff = await both_in_call(world, appointment)
    await sync_to_async(booking.move_appointment)(
        actor=world.staff, appointment_id=appointment.pk, start=new_start
    )
    for side in (member, staff):
        ended = await next_of_type(side, "ended")
        assert ended == {"type": "ended", "reason": "moved", "by": "staff"}
    session = await sync_to_async(CallSession.objects.get)(appointment=appointment)
    assert session.end_reason == EndReason.MOVED


async def test_a_page_waiting_for_the_call_is_told_when_the_appointment_is_cancelled(
    world: World, appointment: Appointment
):
    from treffpunkt.booking import services as booking

    member = await join_as(world.member, appointment)
    await sync_to_async(booking.cancel_appointment)(
        actor=world.staff, appointment_id=appointment.pk, reason="Krankheit"
    )
    ended = await next_of_type(member, "ended")
    assert ended == {"type": "ended", "reason": "cancelled", "by": "staff"}
    assert not await sync_to_async(CallSession.objects.exists)()
