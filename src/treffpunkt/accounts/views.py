"""Account pages. Each view checks who may use it, validates, calls one service and turns a
domain error into a message."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from treffpunkt.accounts import second_factor, selectors, services
from treffpunkt.accounts.forms import (
    AcceptInvitationForm,
    AcceptTermsForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
)
from treffpunkt.accounts.models import Organization, TermsKind, User
from treffpunkt.accounts.permissions import login_required, member_required
from treffpunkt.core.errors import DomainError
from treffpunkt.notifications.services import queue_mail


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _language(request: HttpRequest) -> str:
    return translation.get_language() or "de"


# --- registration and confirmation ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, org: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=org)
    if request.user.is_authenticated:
        return redirect("home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.register_member(
                organization=organization,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
                language=_language(request),
            )
        except DomainError as exc:
            field = {"password": "password", "email": "email", "display_name": "display_name"}
            form.add_error(field.get(exc.code), str(exc.message))
        else:
            return redirect("accounts:registered")
    terms = selectors.versions_in_force(organization=organization)
    return render(
        request,
        "accounts/register.html",
        {"form": form, "organization": organization, "terms": terms},
    )


def registered(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/registered.html")


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use up the token.
    if request.method == "POST":
        try:
            services.confirm_email(token=token)
        except DomainError as exc:
            return render(
                request, "accounts/link_problem.html", {"message": exc.message}, status=400
            )
        messages.success(request, _("Thank you: your e-mail address is confirmed. Please log in."))
        return redirect("accounts:login")
    return render(request, "accounts/confirm_email.html")


# --- login, logout, passwords -----------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail goes through the outbox like every other mail."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        with transaction.atomic():
            queue_mail(
                template="accounts/password_reset",
                recipient=user,
                context={
                    "reset_url": "{protocol}://{domain}".format(**context)
                    + str(
                        reverse_lazy(
                            "accounts:password_reset_confirm",
                            kwargs={"uidb64": context["uid"], "token": context["token"]},
                        )
                    )
                },
            )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        from django.conf import settings

        # Links in mails use the configured public address, not whatever Host the request had.
        site = settings.SITE_URL.split("://", 1)
        self.extra_email_context = {"protocol": site[0], "domain": site[1]}
        form.save(
            domain_override=site[1],
            use_https=site[0] == "https",
            request=self.request,
            extra_email_context=self.extra_email_context,
        )
        return redirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form: SetPasswordForm[User]) -> HttpResponse:
        response = super().form_valid(form)
        services.record_password_changed(user=form.user, by_reset=True)
        messages.success(self.request, _("Your password was changed. Please log in."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        services.record_password_changed(user=form.user, by_reset=False)
        messages.success(self.request, _("Your password was changed."))
        return response


# --- profile and language ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ProfileForm(
        request.POST or None,
        initial={
            "display_name": user.display_name,
            "language": user.preferred_language,
            "time_zone": user.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(
                user=user,
                display_name=form.cleaned_data["display_name"],
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            translation.activate(user.preferred_language)
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "second_factor_active": second_factor.has_second_factor(user)},
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Visitors switch language by a cookie; logged-in users by their profile."""
    from django.conf import settings

    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = redirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        user = _user(request)
        services.update_profile(user=user, display_name=user.display_name, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 60 * 60,
        samesite="Lax",
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
    )
    return response


# --- terms and privacy ------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def accept_terms(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    awaiting = selectors.terms_awaiting_acceptance(user)
    if not awaiting:
        return redirect("home")
    form = AcceptTermsForm(
        request.POST or None,
        initial={"version_ids": ",".join(str(v.pk) for v in awaiting)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_terms_in_force(user=user, version_ids=form.cleaned_data["version_ids"])
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("accounts:accept_terms")
        messages.success(request, _("Thank you. You can now use the service."))
        return redirect("home")
    is_update = user.terms_acceptances.exists()
    return render(
        request,
        "accounts/accept_terms.html",
        {"form": form, "versions": awaiting, "is_update": is_update},
    )


def terms_current(request: HttpRequest, org: str, kind: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=org)
    if kind not in TermsKind.values:
        return render(request, "404.html", status=404)
    current = selectors.version_in_force(organization=organization, kind=kind)
    versions = selectors.published_versions(organization=organization, kind=kind)
    return render(
        request,
        "accounts/terms_version.html",
        {
            "organization": organization,
            "version": current,
            "versions": versions,
            "kind_label": TermsKind(kind).label,
            "current": current,
        },
    )


def terms_version(request: HttpRequest, org: str, kind: str, number: int) -> HttpResponse:
    """Every published version stays readable here, without login, for good (P-ACC-2)."""
    organization = get_object_or_404(Organization, slug=org)
    version = get_object_or_404(
        selectors.published_versions(organization=organization, kind=kind), number=number
    )
    return render(
        request,
        "accounts/terms_version.html",
        {
            "organization": organization,
            "version": version,
            "versions": selectors.published_versions(organization=organization, kind=kind),
            "kind_label": version.get_kind_display(),
            "current": selectors.version_in_force(organization=organization, kind=kind),
        },
    )


# --- invitations ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except DomainError as exc:
        return render(request, "accounts/link_problem.html", {"message": exc.message}, status=400)
    if request.user.is_authenticated:
        return render(
            request,
            "accounts/link_problem.html",
            {"message": _("Please log out first: this invitation is for a new account.")},
            status=400,
        )
    form = AcceptInvitationForm(
        request.POST or None, initial={"display_name": invitation.display_name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(
                token=token,
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
                language=_language(request),
            )
        except DomainError as exc:
            if exc.code in {"invalid_link", "used_link", "expired_link", "exists"}:
                return render(
                    request, "accounts/link_problem.html", {"message": exc.message}, status=400
                )
            form.add_error("password" if exc.code == "password" else None, str(exc.message))
        else:
            messages.success(request, _("Your account is ready. Please log in."))
            return redirect("accounts:login")
    return render(
        request, "accounts/accept_invitation.html", {"form": form, "invitation": invitation}
    )
