"""The start page: one address for everybody. It sits at the top (the composition root)
because what it shows depends on every role the apps define."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from treffpunkt.accounts.models import Organization


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
