"""Who may open which page. Wrong role → 403; another organization's object → 404 (selectors)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from treffpunkt.accounts.models import User

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def _requires(check: Callable[[User], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorator


login_required = _requires(lambda user: True)
member_required = _requires(lambda user: user.is_member)
team_required = _requires(lambda user: user.is_team)
org_admin_required = _requires(lambda user: user.is_org_admin)
operator_required = _requires(lambda user: user.is_operator)
