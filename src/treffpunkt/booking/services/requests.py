"""A member's request for a slot, and staff booking for a member (P-BOOK-2, P-BOOK-3).

Here too is the holding of slots that every change of time goes through (P-BOOK-6): the free
slot at a time (or the precise reason why there is none), the alternatives offered when it was
just taken, and moving a hold, which proposing another time and moving an appointment share.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.availability import Slot, horizon_end
from treffpunkt.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    BookingPolicy,
    ConsultationType,
)
from treffpunkt.booking.selectors import policy_for, slots_for
from treffpunkt.booking.services._common import _confirm, _event, _mail_member, _mail_staff
from treffpunkt.booking.signals import appointment_created
from treffpunkt.core import audit, clock, lean
from treffpunkt.core.contention import (
    a_rival_holds_the_range,
    take_turns,
    write_against_rivals,
)
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.realtime import notify_user

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
    policy: BookingPolicy | None = None,
) -> Appointment:
    """A member's binding request for a slot. The slot is held until the organization answers.
    ``policy``: the organization's booking rules when the caller has read them already.

    The same booking form sent twice (same ``request_key``) gives the same request. The usual
    request pays no query for that: a second copy fails on the unique key when it writes, or
    finds its slot taken by the first, and only then is the first copy looked up.
    """
    try:
        return _request(
            member=member,
            consultation_type=consultation_type,
            start=start,
            request_key=request_key,
            staff_id=staff_id,
            note=note,
            policy=policy,
        )
    except DomainError:
        earlier = _first_copy(member, request_key)
        if earlier is None:
            raise
        return earlier


def _first_copy(member: User, request_key: uuid.UUID) -> Appointment | None:
    return Appointment.objects.filter(member=member, request_key=request_key).first()


def _request(
    *,
    member: User,
    consultation_type: ConsultationType,
    start: datetime,
    request_key: uuid.UUID,
    staff_id: int | None,
    note: str,
    policy: BookingPolicy | None,
) -> Appointment:
    ctype = consultation_type
    if not member.is_member or ctype.organization_id != member.organization_id:
        raise NotAllowed()
    if not ctype.is_active:
        raise DomainError(_("This consultation type cannot be booked at the moment."))
    if len(note) > 500:
        raise DomainError(_("Your message is too long (at most 500 characters)."), code="note")
    if policy is not None and policy.organization_id != ctype.organization_id:
        raise ValueError("the booking rules of another organization")
    now = clock.now()
    policy = policy or policy_for(ctype.organization)  # read once for the search and the hold
    with transaction.atomic():
        slot = _free_slot_at(
            ctype,
            start,
            now=now,
            staff_ids=[staff_id] if staff_id else None,
            policy=policy,
            least_busy_first=True,
        )
        appointment, created = _hold_slot(
            member=member,
            ctype=ctype,
            slot=slot,
            key=request_key,
            now=now,
            note=note,
            policy=policy,
        )
        if not created:
            return appointment
        appointment_created.send(sender=Appointment, appointment=appointment)
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
    policy: BookingPolicy | None = None,
    least_busy_first: bool = False,
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
    policy = policy or policy_for(ctype.organization)  # once, for every search below
    day_slots = slots_for(
        ctype,
        first_day=local_day,
        days=1,
        now=now,
        staff_ids=staff_ids,
        ignore_appointment_id=ignore_appointment_id,
        policy=policy,
        least_busy_first=least_busy_first,
    )
    for slot in day_slots:
        if slot.start == start:
            return slot
    if _within_opening_hours(ctype, start, now=now, staff_ids=staff_ids, policy=policy):
        raise SlotTaken(alternatives=_alternatives(ctype, after=start, now=now, policy=policy))
    raise DomainError(
        _("There is no consultation at this time. Please choose one of the offered slots."),
        code="not_offered",
    )


def _within_opening_hours(
    ctype: ConsultationType,
    start: datetime,
    *,
    now: datetime,
    staff_ids: list[int] | None,
    policy: BookingPolicy,
) -> bool:
    """Would ``start`` be a slot if nothing were booked? Tells "taken" from "never offered"."""
    from treffpunkt.booking.availability import free_slots

    local_day = start.astimezone(ZoneInfo(ctype.organization.time_zone)).date()
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


def _alternatives(
    ctype: ConsultationType,
    *,
    after: datetime,
    now: datetime,
    policy: BookingPolicy | None = None,
) -> list[Slot]:
    local_day = after.astimezone(ZoneInfo(ctype.organization.time_zone)).date()
    found = [
        slot
        for slot in slots_for(ctype, first_day=local_day, days=14, now=now, policy=policy)
        if slot.start >= after - timedelta(hours=2)
    ]
    return found[:ALTERNATIVES_SHOWN]


def _hold_slot(
    *,
    member: User,
    ctype: ConsultationType,
    slot: Slot,
    key: uuid.UUID,
    now: datetime,
    note: str,
    policy: BookingPolicy,
) -> tuple[Appointment, bool]:
    """Insert the request for the first staff member whose slot is still free, trying the
    least busy of the day first (the slot's order)."""
    expires_at = min(
        now + timedelta(hours=policy.answer_within_hours), slot.start - ctype.min_notice
    )
    blocked_start = slot.start - ctype.buffer_before
    blocked_end = slot.end + ctype.buffer_after
    take_turns(CALENDAR, slot.staff_ids)
    for staff_id in slot.staff_ids:
        # PostgreSQL's exclusion constraint answers the insert itself; elsewhere look first.
        if not double_booking_refused_by_database() and _overlaps_a_hold(
            staff_id, start=blocked_start, end=blocked_end
        ):
            continue  # someone else got this staff member's time a moment ago
        appointment = Appointment(
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
        try:
            return write_against_rivals(partial(lean.insert, appointment)), True
        except IntegrityError as refused:
            if a_rival_holds_the_range(refused):
                continue  # someone else got this staff member's slot
            earlier = _first_copy(member, key)
            if earlier is not None:
                return earlier, False  # the same form, sent twice at the same moment
            raise  # neither a rival nor a twin: a fault, not a taken slot
    raise SlotTaken(alternatives=_alternatives(ctype, after=slot.start, now=now, policy=policy))


def double_booking_refused_by_database() -> bool:
    """PostgreSQL refuses overlapping holds of one staff member (an exclusion constraint,
    migration 0002); SQLite has none, so its writers look before they write."""
    return bool(transaction.get_connection().vendor == "postgresql")


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
        appointment_created.send(sender=Appointment, appointment=appointment)
        _confirm(appointment, actor=actor, now=now)
    return appointment


# --- moving a hold (proposing another time, moving an appointment) ---------------------------


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
