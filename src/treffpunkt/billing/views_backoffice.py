"""The billing pages of the back office: the invoices and credit notes, each with its lines, VAT
and downloads; sending an invoice, correcting it by a credit note, and issuing a contract's
invoice for a month by hand (its first one switches the service on).

Reading needs ``Capability.BILLING`` or the auditor's; every change needs the capability itself
and goes through ``billing.services``. A refused change shows the form again with the service's
message (status 400) and writes nothing; a done one redirects with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import django_filters
from django import forms
from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import View

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, capability_required, has_capability
from treffpunkt.backoffice import listing
from treffpunkt.backoffice.listing import (
    Column,
    DetailPage,
    Fact,
    ListPage,
    show_refusal,
)
from treffpunkt.billing import services
from treffpunkt.billing.forms import ContractMonthForm, CreditNoteForm, IssueForm, SendForm
from treffpunkt.billing.models import Invoice, InvoiceKind
from treffpunkt.billing.services.approval import four_eyes_gross, request_credit_note
from treffpunkt.billing.services.run import Month, billing_key, contract_lines
from treffpunkt.contracts.models import Contract
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import TaxableLine, format_money, vat_totals
from treffpunkt.customers.models import Customer
from treffpunkt.documents.selectors import document_bytes, download_name

READS = capability_required(Capability.BILLING)
WRITES = capability_required(Capability.BILLING, write=True)

INVOICES = "backoffice:billing:invoices"


def _user(request: HttpRequest) -> User:
    # The capability decorators have let only signed-in operators through.
    return cast(User, request.user)


def _may_write(request: HttpRequest) -> bool:
    return has_capability(request.user, Capability.BILLING)


def invoice_url(invoice: Invoice) -> str:
    return reverse("backoffice:billing:invoice", args=[invoice.pk])


def money_text(amount: Decimal | None) -> str:
    return format_money(amount, language=get_language() or "de") if amount is not None else "–"


def customer_label(customer: Customer) -> str:
    return f"{customer.customer_number} {customer.legal_name}"


def sent_text(invoice: Invoice) -> str:
    if invoice.sent_at is None:
        return _("not sent")
    return _("sent on %(day)s") % {"day": Fact("", invoice.sent_at).text}


# What the pages show of a party copied onto an invoice. Never its e-mail addresses: the
# buyer's is a contact's.
PARTY_FIELDS = (
    ("name", gettext_lazy("Name")),
    ("street", gettext_lazy("Street")),
    ("postal_code", gettext_lazy("Postal code")),
    ("city", gettext_lazy("City")),
    ("country", gettext_lazy("Country")),
    ("vat_id", gettext_lazy("VAT ID")),
    ("tax_number", gettext_lazy("Tax number")),
    ("leitweg_id", gettext_lazy("Leitweg-ID")),
    ("contact_name", gettext_lazy("Contact")),
    ("contact_phone", gettext_lazy("Phone")),
)


def party_facts(stored: dict[str, str]) -> dict[str, str]:
    return {str(label): stored[key] for key, label in PARTY_FIELDS if stored.get(key)}


@dataclass(frozen=True)
class LinkFact(Fact):
    """A fact whose value links to another page."""

    href: str = ""


# --- the list ---------------------------------------------------------------------------------


class SentFilter(django_filters.ChoiceFilter):
    def filter(self, qs: models.QuerySet[Invoice], value: str) -> models.QuerySet[Invoice]:
        if value == "sent":
            return qs.filter(sent_at__isnull=False)
        if value == "unsent":
            return qs.filter(sent_at__isnull=True)
        return qs


class InvoiceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=InvoiceKind.choices, label=gettext_lazy("Kind"), empty_label=gettext_lazy("all")
    )
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.order_by("legal_name"),
        label=gettext_lazy("Customer"),
        empty_label=gettext_lazy("all"),
    )
    sent = SentFilter(
        choices=[("sent", gettext_lazy("sent")), ("unsent", gettext_lazy("not sent"))],
        label=gettext_lazy("Sent"),
        empty_label=gettext_lazy("all"),
    )

    class Meta:
        model = Invoice
        fields: list[str] = []


@method_decorator(READS, name="dispatch")
class InvoiceList(ListPage[Invoice]):
    template_name = "billing/backoffice/invoice_list.html"
    title = gettext_lazy("Invoices")
    caption = gettext_lazy("Invoices and credit notes, newest first")
    empty_text = gettext_lazy("No invoices match.")
    filterset_class = InvoiceFilter
    default_sort = "-number"
    csv_filename = "rechnungen"
    columns = (
        Column(gettext_lazy("Number"), lambda i: i.number, "number", href=invoice_url),
        Column(gettext_lazy("Kind"), lambda i: i.get_kind_display()),
        Column(gettext_lazy("Customer"), lambda i: customer_label(i.customer)),
        Column(gettext_lazy("Issue date"), lambda i: i.issue_date, "issued", ("issue_date",)),
        Column(gettext_lazy("Gross"), lambda i: money_text(i.gross_total), html=True, csv=False),
        # The export keeps the amount a number, so that a spreadsheet can add it up.
        Column(gettext_lazy("Gross (EUR)"), lambda i: i.gross_total, html=False),
        Column(gettext_lazy("Due on"), lambda i: i.due_on, "due", ("due_on",)),
        Column(gettext_lazy("Sent"), sent_text),
    )

    def get_queryset(self) -> models.QuerySet[Invoice]:
        return Invoice.objects.in_everyday_use().select_related("customer")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("issue_form", IssueForm() if _may_write(self.request) else None)
        return super().get_context_data(**kwargs)


# --- the detail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRow:
    position: int
    description: str
    period: str
    quantity: str
    unit: str
    unit_price: str
    net: str
    vat_percent: str


def percent_text(value: Decimal) -> str:
    return f"{Fact('', value.normalize()).text}\u00a0%"


def unit_price_text(amount: Decimal) -> str:
    """A unit price: in cents like any amount, with its four decimals when it has them (a
    price per minute)."""
    if amount == amount.quantize(Decimal("0.01")):
        return money_text(amount)
    number = format(amount.normalize(), "f")
    if (get_language() or "de").startswith("de"):
        return f"{number.replace('.', ',')}\u00a0€"
    return f"€{number}"


def period_text(start: date, end: date) -> str:
    return f"{Fact('', start).text} – {Fact('', end).text}"


@method_decorator(READS, name="dispatch")
class InvoiceDetail(DetailPage[Invoice]):
    template_name = "billing/backoffice/invoice_detail.html"
    list_url_name = INVOICES
    back_text = gettext_lazy("Back to the invoices")
    # The credit note form as sent, when a refused credit note shows this page again.
    credit_form: CreditNoteForm | None = None

    def get_object(self) -> Invoice:
        return get_object_or_404(
            Invoice.objects.in_everyday_use().select_related("customer", "contract", "original"),
            pk=self.kwargs["pk"],
        )

    def get_record_title(self, invoice: Invoice) -> str:
        if invoice.is_credit_note:
            return _("Credit note %(number)s") % {"number": invoice.number}
        return _("Invoice %(number)s") % {"number": invoice.number}

    def get_facts(self, invoice: Invoice) -> list[Fact]:
        facts: list[Fact] = [
            Fact(gettext_lazy("Kind"), invoice.get_kind_display()),
            LinkFact(
                gettext_lazy("Customer"),
                customer_label(invoice.customer),
                href=reverse("backoffice:customers:detail", args=[invoice.customer_id]),
            ),
        ]
        if invoice.contract is not None:
            facts.append(
                LinkFact(
                    gettext_lazy("Contract"),
                    invoice.contract.number,
                    href=reverse("backoffice:contracts:contract", args=[invoice.contract_id]),
                )
            )
        if invoice.original is not None:
            facts.append(
                LinkFact(
                    gettext_lazy("Corrects invoice"),
                    invoice.original.number,
                    href=invoice_url(invoice.original),
                )
            )
        facts += [
            Fact(gettext_lazy("Issue date"), invoice.issue_date),
            Fact(
                gettext_lazy("Period of supply"),
                period_text(invoice.supply_start, invoice.supply_end),
            ),
            Fact(gettext_lazy("E-invoice format"), invoice.get_e_invoice_format_display()),
            Fact(gettext_lazy("Sent"), invoice.sent_at),
            Fact(gettext_lazy("Received on"), invoice.received_on),
            Fact(gettext_lazy("Due on"), invoice.due_on),
            Fact(gettext_lazy("Seller"), party_facts(invoice.seller)),
            Fact(gettext_lazy("Buyer"), party_facts(invoice.buyer)),
            Fact(gettext_lazy("Notes"), invoice.note, block=True),
        ]
        return facts

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        invoice: Invoice = context["object"]
        context.update(invoice_page_context(self.request, invoice, credit_form=self.credit_form))
        return context


def invoice_page_context(
    request: HttpRequest,
    invoice: Invoice,
    *,
    credit_form: CreditNoteForm | None = None,
) -> dict[str, Any]:
    lines = list(invoice.lines.order_by("position"))
    totals = vat_totals(TaxableLine(line.net, line.vat_percent) for line in lines)
    may_write = _may_write(request)
    context: dict[str, Any] = {
        "invoice": invoice,
        "lines": [
            LineRow(
                position=line.position,
                description=line.description,
                period=period_text(line.supply_start, line.supply_end),
                quantity=Fact("", line.quantity.normalize()).text,
                unit=line.get_unit_display(),
                unit_price=unit_price_text(line.unit_price),
                net=money_text(line.net),
                vat_percent=percent_text(line.vat_percent),
            )
            for line in lines
        ],
        "vat_rows": [
            (percent_text(rate.vat_percent), money_text(rate.net), money_text(rate.vat))
            for rate in totals.rates
        ],
        "net_total": money_text(invoice.net_total),
        "vat_total": money_text(invoice.vat_total),
        "gross_total": money_text(invoice.gross_total),
        "credit_notes": [
            (note, money_text(note.gross_total)) for note in invoice.credit_notes.order_by("pk")
        ],
        "may_write": may_write,
        "send_form": None,
        "credit_form": None,
    }
    if may_write and invoice.sent_at is None:
        context["send_form"] = SendForm()
    if may_write and invoice.kind == InvoiceKind.INVOICE:
        context["credit_form"] = credit_form or CreditNoteForm(initial=credit_initial(invoice))
    return context


def credit_initial(invoice: Invoice) -> dict[str, Any]:
    first = invoice.lines.order_by("position").first()
    if first is None:
        return {}
    return {"unit": first.unit, "vat_kind": first.vat_kind, "quantity": Decimal("1")}


# --- downloads --------------------------------------------------------------------------------


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def pdf_response(invoice: Invoice) -> HttpResponse:
    """The invoice's PDF exactly as it was rendered (404 while it is not rendered yet)."""
    if invoice.document is None:
        raise Http404
    document = invoice.document
    return _download(document_bytes(document), "application/pdf", download_name(document))


