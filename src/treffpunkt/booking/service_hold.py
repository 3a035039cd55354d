"""The held service (P-OP-3, P-SLA-3): while the back office holds back an organization's
booking or calls (not yet switched on, or blocked), its members and staff see a notice instead;
nothing is deleted. One check for the booking pages, the call page and the call socket."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from treffpunkt.accounts.models import Organization

BOOKING = "booking"
CALLS = "calls"


def held(user: Any, part: str) -> Organization | None:
    """``user``'s organization if it holds back ``part`` ("booking" or "calls"), else None.
    Read afresh: the hold may have changed since the user was loaded (a long-lived socket)."""
    organization_id = getattr(user, "organization_id", None)
    if organization_id is None:
        return None
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or not organization.holds(part):
        return None
    return organization


def held_notice(request: HttpRequest, part: str) -> HttpResponse | None:
    """The notice page if ``part`` is held for the viewer's organization: 200 for a look (GET,
    HEAD), 403 for anything that would change something (nothing is written)."""
    organization = held(request.user, part)
    if organization is None:
        return None
    status = 200 if request.method in ("GET", "HEAD") else 403
    return render(
        request,
        "booking/service_held.html",
        {"organization": organization, "part": part},
        status=status,
    )


def unless_held(part: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A view decorator: the notice instead of the view while ``part`` is held."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            notice = held_notice(request, part)
            return notice if notice is not None else view(request, *args, **kwargs)

        return wrapped

    return decorator
