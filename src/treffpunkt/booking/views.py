"""Booking pages for members and staff. Each view checks who may act, validates, calls one
service and turns a domain error into a message."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from itertools import groupby
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import login_required, member_required, team_required
from treffpunkt.booking import selectors, services
from treffpunkt.booking.availability import Slot
from treffpunkt.booking.forms import (
    CancelForm,
    ChooseSlotForm,
    ReasonForm,
    RequestForm,
    StaffCancelForm,
)
from treffpunkt.booking.models import Appointment, AppointmentStatus, ConsultationType
from treffpunkt.booking.page_parts import parts_for
from treffpunkt.booking.service_hold import BOOKING, unless_held
from treffpunkt.core import clock
from treffpunkt.core.actions import run_action
from treffpunkt.core.errors import DomainError

DAYS_PER_PAGE = 7


def _user(request: HttpRequest) -> User:
    # The permission decorators have let only logged-in users through.
    return cast(User, request.user)


def _first_day(request: HttpRequest, ctype: ConsultationType) -> date:
    today = selectors.organization_today(ctype.organization)
    chosen = parse_date(request.GET.get("ab", "") or "") if request.GET.get("ab") else None
    if chosen is None or chosen < today:
        return today
    return min(chosen, today + timedelta(days=ctype.horizon_days))


def _days_with_slots(slots: list[Slot]) -> list[tuple[date, list[Slot]]]:
    """Group slots by the viewer's local day (the active time zone)."""
    zone = timezone.get_current_timezone()
    return [
        (day, list(group))
        for day, group in groupby(slots, key=lambda slot: slot.start.astimezone(zone).date())
    ]


def _week_links(ctype: ConsultationType, first: date) -> dict[str, date | None]:
    today = selectors.organization_today(ctype.organization)
    previous = first - timedelta(days=DAYS_PER_PAGE)
    following = first + timedelta(days=DAYS_PER_PAGE)
    return {
        "previous": max(previous, today) if first > today else None,
        "next": following if following <= today + timedelta(days=ctype.horizon_days) else None,
    }


# --- members ---------------------------------------------------------------------------------


@member_required
def my_appointments(request: HttpRequest) -> HttpResponse:
    """Meine Termine: open requests, coming appointments, past ones."""
    return render(request, "booking/mine.html", selectors.member_appointments(_user(request)))


@member_required
@unless_held(BOOKING)
def choose_type(request: HttpRequest) -> HttpResponse:
    return render(
        request, "booking/choose_type.html", {"types": selectors.bookable_types(_user(request))}
    )


