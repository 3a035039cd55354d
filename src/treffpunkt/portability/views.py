"""The customer's data export in the customer area: a page that says what the archive holds,
and the download. Only the customer's own contacts; the download is recorded in the audit log."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import customer_contact_required, member_required
from treffpunkt.backoffice.listing import ShellMixin, show_refusal
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area
from treffpunkt.customers.selectors import own_customer
from treffpunkt.portability import member
from treffpunkt.portability.export import customer_archive


@method_decorator(customer_contact_required, name="dispatch")
class ExportPage(ShellMixin, TemplateResponseMixin, View):
    template_name = "portability/export.html"
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    title = gettext_lazy("Your data")

    def get(self, request: HttpRequest) -> HttpResponse:
        customer = own_customer(request.user)
        return self.render_to_response(self.get_context_data(customer=customer))


@method_decorator(customer_contact_required, name="dispatch")
class ExportDownload(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        customer = own_customer(request.user)
        content = customer_archive(customer, asking=cast(User, request.user))
        # Reading, not changing: the audit entry records who took the data, and when.
        audit.record(
            "portability.customer.exported",
            actor=cast(User, request.user),
            target=customer,
            data={"bytes": len(content)},
        )
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=f"treffpunkt-{customer.customer_number}-{clock.operator_today():%Y-%m-%d}.zip",
        )
        return response


# --- a member's own data ------------------------------------------------------------------------


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password, to confirm"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


@method_decorator(member_required, name="dispatch")
class MemberData(TemplateResponseMixin, View):
    """Download one's data, or delete one's account, seeing first what is deleted and what is
    kept (and why)."""

    template_name = "portability/member.html"

    def page(self, form: DeleteAccountForm, status: int = 200) -> HttpResponse:
        return self.render_to_response(
            {
                "title": _("Your data"),
                "form": form,
                "deleted": member.DELETED,
                "kept": member.KEPT,
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(DeleteAccountForm())

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = DeleteAccountForm(request.POST)
        if form.is_valid():
            try:
                member.delete_member_account(
                    member=cast(User, request.user), password=form.cleaned_data["password"]
                )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                logout(request)
                messages.success(request, _("Your account was deleted."))
                return redirect("home")
        return self.page(form, status=400)


@method_decorator(member_required, name="dispatch")
class MemberDataDownload(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        user = cast(User, request.user)
        content = member.member_archive(user)
        audit.record("portability.member.exported", actor=user, target=user)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=f"treffpunkt-meine-daten-{clock.operator_today():%Y-%m-%d}.zip",
        )
        return response
