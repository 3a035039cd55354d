from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from treffpunkt.core.navigation import links_for
from treffpunkt.core.registries import Area, registry


def live_messages() -> dict[str, str]:
    """What the live notice says for each event type (events.js shows it as a link); each app
    registers its events with their notice."""
    return {
        event.kind: str(event.notice) for event in registry.live_events.values() if event.notice
    }


def site(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "SITE_NAME": "Treffpunkt",
        "LANGUAGES": settings.LANGUAGES,
        "live_messages_json": SimpleLazyObject(lambda: json.dumps(live_messages())),
    }
    if request.user.is_authenticated:
        context["main_nav"] = SimpleLazyObject(lambda: links_for(request, Area.MAIN))
    return context
