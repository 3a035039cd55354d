"""Reads for booking, scoped to the viewer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.http import Http404

from treffpunkt.accounts.models import Organization, User
from treffpunkt.booking.availability import Slot, free_slots
from treffpunkt.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingPolicy,
    ConsultationType,
)
from treffpunkt.core import clock


def policy_for(organization: Organization) -> BookingPolicy:
    """The organization's booking rules, made with defaults the first time."""
    return BookingPolicy.objects.get_or_create(organization=organization)[0]


class BookableType(NamedTuple):
    """A type a member may book, with its organization's booking rules (a request needs both)."""

    consultation_type: ConsultationType
    policy: BookingPolicy


def bookable_types(member: User) -> QuerySet[ConsultationType]:
    # By id: the member's organization object is not needed, so it is not loaded.
    organization_id = member.organization_id
    if organization_id is None:
        return ConsultationType.objects.none()
    return ConsultationType.objects.filter(
        organization_id=organization_id, is_active=True, staff__isnull=False
    ).distinct()


def bookable_type(member: User, type_id: int) -> BookableType:
    """A type the member may book and its organization's rules, in one query, or 404 (another
    organization's types do not exist). (The filter of ``bookable_types`` without its DISTINCT
    and ordering: one row is asked for.)"""
    organization_id = member.organization_id
    if organization_id is None:
        raise Http404
    found = list(
        ConsultationType.objects.select_related("organization", "organization__booking_policy")
        .filter(pk=type_id, organization_id=organization_id, is_active=True, staff__isnull=False)
        .order_by()[:1]
    )
    if not found:
        raise Http404
    ctype = found[0]
    try:
        policy = ctype.organization.booking_policy  # joined above: no query
    except BookingPolicy.DoesNotExist:  # rules never saved: made with defaults now
        policy = policy_for(ctype.organization)
    return BookableType(consultation_type=ctype, policy=policy)


def slots_for(
    ctype: ConsultationType,
    *,
    first_day: date,
    days: int,
    now: datetime | None = None,
    staff_ids: list[int] | None = None,
    ignore_appointment_id: int | None = None,
    policy: BookingPolicy | None = None,
    least_busy_first: bool = False,
) -> list[Slot]:
    """``policy``: the organization's booking rules when the caller has read them already."""
    policy = policy or policy_for(ctype.organization)
    return free_slots(
        ctype,
        now=now or clock.now(),
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
        federal_state=policy.federal_state,
        staff_ids=staff_ids,
        ignore_appointment_id=ignore_appointment_id,
        least_busy_first=least_busy_first,
    )


def organization_today(organization: Organization) -> date:
    return clock.now().astimezone(ZoneInfo(organization.time_zone)).date()


def appointment_for(viewer: User, appointment_id: int) -> Appointment:
    """The member sees their own; staff and admins their organization's; everyone else 404."""
    query = Appointment.objects.select_related(
        "consultation_type", "member", "staff", "organization"
    ).filter(pk=appointment_id)
    if viewer.is_member:
        query = query.filter(member=viewer)
    elif viewer.is_team:
        query = query.filter(organization=viewer.organization)
    else:
        raise Http404
    appointment = query.first()
    if appointment is None:
        raise Http404
    return appointment


def member_appointments(member: User) -> dict[str, list[Appointment]]:
    now = clock.now()
    mine = Appointment.objects.filter(member=member).select_related("consultation_type", "staff")
    return {
        "requests": list(
            mine.filter(
                status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.PROPOSED], end__gt=now
            )
        ),
        "upcoming": list(mine.filter(status=AppointmentStatus.CONFIRMED, end__gt=now)),
        "past": list(
            mine.filter(Q(end__lte=now) | ~Q(status__in=HOLDING_STATUSES)).order_by("-start")[:50]
        ),
    }


def open_requests_for(viewer: User, *, only_mine: bool) -> QuerySet[Appointment]:
    query = Appointment.objects.filter(
        organization=viewer.organization,
        status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.PROPOSED],
        end__gt=clock.now(),
    ).select_related("consultation_type", "member", "staff")
    if only_mine:
        query = query.filter(staff=viewer)
    return query.order_by("expires_at", "start")


def agenda_for(
    viewer: User, *, first_day: date, days: int, staff_id: int | None
) -> QuerySet[Appointment]:
    zone = ZoneInfo(viewer.organization.time_zone if viewer.organization else "Europe/Berlin")
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=days)
    query = Appointment.objects.filter(
        organization=viewer.organization,
        status__in=HOLDING_STATUSES,
        start__lt=end,
        end__gt=start,
    ).select_related("consultation_type", "member", "staff")
    if staff_id is not None:
        query = query.filter(staff_id=staff_id)
    return query.order_by("start")


def team_members(viewer: User) -> QuerySet[User]:
    from treffpunkt.accounts.selectors import team_for

    return team_for(viewer)
