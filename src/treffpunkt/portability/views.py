"""The customer's data export in the customer area: a page that says what the archive holds,
and the download. Only the customer's own contacts; the download is recorded in the audit log."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import customer_contact_required
from treffpunkt.backoffice.listing import ShellMixin
from treffpunkt.core import audit, clock
from treffpunkt.core.registries import Area
from treffpunkt.customers.selectors import own_customer
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
