"""Reading the calendar part of a sent mail, for tests that check invitations and cancellations.

Every calendar file a test reads through ``parsed_ics`` is also checked as iTIP (RFC 5546) by
two independent parsers: ``icalendar`` (which the product uses to write it) and ``vobject``
(which the product does not use), so a file that only our own library accepts fails the test.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

import vobject
from django.core import mail
from icalendar import Calendar

# RFC 5546 §3.2.2 (REQUEST) and §3.2.5 (CANCEL of a whole event): what the VEVENT must carry.
# SEQUENCE is required in a CANCEL, and in a REQUEST whenever it is above zero.
REQUIRED_EVENT_PROPERTIES = {
    "REQUEST": ("ATTENDEE", "DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"),
    "CANCEL": ("ATTENDEE", "DTSTAMP", "ORGANIZER", "SEQUENCE", "UID"),
}


def calendar_parts(message: mail.EmailMessage) -> list[Message]:
    return [
        part
        for part in message.attachments
        if isinstance(part, Message) and part.get_content_type() == "text/calendar"
    ]


def parsed_ics(message: mail.EmailMessage) -> tuple[str, Calendar]:
    """The ``method`` parameter of the mail part and the parsed calendar file, after checking
    the file as iTIP with both parsers."""
    [part] = calendar_parts(message)
    method = part.get_param("method")
    assert isinstance(method, str)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    assert_valid_itip_with_icalendar(calendar, method=method)
    assert_valid_itip_with_vobject(payload.decode(), method=method)
    return method, calendar


def only_event(calendar: Calendar) -> Any:
    [event] = calendar.walk("VEVENT")
    return event


def assert_valid_itip_with_icalendar(calendar: Calendar, *, method: str) -> None:
    assert str(calendar["METHOD"]) == method, "METHOD must equal the mail part's method"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    [event] = calendar.walk("VEVENT")
    missing = [name for name in REQUIRED_EVENT_PROPERTIES[method] if name not in event]
    assert not missing, f"{method} lacks {missing}"
    if method == "REQUEST" and int(event.get("SEQUENCE", 0)) > 0:
        assert "SEQUENCE" in event
    if method == "CANCEL" and "STATUS" in event:
        assert str(event["STATUS"]) == "CANCELLED"
    attendees = event["ATTENDEE"]
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        assert str(attendee).lower().startswith("mailto:"), attendee
    assert str(event["ORGANIZER"]).lower().startswith("mailto:")
    assert not ("DTEND" in event and "DURATION" in event)


def assert_valid_itip_with_vobject(text: str, *, method: str) -> None:
    """The same rules, read by a second parser that shares no code with ``icalendar``."""
    calendar = vobject.readOne(text, validate=True)
    assert calendar.name == "VCALENDAR"
    assert calendar.method.value == method
    assert calendar.version.value == "2.0"
    events = calendar.contents.get("vevent", [])
    assert len(events) == 1, "one event per file"
    event = events[0]
    for name in REQUIRED_EVENT_PROPERTIES[method]:
        assert name.lower() in event.contents, f"{method} lacks {name} (vobject)"
    attendees = event.contents["attendee"]
    assert attendees, "at least one ATTENDEE"
    for attendee in attendees:
        assert attendee.value.lower().startswith("mailto:")
    assert event.organizer.value.lower().startswith("mailto:")
    if method == "CANCEL":
        assert int(event.sequence.value) >= 1
    # vobject turns DTSTART into an aware datetime: the times are unambiguous.
    assert event.dtstart.value.tzinfo is not None
