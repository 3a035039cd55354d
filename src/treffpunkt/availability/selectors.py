"""Reading availability: a customer's month from the incidents and maintenance windows that
concern it (those without a scope concern everyone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from django.db import models

from treffpunkt.availability import figures
from treffpunkt.availability.models import Incident, MaintenanceWindow
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer

Scoped = TypeVar("Scoped", Incident, MaintenanceWindow)


def _concerning(
    queryset: models.QuerySet[Scoped], customer: Customer | None
) -> models.QuerySet[Scoped]:
    if customer is None:
        return queryset.filter(customers__isnull=True)
    return queryset.filter(models.Q(customers__isnull=True) | models.Q(customers=customer))


def incidents_in(month: date, customer: Customer | None) -> list[Incident]:
    start, end = figures.month_bounds(month)
    found = Incident.objects.filter(started_at__lt=end).filter(
        models.Q(ended_at__isnull=True) | models.Q(ended_at__gt=start)
    )
    return list(_concerning(found, customer).distinct().order_by("started_at", "pk"))


def maintenance_in(month: date, customer: Customer | None) -> list[MaintenanceWindow]:
    start, end = figures.month_bounds(month)
    found = MaintenanceWindow.objects.filter(starts_at__lt=end, ends_at__gt=start)
    return list(_concerning(found, customer).distinct().order_by("starts_at", "pk"))


@dataclass(frozen=True)
class MonthReport:
    figure: figures.MonthFigure
    incidents: list[Incident]
    maintenance: list[MaintenanceWindow]

    @property
    def below_goal(self) -> bool:
        return not self.figure.meets_goal


def month_report(month: date, customer: Customer | None) -> MonthReport:
    """The month's figure for ``customer`` (``None``: the platform as a whole)."""
    incidents = incidents_in(month, customer)
    windows = maintenance_in(month, customer)
    figure = figures.month_figure(
        month,
        incidents=[
            figures.Incident(i.started_at, i.ended_at, i.significant, i.fix_due_at)
            for i in incidents
        ],
        maintenance=[figures.Maintenance(w.starts_at, w.ends_at) for w in windows],
        now=clock.now(),
    )
    return MonthReport(figure, incidents, windows)


def months_back(count: int, *, until: date | None = None) -> list[date]:
    """The first days of the ``count`` months up to the one of ``until`` (today), oldest first."""
    day = (until or clock.operator_today()).replace(day=1)
    months = []
    for _ in range(count):
        months.append(day)
        day = (day - timedelta(days=1)).replace(day=1)
    return list(reversed(months))