@member_required
@unless_held(BOOKING)
def choose_slot(request: HttpRequest, type_id: int) -> HttpResponse:
    ctype, policy = selectors.bookable_type(_user(request), type_id)
    first = _first_day(request, ctype)
    slots = selectors.slots_for(ctype, first_day=first, days=DAYS_PER_PAGE, policy=policy)
    return render(
        request,
        "booking/choose_slot.html",
        {
            "ctype": ctype,
            "days": _days_with_slots(slots),
            "first_day": first,
            "last_day": first + timedelta(days=DAYS_PER_PAGE - 1),
            "weeks": _week_links(ctype, first),
            "action_url": "booking:request",
            "action_arg": ctype.pk,
            "method": "get",
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
@unless_held(BOOKING)
def request_slot(request: HttpRequest, type_id: int) -> HttpResponse:
    """Review the chosen slot, then press "Termin": a binding request (P-BOOK-2)."""
    member = _user(request)
    ctype, policy = selectors.bookable_type(member, type_id)
    data = request.POST if request.method == "POST" else None
    form = RequestForm(
        data, initial={"start": request.GET.get("start", ""), "request_key": uuid.uuid4()}
    )
    start = ChooseSlotForm({"start": request.POST.get("start") or request.GET.get("start")})
    if not start.is_valid():
        messages.error(request, _("This time slot is not valid. Please choose again."))
        return redirect("booking:slots", type_id=ctype.pk)
    alternatives: list[Slot] = []
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.request_appointment(
                member=member,
                consultation_type=ctype,
                start=form.cleaned_data["start"],
                request_key=form.cleaned_data["request_key"],
                note=form.cleaned_data["note"],
                policy=policy,
            )
        except services.SlotTaken as exc:
            alternatives = exc.alternatives
            form.add_error(None, str(exc.message))
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request,
                _(
                    "Your request was sent. Important: the appointment only exists once the "
                    "organization confirms it. We will tell you by e-mail."
                ),
            )
            return redirect(appointment)
    status = 200 if request.method == "GET" or form.is_valid() else 400
    if request.method == "POST" and form.errors:
        status = 409 if alternatives else 400
    return render(
        request,
        "booking/request.html",
        {
            "ctype": ctype,
            "form": form,
            "start": start.cleaned_data["start"],
            "end": start.cleaned_data["start"] + ctype.duration,
            "alternatives": alternatives,
        },
        status=status,
    )


# --- one appointment -------------------------------------------------------------------------


def _appointment_or_404(request: HttpRequest, appointment_id: int) -> Appointment:
    return selectors.appointment_for(_user(request), appointment_id)


@login_required
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    viewer = _user(request)
    appointment = _appointment_or_404(request, appointment_id)
    now = clock.now()
    return render(
        request,
        "booking/appointment.html",
        {
            "appointment": appointment,
            "is_member": viewer.is_member,
            "can_answer": viewer.is_team and appointment.status == AppointmentStatus.REQUESTED,
            "can_decide_proposal": viewer.is_member
            and appointment.status == AppointmentStatus.PROPOSED,
            "can_cancel": appointment.is_holding and appointment.end > now,
            "can_move": appointment.status == AppointmentStatus.CONFIRMED and appointment.end > now,
            # Both forms can stand on one page (a staff member's open request): prefixes keep
            # their fields' ids, labels and help texts apart.
            "cancel_form": _cancel_form(viewer),
            "decline_form": ReasonForm(prefix=DECLINE),
            "AppointmentStatus": AppointmentStatus,
            "page_parts": parts_for(appointment, viewer, now),
        },
    )


DECLINE = "decline"
CANCEL = "cancel"


def _cancel_form(viewer: User, data: Any = None) -> forms.Form:
    """Members may cancel without a reason; staff give one, which the member reads."""
    form_class = CancelForm if viewer.is_member else StaffCancelForm
    return form_class(data, prefix=CANCEL)


def _act(
    request: HttpRequest,
    appointment_id: int,
    action: Callable[[], Appointment],
    success: str,
) -> HttpResponse:
    return run_action(
        request,
        action,
        success=success,
        back_to=reverse("booking:appointment", args=[appointment_id]),
    )


@team_required
@require_POST
@unless_held(BOOKING)
def confirm(request: HttpRequest, appointment_id: int) -> HttpResponse:
    actor = _user(request)
    return _act(
        request,
        appointment_id,
        lambda: services.confirm_appointment(actor=actor, appointment_id=appointment_id),
        _("The appointment is confirmed. The member gets a confirmation with a calendar file."),
    )


@team_required
@require_POST
def decline(request: HttpRequest, appointment_id: int) -> HttpResponse:
    actor = _user(request)
    form = ReasonForm(request.POST, prefix=DECLINE)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        appointment_id,
        lambda: services.decline_appointment(
            actor=actor, appointment_id=appointment_id, reason=reason
        ),
        _("The request was declined. The member is told."),
    )


@member_required
@require_POST
@unless_held(BOOKING)
def accept_proposal(request: HttpRequest, appointment_id: int) -> HttpResponse:
    member = _user(request)
    return _act(
        request,
        appointment_id,
        lambda: services.accept_proposal(member=member, appointment_id=appointment_id),
        _("You accepted the proposed time. Your appointment is confirmed."),
    )


@member_required
@require_POST
def decline_proposal(request: HttpRequest, appointment_id: int) -> HttpResponse:
    member = _user(request)
    return _act(
        request,
        appointment_id,
        lambda: services.decline_proposal(member=member, appointment_id=appointment_id),
        _("You declined the proposed time."),
    )


@login_required
@require_POST
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    actor = _user(request)
    was_confirmed = (
        _appointment_or_404(request, appointment_id).status == AppointmentStatus.CONFIRMED
    )
    form = CancelForm(request.POST, prefix=CANCEL)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        appointment_id,
        lambda: services.cancel_appointment(
            actor=actor, appointment_id=appointment_id, reason=reason
        ),
        _("The appointment is cancelled. Both sides get a message with a calendar update.")
        if was_confirmed
        else _("The request is withdrawn. Both sides get a message."),
    )


