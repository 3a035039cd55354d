"""The periodic jobs (P-BOOK-4, P-BOOK-8): requests nobody answered in time expire, and
confirmed appointments get their reminders. ``booking.tasks`` runs them on schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from treffpunkt.booking.models import Appointment, AppointmentStatus, BookingPolicy, ReminderSent
from treffpunkt.booking.selectors import policy_for
from treffpunkt.booking.services._common import _mail_member, _notify_both
from treffpunkt.core import audit, clock


def _expire(appointment: Appointment, *, now: datetime) -> None:
    appointment.status = AppointmentStatus.EXPIRED
    appointment.answered_at = now
    appointment.save(update_fields=["status", "answered_at"])
    audit.record(
        "booking.appointment.expired",
        actor=None,
        target=appointment,
        organization=appointment.organization,
    )
    _mail_member(appointment, "booking/expired")
    _notify_both(appointment, "booking.expired")


def expire_unanswered_requests(*, now: datetime | None = None) -> int:
    """Requests nobody answered in time free their slot, and the member is told."""
    now = now or clock.now()
    due = list(
        Appointment.objects.filter(
            status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.PROPOSED],
            expires_at__lte=now,
        ).values_list("pk", flat=True)
    )
    expired = 0
    for appointment_id in due:
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update()
                .select_related("consultation_type", "member", "staff", "organization")
                .filter(
                    pk=appointment_id,
                    status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.PROPOSED],
                    expires_at__lte=now,
                )
                .first()
            )
            if appointment is None:
                continue  # answered meanwhile
            _expire(appointment, now=now)
            expired += 1
    return expired


def send_due_reminders(*, now: datetime | None = None) -> int:
    """One reminder per offset before each confirmed appointment, with the link to its page.

    When several offsets are due at once (the scheduler was down), only the nearest is sent.
    """
    now = now or clock.now()
    longest = max([max(p.reminder_minutes or [0]) for p in BookingPolicy.objects.all()] + [24 * 60])
    candidates = Appointment.objects.filter(
        status=AppointmentStatus.CONFIRMED,
        start__gt=now,
        start__lte=now + timedelta(minutes=longest),
    ).select_related("consultation_type", "member", "staff", "organization")
    sent = 0
    for appointment in candidates:
        offsets = policy_for(appointment.organization).reminder_minutes or []
        due = [m for m in offsets if appointment.start - timedelta(minutes=m) <= now]
        if not due:
            continue
        with transaction.atomic():
            already = set(
                ReminderSent.objects.filter(appointment=appointment).values_list(
                    "minutes_before", flat=True
                )
            )
            new = [m for m in due if m not in already]
            if not new:
                continue
            try:
                with transaction.atomic():
                    ReminderSent.objects.bulk_create(
                        [ReminderSent(appointment=appointment, minutes_before=m) for m in new]
                    )
            except IntegrityError:
                continue  # another run sent it
            _mail_member(appointment, "booking/reminder", extra={"minutes": min(due)})
            sent += 1
    return sent
