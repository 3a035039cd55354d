from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from treffpunkt.messaging.selectors import unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the navigation, counted only if a page shows it."""
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"unread_conversations": SimpleLazyObject(lambda: unread_count(user))}
