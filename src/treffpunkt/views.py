"""The start page: one address for everybody. It sits at the top (the composition root)
because what it shows depends on every role the apps define."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

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
    if user.is_customer_contact:
        # A business customer's contact belongs to no organization: their start is the
        # customer area (the member's start page would have no organization to show).
        return redirect("customer_area:home")
    if user.is_team:
        return render(request, "core/home_team.html")
    return render(request, "core/home_member.html")
