"""Four eyes for large credit notes: the credit notes awaiting a second operator's approval, and
the page where that operator approves (the credit note is issued) or refuses one. The operator
who asked for a credit note cannot approve it; they may withdraw it by refusing it.

Reading needs ``Capability.BILLING`` (or the auditor's); deciding needs the capability itself and
goes through ``billing.services.approval``."""

from __future__ import annotations

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
from treffpunkt.billing.models import ApprovalState, CreditNoteRequest
from treffpunkt.billing.services import approval
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

APPROVALS = "backoffice:billing:approvals"


def request_url(request: CreditNoteRequest) -> str:
    return reverse("backoffice:billing:approval", args=[request.pk])


def request_row(request: CreditNoteRequest) -> dict[str, Any]:
    return {
        "request": request,
        "href": request_url(request),
        "invoice": request.original.number,
        "invoice_href": invoice_url(request.original),
        "customer": customer_label(request.original.customer),
        "gross": money_text(request.gross),
        "reason": request.reason,
        "requested_by": str(request.requested_by),
        "requested_at": as_text(request.requested_at),
    }


def line_rows(request: CreditNoteRequest) -> list[dict[str, str]]:
    return [
        {
            "description": row["description"],
            "quantity": as_text(Decimal(row["quantity"]).normalize()),
            "unit": row["unit"],
            "unit_price": money_text(Decimal(row["unit_price"])),
            "vat_kind": row["vat_kind"],
            "period": f"{row['supply_start']} – {row['supply_end']}",
        }
        for row in request.lines
    ]


@method_decorator(READS, name="dispatch")
class ApprovalList(ShellMixin, TemplateView):
    template_name = "billing/approval/list.html"
    title = gettext_lazy("Credit notes to approve")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["limit"] = money_text(approval.four_eyes_gross())
        context["pending"] = [request_row(r) for r in approval.pending_requests()]
        return context


DECISIONS = (("approve", gettext_lazy("Approve and issue")), ("refuse", gettext_lazy("Refuse")))


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"), choices=DECISIONS, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Note (required to refuse)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decide")
        super().__init__(*args, **kwargs)


@method_decorator(WRITES, name="dispatch")
class DecideRequest(FormPage):
    template_name = "billing/approval/decide.html"
    form_class = DecideForm
    part_of = APPROVALS
    submit_text = gettext_lazy("Decide")
    intro = gettext_lazy(
        "Approving issues the credit note now, checked again against the invoice. The operator "
        "who asked for it cannot approve it."
    )
    credit_request: CreditNoteRequest

    def load(self, **kwargs: Any) -> None:
        self.credit_request = get_object_or_404(
            CreditNoteRequest.objects.select_related(
                "original", "original__customer", "requested_by", "decided_by", "credit_note"
            ),
            pk=kwargs["pk"],
        )

    def back(self) -> tuple[str, str]:
        return reverse(APPROVALS), _("Back to the credit notes to approve")

    def get_title(self) -> str:
        return _("Credit note for invoice %(number)s to approve") % {
            "number": self.credit_request.original.number
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.credit_request
        context.update(
            item=request_row(request),
            lines=line_rows(request),
            is_pending=request.state == ApprovalState.PENDING,
            own=request.requested_by_id == self.request.user.pk,
            may_write=_may_write(self.request),
            decided_at=as_text(request.decided_at) if request.decided_at else "",
            credit_note_href=invoice_url(request.credit_note) if request.credit_note else "",
        )
        return context

    def act(self, form: forms.Form) -> str:
        actor = _user(self.request)
        if form.cleaned_data["decision"] == "approve":
            decided = approval.approve(actor=actor, request=self.credit_request)
            assert decided.credit_note is not None  # noqa: S101  # just issued
            messages.success(
                self.request,
                _("The credit note %(number)s over %(amount)s was issued.")
                % {
                    "number": decided.credit_note.number,
                    "amount": money_text(decided.credit_note.gross_total),
                },
            )
            return invoice_url(decided.credit_note)
        approval.refuse(actor=actor, request=self.credit_request, note=form.cleaned_data["note"])
        messages.success(self.request, _("The credit note was refused; nothing was issued."))
        return reverse(APPROVALS)
