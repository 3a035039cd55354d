"""Call fixtures: a confirmed appointment between the world's member and staff member whose
call window is open now (real clock), and sockets onto its call page."""

from __future__ import annotations

import uuid
from datetime import timedelta

from channels.testing.websocket import WebsocketCommunicator
from django.utils import timezone

from tests.conftest import World
from tests.sockets import open_socket
from tests.sockets import refusal_code as socket_refusal_code
from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment, AppointmentStatus, ConsultationType


def confirmed_call(
    *,
    member: User,
    staff: User,
    starts_in: timedelta = timedelta(minutes=5),
    status: str = AppointmentStatus.CONFIRMED,
) -> Appointment:
    """A 30-minute appointment of ``member`` with ``staff`` (same organization), by default
    confirmed and starting in 5 minutes: its call window is open now."""
    organization = staff.organization
    assert organization is not None
    ctype, _ = ConsultationType.objects.get_or_create(
        organization=organization, name="Beratung", defaults={"duration_minutes": 30}
    )
    ctype.staff.add(staff)
    start = timezone.now().replace(microsecond=0) + starts_in
    return Appointment.objects.create(
        organization=organization,
        consultation_type=ctype,
        member=member,
        staff=staff,
        start=start,
        end=start + timedelta(minutes=30),
        blocked_start=start,
        blocked_end=start + timedelta(minutes=30),
        request_key=uuid.uuid4(),
        status=status,
    )


def call_appointment(
    world: World,
    *,
    starts_in: timedelta = timedelta(minutes=5),
    status: str = AppointmentStatus.CONFIRMED,
) -> Appointment:
    return confirmed_call(
        member=world.member, staff=world.staff, starts_in=starts_in, status=status
    )


async def join(
    appointment_id: int, cookie: str | None
) -> tuple[WebsocketCommunicator, bool, int | None]:
    return await open_socket(f"/ws/gespraech/{appointment_id}/", cookie)


async def refusal_code(appointment_id: int, cookie: str | None) -> int | None:
    return await socket_refusal_code(f"/ws/gespraech/{appointment_id}/", cookie)
