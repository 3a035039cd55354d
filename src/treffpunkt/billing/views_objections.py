"""Objections to invoice items and the itemized record (P-BILL-3), in the customer area and the
back office.

Customer area (a contact of the invoice's customer; another customer's invoice or objection
does not exist for them: 404): the objections with their state and documents, objecting to
items of an invoice (a checkbox per line and the reasons), demanding the itemized record, and
downloading it.

Back office (reading: ``Capability.BILLING`` or the auditor's; changes: the capability): the
objections with the itemized record's clock (overdue first, then by due day), recording an
objection that came by letter, recording a demand, delivering the record, settling by a credit
note or rejecting in writing.

Every change goes through ``billing.services.objections``; a refusal shows the page again with
the service's message (status 400) and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import (
    Capability,
    capability_required,
    customer_contact_required,
    has_capability,
)
from treffpunkt.backoffice.listing import ShellMixin, show_refusal
from treffpunkt.billing.models import Invoice, InvoiceKind, Objection, ObjectionState
from treffpunkt.billing.services import objections as service
from treffpunkt.billing.views_backoffice import _download, money_text
from treffpunkt.contracts.models import Channel
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import parse_money
from treffpunkt.core.registries import Area
from treffpunkt.customers.models import Customer
from treffpunkt.customers.selectors import own_customer
from treffpunkt.documents.models import Document
from treffpunkt.documents.selectors import document_bytes, download_name

READS = capability_required(Capability.BILLING)
WRITES = capability_required(Capability.BILLING, write=True)

CUSTOMER_LIST = "customer_area:billing:objections"
BACKOFFICE_LIST = "backoffice:billing:objections"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def long_date(day: date | None) -> str:
    return str(formats.date_format(day, "DATE_FORMAT")) if day else "–"


# --- forms (each with its own prefix) -----------------------------------------------------------


class ObjectForm(forms.Form):
    """The contact's objection: the disputed lines and why."""

    positions = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Disputed items"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(
        label=gettext_lazy("What is wrong with these items?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    demand_record = forms.BooleanField(
        label=gettext_lazy(
            "I also demand the itemized record of the billed calls and the results of the "
            "technical check."
        ),
        required=False,
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "objection")
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedMultipleChoiceField, self.fields["positions"])
        field.choices = [
            (line.position, f"{line.position}: {line.description}")
            for line in invoice.lines.order_by("position")
        ]


