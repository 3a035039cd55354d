"""Running a domain action from a form post: the outcome as a flash message, then back to the
page. Shared by the apps whose pages have buttons for single actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from treffpunkt.core.errors import DomainError


def run_action(
    request: HttpRequest, action: Callable[[], object], *, success: str, back_to: str
) -> HttpResponse:
    """Run ``action``; "not allowed" is "not found" (nobody learns what exists elsewhere), any
    other refusal is shown as it is, success as ``success``; then redirect to ``back_to``."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, success)
    return redirect(back_to)
