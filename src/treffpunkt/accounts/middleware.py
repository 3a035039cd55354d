from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import resolve
from django.utils import timezone, translation

from treffpunkt.accounts.selectors import terms_awaiting_acceptance

Handler = Callable[[HttpRequest], HttpResponse]

# Pages a member may open before accepting the terms: the accept page itself, reading the
# terms, leaving, and changing the language to read them in.
OPEN_BEFORE_CONSENT = frozenset(
    {
        "accounts:accept_terms",
        "accounts:terms_version",
        "accounts:terms_current",
        "accounts:logout",
        "set_language",
    }
)


class UserLanguageMiddleware:
    """A logged-in user sees the language and time zone of their profile; visitors the
    language they picked and the platform's time zone."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
            timezone.activate(ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class TermsConsentMiddleware:
    """P-ACC-2: a member who has not accepted the terms in force is led to accept them first."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_member
            and not self._is_open_before_consent(request)
            and terms_awaiting_acceptance(user)
        ):
            return redirect("accounts:accept_terms")
        return self.get_response(request)

    @staticmethod
    def _is_open_before_consent(request: HttpRequest) -> bool:
        if request.path.startswith("/static/"):
            return True
        try:
            match = resolve(request.path_info)
        except Exception:
            return False
        return match.view_name in OPEN_BEFORE_CONSENT
