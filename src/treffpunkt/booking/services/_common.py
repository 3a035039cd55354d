"""What the booking modules share: the row lock on an appointment for either side, confirming
(an answer to a request, or staff booking directly), and the mails (with their calendar part)
and live events about an appointment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from treffpunkt.accounts.models import User
from treffpunkt.booking.calendar import REQUEST, build_ics, ics_attachment
from treffpunkt.booking.models import Appointment, AppointmentStatus
from treffpunkt.core import audit, lean
from treffpunkt.core.errors import NotAllowed
from treffpunkt.core.realtime import notify_user
from treffpunkt.notifications.services import MailAttachment, queue_mail


def _locked_for_team(actor: User, appointment_id: int) -> Appointment:
    if not actor.is_team:
        raise NotAllowed()
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("consultation_type", "member", "staff", "organization")
        .filter(pk=appointment_id, organization=actor.organization)
        .first()
    )
    if appointment is None:
        raise NotAllowed()
    return appointment


def _locked_for_member(member: User, appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("consultation_type", "member", "staff", "organization")
        .filter(pk=appointment_id, member=member)
        .first()
    )
    if appointment is None:
        raise NotAllowed()
    return appointment


def _confirm(appointment: Appointment, *, actor: User, now: datetime) -> None:
    appointment.status = AppointmentStatus.CONFIRMED
    appointment.answered_at = now
    appointment.expires_at = None
    appointment.save(update_fields=["status", "answered_at", "expires_at"])
    audit.record(
        "booking.appointment.confirmed",
        actor=actor,
        target=appointment,
        organization=appointment.organization,
    )
    _mail_member(appointment, "booking/confirmed", method=REQUEST)
    _mail_staff(appointment, "booking/confirmed_staff", method=REQUEST)
    _notify_both(appointment, "booking.confirmed")


# --- mails and events ------------------------------------------------------------------------


def _ics(appointment: Appointment, *, method: str, for_member: bool) -> MailAttachment:
    ctype = appointment.consultation_type
    if for_member:
        summary = f"{ctype.name} – {appointment.organization.name}"
        attendee_email = appointment.member.email
        attendee_name = appointment.member.display_name
    else:
        # RFC 5546 wants an ATTENDEE in every REQUEST and CANCEL. The staff member's copy names
        # the staff member (the recipient); the member appears by display name in the summary
        # only: a staff member's calendar never holds a member's address.
        summary = f"{ctype.name} – {appointment.member.display_name}"
        attendee_email = appointment.staff.email
        attendee_name = appointment.staff.display_name
    content = build_ics(
        appointment,
        method=method,
        summary=summary,
        description=settings.SITE_URL + appointment.get_absolute_url(),
        attendee_email=attendee_email,
        attendee_name=attendee_name,
    )
    return ics_attachment(content, method=method)


def _context(appointment: Appointment, extra: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "appointment": appointment,
        "appointment_url": settings.SITE_URL + appointment.get_absolute_url(),
        "organization": appointment.organization,
        **(extra or {}),
    }


def _mail(
    appointment: Appointment,
    template: str,
    *,
    to_member: bool,
    method: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queue a mail about an appointment to one side, with its calendar part when ``method``.

    The calendar part is made now; the texts are rendered by the delivery, off the request
    (issue 15: rendering was about a sixth of a booking request's CPU)."""
    queue_mail(
        template=template,
        recipient=appointment.member if to_member else _staff_of(appointment),
        context=_context(appointment, extra),
        attachments=[_ics(appointment, method=method, for_member=to_member)] if method else None,
        render_later=True,
    )


def _staff_of(appointment: Appointment) -> User:
    """The appointment's staff member, read by one written-out statement when not loaded yet
    (a new request has only the id; the ORM's lookup was a third of its staff mail's CPU)."""
    if not Appointment.staff.is_cached(appointment):
        staff = lean.get(User, appointment.staff_id)
        if staff is None:  # pragma: no cover (a protected key: the row exists)
            raise User.DoesNotExist
        appointment.staff = staff
    return appointment.staff


def _mail_member(appointment: Appointment, template: str, **options: Any) -> None:
    _mail(appointment, template, to_member=True, **options)


def _mail_staff(appointment: Appointment, template: str, **options: Any) -> None:
    _mail(appointment, template, to_member=False, **options)


def _event(kind: str, appointment: Appointment) -> dict[str, Any]:
    return {"type": kind, "appointment": appointment.pk, "status": appointment.status}


def _notify_both(appointment: Appointment, kind: str) -> None:
    notify_user(appointment.member_id, _event(kind, appointment))
    notify_user(appointment.staff_id, _event(kind, appointment))
