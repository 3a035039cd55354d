"""Every way an appointment changes (P-BOOK-1 … P-BOOK-8).

Each function is atomic, writes an audit entry, and queues its mails and live events so that
they leave only after commit. A slot is never given twice (P-BOOK-6): on PostgreSQL an
exclusion constraint over (staff member, blocked time range) refuses the second holder; on
SQLite every write transaction starts with BEGIN IMMEDIATE, so the check and the insert of
one request cannot interleave with another's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.availability import Slot, horizon_end
from treffpunkt.booking.calendar import CANCEL, REQUEST, build_ics, ics_attachment
from treffpunkt.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingPolicy,
    ConsultationType,
    ExceptionKind,
    HoursException,
    ReminderSent,
    WeeklyHours,
)
from treffpunkt.booking.selectors import policy_for, slots_for
from treffpunkt.core import audit, clock
from treffpunkt.core.contention import take_turns, write_against_rivals
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.realtime import notify_user
from treffpunkt.messaging.services import open_for_appointment
from treffpunkt.notifications.services import MailAttachment, queue_mail

ALTERNATIVES_SHOWN = 5
# Writers of one staff member's calendar take turns (see core.contention): no two transactions
# insert or move holds of the same staff member at once, so they never deadlock inside the
# exclusion constraint, and the check before each write sees every committed rival.
CALENDAR = "booking.calendar"


def _overlaps_a_hold(
    staff_id: int, *, start: datetime, end: datetime, ignore_appointment_id: int | None = None
) -> bool:
    """Does any holding appointment of the staff member overlap [start, end) (buffers included)?"""
    holds = Appointment.objects.filter(
        staff_id=staff_id,
        status__in=HOLDING_STATUSES,
        blocked_start__lt=end,
        blocked_end__gt=start,
    )
    if ignore_appointment_id is not None:
        holds = holds.exclude(pk=ignore_appointment_id)
    return holds.exists()


class SlotTaken(DomainError):
    """The slot was free a moment ago and is not any more. Carries fresh alternatives."""

    def __init__(self, alternatives: list[Slot]) -> None:
        super().__init__(
            _("This time slot was just taken. Please choose another one."), code="slot_taken"
        )
        self.alternatives = alternatives


# --- requests (P-BOOK-2, P-BOOK-3) -----------------------------------------------------------


def request_appointment(
    *,
    member: User,
    consultation_type: ConsultationType,
    start: datetime,
    request_key: uuid.UUID,
    staff_id: int | None = None,
    note: str = "",
) -> Appointment:
    """A member's binding request for a slot. The slot is held until the organization answers.

    The same booking form sent twice (same ``request_key``) gives the same request.
    """
    ctype = consultation_type
    if not member.is_member or ctype.organization_id != member.organization_id:
        raise NotAllowed()
    if not ctype.is_active:
        raise DomainError(_("This consultation type cannot be booked at the moment."))
    if len(note) > 500:
        raise DomainError(_("Your message is too long (at most 500 characters)."), code="note")
    existing = Appointment.objects.filter(member=member, request_key=request_key).first()
    if existing is not None:
        return existing
    now = clock.now()
    with transaction.atomic():
        slot = _free_slot_at(ctype, start, now=now, staff_ids=[staff_id] if staff_id else None)
        appointment, created = _hold_slot(
            member=member, ctype=ctype, slot=slot, key=request_key, now=now, note=note
        )
        if not created:
            return appointment
        open_for_appointment(appointment=appointment)
        audit.record(
            "booking.appointment.requested",
            actor=member,
            target=appointment,
            organization=ctype.organization,
            data={"type": ctype.pk, "start": appointment.start.isoformat()},
        )
        _mail_member(appointment, "booking/request_received")
        _mail_staff(appointment, "booking/new_request")
        notify_user(appointment.staff_id, _event("booking.request", appointment))
    return appointment


def _free_slot_at(
    ctype: ConsultationType,
    start: datetime,
    *,
    now: datetime,
    staff_ids: list[int] | None,
    ignore_appointment_id: int | None = None,
) -> Slot:
    """The free slot starting at ``start``, or the precise reason why there is none."""
    if start.tzinfo is None:
        raise DomainError(_("The time is missing its time zone."), code="invalid_time")
    if start < now:
        raise DomainError(_("This time is in the past. Please choose a future slot."), code="past")
    if start < now + ctype.min_notice:
        raise DomainError(
            _("This slot is too soon: it must be booked at least %(minutes)s minutes ahead.")
            % {"minutes": ctype.min_notice_minutes},
            code="notice",
        )
    if start >= horizon_end(ctype, now=now):
        raise DomainError(
            _("This slot is too far ahead: you can book up to %(days)s days in advance.")
            % {"days": ctype.horizon_days},
            code="horizon",
        )
    local_day = start.astimezone(ZoneInfo(ctype.organization.time_zone)).date()
    day_slots = slots_for(
        ctype,
        first_day=local_day,
        days=1,
        now=now,
        staff_ids=staff_ids,
        ignore_appointment_id=ignore_appointment_id,
    )
    for slot in day_slots:
        if slot.start == start:
            return slot
    if _within_opening_hours(ctype, start, now=now, staff_ids=staff_ids):
        raise SlotTaken(alternatives=_alternatives(ctype, after=start, now=now))
    raise DomainError(
        _("There is no consultation at this time. Please choose one of the offered slots."),
        code="not_offered",
    )


def _within_opening_hours(
    ctype: ConsultationType, start: datetime, *, now: datetime, staff_ids: list[int] | None
) -> bool:
    """Would ``start`` be a slot if nothing were booked? Tells "taken" from "never offered"."""
    from treffpunkt.booking.availability import free_slots

    local_day = start.astimezone(ZoneInfo(ctype.organization.time_zone)).date()
    policy = policy_for(ctype.organization)
    empty_world = free_slots(
        ctype,
        now=now,
        first_day=local_day,
        last_day=local_day,
        federal_state=policy.federal_state,
        staff_ids=staff_ids,
        ignore_everything_booked=True,
    )
    return any(slot.start == start for slot in empty_world)


def _alternatives(ctype: ConsultationType, *, after: datetime, now: datetime) -> list[Slot]:
    local_day = after.astimezone(ZoneInfo(ctype.organization.time_zone)).date()
    found = [
        slot
        for slot in slots_for(ctype, first_day=local_day, days=14, now=now)
        if slot.start >= after - timedelta(hours=2)
    ]
    return found[:ALTERNATIVES_SHOWN]


def _least_busy_first(slot: Slot) -> list[int]:
    """With "any staff member", give the request to whoever has the fewest held slots that day."""
    day_start = slot.start - timedelta(hours=12)
    day_end = slot.start + timedelta(hours=12)
    load = dict(
        Appointment.objects.filter(
            staff_id__in=slot.staff_ids,
            status__in=HOLDING_STATUSES,
            start__gte=day_start,
            start__lt=day_end,
        )
        .values_list("staff_id")
        .annotate(n=Count("pk"))
        .values_list("staff_id", "n")
    )
    return sorted(slot.staff_ids, key=lambda staff_id: (load.get(staff_id, 0), staff_id))


def _hold_slot(
    *,
    member: User,
    ctype: ConsultationType,
    slot: Slot,
    key: uuid.UUID,
    now: datetime,
    note: str,
) -> tuple[Appointment, bool]:
    """Insert the request for the first staff member whose slot is still free."""
    policy = policy_for(ctype.organization)
    expires_at = min(
        now + timedelta(hours=policy.answer_within_hours), slot.start - ctype.min_notice
    )
    blocked_start = slot.start - ctype.buffer_before
    blocked_end = slot.end + ctype.buffer_after
    candidates = _least_busy_first(slot)
    take_turns(CALENDAR, candidates)
    earlier = Appointment.objects.filter(member=member, request_key=key).first()
    if earlier is not None:
        return earlier, False  # the same form, sent twice at the same moment
    for staff_id in candidates:
        if _overlaps_a_hold(staff_id, start=blocked_start, end=blocked_end):
            continue  # someone else got this staff member's time a moment ago
        try:
            created = write_against_rivals(
                partial(
                    Appointment.objects.create,
                    organization=ctype.organization,
                    consultation_type=ctype,
                    member=member,
                    staff_id=staff_id,
                    start=slot.start,
                    end=slot.end,
                    blocked_start=blocked_start,
                    blocked_end=blocked_end,
                    request_key=key,
                    member_note=note.strip(),
                    expires_at=max(expires_at, now),
                )
            )
            return created, True
        except IntegrityError:
            earlier = Appointment.objects.filter(member=member, request_key=key).first()
            if earlier is not None:
                return earlier, False  # the same form, sent twice at the same moment
            continue  # the exclusion constraint: someone else got this staff member's slot
    raise SlotTaken(alternatives=_alternatives(ctype, after=slot.start, now=now))


class StaffBusy(DomainError):
    def __init__(self) -> None:
        super().__init__(
            _("The staff member already has an appointment at this time."), code="staff_busy"
        )


def book_for_member(
    *,
    actor: User,
    member: User,
    consultation_type: ConsultationType,
    staff: User,
    start: datetime,
) -> Appointment:
    """Staff enter a confirmed appointment for a member directly (agreed on the phone, or a
    short-notice call). Opening hours and notice do not apply, since staff decide; a double
    booking is still refused, as everywhere."""
    now = clock.now()
    organization = consultation_type.organization
    if not (actor.is_team and actor.organization_id == organization.pk):
        raise NotAllowed
    if member.organization_id != organization.pk or not member.is_member:
        raise NotAllowed
    if not consultation_type.staff.filter(pk=staff.pk).exists():
        raise DomainError(_("This staff member does not offer this consultation type."))
    if start < now:
        raise DomainError(_("The appointment cannot start in the past."))
    end = start + consultation_type.duration
    blocked_start = start - consultation_type.buffer_before
    blocked_end = end + consultation_type.buffer_after
    with transaction.atomic():
        take_turns(CALENDAR, [staff.pk])
        if _overlaps_a_hold(staff.pk, start=blocked_start, end=blocked_end):
            raise StaffBusy
        try:
            appointment = write_against_rivals(
                partial(
                    Appointment.objects.create,
                    organization=organization,
                    consultation_type=consultation_type,
                    member=member,
                    staff=staff,
                    start=start,
                    end=end,
                    blocked_start=blocked_start,
                    blocked_end=blocked_end,
                    request_key=uuid.uuid4(),
                )
            )
        except IntegrityError as exc:  # PostgreSQL's exclusion constraint: a race lost
            raise StaffBusy from exc
        open_for_appointment(appointment=appointment)
        _confirm(appointment, actor=actor, now=now)
    return appointment


# --- answers (P-BOOK-4) ----------------------------------------------------------------------


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


# --- cancel and move (P-BOOK-5) --------------------------------------------------------------


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
        _mail_member(appointment, "booking/cancelled", method=method, extra=extra)
        _mail_staff(appointment, "booking/cancelled_staff", method=method, extra=extra)
        _notify_both(appointment, "booking.cancelled")
    return appointment


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
    return appointment


def _move_to(appointment: Appointment, *, start: datetime, now: datetime) -> None:
    ctype = appointment.consultation_type
    take_turns(CALENDAR, [appointment.staff_id])
    slot = _free_slot_at(
        ctype,
        start,
        now=now,
        staff_ids=[appointment.staff_id],
        ignore_appointment_id=appointment.pk,
    )
    appointment.start = slot.start
    appointment.end = slot.end
    appointment.blocked_start = slot.start - ctype.buffer_before
    appointment.blocked_end = slot.end + ctype.buffer_after
    try:
        write_against_rivals(
            partial(
                appointment.save, update_fields=["start", "end", "blocked_start", "blocked_end"]
            )
        )
    except IntegrityError as exc:
        raise SlotTaken(alternatives=_alternatives(ctype, after=start, now=now)) from exc


# --- periodic jobs (P-BOOK-4, P-BOOK-8) ------------------------------------------------------


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


# --- settings of the organization (P-BOOK-1) -------------------------------------------------


@dataclass(frozen=True)
class TypeFields:
    name: str
    description: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    is_active: bool
    staff_ids: list[int]


def save_consultation_type(
    *, admin: User, fields: TypeFields, type_id: int | None = None
) -> ConsultationType:
    if not admin.is_org_admin or admin.organization is None:
        raise NotAllowed()
    staff = list(
        User.objects.filter(
            pk__in=fields.staff_ids,
            organization=admin.organization,
            role__in=["staff", "org_admin"],
        )
    )
    if len(staff) != len(set(fields.staff_ids)):
        raise DomainError(_("Please choose staff members of your organization."), code="staff")
    with transaction.atomic():
        if type_id is None:
            ctype = ConsultationType(organization=admin.organization)
        else:
            found = (
                ConsultationType.objects.select_for_update()
                .filter(pk=type_id, organization=admin.organization)
                .first()
            )
            if found is None:
                raise NotAllowed()
            ctype = found
        for name, value in vars(fields).items():
            if name != "staff_ids":
                setattr(ctype, name, value)
        ctype.full_clean(exclude=["organization"])
        ctype.save()
        ctype.staff.set(staff)
        audit.record(
            "booking.type.created" if type_id is None else "booking.type.changed",
            actor=admin,
            target=ctype,
            organization=admin.organization,
        )
    return ctype


def _may_edit_hours(actor: User, staff: User) -> None:
    same_org = actor.organization_id is not None and actor.organization_id == staff.organization_id
    if not (same_org and staff.is_team and (actor.is_org_admin or actor.pk == staff.pk)):
        raise NotAllowed()


def set_weekly_hours(
    *, actor: User, staff: User, intervals: list[tuple[int, time, time]]
) -> list[WeeklyHours]:
    """Replace a staff member's weekly hours. Intervals of one day must not overlap."""
    _may_edit_hours(actor, staff)
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in intervals:
        if not 0 <= weekday <= 6 or end <= start:
            raise DomainError(_("Each interval needs a weekday and an end after its start."))
        by_day.setdefault(weekday, []).append((start, end))
    for spans in by_day.values():
        spans.sort()
        for (_s1, e1), (s2, _e2) in pairwise(spans):
            if s2 < e1:
                raise DomainError(_("Two intervals on the same day overlap."), code="overlap")
    with transaction.atomic():
        WeeklyHours.objects.filter(staff=staff).delete()
        rows = WeeklyHours.objects.bulk_create(
            [WeeklyHours(staff=staff, weekday=d, start=s, end=e) for d, s, e in intervals]
        )
        audit.record(
            "booking.hours.changed",
            actor=actor,
            target=staff,
            organization=staff.organization,
            data={"intervals": len(rows)},
        )
    return rows