def _choose_new_slot(
    request: HttpRequest,
    appointment_id: int,
    *,
    title: str,
    action: Callable[[User, Appointment, Any], Appointment],
    success: str,
) -> HttpResponse:
    """Shared by "move" and "propose another time": pick a slot of the same staff member."""
    viewer = _user(request)
    appointment = _appointment_or_404(request, appointment_id)
    if request.method == "POST":
        form = ChooseSlotForm(request.POST)
        if form.is_valid():
            try:
                action(viewer, appointment, form.cleaned_data["start"])
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, success)
                return redirect(appointment)
        else:
            messages.error(request, _("This time slot is not valid. Please choose again."))
    ctype = appointment.consultation_type
    first = _first_day(request, ctype)
    slots = selectors.slots_for(
        ctype,
        first_day=first,
        days=DAYS_PER_PAGE,
        staff_ids=[appointment.staff_id],
        ignore_appointment_id=appointment.pk,
    )
    slots = [slot for slot in slots if slot.start != appointment.start]
    return render(
        request,
        "booking/choose_slot.html",
        {
            "ctype": ctype,
            "appointment": appointment,
            "title": title,
            "days": _days_with_slots(slots),
            "first_day": first,
            "last_day": first + timedelta(days=DAYS_PER_PAGE - 1),
            "weeks": _week_links(ctype, first),
            "method": "post",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@unless_held(BOOKING)
def move(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _choose_new_slot(
        request,
        appointment_id,
        title=_("Move the appointment"),
        action=lambda actor, appointment, start: services.move_appointment(
            actor=actor, appointment_id=appointment.pk, start=start
        ),
        success=_("The appointment was moved. Both sides get an updated calendar file."),
    )


@team_required
@require_http_methods(["GET", "POST"])
@unless_held(BOOKING)
def propose(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _choose_new_slot(
        request,
        appointment_id,
        title=_("Propose another time"),
        action=lambda actor, appointment, start: services.propose_other_time(
            actor=actor, appointment_id=appointment.pk, start=start
        ),
        success=_("Your proposal was sent. The member can accept or decline it."),
    )


# --- staff overviews -------------------------------------------------------------------------


@team_required
def request_inbox(request: HttpRequest) -> HttpResponse:
    viewer = _user(request)
    only_mine = request.GET.get("nur") == "meine"
    return render(
        request,
        "booking/inbox.html",
        {
            "requests": selectors.open_requests_for(viewer, only_mine=only_mine),
            "only_mine": only_mine,
        },
    )


@team_required
def agenda(request: HttpRequest) -> HttpResponse:
    """The day or week view of the organization's appointments (staff: their own by default)."""
    viewer = _user(request)
    organization = viewer.organization
    if organization is None:
        raise Http404
    view = "woche" if request.GET.get("ansicht") == "woche" else "tag"
    days = 7 if view == "woche" else 1
    today = selectors.organization_today(organization)
    first = parse_date(request.GET.get("tag", "") or "") or today
    if view == "woche":
        first -= timedelta(days=first.weekday())
    team = list(selectors.team_members(viewer))
    # Staff start with their own day; an admin's overview starts with everyone's.
    staff_param = request.GET.get("berater", "alle" if viewer.is_org_admin else "")
    if staff_param == "alle":
        staff_id = None
    elif staff_param.isdigit() and any(p.pk == int(staff_param) for p in team):
        staff_id = int(staff_param)
    else:
        staff_id = viewer.pk
    appointments = list(selectors.agenda_for(viewer, first_day=first, days=days, staff_id=staff_id))
    zone = timezone.get_current_timezone()
    by_day = {
        first + timedelta(days=n): [
            a for a in appointments if a.start.astimezone(zone).date() == first + timedelta(days=n)
        ]
        for n in range(days)
    }
    return render(
        request,
        "booking/agenda.html",
        {
            "view": view,
            "by_day": by_day,
            "first_day": first,
            "previous": first - timedelta(days=days),
            "next": first + timedelta(days=days),
            "today": today,
            "team": team,
            "staff_param": "alle" if staff_id is None else str(staff_id),
            "open_requests": selectors.open_requests_for(viewer, only_mine=False).count(),
        },
    )
