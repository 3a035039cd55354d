"""What other apps do when an appointment is cancelled or moved.

Booking sits below calls and must not import them; yet a call running for an appointment
that is cancelled or moved must end on both screens. So calls adds a listener from its
``AppConfig.ready()``, and booking calls every listener inside the transaction that makes the
change (a listener's own writes commit or roll back with it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment

Change = Literal["cancelled", "moved"]
ChangeListener = Callable[[Appointment, Change, User], None]

_LISTENERS: dict[str, ChangeListener] = {}


def add_change_listener(name: str, listener: ChangeListener) -> None:
    if name in _LISTENERS:
        raise ValueError(f"appointment change listener {name!r} is added twice")
    _LISTENERS[name] = listener


def appointment_changed(appointment: Appointment, change: Change, *, actor: User) -> None:
    """Tell every listener, in the order they were added."""
    for listener in _LISTENERS.values():
        listener(appointment, change, actor)
