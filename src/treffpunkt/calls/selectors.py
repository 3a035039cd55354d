"""Reads for calls: the call window and who may open a call page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import Http404

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment
from treffpunkt.calls.models import CallSession

MEMBER = "member"
STAFF = "staff"


@dataclass(frozen=True)
class CallWindow:
    """When the call page of an appointment is open (P-CALL-1: in the agreed time slot)."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def not_yet(self, now: datetime) -> bool:
        return now < self.opens_at


def call_window(appointment: Appointment) -> CallWindow:
    return CallWindow(
        opens_at=appointment.start - timedelta(minutes=settings.CALL_OPENS_MINUTES_BEFORE),
        closes_at=appointment.end + timedelta(minutes=settings.CALL_CLOSES_MINUTES_AFTER),
    )


def role_in_call(appointment: Appointment, user: User) -> str | None:
    """ "member" or "staff" for the two people of the appointment, None for everybody else."""
    if user.pk == appointment.member_id:
        return MEMBER
    if user.pk == appointment.staff_id:
        return STAFF
    return None


def call_appointment_for(viewer: User, appointment_id: int) -> Appointment:
    """The appointment if the viewer is its member or its staff member; everyone else 404,
    colleagues and admins of the same organization included: a call is between two people."""
    appointment = (
        Appointment.objects.select_related("consultation_type", "member", "staff", "organization")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or role_in_call(appointment, viewer) is None:
        raise Http404
    return appointment


def running_session(appointment_id: int) -> CallSession | None:
    return CallSession.objects.filter(appointment_id=appointment_id, ended_at__isnull=True).first()