def add_hours_exception(
    *,
    actor: User,
    staff: User,
    day: date,
    kind: str,
    start: time | None = None,
    end: time | None = None,
    note: str = "",
) -> HoursException:
    _may_edit_hours(actor, staff)
    if kind not in ExceptionKind.values:
        raise DomainError(_("Please choose a kind of change."))
    if (start is None) != (end is None) or (start and end and end <= start):
        raise DomainError(_("Give both times, with the end after the start, or none."))
    if kind == ExceptionKind.EXTRA and start is None:
        raise DomainError(_("Extra hours need a start and an end."))
    with transaction.atomic():
        exception = HoursException.objects.create(
            staff=staff, date=day, kind=kind, start=start, end=end, note=note.strip()[:120]
        )
        audit.record(
            "booking.hours.exception_added",
            actor=actor,
            target=staff,
            organization=staff.organization,
            data={"date": day.isoformat(), "kind": kind},
        )
    return exception


def remove_hours_exception(*, actor: User, exception_id: int) -> None:
    with transaction.atomic():
        exception = HoursException.objects.select_related("staff").filter(pk=exception_id).first()
        if exception is None:
            raise NotAllowed()
        _may_edit_hours(actor, exception.staff)
        exception.delete()
        audit.record(
            "booking.hours.exception_removed",
            actor=actor,
            target=exception.staff,
            organization=exception.staff.organization,
        )


