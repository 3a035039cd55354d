"""Every live event a page receives has one registered schema, and every registered event has a
test here that makes it happen the way the product does and checks its payload against the
schema (as Zulip's event tests do). An event without a scenario here fails the suite."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from tests.conftest import World
from treffpunkt.booking import services as booking
from treffpunkt.booking.models import Appointment, ConsultationType, WeeklyHours
from treffpunkt.core import realtime
from treffpunkt.core.realtime import checked_event, notify_user
from treffpunkt.core.registries import registry
from treffpunkt.messaging import services as messaging
from treffpunkt.messaging.models import Conversation
from treffpunkt.messaging.selectors import unread_count

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
Sent = list[dict[str, Any]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """The events the product hands to the event stream, in order."""
    events: Sent = []

    def capture(group: str, message: dict[str, Any]) -> None:
        if message.get("type") == "user.event":
            events.append(message["event"])

    monkeypatch.setattr(realtime, "send_to_group_after_commit", capture)
    return events


def _ten_next_weekday() -> datetime:
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=BERLIN)


def _requested(world: World, start: datetime | None = None) -> Appointment:
    ctype, _ = ConsultationType.objects.get_or_create(
        organization=world.org,
        name="Beratung",
        defaults={"duration_minutes": 30, "min_notice_minutes": 0},
    )
    ctype.staff.set([world.staff])
    for weekday in range(5):
        WeeklyHours.objects.get_or_create(
            staff=world.staff, weekday=weekday, start=time(8), end=time(18)
        )
    return booking.request_appointment(
        member=world.member,
        consultation_type=ctype,
        start=start or _ten_next_weekday(),
        request_key=uuid.uuid4(),
    )


def _confirmed(world: World) -> Appointment:
    appointment = _requested(world)
    return booking.confirm_appointment(actor=world.staff, appointment_id=appointment.pk)


def _request(world: World) -> None:
    _requested(world)


def _confirm(world: World) -> None:
    _confirmed(world)


def _decline(world: World) -> None:
    appointment = _requested(world)
    booking.decline_appointment(actor=world.staff, appointment_id=appointment.pk, reason="Urlaub")


def _propose(world: World) -> None:
    appointment = _requested(world)
    booking.propose_other_time(
        actor=world.staff,
        appointment_id=appointment.pk,
        start=appointment.start + timedelta(hours=2),
    )


def _cancel(world: World) -> None:
    appointment = _confirmed(world)
    booking.cancel_appointment(actor=world.member, appointment_id=appointment.pk)


def _move(world: World) -> None:
    appointment = _confirmed(world)
    booking.move_appointment(
        actor=world.staff,
        appointment_id=appointment.pk,
        start=appointment.start + timedelta(hours=3),
    )


def _expire(world: World) -> None:
    appointment = _requested(world)
    booking.expire_unanswered_requests(now=appointment.expires_at + timedelta(seconds=1))


def _staff_answers(world: World) -> None:
    appointment = _requested(world)
    conversation = Conversation.objects.get(appointment=appointment)
    messaging.post_message(author=world.staff, conversation=conversation, text="Gern, bis dann.")


def _unread_count(world: World) -> None:
    # The event stream's consumer sends the count itself; it goes through the same check.
    notify_user(
        world.member.pk, checked_event({"type": "unread", "count": unread_count(world.member)})
    )


SCENARIOS: dict[str, Callable[[World], None]] = {
    "booking.request": _request,
    "booking.confirmed": _confirm,
    "booking.declined": _decline,
    "booking.proposed": _propose,
    "booking.cancelled": _cancel,
    "booking.moved": _move,
    "booking.expired": _expire,
    "messages.new": _staff_answers,
    "unread": _unread_count,
}


def test_every_registered_live_event_has_a_scenario_here() -> None:
    assert set(SCENARIOS) == set(registry.live_events)


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_the_event_the_product_sends_matches_its_registered_schema(
    kind: str, world: World, sent: Sent
) -> None:
    SCENARIOS[kind](world)
    payloads = [event for event in sent if event["type"] == kind]
    assert payloads, f"the scenario did not send {kind}"
    schema = registry.live_events[kind].schema
    for payload in payloads:
        # The stream's number is the envelope every event gets; the rest is the event's own.
        own = {name: value for name, value in payload.items() if name != "seq"}
        assert isinstance(payload["seq"], int) and payload["seq"] > 0
        msgspec.convert(own, schema)  # raises on any missing, extra or mistyped field


def test_an_unregistered_event_is_refused_where_it_is_made() -> None:
    with pytest.raises(LookupError):
        checked_event({"type": "booking.teleported", "appointment": 1, "status": "x"})


def test_a_payload_off_its_schema_is_refused_where_it_is_made() -> None:
    with pytest.raises(msgspec.ValidationError):
        checked_event({"type": "booking.confirmed", "appointment": "one", "status": "confirmed"})
    with pytest.raises(msgspec.ValidationError):
        checked_event({"type": "messages.new", "url": "/x/", "text": "no content in events"})
