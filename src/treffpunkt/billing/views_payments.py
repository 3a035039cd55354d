"""Payments in the back office, for the accountant: the bank statements page (uploading a
camt.053 file, the statements imported, the unmatched credit entries each with a form to
allocate it to an invoice by hand), the open items per customer, and the DATEV export for the
tax adviser.

Reading needs ``Capability.BILLING`` or the auditor's (the DATEV download changes nothing, so
the auditor may take it too); importing and allocating need the capability itself and go
through ``billing.services.payments``. A refused file or allocation shows the page again with
the service's message at the field (status 400) and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.backoffice.listing import ShellMixin, as_text
from treffpunkt.billing import camt, datev
from treffpunkt.billing.models import (
    BankEntry,
    BankStatement,
    EntryState,
    Invoice,
    InvoiceKind,
    PaymentAllocation,
)
from treffpunkt.billing.selectors import (
    customer_credit,
    open_amounts,
    unallocated_of_entry,
    unmatched_entries,
)
from treffpunkt.billing.services import payments
from treffpunkt.billing.views_backoffice import (
    READS,
    WRITES,
    _download,
    _may_write,
    _user,
    customer_label,
    invoice_url,
    money_text,
)
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import parse_money
from treffpunkt.customers.models import Customer

STATEMENTS = "backoffice:billing:statements"
OPEN_ITEMS = "backoffice:billing:open_items"
DATEV = "backoffice:billing:datev"
ZERO = Decimal("0.00")


# --- the bank statements page ------------------------------------------------------------------


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Bank statement (camt.053, XML)"),
        help_text=gettext_lazy(
            "At most %(mb)s MB. Credits naming an invoice number are allocated at once; the "
            "same file is never imported twice."
        )
        % {"mb": camt.MAX_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "statement")
        super().__init__(*args, **kwargs)


class AllocateForm(forms.Form):
    invoice = forms.CharField(
        label=gettext_lazy("Invoice number"),
        max_length=20,
        help_text=gettext_lazy("For example RE-2027-00001."),
    )
    amount = forms.CharField(label=gettext_lazy("Amount (EUR)"), max_length=30)

    def clean_invoice(self) -> Invoice:
        text = self.cleaned_data["invoice"].strip()
        numbers = payments.invoice_numbers_in(text)
        invoice = Invoice.objects.filter(number__in=numbers[:1] or [text]).first()
        if invoice is None:
            raise forms.ValidationError(_("There is no invoice with this number."))
        return invoice

    def clean_amount(self) -> Decimal:
        try:
            return parse_money(self.cleaned_data["amount"].strip())
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc


def allocate_form(entry: BankEntry, data: Any = None) -> AllocateForm:
    """The form of one entry; its prefix keeps the fields of the entries apart."""
    rest = unallocated_of_entry(entry)
    return AllocateForm(data, prefix=f"entry-{entry.pk}", initial={"amount": f"{rest:.2f}"})


@dataclass
class EntryRow:
    entry: BankEntry
    booked_on: str
    payer: str
    amount: str
    rest: str
    remittance: str
    reason: str
    action: str
    form: AllocateForm | None


@dataclass(frozen=True)
class StatementRow:
    statement: BankStatement
    imported: str
    entries: int
    matched: int
    unmatched: int
    ignored: int


def statement_rows() -> list[StatementRow]:
    counted = BankStatement.objects.select_related("imported_by").annotate(
        n_entries=Count("entries"),
        n_matched=Count(
            "entries", filter=Q(entries__state__in=[EntryState.MATCHED, EntryState.PARTLY])
        ),
        n_unmatched=Count("entries", filter=Q(entries__state=EntryState.UNMATCHED)),
        n_ignored=Count("entries", filter=Q(entries__state=EntryState.IGNORED)),
    )
    return [
        StatementRow(
            statement=s,
            imported=as_text(s.imported_at),
            entries=s.n_entries,
            matched=s.n_matched,
            unmatched=s.n_unmatched,
            ignored=s.n_ignored,
        )
        for s in counted[:50]
    ]


class StatementsPage(ShellMixin, TemplateResponseMixin, View):
    """The statements, the unmatched entries, and (for a writer) the forms. The import and the
    allocation post to their own URLs, which show this page again when refused."""

    template_name = "billing/payments/statements.html"
    title = gettext_lazy("Bank statements")
    part_of = STATEMENTS

    def page(
        self,
        *,
        upload: StatementUploadForm | None = None,
        bound: AllocateForm | None = None,
        bound_entry: int | None = None,
        status: int = 200,
    ) -> HttpResponse:
        writer = _may_write(self.request)
        rows = []
        for entry in unmatched_entries():
            if not writer:
                form = None
            elif bound is not None and entry.pk == bound_entry:
                form = bound
            else:
                form = allocate_form(entry)
            rows.append(
                EntryRow(
                    entry=entry,
                    booked_on=as_text(entry.booking_date),
                    payer=entry.debtor_name or "–",
                    amount=money_text(entry.amount),
                    rest=money_text(unallocated_of_entry(entry)),
                    remittance=entry.remittance or "–",
                    reason=entry.get_note_display(),
                    action=reverse("backoffice:billing:allocate", args=[entry.pk]),
                    form=form,
                )
            )
        context = self.get_context_data(
            upload_form=(upload or StatementUploadForm()) if writer else None,
            statements=statement_rows(),
            entries=rows,
        )
        return self.render_to_response(context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.page()


@method_decorator(READS, name="dispatch")
class Statements(StatementsPage):
    pass


@method_decorator(WRITES, name="dispatch")
class ImportStatement(StatementsPage):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = StatementUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                # At most one byte beyond the limit: the service refuses it with its message.
                data = upload.read(camt.MAX_BYTES + 1)
                result = payments.import_statement(
                    actor=_user(request), data=data, filename=upload.name or ""
                )
            except DomainError as exc:
                form.add_error("file", str(exc.message))
            else:
                messages.success(request, imported_message(result))
                return redirect(STATEMENTS)
        return self.page(upload=form, status=400)


def imported_message(result: payments.ImportResult) -> str:
    return _(
        "The statement was imported: %(new)s new entries (%(matched)s matched, %(partly)s "
        "overpaid, %(unmatched)s for you to allocate, %(ignored)s debits or others ignored), "
        "%(allocated)s allocated to invoices; %(duplicates)s entries were imported before."
    ) % {
        "new": result.new_entries,
        "matched": result.matched,
        "partly": result.partly,
        "unmatched": len(result.unmatched),
        "ignored": result.ignored,
        "allocated": money_text(result.allocated),
        "duplicates": result.duplicates,
    }


@method_decorator(WRITES, name="dispatch")
class AllocateEntry(StatementsPage):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        get_object_or_404(BankEntry, pk=kwargs["pk"])
        return self.page()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        entry = get_object_or_404(BankEntry, pk=kwargs["pk"])
        form = allocate_form(entry, request.POST)
        if form.is_valid():
            invoice: Invoice = form.cleaned_data["invoice"]
            amount: Decimal = form.cleaned_data["amount"]
            try:
                payments.allocate_by_hand(
                    actor=_user(request), entry=entry, invoice=invoice, amount=amount
                )
            except DomainError as exc:
                field = {
                    "allocation_amount": "amount",
                    "allocation_entry_exceeded": "amount",
                    "allocation_invoice_exceeded": "amount",
                    "allocation_kind": "invoice",
                }.get(exc.code or "")
                form.add_error(field, str(exc.message))
            else:
                messages.success(
                    request,
                    _("%(amount)s of the payment from %(payer)s were allocated to %(number)s.")
                    % {
                        "amount": money_text(amount),
                        "payer": entry.debtor_name or "–",
                        "number": invoice.number,
                    },
                )
                return redirect(STATEMENTS)
        if entry.state != EntryState.UNMATCHED:
            # Not in the list any more (allocated meanwhile): say so above the upload.
            texts = [str(error) for errors in form.errors.values() for error in errors]
            messages.error(request, " ".join(texts))
        return self.page(bound=form, bound_entry=entry.pk, status=400)


# --- open items per customer -----------------------------------------------------------------


@dataclass(frozen=True)
class OpenRow:
    customer: Customer
    href: str
    label: str
    invoices: int
    open_total: str
    oldest_due: str
    overdue: str
    credit: str


def open_by_invoice() -> dict[int, Decimal]:
    """Every invoice with something open, and what."""
    ids = (
        Invoice.objects.in_everyday_use()
        .filter(kind=InvoiceKind.INVOICE)
        .values_list("pk", flat=True)
    )
    return {pk: amount for pk, amount in open_amounts(ids).items() if amount > ZERO}


@method_decorator(READS, name="dispatch")
class OpenItems(ShellMixin, TemplateResponseMixin, View):
    template_name = "billing/payments/open_items.html"
    title = gettext_lazy("Open items")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        today = clock.operator_today()
        found = open_by_invoice()
        invoices = Invoice.objects.filter(pk__in=found).select_related("customer")
        grouped: dict[int, list[Invoice]] = {}
        for invoice in invoices:
            grouped.setdefault(invoice.customer_id, []).append(invoice)
        rows = []
        for items in grouped.values():
            customer = items[0].customer
            due_days = [i.due_on for i in items if i.due_on is not None]
            oldest = min(due_days) if due_days else None
            rows.append(
                OpenRow(
                    customer=customer,
                    href=reverse("backoffice:billing:open_items_customer", args=[customer.pk]),
                    label=customer_label(customer),
                    invoices=len(items),
                    open_total=money_text(sum((found[i.pk] for i in items), ZERO)),
                    oldest_due=as_text(oldest),
                    overdue=as_text(oldest is not None and oldest < today),
                    credit=money_text(customer_credit(customer)),
                )
            )
        rows.sort(key=lambda row: row.customer.customer_number or "")
        return self.render_to_response(self.get_context_data(rows=rows))


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    href: str
    issued: str
    due: str
    gross: str
    credited: str
    paid: str
    open: str
    overdue: str


@method_decorator(READS, name="dispatch")
class CustomerOpenItems(ShellMixin, TemplateResponseMixin, View):
    template_name = "billing/payments/customer.html"
    part_of = OPEN_ITEMS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        customer = get_object_or_404(Customer, pk=kwargs["pk"])
        today = clock.operator_today()
        invoices = list(
            Invoice.objects.in_everyday_use()
            .filter(customer=customer, kind=InvoiceKind.INVOICE)
            .order_by("issue_date", "number")
        )
        still_open = open_amounts(i.pk for i in invoices)
        notes = list(
            Invoice.objects.in_everyday_use()
            .filter(customer=customer, kind=InvoiceKind.CREDIT_NOTE)
            .select_related("original")
            .order_by("issue_date", "number")
        )
        credited: dict[int, Decimal] = {}
        for note in notes:
            if note.original_id is not None:
                credited[note.original_id] = credited.get(note.original_id, ZERO) + note.gross_total
        allocations = list(
            PaymentAllocation.objects.filter(invoice__in=invoices)
            .select_related("entry", "invoice")
            .order_by("entry__booking_date", "pk")
        )
        paid: dict[int, Decimal] = {}
        for allocation in allocations:
            paid[allocation.invoice_id] = paid.get(allocation.invoice_id, ZERO) + allocation.amount
        rows = []
        for invoice in invoices:
            amount = still_open.get(invoice.pk, ZERO)
            late = amount > ZERO and invoice.due_on is not None and invoice.due_on < today
            rows.append(
                InvoiceRow(
                    number=invoice.number,
                    href=invoice_url(invoice),
                    issued=as_text(invoice.issue_date),
                    due=as_text(invoice.due_on),
                    gross=money_text(invoice.gross_total),
                    credited=money_text(credited.get(invoice.pk, ZERO)),
                    paid=money_text(paid.get(invoice.pk, ZERO)),
                    open=money_text(amount),
                    overdue=as_text(late),
                )
            )
        total = sum((amount for amount in still_open.values() if amount > ZERO), ZERO)
        context = self.get_context_data(
            title=_("Open items of %(customer)s") % {"customer": customer_label(customer)},
            customer=customer,
            rows=rows,
            open_total=money_text(total),
            credit=money_text(customer_credit(customer)),
            payments=[
                {
                    "booked_on": as_text(a.entry.booking_date),
                    "payer": a.entry.debtor_name or "–",
                    "invoice": a.invoice.number,
                    "href": invoice_url(a.invoice),
                    "amount": money_text(a.amount),
                    "how": _("by hand") if a.by_hand else _("by the import"),
                }
                for a in allocations
            ],
            credit_notes=[
                {
                    "number": note.number,
                    "href": invoice_url(note),
                    "issued": as_text(note.issue_date),
                    "original": note.original.number if note.original else "–",
                    "gross": money_text(note.gross_total),
                }
                for note in notes
            ],
        )
        return self.render_to_response(context)


# --- the DATEV export --------------------------------------------------------------------------


def datev_configured() -> bool:
    return (
        getattr(settings, "DATEV_CONSULTANT_NUMBER", None) is not None
        and getattr(settings, "DATEV_CLIENT_NUMBER", None) is not None
    )


class DatevForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Both days included; the period lies within one fiscal year."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "datev")
        super().__init__(*args, **kwargs)


def datev_response(date_from: date, date_to: date) -> HttpResponse:
    """The Buchungsstapel as a download, or ``DatevError``."""
    header = datev.header_from_settings(date_from=date_from, date_to=date_to)
    content = datev.export_file(date_from=date_from, date_to=date_to)
    return _download(content, "text/csv; charset=windows-1252", datev.file_name(header))


@method_decorator(READS, name="dispatch")
class DatevExport(ShellMixin, TemplateResponseMixin, View):
    """GET without the dates shows the form; with them, the file (or the form with the
    refusal, status 400)."""

    template_name = "billing/payments/datev.html"
    title = gettext_lazy("DATEV export")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not datev_configured():
            return self.render_to_response(self.get_context_data(configured=False, form=None))
        asked = any(key.startswith("datev-") for key in request.GET)
        form = DatevForm(request.GET if asked else None)
        if asked and form.is_valid():
            try:
                return datev_response(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
            except datev.DatevError as exc:
                form.add_error(None, str(exc))
        status = 400 if asked else 200
        context = self.get_context_data(configured=True, form=form)
        return self.render_to_response(context, status=status)
