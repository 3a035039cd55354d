"""The invoices in the customer area: a contact sees their own customer's invoices and credit
notes and downloads each as PDF and as e-invoice XML. Another customer's invoice does not exist
for them (404)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.permissions import customer_contact_required
from treffpunkt.backoffice.listing import ShellMixin
from treffpunkt.billing import retention
from treffpunkt.billing.models import Invoice
from treffpunkt.billing.views_backoffice import pdf_response, xml_response
from treffpunkt.core import clock
from treffpunkt.core.registries import Area
from treffpunkt.customers.models import Customer
from treffpunkt.customers.selectors import own_customer


def invoices_of(customer: Customer) -> models.QuerySet[Invoice]:
    """The customer's invoices and credit notes within their retention period. Never another
    customer's."""
    return (
        Invoice.objects.in_everyday_use()
        .filter(customer=customer)
        .select_related("original", "document")
    )


def invoice_of(customer: Customer, pk: int) -> Invoice:
    return get_object_or_404(invoices_of(customer), pk=pk)


@method_decorator(customer_contact_required, name="dispatch")
class CustomerInvoices(ShellMixin, TemplateResponseMixin, View):
    template_name = "billing/customer/invoices.html"
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    title = gettext_lazy("Invoices")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        customer = own_customer(request.user)
        invoices = invoices_of(customer).order_by("-issue_date", "-number")
        kept_from = retention.first_day_in_use(clock.operator_today())
        return self.render_to_response(
            self.get_context_data(customer=customer, invoices=invoices, kept_from=kept_from)
        )


@method_decorator(customer_contact_required, name="dispatch")
class CustomerInvoicePdf(View):
    """The PDF exactly as it was issued."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return pdf_response(invoice_of(own_customer(request.user), pk))


@method_decorator(customer_contact_required, name="dispatch")
class CustomerInvoiceXml(View):
    """The e-invoice XML, for the customer's own accounting software."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return xml_response(invoice_of(own_customer(request.user), pk))
