"""The data rules at a glance (P-DATA-1, P-DATA-2): every kind of personal data the apps
register, how long it is kept, the job that enforces it, and when that job last ran with what
it did (from the job's audit entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.permissions import Capability, capability_required
from treffpunkt.backoffice.listing import ShellMixin
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import DataRule, registry


@dataclass(frozen=True)
class RuleRow:
    rule: DataRule
    last_run: AuditEntry | None

    @property
    def counts(self) -> str:
        if self.last_run is None:
            return ""
        data: dict[str, Any] = self.last_run.data or {}
        return ", ".join(f"{key}: {value}" for key, value in data.items() if isinstance(value, int))


def rule_rows() -> list[RuleRow]:
    rows = []
    for rule in sorted(registry.data_rules.values(), key=lambda r: r.key):
        last = (
            AuditEntry.objects.filter(code=rule.audit_code).order_by("-created_at", "-pk").first()
            if rule.audit_code
            else None
        )
        rows.append(RuleRow(rule, last))
    return rows


@method_decorator(capability_required(Capability.PLATFORM), name="dispatch")
class DataRulesPage(ShellMixin, TemplateResponseMixin, View):
    template_name = "backoffice/data_rules.html"
    title = gettext_lazy("Data rules")

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_to_response(self.get_context_data(rows=rule_rows()))
