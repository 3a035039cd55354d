"""Boxes other apps add to an appointment's page.

Booking sits below calls and messaging and must not import them; yet its appointment page
shows the way to the video call and the conversation about the appointment. So those apps
contribute a part (a template and the context it needs) from their ``AppConfig.ready()``, and
the page shows every part whose ``context`` is not ``None`` for the person looking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment

PartContext = Callable[[Appointment, User, datetime], dict[str, Any] | None]


@dataclass(frozen=True)
class AppointmentPagePart:
    name: str
    template: str  # rendered with the part's context as ``box``
    context: PartContext
    order: int = 100


@dataclass(frozen=True)
class ShownPart:
    template: str
    box: dict[str, Any]


_PARTS: dict[str, AppointmentPagePart] = {}


def add_appointment_page_part(part: AppointmentPagePart) -> None:
    if part.name in _PARTS:
        raise ValueError(f"appointment page part {part.name!r} is added twice")
    _PARTS[part.name] = part


def parts_for(appointment: Appointment, viewer: User, now: datetime) -> list[ShownPart]:
    shown = []
    for part in sorted(_PARTS.values(), key=lambda p: (p.order, p.name)):
        box = part.context(appointment, viewer, now)
        if box is not None:
            shown.append(ShownPart(template=part.template, box=box))
    return shown
