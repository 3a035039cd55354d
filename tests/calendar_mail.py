"""Reading the calendar part of a sent mail, for tests that check invitations and cancellations."""

from __future__ import annotations

from email.message import Message
from typing import Any

from django.core import mail
from icalendar import Calendar


def calendar_parts(message: mail.EmailMessage) -> list[Message]:
    return [
        part
        for part in message.attachments
        if isinstance(part, Message) and part.get_content_type() == "text/calendar"
    ]


def parsed_ics(message: mail.EmailMessage) -> tuple[str, Calendar]:
    """The ``method`` parameter of the mail part and the parsed calendar file."""
    [part] = calendar_parts(message)
    method = part.get_param("method")
    assert isinstance(method, str)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return method, Calendar.from_ical(payload)


def only_event(calendar: Calendar) -> Any:
    [event] = calendar.walk("VEVENT")
    return event
