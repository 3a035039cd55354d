"""What calls bring to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.change_listeners import Change, add_change_listener
from treffpunkt.booking.models import Appointment, AppointmentStatus
from treffpunkt.booking.page_parts import AppointmentPagePart, add_appointment_page_part
from treffpunkt.core.registries import AuditCode, DataRule, DemoLoader, registry
from treffpunkt.core.scheduler import Daily, Every, PeriodicJob

AUDIT_CODES = (
    AuditCode("calls.call.started", _("The video call of %(target)s started.")),
    AuditCode("calls.call.ended", _("The video call of %(target)s ended.")),
    AuditCode("calls.presence.cleaned", _("Presence rows of call pages were deleted.")),
)


def _call_box(appointment: Appointment, viewer: User, now: datetime) -> dict[str, Any] | None:
    """The way to the video call, on a confirmed appointment's page, for its two people only."""
    from treffpunkt.calls.selectors import call_window, role_in_call

    if appointment.status != AppointmentStatus.CONFIRMED or not role_in_call(appointment, viewer):
        return None
    window = call_window(appointment)
    return {
        "call_window": window,
        "call_open": window.is_open(now),
        "call_over": now >= window.closes_at,
        "call_url": reverse("calls:call", kwargs={"appointment_id": appointment.pk}),
    }


def _end_call_of_changed_appointment(appointment: Appointment, change: Change, actor: User) -> None:
    from treffpunkt.calls.services import end_for_changed_appointment

    end_for_changed_appointment(appointment=appointment, change=change, actor=actor)


def register() -> None:
    from treffpunkt.calls.demo import describe_calls_demo, load_calls_demo

    registry.add_demo_loader(
        DemoLoader("calls", load_calls_demo, order=40, describe=describe_calls_demo)
    )
    from treffpunkt.calls.tasks import clean_presence, end_abandoned_calls

    registry.add_audit_codes(*AUDIT_CODES)
    add_change_listener("calls.end_running_call", _end_call_of_changed_appointment)
    add_appointment_page_part(
        AppointmentPagePart("calls.call_box", "calls/_appointment_box.html", _call_box, order=20)
    )
    registry.add_periodic_jobs(
        PeriodicJob(
            name="calls.end_abandoned_calls",
            task=end_abandoned_calls,
            when=Every(timedelta(minutes=1)),
            description="End calls whose window closed or whose pages all went away.",
        ),
        PeriodicJob(
            name="calls.clean_presence",
            task=clean_presence,
            when=Daily(time(3, 10), "Europe/Berlin"),
            description="Delete the presence rows of call pages gone for a day.",
        ),
    )
    registry.add_data_rules(
        DataRule(
            "calls.presence",
            _("Presence on a call page: who had it open, when"),
            _("Deleted a day after the page went away."),
            job="calls.clean_presence",
            audit_code="calls.presence.cleaned",
        )
    )
