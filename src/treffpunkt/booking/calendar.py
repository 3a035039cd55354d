"""Calendar files for appointment mails (RFC 5545 / iMIP, RFC 6047).

The METHOD inside the file equals the ``method`` parameter of the mail part; a cancellation
keeps the UID and raises SEQUENCE, so calendar programs update the event they already have.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

from treffpunkt.booking.models import Appointment
from treffpunkt.core import clock
from treffpunkt.notifications.services import MailAttachment

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def organizer_address() -> str:
    """The platform's sender address, without a display name."""
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.split("<", 1)[1].rstrip(">") if "<" in sender else sender


def build_ics(
    appointment: Appointment,
    *,
    method: str,
    summary: str,
    description: str,
    attendee_email: str,
    attendee_name: str,
    stamp: datetime | None = None,
) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Treffpunkt//Termine//DE")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment.calendar_uid)
    event.add("sequence", appointment.calendar_sequence)
    event.add("dtstamp", stamp or clock.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", settings.SITE_URL + appointment.get_absolute_url())
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_address()}")
    organizer.params["cn"] = vText(appointment.organization.name)
    event.add("organizer", organizer)
    # Only ever the recipient's own address: a staff member's file names no member address.
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["cn"] = vText(attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", attendee)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical.decode()


def ics_attachment(content: str, *, method: str) -> MailAttachment:
    return MailAttachment(
        filename="termin.ics" if method == REQUEST else "absage.ics",
        mimetype="text/calendar",
        content=content,
        params={"method": method},
    )
