from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date

from treffpunkt.accounts.models import Organization
from treffpunkt.accounts.permissions import operator_required
from treffpunkt.core.models import AuditEntry


def home(request: HttpRequest) -> HttpResponse:
    """One address for everybody; what it shows depends on who is looking."""
    if not request.user.is_authenticated:
        return render(
            request, "core/landing.html", {"organizations": Organization.objects.order_by("name")}
        )
    user = request.user
    if user.is_operator:
        return render(
            request,
            "core/home_operator.html",
            {"organizations": Organization.objects.order_by("name")},
        )
    if user.is_team:
        return render(request, "core/home_team.html")
    return render(request, "core/home_member.html")


def _day_bound(raw: str, *, end: bool) -> datetime | None:
    day = parse_date(raw) if raw else None
    if day is None:
        return None
    moment = datetime.combine(day, time.max if end else time.min)
    return moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


@operator_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The operator browses and filters the audit log (P-ACC-4)."""
    entries = AuditEntry.objects.select_related("actor", "organization")
    filters = {
        "code": request.GET.get("code", "").strip()[:100],
        "organization": request.GET.get("organization", "").strip(),
        "actor": request.GET.get("actor", "").strip()[:80],
        "since": request.GET.get("since", "").strip(),
        "until": request.GET.get("until", "").strip(),
    }
    if filters["code"]:
        entries = entries.filter(code__startswith=filters["code"])
    if filters["organization"].isdigit():
        entries = entries.filter(organization_id=int(filters["organization"]))
    if filters["actor"]:
        entries = entries.filter(actor__display_name__icontains=filters["actor"])
    since = _day_bound(filters["since"], end=False)
    until = _day_bound(filters["until"], end=True)
    if since:
        entries = entries.filter(created_at__gte=since)
    if until:
        entries = entries.filter(created_at__lte=until)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "filters": filters,
            "organizations": Organization.objects.order_by("name"),
            "codes": AuditEntry.objects.order_by("code").values_list("code", flat=True).distinct(),
            "query": query.urlencode(),
        },
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
