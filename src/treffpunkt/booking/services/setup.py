"""The organization's booking settings (P-BOOK-1): consultation types, the staff members' weekly
hours and their one-off exceptions, and the booking policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from itertools import pairwise

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import (
    BookingPolicy,
    ConsultationType,
    ExceptionKind,
    HoursException,
    WeeklyHours,
)
from treffpunkt.booking.selectors import policy_for
from treffpunkt.core import audit
from treffpunkt.core.errors import DomainError, NotAllowed


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