def update_policy(
    *,
    admin: User,
    federal_state: str,
    answer_within_hours: int,
    member_change_cutoff_hours: int,
    reminder_minutes: list[int],
) -> BookingPolicy:
    if not admin.is_org_admin or admin.organization is None:
        raise NotAllowed()
    with transaction.atomic():
        policy = policy_for(admin.organization)
        policy.federal_state = federal_state
        policy.answer_within_hours = answer_within_hours
        policy.member_change_cutoff_hours = member_change_cutoff_hours
        policy.reminder_minutes = sorted({m for m in reminder_minutes if m > 0}, reverse=True)
        policy.full_clean(exclude=["organization"])
        policy.save()
        audit.record(
            "booking.policy.changed", actor=admin, target=policy, organization=admin.organization
        )
    return policy


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
    """Queue a mail about an appointment to one side, with its calendar part when ``method``."""
    queue_mail(
        template=template,
        recipient=appointment.member if to_member else appointment.staff,
        context=_context(appointment, extra),
        attachments=[_ics(appointment, method=method, for_member=to_member)] if method else None,
    )


def _mail_member(appointment: Appointment, template: str, **options: Any) -> None:
    _mail(appointment, template, to_member=True, **options)


def _mail_staff(appointment: Appointment, template: str, **options: Any) -> None:
    _mail(appointment, template, to_member=False, **options)


def _event(kind: str, appointment: Appointment) -> dict[str, Any]:
    return {"type": kind, "appointment": appointment.pk, "status": appointment.status}


def _notify_both(appointment: Appointment, kind: str) -> None:
    notify_user(appointment.member_id, _event(kind, appointment))
    notify_user(appointment.staff_id, _event(kind, appointment))
