"""Pages for the people who work for an organization: staff and org admins."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from treffpunkt.accounts import selectors, services
from treffpunkt.accounts.forms import InvitationForm, PublishTermsForm, RevealEmailForm
from treffpunkt.accounts.models import Organization, TermsVersion, User
from treffpunkt.accounts.permissions import org_admin_required, team_required
from treffpunkt.core.errors import DomainError


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@team_required
def member_list(request: HttpRequest) -> HttpResponse:
    members = selectors.members_for(_user(request))
    query = request.GET.get("q", "").strip()[:80]
    if query:
        members = members.filter(display_name__icontains=query)
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/team/member_list.html", {"page": page, "query": query})


@team_required
def member_record(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's record. Every opening is written to the audit log (P-ACC-4)."""
    viewer = _user(request)
    member = selectors.member_for(viewer, member_id)
    services.record_member_record_viewed(viewer=viewer, member=member)
    return render(
        request,
        "accounts/team/member_record.html",
        {
            "member": member,
            "acceptances": selectors.acceptances_of(member),
            "reveal_form": RevealEmailForm() if viewer.is_org_admin else None,
        },
    )


@org_admin_required
@require_POST
def reveal_member_email(request: HttpRequest, member_id: int) -> HttpResponse:
    admin = _user(request)
    member = selectors.member_for(admin, member_id)
    form = RevealEmailForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            revealed = services.reveal_member_email(
                admin=admin, member=member, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            form.add_error("reason", str(exc.message))
    return render(
        request,
        "accounts/team/member_record.html",
        {
            "member": member,
            "acceptances": selectors.acceptances_of(member),
            "reveal_form": form,
            "revealed_email": revealed,
        },
        status=200 if revealed else 400,
    )


@org_admin_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_team_member(
                admin=admin,
                email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"],
                role=form.cleaned_data["role"],
            )
        except DomainError as exc:
            form.add_error("email" if exc.code == "email" else None, str(exc.message))
        else:
            messages.success(request, _("The invitation was sent."))
            return redirect("accounts:team")
    return render(
        request,
        "accounts/admin/team.html",
        {
            "form": form,
            "team": selectors.team_for(admin),
            "invitations": selectors.open_invitations_for(admin),
        },
    )


@org_admin_required
@require_POST
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    services.revoke_invitation(admin=_user(request), invitation_id=invitation_id)
    messages.success(request, _("The invitation was withdrawn."))
    return redirect("accounts:team")


def _as_aware(value: datetime, zone: str) -> datetime:
    if timezone.is_aware(value):
        return value
    return value.replace(tzinfo=ZoneInfo(zone))


@org_admin_required
@require_http_methods(["GET", "POST"])
def terms_admin(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    organization = cast(Organization, admin.organization)  # org admins always have one
    form = PublishTermsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.publish_terms_version(
                admin=admin,
                kind=form.cleaned_data["kind"],
                label=form.cleaned_data["label"],
                text=form.cleaned_data["text"],
                effective_at=_as_aware(form.cleaned_data["effective_at"], organization.time_zone),
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The new version was published."))
            return redirect("accounts:terms_admin")
    versions = TermsVersion.objects.filter(organization=organization).select_related("published_by")
    current_ids = {v.pk for v in selectors.versions_in_force(organization=organization)}
    return render(
        request,
        "accounts/admin/terms.html",
        {"form": form, "versions": versions, "current_ids": current_ids},
    )
