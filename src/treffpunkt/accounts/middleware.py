from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from treffpunkt.accounts.models import User
from treffpunkt.accounts.second_factor import (
    ahas_second_factor,
    has_second_factor,
    second_factor_required,
    session_is_verified,
)
from treffpunkt.accounts.selectors import terms_awaiting_acceptance

Handler = Callable[[HttpRequest], HttpResponse]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]

# Pages a logged-in user may open before proving the second factor: setting it up, proving
# it, leaving, and reading these pages in the other language.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "accounts:second_factor_setup",
        "accounts:second_factor_verify",
        "accounts:logout",
        "set_language",
    }
)

# Pages a member may open before accepting the terms: the accept page itself, reading the
# terms, leaving, and changing the language to read them in.
OPEN_BEFORE_CONSENT = frozenset(
    {
        "accounts:accept_terms",
        "accounts:terms_version",
        "accounts:terms_current",
        "accounts:logout",
        "set_language",
        # The second factor comes first: otherwise each page would send to the other.
        "accounts:second_factor_setup",
        "accounts:second_factor_verify",
    }
)


def _view_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Exception:
        return None


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
        return _view_name(request) in OPEN_BEFORE_CONSENT


def _to(view_name: str, request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse(view_name)}?{query}")


class SecondFactorMiddleware:
    """A user who has a second factor proves it once per session before any page works; one
    for whom it is required (operators) is led to set it up first. This is the one place the
    rule is enforced, so the back office, the Django admin and every page added later are
    covered without a decorator each. Async-capable, like django-otp's OTPMiddleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler | AsyncHandler) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        user = request.user
        if not self._may_pass(request, user):
            account = cast(User, user)
            detour = self._detour(request, account, has_device=has_second_factor(account))
            if detour is not None:
                return detour
        return cast(Handler, self.get_response)(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser()
        if not self._may_pass(request, user):
            account = cast(User, user)
            detour = self._detour(request, account, has_device=await ahas_second_factor(account))
            if detour is not None:
                return detour
        return await cast(AsyncHandler, self.get_response)(request)

    @staticmethod
    def _may_pass(request: HttpRequest, user: Any) -> bool:
        return (
            not user.is_authenticated
            or session_is_verified(user)
            or request.path.startswith("/static/")
            or _view_name(request) in OPEN_BEFORE_SECOND_FACTOR
        )

    @staticmethod
    def _detour(request: HttpRequest, user: User, *, has_device: bool) -> HttpResponse | None:
        if has_device:
            return _to("accounts:second_factor_verify", request)
        if second_factor_required(user):
            return _to("accounts:second_factor_setup", request)
        return None


class SecondFactorSocketMiddleware:
    """The same rule for WebSockets, which pass no HTTP middleware: inside channels'
    AuthMiddlewareStack, a session that has not proved its second factor counts as logged out,
    so no consumer serves it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        user = scope.get("user")
        if user is not None and user.is_authenticated:
            allowed = await database_sync_to_async(_socket_session_may_use)(scope["session"], user)
            if not allowed:
                scope = {**scope, "user": AnonymousUser()}
        return await self.inner(scope, receive, send)


def _socket_session_may_use(session: Any, user: User) -> bool:
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if persistent_id:
        device = Device.from_persistent_id(persistent_id)
        if device is not None and device.user_id == user.pk and device.confirmed:
            return True
    return not (has_second_factor(user) or second_factor_required(user))
