from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _


def live_messages() -> dict[str, str]:
    """What the live notice says for each event type (events.js shows it as a link)."""
    return {
        "booking.request": _("New appointment request – open it"),
        "booking.confirmed": _("An appointment was confirmed – open it"),
        "booking.declined": _("A request was declined – open it"),
        "booking.proposed": _("Another time was proposed – open it"),
        "booking.cancelled": _("An appointment was cancelled – open it"),
        "booking.moved": _("An appointment was moved – open it"),
        "booking.expired": _("A request expired – open it"),
        "messages.new": _("You have a new message – open it"),
    }


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": "Treffpunkt",
        "LANGUAGES": settings.LANGUAGES,
        "live_messages_json": json.dumps(live_messages()),
    }
