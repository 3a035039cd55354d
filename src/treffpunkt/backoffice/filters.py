"""Filters the back office's lists share: a range of days in the reader's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def start_of_day(day: date) -> datetime:
    """Midnight of ``day`` where the reader lives (the active time zone)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _from_day(queryset: models.QuerySet[Any], name: str, value: date) -> models.QuerySet[Any]:
    return queryset.filter(**{f"{name}__gte": start_of_day(value)})


def _until_day(queryset: models.QuerySet[Any], name: str, value: date) -> models.QuerySet[Any]:
    # Up to the next midnight, not 23:59:59.999999 of the day: nothing falls between.
    return queryset.filter(**{f"{name}__lt": start_of_day(value + timedelta(days=1))})


def _date_input() -> forms.DateInput:
    # The browser's date picker wants the value as YYYY-MM-DD, whatever the page's language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def since_filter(field: str, label: Any = None) -> django_filters.DateFilter:
    """From the start of the given day on (``?since=2026-01-31``)."""
    return django_filters.DateFilter(
        field_name=field, method=_from_day, label=label or _("From"), widget=_date_input()
    )


def until_filter(field: str, label: Any = None) -> django_filters.DateFilter:
    """Up to the end of the given day (``?until=2026-01-31``)."""
    return django_filters.DateFilter(
        field_name=field, method=_until_day, label=label or _("Until"), widget=_date_input()
    )
