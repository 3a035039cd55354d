"""The answers to a request (P-BOOK-4): the organization confirms it, declines it or proposes
another time; the member accepts or declines a proposed time. An answer that comes after the
request's deadline rolls back, and the request expires for good."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment, AppointmentStatus
from treffpunkt.booking.selectors import policy_for
from treffpunkt.booking.services._common import (
    _confirm,
    _locked_for_member,
    _locked_for_team,
    _mail_member,
    _mail_staff,
    _notify_both,
)
from treffpunkt.booking.services.jobs import expire_unanswered_requests
from treffpunkt.booking.services.requests import _move_to
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError


class RequestExpired(DomainError):
    def __init__(self) -> None:
        super().__init__(_("This request has expired in the meantime."), code="expired")


@contextmanager
def _answer_in_time(now: datetime) -> Iterator[None]:
    """One answer to an open request, atomically. If the request's deadline has passed, the
    answer's transaction rolls back and the request is expired for good."""
    try:
        with transaction.atomic():
            yield
    except RequestExpired:
        expire_unanswered_requests(now=now)
        raise


def _require_open_request(appointment: Appointment, status: str, now: datetime) -> None:
    if appointment.status == status and appointment.expires_at and appointment.expires_at <= now:
        raise RequestExpired()
    if appointment.status != status:
        raise DomainError(
            _("This request was already answered (%(status)s).")
            % {"status": appointment.get_status_display()},
            code="answered",
        )


def confirm_appointment(*, actor: User, appointment_id: int) -> Appointment:
    now = clock.now()
    with _answer_in_time(now):
        appointment = _locked_for_team(actor, appointment_id)
        _require_open_request(appointment, AppointmentStatus.REQUESTED, now)
        _confirm(appointment, actor=actor, now=now)
    return appointment


def decline_appointment(*, actor: User, appointment_id: int, reason: str) -> Appointment:
    reason = reason.strip()
    if len(reason) < 3:
        raise DomainError(_("Please give the member a reason."), code="reason")
    now = clock.now()
    with _answer_in_time(now):
        appointment = _locked_for_team(actor, appointment_id)
        _require_open_request(appointment, AppointmentStatus.REQUESTED, now)
        appointment.status = AppointmentStatus.DECLINED
        appointment.answered_at = now
        appointment.decline_reason = reason[:500]
        appointment.save(update_fields=["status", "answered_at", "decline_reason"])
        audit.record(
            "booking.appointment.declined",
            actor=actor,
            target=appointment,
            organization=appointment.organization,
        )
        _mail_member(appointment, "booking/declined")
        _notify_both(appointment, "booking.declined")
    return appointment


def propose_other_time(*, actor: User, appointment_id: int, start: datetime) -> Appointment:
    """Staff offer another slot; it is held for the member, who accepts or declines it."""
    now = clock.now()
    with _answer_in_time(now):
        appointment = _locked_for_team(actor, appointment_id)
        _require_open_request(appointment, AppointmentStatus.REQUESTED, now)
        _move_to(appointment, start=start, now=now)
        policy = policy_for(appointment.organization)
        appointment.status = AppointmentStatus.PROPOSED
        appointment.expires_at = max(
            now,
            min(
                now + timedelta(hours=policy.answer_within_hours),
                appointment.start - appointment.consultation_type.min_notice,
            ),
        )
        appointment.save(update_fields=["status", "expires_at"])
        audit.record(
            "booking.appointment.proposed",
            actor=actor,
            target=appointment,
            organization=appointment.organization,
            data={"start": appointment.start.isoformat()},
        )
        _mail_member(appointment, "booking/proposed")
        _notify_both(appointment, "booking.proposed")
    return appointment


def accept_proposal(*, member: User, appointment_id: int) -> Appointment:
    now = clock.now()
    with _answer_in_time(now):
        appointment = _locked_for_member(member, appointment_id)
        _require_open_request(appointment, AppointmentStatus.PROPOSED, now)
        _confirm(appointment, actor=member, now=now)
    return appointment


def decline_proposal(*, member: User, appointment_id: int) -> Appointment:
    now = clock.now()
    with _answer_in_time(now):
        appointment = _locked_for_member(member, appointment_id)
        _require_open_request(appointment, AppointmentStatus.PROPOSED, now)
        appointment.status = AppointmentStatus.DECLINED
        appointment.answered_at = now
        appointment.decline_reason = _("The member declined the proposed time.")
        appointment.save(update_fields=["status", "answered_at", "decline_reason"])
        audit.record(
            "booking.appointment.proposal_declined",
            actor=member,
            target=appointment,
            organization=appointment.organization,
        )
        _mail_staff(appointment, "booking/proposal_declined")
        _notify_both(appointment, "booking.declined")
    return appointment
