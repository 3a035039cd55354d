"""Pages where an organization sets up booking: consultation types, rules, opening hours."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from treffpunkt.accounts.models import Organization, User
from treffpunkt.accounts.permissions import org_admin_required, team_required
from treffpunkt.booking import services
from treffpunkt.booking.forms_setup import (
    ConsultationTypeForm,
    HoursExceptionForm,
    PolicyForm,
    WeeklyHoursForm,
    format_interval,
    format_reminders,
)
from treffpunkt.booking.models import ConsultationType, HoursException, Weekday, WeeklyHours
from treffpunkt.booking.selectors import organization_today, policy_for, team_members
from treffpunkt.core.errors import DomainError


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _organization(user: User) -> Organization:
    return cast(Organization, user.organization)  # team members always have one


def _add_errors(
    form: forms.Form, exc: ValidationError, renamed: dict[str, str] | None = None
) -> None:
    """A model validation error from a service (``full_clean``): on the form's field of the same
    (or ``renamed``) name, else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for model_field, errors in exc.message_dict.items():
        field = (renamed or {}).get(model_field, model_field)
        form.add_error(field if field in form.fields else None, errors)


# --- consultation types ----------------------------------------------------------------------


@org_admin_required
def type_list(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    types = ConsultationType.objects.filter(organization=admin.organization).prefetch_related(
        Prefetch("staff", queryset=User.objects.order_by("display_name", "pk"))
    )
    return render(request, "booking/setup/type_list.html", {"types": types})


@org_admin_required
@require_http_methods(["GET", "POST"])
def type_edit(request: HttpRequest, type_id: int | None = None) -> HttpResponse:
    admin = _user(request)
    ctype = None
    assigned: list[int] = []
    if type_id is not None:
        ctype = ConsultationType.objects.filter(pk=type_id, organization=admin.organization).first()
        if ctype is None:
            raise Http404
        assigned = list(ctype.staff.values_list("pk", flat=True))
    # Switched-off people are offered only while they are still assigned, so they can be removed.
    team = team_members(admin).filter(Q(is_active=True) | Q(pk__in=assigned))
    initial = (
        {
            "name": ctype.name,
            "description": ctype.description,
            "duration_minutes": ctype.duration_minutes,
            "buffer_before_minutes": ctype.buffer_before_minutes,
            "buffer_after_minutes": ctype.buffer_after_minutes,
            "min_notice_minutes": ctype.min_notice_minutes,
            "horizon_days": ctype.horizon_days,
            "is_active": ctype.is_active,
            "staff": assigned,
        }
        if ctype is not None
        else {"is_active": True}
    )
    form = ConsultationTypeForm(request.POST or None, initial=initial, team=team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = services.TypeFields(
            name=data["name"],
            description=data["description"],
            duration_minutes=data["duration_minutes"],
            buffer_before_minutes=data["buffer_before_minutes"],
            buffer_after_minutes=data["buffer_after_minutes"],
            min_notice_minutes=data["min_notice_minutes"],
            horizon_days=data["horizon_days"],
            is_active=data["is_active"],
            staff_ids=data["staff"],
        )
        try:
            saved = services.save_consultation_type(admin=admin, fields=fields, type_id=type_id)
        except DomainError as exc:
            form.add_error("staff" if exc.code == "staff" else None, str(exc.message))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if type_id is None:
                text = _("The consultation type “%(name)s” was created.")
            else:
                text = _("The consultation type “%(name)s” was saved.")
            messages.success(request, text % {"name": saved.name})
            return redirect("booking:types")
    return render(request, "booking/setup/type_form.html", {"form": form, "ctype": ctype})


# --- booking rules ---------------------------------------------------------------------------


@org_admin_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    policy = policy_for(_organization(admin))
    form = PolicyForm(
        request.POST or None,
        initial={
            "federal_state": policy.federal_state,
            "answer_within_hours": policy.answer_within_hours,
            "member_change_cutoff_hours": policy.member_change_cutoff_hours,
            "reminders": format_reminders(policy.reminder_minutes or []),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_policy(
                admin=admin,
                federal_state=data["federal_state"],
                answer_within_hours=data["answer_within_hours"],
                member_change_cutoff_hours=data["member_change_cutoff_hours"],
                reminder_minutes=data["reminders"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            _add_errors(form, exc, renamed={"reminder_minutes": "reminders"})
        else:
            messages.success(request, _("The booking rules were saved."))
            return redirect("booking:policy")
    return render(request, "booking/setup/policy_form.html", {"form": form})


# --- opening hours ---------------------------------------------------------------------------


def _week_summary(rows: list[WeeklyHours]) -> list[tuple[str, str]]:
    """[(weekday label, "09:00–12:00, 13:00–17:00"), …] for the days with hours."""
    by_day: dict[int, list[str]] = {}
    for row in rows:
        by_day.setdefault(row.weekday, []).append(format_interval(row.start, row.end))
    return [(str(Weekday(day).label), ", ".join(spans)) for day, spans in sorted(by_day.items())]


@org_admin_required
def hours_overview(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    today = organization_today(_organization(admin))
    team = team_members(admin).prefetch_related(
        Prefetch("weekly_hours", queryset=WeeklyHours.objects.order_by("weekday", "start"))
    )
    upcoming: dict[int, int] = {}
    for staff_id in HoursException.objects.filter(
        staff__in=team_members(admin), date__gte=today
    ).values_list("staff_id", flat=True):
        upcoming[staff_id] = upcoming.get(staff_id, 0) + 1
    rows = [
        {
            "person": person,
            "week": _week_summary(list(person.weekly_hours.all())),
            "changes": upcoming.get(person.pk, 0),
        }
        for person in team
    ]
    return render(request, "booking/setup/hours_overview.html", {"rows": rows})


def _editable_staff(viewer: User, staff_id: int) -> User:
    """An admin edits anyone of their team, a staff member only themselves; else 404."""
    staff = team_members(viewer).filter(pk=staff_id).first()
    if staff is None or not (viewer.is_org_admin or staff.pk == viewer.pk):
        raise Http404
    return staff


@team_required
@require_http_methods(["GET", "POST"])
def hours_edit(request: HttpRequest, staff_id: int) -> HttpResponse:
    viewer = _user(request)
    staff = _editable_staff(viewer, staff_id)
    today = organization_today(_organization(staff))
    action = request.POST.get("action") if request.method == "POST" else None
    hours_form = WeeklyHoursForm(
        request.POST if action == "hours" else None,
        prefix="hours",
        initial=WeeklyHoursForm.initial_from(WeeklyHours.objects.filter(staff=staff)),
    )
    exception_form = HoursExceptionForm(
        request.POST if action == "exception" else None, prefix="exception", today=today
    )
    if action == "hours" and hours_form.is_valid():
        try:
            services.set_weekly_hours(
                actor=viewer, staff=staff, intervals=hours_form.cleaned_data["intervals"]
            )
        except DomainError as exc:
            hours_form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The weekly hours were saved."))
            return redirect("booking:hours", staff_id=staff.pk)
    elif action == "exception" and exception_form.is_valid():
        data = exception_form.cleaned_data
        try:
            services.add_hours_exception(
                actor=viewer,
                staff=staff,
                day=data["date"],
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                note=data["note"],
            )
        except DomainError as exc:
            exception_form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The change was added."))
            return redirect("booking:hours", staff_id=staff.pk)
    elif request.method == "POST" and action not in ("hours", "exception"):
        return render(request, "400.html", status=400)
    exceptions = HoursException.objects.filter(staff=staff, date__gte=today).order_by(
        "date", "start"
    )
    return render(
        request,
        "booking/setup/hours_form.html",
        {
            "staff": staff,
            "is_self": staff.pk == viewer.pk,
            "hours_form": hours_form,
            "exception_form": exception_form,
            "exceptions": exceptions,
        },
    )


@team_required
@require_POST
def remove_exception(request: HttpRequest, exception_id: int) -> HttpResponse:
    viewer = _user(request)
    staff_id = (
        HoursException.objects.filter(pk=exception_id).values_list("staff_id", flat=True).first()
    )
    if staff_id is None:
        raise Http404
    services.remove_hours_exception(actor=viewer, exception_id=exception_id)
    messages.success(request, _("The change was removed."))
    return redirect("booking:hours", staff_id=staff_id)
