"""Reads for accounts. Every read of organization data is scoped to the viewer's organization."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from treffpunkt.accounts.models import (
    Invitation,
    Organization,
    Role,
    TermsAcceptance,
    TermsKind,
    TermsVersion,
    User,
)
from treffpunkt.core import clock


def version_in_force(
    *, organization: Organization, kind: str, at: datetime | None = None
) -> TermsVersion | None:
    """The version that applies at ``at``: the newest one whose effective date has come."""
    return (
        TermsVersion.objects.filter(
            organization=organization, kind=kind, effective_at__lte=at or clock.now()
        )
        .order_by("-effective_at", "-number")
        .first()
    )


def versions_in_force(
    *, organization: Organization, at: datetime | None = None
) -> list[TermsVersion]:
    found = (
        version_in_force(organization=organization, kind=kind, at=at) for kind in TermsKind.values
    )
    return [version for version in found if version is not None]


def terms_awaiting_acceptance(user: User) -> list[TermsVersion]:
    """Versions in force that this member has not accepted yet (P-ACC-2).

    Members use the organization's service under its terms; staff and admins work for the
    organization and are bound by their employment, so only members are asked.

    Asked on every request of a member, so one query: the versions whose date has come, newest
    first, each marked whether this member accepted it; the first of each kind is in force.
    (An organization has a handful of versions over the years.)
    """
    if not user.is_authenticated or not user.is_member or user.organization_id is None:
        return []
    versions = (
        TermsVersion.objects.filter(
            organization_id=user.organization_id, effective_at__lte=clock.now()
        )
        .annotate(
            accepted=Exists(
                TermsAcceptance.objects.filter(user_id=user.pk, version_id=OuterRef("pk"))
            )
        )
        .order_by("-effective_at", "-number")
    )
    in_force: dict[str, TermsVersion] = {}
    for version in versions:
        in_force.setdefault(version.kind, version)
    # ``accepted`` comes from annotate(); django-stubs types the rows as plain TermsVersion.
    return [
        in_force[kind]
        for kind in TermsKind.values
        if kind in in_force and not in_force[kind].accepted  # type: ignore[attr-defined]
    ]


def published_versions(*, organization: Organization, kind: str) -> QuerySet[TermsVersion]:
    return TermsVersion.objects.filter(organization=organization, kind=kind).order_by("-number")


def members_for(viewer: User) -> QuerySet[User]:
    """Members the viewer may see: only their own organization's, and only for the team."""
    if not viewer.is_team:
        return User.objects.none()
    return User.objects.filter(organization=viewer.organization, role=Role.MEMBER).order_by(
        "display_name", "pk"
    )


def member_for(viewer: User, member_id: int) -> User:
    """One member of the viewer's organization, or 404: other organizations' members do not
    exist as far as the viewer can tell."""
    member = members_for(viewer).filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


def team_for(viewer: User) -> QuerySet[User]:
    if not viewer.is_team:
        return User.objects.none()
    return User.objects.filter(
        organization=viewer.organization, role__in=[Role.STAFF, Role.ORG_ADMIN]
    ).order_by("display_name", "pk")


def open_invitations_for(viewer: User) -> QuerySet[Invitation]:
    if not viewer.is_org_admin:
        return Invitation.objects.none()
    return Invitation.objects.filter(
        organization=viewer.organization,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=clock.now(),
    ).select_related("invited_by")


def acceptances_of(member: User) -> QuerySet[TermsAcceptance]:
    return TermsAcceptance.objects.filter(user=member).select_related("version")
