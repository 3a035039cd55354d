"""Cancelling and moving a request or an appointment (P-BOOK-5). Members may change a confirmed
appointment only until the organization's cut-off; staff can always cancel."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.calendar import CANCEL, REQUEST
from treffpunkt.booking.change_listeners import appointment_changed
from treffpunkt.booking.models import Appointment, AppointmentStatus, ReminderSent
from treffpunkt.booking.selectors import policy_for
from treffpunkt.booking.services._common import (
    _locked_for_member,
    _locked_for_team,
    _mail_member,
    _mail_staff,
    _notify_both,
)
from treffpunkt.booking.services.requests import _move_to
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError


def _locked_for(actor: User, appointment_id: int) -> Appointment:
    if actor.is_member:
        return _locked_for_member(actor, appointment_id)
    return _locked_for_team(actor, appointment_id)


def _check_member_cutoff(actor: User, appointment: Appointment, now: datetime) -> None:
    """Members may change a confirmed appointment only until the organization's cut-off; staff
    can always cancel (illness happens) and the member is told at once."""
    if not actor.is_member or appointment.status != AppointmentStatus.CONFIRMED:
        return
    cutoff = timedelta(hours=policy_for(appointment.organization).member_change_cutoff_hours)
    if appointment.start - now < cutoff:
        raise DomainError(
            _(
                "Changes are possible up to %(hours)s hours before the appointment. "
                "Please send a message to your organization instead."
            )
            % {"hours": int(cutoff.total_seconds() // 3600)},
            code="cutoff",
        )


def cancel_appointment(*, actor: User, appointment_id: int, reason: str = "") -> Appointment:
    """Either side cancels a request or an appointment; both calendars get METHOD:CANCEL."""
    now = clock.now()
    with transaction.atomic():
        appointment = _locked_for(actor, appointment_id)
        if not appointment.is_holding or appointment.end <= now:
            raise DomainError(_("This appointment cannot be cancelled any more."), code="state")
        if actor.is_team and len(reason.strip()) < 3:
            raise DomainError(_("Please give the member a reason."), code="reason")
        _check_member_cutoff(actor, appointment, now)
        _cancel(appointment, actor=actor, reason=reason, now=now)
    return appointment


def cancel_for_deleted_account(*, member: User, appointment_id: int) -> Appointment:
    """The member deletes their account: their coming appointments and open requests end, also
    within the change cut-off (there is nobody left to come). The staff member is told."""
    now = clock.now()
    with transaction.atomic():
        appointment = _locked_for_member(member, appointment_id)
        if appointment.is_holding and appointment.end > now:
            _cancel(
                appointment,
                actor=member,
                reason=_("The member deleted their account."),
                now=now,
                tell_member=False,
            )
    return appointment


def _cancel(
    appointment: Appointment, *, actor: User, reason: str, now: datetime, tell_member: bool = True
) -> None:
    """Cancel the locked ``appointment`` (inside the caller's transaction)."""
    was_confirmed = appointment.status == AppointmentStatus.CONFIRMED
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = actor
    appointment.cancel_reason = reason.strip()[:500]
    appointment.calendar_sequence += 1
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancel_reason",
            "calendar_sequence",
        ]
    )
    audit.record(
        "booking.appointment.cancelled",
        actor=actor,
        target=appointment,
        organization=appointment.organization,
        data={"was_confirmed": was_confirmed},
    )
    method = CANCEL if was_confirmed else None
    extra = {"was_confirmed": was_confirmed}
    if tell_member:
        _mail_member(appointment, "booking/cancelled", method=method, extra=extra)
    _mail_staff(appointment, "booking/cancelled_staff", method=method, extra=extra)
    _notify_both(appointment, "booking.cancelled")
    appointment_changed(appointment, "cancelled", actor=actor)


def move_appointment(*, actor: User, appointment_id: int, start: datetime) -> Appointment:
    """Move a confirmed appointment to another free slot of the same staff member; both sides
    get an updated invitation (same UID, higher SEQUENCE)."""
    now = clock.now()
    with transaction.atomic():
        appointment = _locked_for(actor, appointment_id)
        if appointment.status != AppointmentStatus.CONFIRMED or appointment.end <= now:
            raise DomainError(_("Only a coming, confirmed appointment can be moved."), code="state")
        _check_member_cutoff(actor, appointment, now)
        old_start = appointment.start
        _move_to(appointment, start=start, now=now)
        appointment.calendar_sequence += 1
        appointment.save(update_fields=["calendar_sequence"])
        ReminderSent.objects.filter(appointment=appointment).delete()
        audit.record(
            "booking.appointment.moved",
            actor=actor,
            target=appointment,
            organization=appointment.organization,
            data={"from": old_start.isoformat(), "to": appointment.start.isoformat()},
        )
        _mail_member(appointment, "booking/moved", method=REQUEST, extra={"old_start": old_start})
        _mail_staff(
            appointment, "booking/moved_staff", method=REQUEST, extra={"old_start": old_start}
        )
        _notify_both(appointment, "booking.moved")
        appointment_changed(appointment, "moved", actor=actor)
    return appointment