def xml_response(invoice: Invoice) -> HttpResponse:
    """The e-invoice XML exactly as stored (and embedded in the PDF)."""
    return _download(
        invoice.xml.encode("utf-8"), "application/xml; charset=utf-8", f"{invoice.number}.xml"
    )


@method_decorator(READS, name="dispatch")
class InvoicePdf(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoices = Invoice.objects.in_everyday_use().select_related("document")
        return pdf_response(get_object_or_404(invoices, pk=pk))


@method_decorator(READS, name="dispatch")
class InvoiceXml(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return xml_response(get_object_or_404(Invoice.objects.in_everyday_use(), pk=pk))


# --- form pages -------------------------------------------------------------------------------


class FormPage(listing.FormPage):
    """The back office's form page (``backoffice.listing.FormPage``) within the invoices."""

    part_of = INVOICES

    def back(self) -> tuple[str, str]:
        return reverse(INVOICES), _("Back to the invoices")


class _InvoiceAction(FormPage):
    invoice: Invoice

    def load(self, **kwargs: Any) -> None:
        self.invoice = get_object_or_404(
            Invoice.objects.in_everyday_use().select_related("customer", "document"),
            pk=kwargs["pk"],
        )

    def back(self) -> tuple[str, str]:
        return invoice_url(self.invoice), _("Back to the invoice")


@method_decorator(WRITES, name="dispatch")
class SendInvoice(_InvoiceAction):
    form_class = SendForm
    submit_text = gettext_lazy("Send the invoice")
    intro = gettext_lazy(
        "By e-mail it goes to every contact of the customer, the PDF attached (a public body "
        "also gets the XRechnung XML), and counts as received the same day. A letter you "
        "printed and posted counts as received a few days after posting. The due date counts "
        "from the receipt."
    )

    def get_title(self) -> str:
        return _("Send invoice %(number)s") % {"number": self.invoice.number}

    def act(self, form: forms.Form) -> str:
        if form.cleaned_data.get("way") == SendForm.POST:
            sent = services.record_posted(
                actor=_user(self.request),
                invoice=self.invoice,
                posted_on=form.cleaned_data["posted_on"],
            )
        else:
            sent = services.send_invoice(actor=_user(self.request), invoice=self.invoice)
        messages.success(
            self.request,
            _("The invoice %(number)s was sent. It is due on %(day)s.")
            % {"number": sent.number, "day": Fact("", sent.due_on).text},
        )
        return invoice_url(self.invoice)


@method_decorator(WRITES, name="dispatch")
class CreditNote(_InvoiceAction):
    form_class = CreditNoteForm
    submit_text = gettext_lazy("Issue the credit note")
    intro = gettext_lazy(
        "A credit note corrects the invoice; the invoice itself never changes. Together the "
        "credit notes of an invoice never exceed it."
    )

    def get_title(self) -> str:
        return _("Credit note for invoice %(number)s") % {"number": self.invoice.number}

    def make_form(self, data: Any = None) -> forms.Form:
        return CreditNoteForm(data, initial=credit_initial(self.invoice))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # A refusal shows the invoice's page again, the form filled in, rather than a bare form.
        form = CreditNoteForm(request.POST)
        if form.is_valid():
            try:
                return redirect(self.act(form))
            except DomainError as exc:
                show_refusal(form, exc)
        return self.invoice_page(form)

    def invoice_page(self, form: CreditNoteForm) -> HttpResponse:
        view = InvoiceDetail(credit_form=form)
        view.setup(self.request, pk=self.invoice.pk)
        response = view.get(self.request)
        response.status_code = 400
        return response

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        note = request_credit_note(
            actor=_user(self.request),
            original=self.invoice,
            lines=[
                services.LineDraft(
                    description=data["description"],
                    quantity=data["quantity"],
                    unit=data["unit"],
                    unit_price=data["unit_price"],
                    supply_start=self.invoice.supply_start,
                    supply_end=self.invoice.supply_end,
                    vat_kind=data["vat_kind"],
                )
            ],
            reason=data["reason"],
        )
        if not isinstance(note, Invoice):
            messages.success(
                self.request,
                _(
                    "The credit note over %(amount)s is above %(limit)s: it waits for a second "
                    "operator's approval and is not issued yet."
                )
                % {"amount": money_text(note.gross), "limit": money_text(four_eyes_gross())},
            )
            return invoice_url(self.invoice)
        messages.success(
            self.request,
            _("The credit note %(number)s over %(amount)s was issued.")
            % {"number": note.number, "amount": money_text(note.gross_total)},
        )
        return invoice_url(note)


def issue_for_contract(request: HttpRequest, contract: Contract, month_day: date) -> Invoice:
    """The contract's invoice for the month of ``month_day``, as the billing run would write
    it; ``AlreadyBilled`` when that month has one."""
    month = Month.of(month_day)
    lines = contract_lines(contract, month)
    if not lines:
        raise DomainError(
            _("Contract %(number)s has nothing to invoice for %(month)s.")
            % {"number": contract.number, "month": f"{month.first:%m/%Y}"},
            code="month",
        )
    return services.issue_invoice(
        actor=_user(request),
        customer=contract.customer,
        lines=lines,
        contract=contract,
        billing_key=billing_key(contract, month),
    )


def issued_message(request: HttpRequest, invoice: Invoice, contract: Contract) -> None:
    messages.success(
        request,
        _("The invoice %(number)s for contract %(contract)s was issued; send it from here.")
        % {"number": invoice.number, "contract": contract.number},
    )


def already_billed_message(contract: Contract, month_day: date) -> str:
    return _("Contract %(number)s is already invoiced for %(month)s.") % {
        "number": contract.number,
        "month": f"{month_day:%m/%Y}",
    }


@method_decorator(WRITES, name="dispatch")
class InvoiceContract(FormPage):
    """A contract's invoice for a month, issued by hand: the first one switches it on."""

    form_class = ContractMonthForm
    submit_text = gettext_lazy("Issue the invoice")
    intro = gettext_lazy(
        "The monthly fee of that month (pro rata in a partial month) and the minutes beyond "
        "those included in the month before. Each contract gets one invoice per month. The "
        "first invoice of a waiting contract switches its service on."
    )
    contract: Contract

    def load(self, **kwargs: Any) -> None:
        self.contract = get_object_or_404(
            Contract.objects.select_related("customer", "product"), pk=kwargs["pk"]
        )

    def back(self) -> tuple[str, str]:
        return reverse("backoffice:contracts:contract", args=[self.contract.pk]), _(
            "Back to the contract"
        )

    def get_title(self) -> str:
        return _("Invoice contract %(number)s (%(product)s)") % {
            "number": self.contract.number,
            "product": self.contract.product.name,
        }

    def act(self, form: forms.Form) -> str:
        month_day = cast(ContractMonthForm, form).chosen_month()
        try:
            invoice = issue_for_contract(self.request, self.contract, month_day)
        except services.AlreadyBilled as exc:
            raise DomainError(already_billed_message(self.contract, month_day)) from exc
        issued_message(self.request, invoice, self.contract)
        return invoice_url(invoice)


@method_decorator(WRITES, name="dispatch")
class IssueInvoice(FormPage):
    """The list page's form: a contract by its number, and the month."""

    form_class = IssueForm
    title = gettext_lazy("Issue a contract's invoice for a month")
    submit_text = gettext_lazy("Issue the invoice")
    intro = InvoiceContract.intro

    def act(self, form: forms.Form) -> str:
        contract: Contract = form.cleaned_data["contract"]
        month_day = cast(IssueForm, form).chosen_month()
        try:
            invoice = issue_for_contract(self.request, contract, month_day)
        except services.AlreadyBilled as exc:
            raise DomainError(already_billed_message(contract, month_day)) from exc
        issued_message(self.request, invoice, contract)
        return invoice_url(invoice)
