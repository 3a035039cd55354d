"""Pages of the second factor: set it up, prove it at login, renew the recovery codes, switch
it off (or start again with a new app). Who must pass which page is decided by
``SecondFactorMiddleware``; these views only check what the page itself needs."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from treffpunkt.accounts import second_factor
from treffpunkt.accounts.forms import AppCodeForm, SecondFactorCodeForm
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import login_required
from treffpunkt.core.errors import DomainError

# The key a user is setting up lives in their session until the app proves it has it, so that
# an abandoned setup leaves nothing behind and a reload shows the same QR code.
PENDING_KEY = "second_factor_pending_key"
# New recovery codes wait here for the one page that shows them, and are gone after it.
NEW_CODES = "second_factor_new_codes"
NEXT_AFTER_CODES = "second_factor_next"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("home")


def _with_next(view_name: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(view_name)}?{urlencode({'next': next_url})}")


def _show_new_codes(request: HttpRequest, codes: list[str], *, next_url: str) -> HttpResponse:
    request.session[NEW_CODES] = codes
    request.session[NEXT_AFTER_CODES] = next_url
    return redirect("accounts:recovery_codes")


def _status(exc: DomainError) -> int:
    return 429 if exc.code == "throttled" else 200


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _next_url(request)
    if second_factor.has_second_factor(user):
        if not second_factor.session_is_verified(user):
            return _with_next("accounts:second_factor_verify", next_url)
        messages.info(request, _("The second factor is already switched on."))
        return redirect("accounts:second_factor")
    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = second_factor.new_secret()
    form = AppCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = second_factor.enable_second_factor(
                user=user, key=key, code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error("code", str(exc.message))
        else:
            del request.session[PENDING_KEY]
            second_factor.mark_session_verified(request, device)
            messages.success(request, _("The second factor is switched on."))
            return _show_new_codes(request, codes, next_url=next_url)
    address = second_factor.setup_address(user=user, key=key)
    # segno draws only rectangles from our own data; there is nothing in it to escape.
    qr_code = mark_safe(  # noqa: S308
        second_factor.qr_code_svg(address, title=_("QR code for your authenticator app"))
    )
    return render(
        request,
        "accounts/second_factor/setup.html",
        {
            "form": form,
            "qr_code": qr_code,
            "secret": second_factor.secret_for_people(key),
            "required": second_factor.second_factor_required(user),
            "next": next_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _next_url(request)
    if second_factor.session_is_verified(user):
        return HttpResponseRedirect(next_url)
    if not second_factor.has_second_factor(user):
        if second_factor.second_factor_required(user):
            return _with_next("accounts:second_factor_setup", next_url)
        return HttpResponseRedirect(next_url)
    form = SecondFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            proof = second_factor.verify_second_factor(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", str(exc.message))
            status = _status(exc)
        else:
            second_factor.mark_session_verified(request, proof.device)
            if proof.recovery_codes_left is not None:
                messages.warning(request, _recovery_code_used(proof.recovery_codes_left))
            return HttpResponseRedirect(next_url)
    return render(
        request,
        "accounts/second_factor/verify.html",
        {
            "form": form,
            "next": next_url,
            "required": second_factor.second_factor_required(user),
        },
        status=status,
    )


def _recovery_code_used(left: int) -> str:
    return ngettext(
        "You used a recovery code; it does not work again. %(left)d recovery code is left. "
        "If your phone is lost, start again with a new app under Profile → Second factor.",
        "You used a recovery code; it does not work again. %(left)d recovery codes are left. "
        "If your phone is lost, start again with a new app under Profile → Second factor.",
        left,
    ) % {"left": left}


@login_required
@require_GET
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows new recovery codes once: they are taken out of the session as they are shown."""
    codes = request.session.pop(NEW_CODES, None)
    next_url = request.session.pop(NEXT_AFTER_CODES, None) or reverse("home")
    response = render(
        request,
        "accounts/second_factor/recovery_codes.html",
        {
            "codes": second_factor.recovery_code_groups(codes) if codes else [],
            "next": next_url,
        },
    )
    # Not kept by the browser's cache: the codes must not show again from history.
    response["Cache-Control"] = "no-store"
    return response


def _manage_page(
    request: HttpRequest,
    *,
    renew_form: SecondFactorCodeForm | None = None,
    remove_form: SecondFactorCodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/second_factor/manage.html",
        {
            "active": second_factor.has_second_factor(user),
            "required": second_factor.second_factor_required(user),
            "codes_left": second_factor.recovery_codes_left(user),
            "renew_form": renew_form or SecondFactorCodeForm(prefix="renew"),
            "remove_form": remove_form or SecondFactorCodeForm(prefix="remove"),
        },
        status=status,
    )


@login_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    return _manage_page(request)


@login_required
@require_POST
def renew_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = SecondFactorCodeForm(request.POST, prefix="renew")
    if form.is_valid():
        try:
            codes = second_factor.renew_recovery_codes(
                user=_user(request), code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error("code", str(exc.message))
            return _manage_page(request, renew_form=form, status=_status(exc))
        messages.success(request, _("New recovery codes are made; the old ones no longer work."))
        return _show_new_codes(request, codes, next_url=reverse("accounts:second_factor"))
    return _manage_page(request, renew_form=form)


@login_required
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SecondFactorCodeForm(request.POST, prefix="remove")
    if form.is_valid():
        try:
            second_factor.remove_second_factor(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", str(exc.message))
            return _manage_page(request, remove_form=form, status=_status(exc))
        if second_factor.second_factor_required(user):
            messages.info(request, _("Now set up the second factor with your new app."))
            return redirect("accounts:second_factor_setup")
        messages.success(request, _("The second factor is switched off."))
        return redirect("accounts:profile")
    return _manage_page(request, remove_form=form)
