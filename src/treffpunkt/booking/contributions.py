"""What booking brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import is_member, is_org_admin, is_team
from treffpunkt.core.registries import Area, AuditCode, DemoLoader, LiveEvent, NavEntry, registry
from treffpunkt.core.scheduler import Every, PeriodicJob


class AppointmentEvent(msgspec.Struct, forbid_unknown_fields=True):
    """Something happened to an appointment; the page links to it."""

    type: str
    appointment: int
    status: str


def _own_id(user: Any) -> dict[str, Any]:
    return {"staff_id": user.pk}


NAVIGATION = (
    NavEntry("booking.mine", Area.MAIN, _("My appointments"), "booking:mine", is_member, 10),
    NavEntry("booking.inbox", Area.MAIN, _("Requests"), "booking:inbox", is_team, 10),
    NavEntry("booking.agenda", Area.MAIN, _("Calendar"), "booking:agenda", is_team, 30),
    NavEntry(
        "booking.hours", Area.MAIN, _("My opening hours"), "booking:hours", is_team, 40, _own_id
    ),
    NavEntry("booking.types", Area.MAIN, _("Booking setup"), "booking:types", is_org_admin, 70),
)

LIVE_EVENTS = (
    LiveEvent("booking.request", AppointmentEvent, _("New appointment request – open it")),
    LiveEvent("booking.confirmed", AppointmentEvent, _("An appointment was confirmed – open it")),
    LiveEvent("booking.declined", AppointmentEvent, _("A request was declined – open it")),
    LiveEvent("booking.proposed", AppointmentEvent, _("Another time was proposed – open it")),
    LiveEvent("booking.cancelled", AppointmentEvent, _("An appointment was cancelled – open it")),
    LiveEvent("booking.moved", AppointmentEvent, _("An appointment was moved – open it")),
    LiveEvent("booking.expired", AppointmentEvent, _("A request expired – open it")),
)

AUDIT_CODES = (
    AuditCode("booking.appointment.requested", _("%(actor)s requested %(target)s.")),
    AuditCode("booking.appointment.confirmed", _("%(actor)s confirmed %(target)s.")),
    AuditCode("booking.appointment.declined", _("%(actor)s declined %(target)s.")),
    AuditCode("booking.appointment.proposed", _("%(actor)s proposed another time for %(target)s.")),
    AuditCode(
        "booking.appointment.proposal_declined",
        _("%(actor)s declined the time proposed for %(target)s."),
    ),
    AuditCode("booking.appointment.cancelled", _("%(actor)s cancelled %(target)s.")),
    AuditCode("booking.appointment.moved", _("%(actor)s moved %(target)s.")),
    AuditCode("booking.appointment.expired", _("%(target)s expired unanswered.")),
    AuditCode("booking.hours.changed", _("%(actor)s changed weekly opening hours.")),
    AuditCode("booking.hours.exception_added", _("%(actor)s added a change to opening hours.")),
    AuditCode("booking.hours.exception_removed", _("%(actor)s removed a change to opening hours.")),
    AuditCode("booking.policy.changed", _("%(actor)s changed the booking rules.")),
    AuditCode("booking.type.created", _("%(actor)s created %(target)s.")),
    AuditCode("booking.type.changed", _("%(actor)s changed %(target)s.")),
)


def register() -> None:
    from treffpunkt.booking.demo import load_booking_demo

    registry.add_demo_loader(DemoLoader("booking", load_booking_demo, order=20))
    from treffpunkt.booking.tasks import expire_unanswered_requests, send_due_reminders

    registry.add_nav(*NAVIGATION)
    registry.add_live_events(*LIVE_EVENTS)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_periodic_jobs(
        PeriodicJob(
            name="booking.expire_unanswered_requests",
            task=expire_unanswered_requests,
            when=Every(timedelta(minutes=1)),
            description="Expire requests nobody answered in time, free their slots, tell members.",
        ),
        PeriodicJob(
            name="booking.send_due_reminders",
            task=send_due_reminders,
            when=Every(timedelta(minutes=1)),
            description="Send the reminder mails before confirmed appointments.",
        ),
    )
