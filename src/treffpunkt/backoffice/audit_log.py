"""The audit log in the back office (P-ACC-4): who did what and when, one readable sentence per
entry from the codes the apps registered, the code beside it for those who search by it.

The platform's administrators and the auditor read it; nobody changes it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.db import models
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treffpunkt.accounts.models import Organization
from treffpunkt.accounts.permissions import Capability, capability_required
from treffpunkt.backoffice.filters import since_filter, until_filter
from treffpunkt.backoffice.listing import Column, DetailPage, Fact, ListPage
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import registry


def actor_name(entry: AuditEntry) -> str:
    # No actor: the platform itself did it (a scheduled job, an expiry), or the person's
    # account no longer exists.
    return entry.actor.display_name if entry.actor is not None else _("System")


def target_label(entry: AuditEntry) -> str:
    """What the entry was about, in short: its kind and number ("Benutzer Nr. 12")."""
    if not entry.target_type:
        return ""
    try:
        kind = str(capfirst(apps.get_model(entry.target_type)._meta.verbose_name))
    except (LookupError, ValueError):
        kind = entry.target_type  # a model that no longer exists: its stored name
    if not entry.target_id:
        return kind
    return _("%(kind)s no. %(id)s") % {"kind": kind, "id": entry.target_id}


def sentence(entry: AuditEntry) -> str:
    """The entry as a sentence, from the sentence its app registered for the code; the code
    itself when no app registered it (an entry is never hidden for want of a sentence)."""
    code = registry.audit_codes.get(entry.code)
    if code is None:
        return entry.code
    try:
        return str(code.sentence) % {"actor": actor_name(entry), "target": target_label(entry)}
    except (KeyError, ValueError, TypeError):
        # A sentence with a placeholder the log does not fill (or a broken translation).
        return entry.code


def _entry_url(entry: AuditEntry) -> str:
    return reverse("backoffice:audit_entry", args=[entry.pk])


class AuditFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(
        lookup_expr="startswith",
        label=gettext_lazy("Event code starts with"),
        help_text=gettext_lazy("For example accounts.member"),
        max_length=100,
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.order_by("name"),
        label=gettext_lazy("Organization"),
        empty_label=gettext_lazy("all"),
    )
    actor = django_filters.CharFilter(
        field_name="actor__display_name",
        lookup_expr="icontains",
        label=gettext_lazy("Actor (name)"),
        max_length=80,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    since = since_filter("created_at")
    until = until_filter("created_at")

    class Meta:
        model = AuditEntry
        fields: list[str] = []


@method_decorator(capability_required(Capability.PLATFORM), name="dispatch")
class AuditLogPage(ListPage[AuditEntry]):
    title = gettext_lazy("Audit log")
    caption = gettext_lazy("Audit log entries")
    empty_text = gettext_lazy("No entries match.")
    filterset_class = AuditFilter
    default_sort = "-time"
    csv_filename = "protokoll"
    columns = (
        Column(gettext_lazy("Time"), lambda e: e.created_at, "time", order_by=("created_at",)),
        Column(gettext_lazy("What happened"), sentence, href=_entry_url),
        Column(
            gettext_lazy("Actor"),
            actor_name,
            "actor",
            order_by=("actor__display_name",),
        ),
        Column(
            gettext_lazy("Organization"),
            lambda e: e.organization.name if e.organization else None,
            "organization",
            order_by=("organization__name",),
        ),
        Column(gettext_lazy("Target"), target_label, html=False),
        Column(gettext_lazy("Details"), lambda e: e.data, html=False),
        Column(gettext_lazy("Code"), lambda e: e.code, "code", code=True),
    )

    def get_queryset(self) -> models.QuerySet[AuditEntry]:
        return AuditEntry.objects.select_related("actor", "organization")


@method_decorator(capability_required(Capability.PLATFORM), name="dispatch")
class AuditEntryPage(DetailPage[AuditEntry]):
    list_url_name = "backoffice:audit_log"
    back_text = gettext_lazy("Back to the audit log")

    def get_object(self) -> AuditEntry:
        return get_object_or_404(
            AuditEntry.objects.select_related("actor", "organization"), pk=self.kwargs["pk"]
        )

    def get_record_title(self, entry: AuditEntry) -> str:
        return _("Audit entry no. %(id)s") % {"id": entry.pk}

    def get_facts(self, entry: AuditEntry) -> list[Fact]:
        organization: Any = entry.organization.name if entry.organization else None
        return [
            Fact(_("What happened"), sentence(entry)),
            Fact(_("Time"), entry.created_at),
            Fact(_("Actor"), actor_name(entry)),
            Fact(_("Organization"), organization),
            Fact(_("Target"), target_label(entry)),
            Fact(_("Target type"), entry.target_type),
            Fact(_("Target id"), entry.target_id),
            Fact(_("Code"), entry.code),
            Fact(_("Details"), entry.data or None),
        ]
