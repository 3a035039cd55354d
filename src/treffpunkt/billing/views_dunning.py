"""The dunning pages of the back office (P-BILL-2): overdue invoices with the reminders sent, the
open default findings with the invoices behind each, and the termination without notice for
default, which shows the computed flat damages before the operator confirms it. Blocking the
service is the contracts app's page; these pages link to it.

Reading needs ``Capability.BILLING`` (or the auditor's); terminating needs the capability itself
and goes through ``billing.services.dunning``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from treffpunkt.backoffice.listing import ShellMixin, as_text
from treffpunkt.billing.models import DefaultFinding, DefaultTermination
from treffpunkt.billing.services import dunning
from treffpunkt.billing.views_backoffice import (
    READS,
    WRITES,
    FormPage,
    _may_write,
    _user,
    customer_label,
    invoice_url,
    money_text,
)
from treffpunkt.core import clock

DUNNING = "backoffice:billing:dunning"


def finding_url(finding: DefaultFinding) -> str:
    return reverse("backoffice:billing:default_finding", args=[finding.pk])


def block_url(finding: DefaultFinding) -> str:
    return reverse("backoffice:contracts:customer_service", args=[finding.contract.customer_id])


def finding_rows(finding: DefaultFinding) -> list[dict[str, str]]:
    """The invoices behind a finding as stored, with links where the invoice still exists."""
    from treffpunkt.billing.models import Invoice

    numbers = [row.get("number", "") for row in finding.invoices]
    pks = dict(Invoice.objects.filter(number__in=numbers).values_list("number", "pk"))
    rows = []
    for row in finding.invoices:
        number = row.get("number", "")
        due = row.get("due_on", "")
        rows.append(
            {
                "number": number,
                "href": reverse("backoffice:billing:invoice", args=[pks[number]])
                if number in pks
                else "",
                "month": row.get("month", ""),
                "due_on": as_text(date.fromisoformat(due)) if due else "–",
                "gross": money_text(Decimal(row.get("gross", "0"))),
                "unpaid": money_text(Decimal(row.get("unpaid", "0"))),
            }
        )
    return rows


@method_decorator(READS, name="dispatch")
class DunningOverview(ShellMixin, TemplateView):
    template_name = "billing/dunning/overview.html"
    title = gettext_lazy("Dunning and default")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = clock.operator_today()
        context["schedule"] = ", ".join(str(d) for d in dunning.schedule_days())
        context["overdue"] = [
            {
                "invoice": item.invoice,
                "href": invoice_url(item.invoice),
                "customer": customer_label(item.invoice.customer),
                "contract": item.invoice.contract.number if item.invoice.contract else "–",
                "due_on": as_text(item.invoice.due_on),
                "days": (today - item.invoice.due_on).days if item.invoice.due_on else 0,
                "gross": money_text(item.invoice.gross_total),
                "dunnable": money_text(item.dunnable),
                "disputed": money_text(item.disputed) if item.disputed else "–",
                "reminders": [
                    _("level %(level)s on %(day)s")
                    % {"level": reminder.level, "day": as_text(reminder.sent_on)}
                    for reminder in item.reminders
                ],
            }
            for item in dunning.overdue_invoices(on=today)
        ]
        context["findings"] = [
            {
                "finding": finding,
                "href": finding_url(finding),
                "contract": finding.contract.number,
                "customer": customer_label(finding.contract.customer),
                "rule": finding.get_rule_display(),
                "found_on": as_text(finding.found_on),
                "unpaid": money_text(finding.unpaid),
                "invoices": ", ".join(row.get("number", "") for row in finding.invoices),
            }
            for finding in dunning.open_findings()
        ]
        return context


@method_decorator(READS, name="dispatch")
class FindingDetail(ShellMixin, TemplateView):
    template_name = "billing/dunning/finding.html"
    part_of = DUNNING

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        finding = get_object_or_404(
            DefaultFinding.objects.select_related(
                "contract", "contract__customer", "contract__product"
            ),
            pk=self.kwargs["pk"],
        )
        self.finding = finding
        context = super().get_context_data(**kwargs)
        termination = DefaultTermination.objects.filter(contract=finding.contract).first()
        context.update(
            finding=finding,
            rows=finding_rows(finding),
            termination=termination,
            termination_damages=money_text(termination.damages) if termination else "",
            contract_url=reverse("backoffice:contracts:contract", args=[finding.contract_id]),
            block_url=block_url(finding),
            may_write=_may_write(self.request),
            preview=None,
        )
        if finding.resolved_on is None and termination is None and finding.contract.is_live:
            context["preview"] = preview_context(finding)
            context["terminate_url"] = reverse(
                "backoffice:billing:terminate_for_default", args=[finding.pk]
            )
        return context

    def get_title(self) -> str:
        finding = getattr(self, "finding", None)
        if finding is None:
            return str(gettext_lazy("Default finding"))
        return _("Default finding for contract %(contract)s") % {
            "contract": finding.contract.number
        }


def preview_context(finding: DefaultFinding) -> dict[str, Any]:
    preview = dunning.damages_preview(finding.contract, on=clock.operator_today())
    return {
        "terminated_on": as_text(preview.terminated_on),
        "regular_end": as_text(preview.regular_end),
        "monthly_fee": money_text(preview.monthly_fee),
        "months": [
            {
                "period": f"{as_text(m.first)} – {as_text(m.last)}",
                "share": as_text(m.share.normalize()),
                "fee": money_text(m.fee),
            }
            for m in preview.months
        ],
        "remaining_fees": money_text(preview.remaining_fees),
        "damages": money_text(preview.damages),
        "vat": preview.vat,
        "vat_amount": money_text(preview.vat_amount),
        "gross": money_text(preview.gross),
    }


class TerminateForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Terminate the contract without notice today and claim the flat damages shown"
        ),
        required=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "terminate")
        super().__init__(*args, **kwargs)


@method_decorator(WRITES, name="dispatch")
class TerminateForDefault(FormPage):
    template_name = "billing/dunning/terminate.html"
    form_class = TerminateForm
    part_of = DUNNING
    submit_text = gettext_lazy("Terminate for default")
    intro = gettext_lazy(
        "The contract ends at the end of today (§ 8 (VI) of the terms). The flat damages of one "
        "quarter of the fees until the regular end are claimed, the termination letter is "
        "written and sent. The unpaid fees remain due."
    )
    finding: DefaultFinding

    def load(self, **kwargs: Any) -> None:
        self.finding = get_object_or_404(
            DefaultFinding.objects.select_related(
                "contract", "contract__customer", "contract__product"
            ),
            pk=kwargs["pk"],
        )

    def back(self) -> tuple[str, str]:
        return finding_url(self.finding), _("Back to the finding")

    def get_title(self) -> str:
        return _("Terminate contract %(contract)s for default") % {
            "contract": self.finding.contract.number
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["finding"] = self.finding
        context["rows"] = finding_rows(self.finding)
        context["preview"] = (
            preview_context(self.finding) if self.finding.contract.is_live else None
        )
        return context

    def act(self, form: forms.Form) -> str:
        termination = dunning.terminate_for_default(actor=_user(self.request), finding=self.finding)
        messages.success(
            self.request,
            _(
                "Contract %(contract)s was terminated for default; flat damages of %(damages)s "
                "(net) were claimed and the termination letter was sent."
            )
            % {
                "contract": self.finding.contract.number,
                "damages": money_text(termination.damages),
            },
        )
        return finding_url(self.finding)