class RecordObjectionForm(forms.Form):
    """An objection that came by letter, fax or e-mail."""

    invoice_number = forms.CharField(label=gettext_lazy("Invoice number"), max_length=20)
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Received by"),
        choices=[c for c in Channel.choices if c[0] != Channel.CUSTOMER_AREA],
    )
    sender = forms.CharField(label=gettext_lazy("Sent by"), max_length=200)
    positions = forms.CharField(
        label=gettext_lazy("Disputed items"),
        max_length=200,
        help_text=gettext_lazy("The line numbers, separated by commas: 1, 3"),
    )
    text = forms.CharField(
        label=gettext_lazy("Objection"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    demand_record = forms.BooleanField(
        label=gettext_lazy("The letter also demands the itemized record."), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "record")
        super().__init__(*args, **kwargs)

    def clean_invoice_number(self) -> Invoice:
        number = self.cleaned_data["invoice_number"].strip()
        invoice = Invoice.objects.filter(number=number, kind=InvoiceKind.INVOICE).first()
        if invoice is None:
            raise forms.ValidationError(_("There is no invoice with this number."))
        return invoice

    def clean_positions(self) -> list[int]:
        try:
            found = [int(p) for p in self.cleaned_data["positions"].replace(";", ",").split(",")]
        except ValueError as exc:
            raise forms.ValidationError(_("Line numbers only, separated by commas.")) from exc
        return found


class DemandForm(forms.Form):
    demanded_on = forms.DateField(
        label=gettext_lazy("Demand received on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "demand")
        super().__init__(*args, **kwargs)


class DeliverForm(forms.Form):
    technical_check = forms.CharField(
        label=gettext_lazy("Result of the technical check"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "deliver")
        super().__init__(*args, **kwargs)


class SettleForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Amount to credit (net, EUR)"),
        max_length=30,
        help_text=gettext_lazy("At most the disputed items' net amount; VAT is added."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the credit"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "settle")
        super().__init__(*args, **kwargs)

    def clean_amount(self) -> Decimal:
        try:
            return parse_money(self.cleaned_data["amount"])
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reasons for the rejection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Printed in the rejection letter."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "reject")
        super().__init__(*args, **kwargs)


# --- what a page shows of an objection ----------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """The itemized record's clock, as the pages tell it."""

    due_on: date | None
    days_left: int | None
    overdue: bool
    text: str

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0


def record_clock(objection: Objection, today: date) -> Clock:
    if objection.record_demanded_on is None or objection.record_due_on is None:
        return Clock(None, None, False, _("not demanded"))
    due = objection.record_due_on
    if objection.record_delivered_on is not None:
        if objection.record_delivered_on > due:
            text = _("delivered on %(day)s, late (due on %(due)s)")
        else:
            text = _("delivered on %(day)s (due on %(due)s)")
        return Clock(
            due,
            None,
            False,
            text % {"day": long_date(objection.record_delivered_on), "due": long_date(due)},
        )
    days = (due - today).days
    if days < 0:
        text = _("due on %(due)s, %(days)s days overdue") % {"due": long_date(due), "days": -days}
    else:
        text = _("due on %(due)s, %(days)s days left") % {"due": long_date(due), "days": days}
    return Clock(due, days, days < 0, text)


def state_text(objection: Objection) -> str:
    text = str(objection.get_state_display())
    if objection.closed_on:
        text += " " + _("(%(day)s)") % {"day": long_date(objection.closed_on)}
    return text


@dataclass(frozen=True)
class Row:
    objection: Objection
    clock: Clock
    disputed: str
    state: str


def row(objection: Objection, today: date) -> Row:
    return Row(
        objection,
        record_clock(objection, today),
        money_text(objection.disputed_amount),
        state_text(objection),
    )


def clock_order(item: Row) -> tuple[int, date, int]:
    """Running clocks first (the most overdue first), then the other open objections, then the
    answered ones, newest first."""
    objection = item.objection
    if item.clock.days_left is not None and objection.state == ObjectionState.OPEN:
        return (0, item.clock.due_on or date.max, objection.pk)
    if objection.state == ObjectionState.OPEN:
        return (1, objection.received_on, objection.pk)
    return (2, date.max - (objection.received_on - date.min), -objection.pk)


def document_url(area: str, objection: Objection, which: str) -> str:
    return reverse(f"{area}:billing:objection_document", args=[objection.pk, which])


def _document_response(objection: Objection, which: str) -> HttpResponse:
    document: Document | None = {"record": objection.record, "answer": objection.answer}.get(which)
    if document is None:
        raise Http404
    return _download(document_bytes(document), "application/pdf", download_name(document))


# --- the customer area --------------------------------------------------------------------------


def objections_of(customer: Customer) -> models.QuerySet[Objection]:
    return Objection.objects.filter(invoice__customer=customer).select_related("invoice")


@method_decorator(customer_contact_required, name="dispatch")
class _CustomerPage(ShellMixin, TemplateResponseMixin, View):
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    part_of = CUSTOMER_LIST
    customer: Customer

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.customer = own_customer(request.user)
        self.prepare(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def prepare(self, **kwargs: Any) -> None:
        """Find what the page is about (404 if it is not the customer's)."""

    def page(self, status: int = 200, **context: Any) -> HttpResponse:
        context.setdefault("customer", self.customer)
        response = self.render_to_response(self.get_context_data(**context))
        response.status_code = status
        return response


class CustomerObjections(_CustomerPage):
    template_name = "billing/objections/customer_list.html"
    title = gettext_lazy("Objections")
    part_of = ""

    def get(self, request: HttpRequest) -> HttpResponse:
        today = clock.operator_today()
        rows = [row(o, today) for o in objections_of(self.customer).order_by("-received_on")]
        invoices = [
            (invoice, service.objection_deadline(invoice))
            for invoice in Invoice.objects.filter(
                customer=self.customer, kind=InvoiceKind.INVOICE
            ).order_by("-issue_date", "-number")
        ]
        return self.page(rows=rows, invoices=invoices, today=today)


class CustomerObject(_CustomerPage):
    """Object to items of one of the customer's invoices."""

    template_name = "billing/objections/customer_object.html"
    invoice: Invoice

    def prepare(self, **kwargs: Any) -> None:
        self.invoice = get_object_or_404(
            Invoice.objects.filter(customer=self.customer, kind=InvoiceKind.INVOICE),
            pk=kwargs["pk"],
        )

    def get_title(self) -> str:
        return _("Object to invoice %(number)s") % {"number": self.invoice.number}

    def _page(self, form: ObjectForm, status: int = 200) -> HttpResponse:
        deadline = service.objection_deadline(self.invoice)
        lines = {line.position: line for line in self.invoice.lines.order_by("position")}
        boxes = [(box, lines[int(box.data["value"])]) for box in form["positions"]]
        return self.page(
            status,
            form=form,
            boxes=boxes,
            invoice=self.invoice,
            deadline=deadline,
            late=deadline is not None and clock.operator_today() > deadline,
            back_url=reverse(CUSTOMER_LIST),
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._page(ObjectForm(invoice=self.invoice))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ObjectForm(request.POST, invoice=self.invoice)
        if form.is_valid():
            data = form.cleaned_data
            try:
                objection = service.object_in_customer_area(
                    actor=_user(request),
                    invoice=self.invoice,
                    positions=data["positions"],
                    text=data["text"],
                )
                if data["demand_record"] and objection.on_time:
                    objection = service.demand_itemized_record(
                        actor=_user(request), objection=objection
                    )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, objected_text(objection))
                return redirect(reverse("customer_area:billing:objection", args=[objection.pk]))
        return self._page(form, status=400)


def objected_text(objection: Objection) -> str:
    if objection.on_time:
        text = _(
            "Your objection was received on time. While we examine it, the disputed amount of "
            "%(amount)s is not dunned."
        ) % {"amount": money_text(objection.disputed_amount)}
    else:
        text = _(
            "Your objection was received after the eight weeks from the invoice's receipt: "
            "under § 9 (I) of our terms the invoice counts as approved. We will still answer it."
        )
    if objection.record_due_on is not None:
        text += " " + _("We will send you the itemized record by %(day)s.") % {
            "day": long_date(objection.record_due_on)
        }
    return text


class CustomerObjection(_CustomerPage):
    template_name = "billing/objections/customer_detail.html"
    objection: Objection

    def prepare(self, **kwargs: Any) -> None:
        self.objection = get_object_or_404(objections_of(self.customer), pk=kwargs["pk"])

    def get_title(self) -> str:
        return _("Objection to invoice %(number)s") % {"number": self.objection.invoice.number}

    def objection_page(self, *, error: str = "", status: int = 200) -> HttpResponse:
        objection = self.objection
        deadline = service.objection_deadline(objection.invoice)
        today = clock.operator_today()
        may_demand = (
            objection.state == ObjectionState.OPEN
            and objection.on_time
            and objection.record_demanded_on is None
            and (deadline is None or today <= deadline)
        )
        lines = objection.invoice.lines.filter(position__in=objection.positions)
        return self.page(
            status,
            objection=objection,
            lines=lines.order_by("position"),
            item=row(objection, today),
            deadline=deadline,
            may_demand=may_demand,
            error=error,
            record_url=document_url("customer_area", objection, "record")
            if objection.record_id
            else "",
            answer_url=document_url("customer_area", objection, "answer")
            if objection.answer_id
            else "",
            back_url=reverse(CUSTOMER_LIST),
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.objection_page()


@method_decorator(require_POST, name="dispatch")
class CustomerDemandRecord(CustomerObjection):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            objection = service.demand_itemized_record(
                actor=_user(request), objection=self.objection
            )
        except DomainError as exc:
            return self.objection_page(error=str(exc.message), status=400)
        messages.success(
            request,
            _("Your demand was received. We will send you the itemized record by %(day)s.")
            % {"day": long_date(objection.record_due_on)},
        )
        return redirect(reverse("customer_area:billing:objection", args=[objection.pk]))


@method_decorator(customer_contact_required, name="dispatch")
class CustomerObjectionDocument(View):
    def get(self, request: HttpRequest, pk: int, which: str) -> HttpResponse:
        customer = own_customer(request.user)
        objection = get_object_or_404(
            objections_of(customer).select_related("record", "answer"), pk=pk
        )
        return _document_response(objection, which)


# --- the back office ----------------------------------------------------------------------------


def channel_label(channel: str) -> str:
    labels = dict(Channel.choices)
    return str(labels.get(channel, channel))


def objection_url(objection: Objection) -> str:
    return reverse("backoffice:billing:objection", args=[objection.pk])


class _BackofficePage(ShellMixin, TemplateResponseMixin, View):
    part_of = BACKOFFICE_LIST

    def may_write(self) -> bool:
        return has_capability(self.request.user, Capability.BILLING)


@method_decorator(READS, name="dispatch")
class ObjectionList(_BackofficePage):
    template_name = "billing/objections/backoffice_list.html"
    title = gettext_lazy("Objections")
    part_of = ""

    def get(self, request: HttpRequest) -> HttpResponse:
        today = clock.operator_today()
        found = Objection.objects.select_related("invoice", "invoice__customer")
        shown = list(found.filter(state=ObjectionState.OPEN)) + list(
            found.exclude(state=ObjectionState.OPEN).order_by("-received_on", "-pk")[:50]
        )
        rows = sorted((row(o, today) for o in shown), key=clock_order)
        context = self.get_context_data(
            rows=rows,
            overdue=sum(1 for r in rows if r.clock.overdue),
            record_form=RecordObjectionForm() if self.may_write() else None,
        )
        return self.render_to_response(context)


@method_decorator(WRITES, name="dispatch")
class RecordObjection(_BackofficePage):
    template_name = "backoffice/form_page.html"
    title = gettext_lazy("Record an objection received by letter, fax or e-mail")

    def _page(self, form: forms.Form, status: int = 200) -> HttpResponse:
        context = self.get_context_data(
            form=form,
            submit_text=_("Record the objection"),
            back_url=reverse(BACKOFFICE_LIST),
            back_label=_("Back to the objections"),
            intro=_(
                "On time if received within eight weeks of the invoice's receipt (§ 9 (I) of "
                "the terms); a late one is recorded as late and counts as approval."
            ),
        )
        response = self.render_to_response(context)
        response.status_code = status
        return response

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(RecordObjectionForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RecordObjectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                objection = service.record_objection(
                    actor=_user(request),
                    invoice=data["invoice_number"],
                    received_on=data["received_on"],
                    channel=data["channel"],
                    sender=data["sender"],
                    positions=data["positions"],
                    text=data["text"],
                )
                if data["demand_record"] and objection.on_time:
                    objection = service.demand_itemized_record(
                        actor=_user(request), objection=objection, demanded_on=data["received_on"]
                    )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("The objection was recorded (on time).")
                    if objection.on_time
                    else _("The objection was recorded as late: it counts as approval."),
                )
                return redirect(objection_url(objection))
        return self._page(form, status=400)


@method_decorator(READS, name="dispatch")
class ObjectionDetail(_BackofficePage):
    template_name = "billing/objections/backoffice_detail.html"
    objection: Objection
    forms_sent: dict[str, forms.Form]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.objection = get_object_or_404(
            Objection.objects.select_related("invoice", "invoice__customer", "credit_note"),
            pk=kwargs["pk"],
        )
        self.forms_sent = {}
        return super().dispatch(request, *args, **kwargs)

    def get_title(self) -> str:
        return _("Objection to invoice %(number)s") % {"number": self.objection.invoice.number}

    def detail_page(self, status: int = 200) -> HttpResponse:
        objection = self.objection
        today = clock.operator_today()
        is_open = objection.state == ObjectionState.OPEN
        demanded = objection.record_demanded_on is not None
        delivered = objection.record_delivered_on is not None
        writes = self.may_write() and is_open
        disputed_net = sum(
            (line.net for line in objection.invoice.lines.filter(position__in=objection.positions)),
            Decimal("0"),
        )
        sent = self.forms_sent
        context = self.get_context_data(
            objection=objection,
            invoice=objection.invoice,
            item=row(objection, today),
            channel=channel_label(objection.channel),
            deadline=service.objection_deadline(objection.invoice),
            lines=objection.invoice.lines.filter(position__in=objection.positions).order_by(
                "position"
            ),
            lapsed=service.record_lapsed(objection, today),
            record_url=document_url("backoffice", objection, "record")
            if objection.record_id
            else "",
            answer_url=document_url("backoffice", objection, "answer")
            if objection.answer_id
            else "",
            demand_form=sent.get("demand") or DemandForm(initial={"demanded_on": today})
            if writes and objection.on_time and not demanded
            else None,
            deliver_form=sent.get("deliver") or DeliverForm()
            if writes and demanded and not delivered
            else None,
            settle_form=sent.get("settle") or SettleForm(initial={"amount": disputed_net})
            if writes
            else None,
            reject_form=sent.get("reject") or RejectForm()
            if writes and (not demanded or delivered)
            else None,
        )
        response = self.render_to_response(context)
        response.status_code = status
        return response

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.detail_page()


class _ObjectionAction(ObjectionDetail):
    """A form of the detail page; a refusal shows the page again with the form filled in."""

    key: str
    form_class: type[forms.Form]

    def act(self, form: forms.Form) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                text = self.act(form)
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, text)
                return redirect(objection_url(self.objection))
        self.forms_sent[self.key] = form
        return self.detail_page(status=400)


@method_decorator(WRITES, name="dispatch")
class DemandRecord(_ObjectionAction):
    key, form_class = "demand", DemandForm

    def act(self, form: forms.Form) -> str:
        objection = service.demand_itemized_record(
            actor=_user(self.request),
            objection=self.objection,
            demanded_on=form.cleaned_data["demanded_on"],
        )
        return _("The demand was recorded. The itemized record is due on %(day)s.") % {
            "day": long_date(objection.record_due_on)
        }


@method_decorator(WRITES, name="dispatch")
class DeliverRecord(_ObjectionAction):
    key, form_class = "deliver", DeliverForm

    def act(self, form: forms.Form) -> str:
        objection = service.deliver_itemized_record(
            actor=_user(self.request),
            objection=self.objection,
            technical_check=form.cleaned_data["technical_check"],
        )
        if service.record_lapsed(objection, objection.record_delivered_on or date.max):
            return _(
                "The itemized record was sent, after its due day: the default claims on this "
                "invoice have lapsed."
            )
        return _("The itemized record was sent to the customer.")


@method_decorator(WRITES, name="dispatch")
class SettleObjection(_ObjectionAction):
    key, form_class = "settle", SettleForm

    def act(self, form: forms.Form) -> str:
        objection = service.settle_with_credit_note(
            actor=_user(self.request),
            objection=self.objection,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
        )
        if objection.credit_note is None:
            return _(
                "The credit note is above the four-eyes amount: it waits for a second "
                "operator's approval; the objection stays open until then."
            )
        return _("The credit note %(number)s was issued; the objection is settled.") % {
            "number": objection.credit_note.number
        }


@method_decorator(WRITES, name="dispatch")
class RejectObjection(_ObjectionAction):
    key, form_class = "reject", RejectForm

    def act(self, form: forms.Form) -> str:
        service.reject_objection(
            actor=_user(self.request), objection=self.objection, reason=form.cleaned_data["reason"]
        )
        return _("The objection was rejected; the letter was sent to the customer.")


@method_decorator(READS, name="dispatch")
class ObjectionDocument(View):
    def get(self, request: HttpRequest, pk: int, which: str) -> HttpResponse:
        objection = get_object_or_404(Objection.objects.select_related("record", "answer"), pk=pk)
        return _document_response(objection, which)
