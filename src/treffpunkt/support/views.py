"""Fault tickets on both sides: the customer area (a contact reports, reads the public timeline,
answers, asks for an estimate) and the back office (support takes, answers, waits for the
customer, notes, estimates, resolves, links an incident; records faults reported by phone or
mail). Thin: the services decide; a refusal shows the form again with the message (400)."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.contrib import messages
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import (
    Capability,
    capability_required,
    customer_contact_required,
    has_capability,
)
from treffpunkt.availability.models import Incident
from treffpunkt.backoffice.listing import Column, FormPage, ListPage, ShellMixin, show_refusal
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area
from treffpunkt.customers.selectors import own_customer
from treffpunkt.messaging import files
from treffpunkt.support import services
from treffpunkt.support.forms import (
    MessageForm,
    NothingForm,
    RecordForm,
    ReplyForm,
    ReportForm,
    TextForm,
)
from treffpunkt.support.models import Ticket, TicketAttachment, TicketEvent, TicketState

READS = capability_required(Capability.SUPPORT)
WRITES = capability_required(Capability.SUPPORT, write=True)
TICKETS = "backoffice:support:tickets"
CUSTOMER_TICKETS = "customer_area:support:tickets"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def ticket_url(ticket: Ticket) -> str:
    return reverse("backoffice:support:ticket", args=[ticket.pk])


def customer_ticket_url(ticket: Ticket) -> str:
    return reverse("customer_area:support:ticket", args=[ticket.pk])


def _clock_context(ticket: Ticket) -> dict[str, Any]:
    now = clock.now()
    open_ = ticket.state != TicketState.RESOLVED
    return {
        "reaction_overdue": open_ and ticket.reacted_at is None and now > ticket.reaction_due_at,
        "fix_overdue": open_ and not ticket.is_waiting and now > ticket.fix_due_at,
    }


def _attachment_response(attachment: TicketAttachment) -> FileResponse:
    try:
        handle = files.open_stored(attachment.stored_name)
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.file_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the customer area ----------------------------------------------------------------------


def own_tickets(request: HttpRequest) -> models.QuerySet[Ticket]:
    return Ticket.objects.filter(customer=own_customer(request.user))


class _CustomerPage(ShellMixin, TemplateResponseMixin, View):
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    part_of = CUSTOMER_TICKETS


@method_decorator(customer_contact_required, name="dispatch")
class CustomerTickets(_CustomerPage):
    template_name = "support/customer/tickets.html"
    title = gettext_lazy("Fault reports")
    part_of = ""

    def get(self, request: HttpRequest) -> HttpResponse:
        tickets = own_tickets(request).order_by("-reported_at", "-pk")
        return self.render_to_response(self.get_context_data(tickets=tickets))


@method_decorator(customer_contact_required, name="dispatch")
class CustomerReport(_CustomerPage):
    template_name = "support/customer/report.html"
    title = gettext_lazy("Report a fault")

    def form(self, data: Any = None, uploaded: Any = None) -> ReportForm:
        return ReportForm(data, uploaded, customer=own_customer(self.request.user))

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=self.form()))

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = self.form(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.report_fault(
                    actor=_user(request),
                    subject=data["subject"],
                    description=data["description"],
                    uploads=data["attachments"],
                    hardware=data["hardware"],
                )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("Your fault report %(number)s was received.") % {"number": ticket.number},
                )
                return redirect(customer_ticket_url(ticket))
        return self.render_to_response(self.get_context_data(form=form), status=400)


@method_decorator(customer_contact_required, name="dispatch")
class CustomerTicket(_CustomerPage):
    template_name = "support/customer/ticket.html"

    def get_ticket(self) -> Ticket:
        return get_object_or_404(own_tickets(self.request), pk=self.kwargs["pk"])

    def page(self, ticket: Ticket, form: MessageForm, status: int = 200) -> HttpResponse:
        events = (
            TicketEvent.objects.filter(ticket=ticket, public=True)
            .prefetch_related("attachments")
            .order_by("at", "pk")
        )
        context = self.get_context_data(
            ticket=ticket,
            events=events,
            form=form,
            title=_("Fault report %(number)s") % {"number": ticket.number},
            **_clock_context(ticket),
        )
        return self.render_to_response(context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.page(self.get_ticket(), MessageForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        ticket = self.get_ticket()
        if "estimate" in request.POST:
            try:
                services.request_estimate(actor=_user(request), ticket=ticket)
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, _("We will give you a non-binding estimate."))
            return redirect(customer_ticket_url(ticket))
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.customer_message(
                    actor=_user(request),
                    ticket=ticket,
                    text=form.cleaned_data["text"],
                    uploads=form.cleaned_data["attachments"],
                )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, _("Your message was sent to our support."))
                return redirect(customer_ticket_url(ticket))
        return self.page(ticket, form, status=400)


@method_decorator(customer_contact_required, name="dispatch")
class CustomerAttachment(View):
    """A file of the contact's own customer's ticket, from an entry the customer may see."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = get_object_or_404(
            TicketAttachment.objects.filter(
                event__public=True, event__ticket__customer=own_customer(request.user)
            ),
            pk=pk,
        )
        return _attachment_response(attachment)


# --- the back office ------------------------------------------------------------------------


class TicketFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("State"), choices=TicketState.choices, empty_label=gettext_lazy("All")
    )
    q = django_filters.CharFilter(label=gettext_lazy("Search"), method="search")

    class Meta:
        model = Ticket
        fields: list[str] = []

    def search(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(
            models.Q(subject__icontains=value) | models.Q(customer__legal_name__icontains=value)
        )


def _state_text(ticket: Ticket) -> str:
    return str(ticket.get_state_display())


@method_decorator(READS, name="dispatch")
class TicketList(ListPage[Ticket]):
    title = gettext_lazy("Fault tickets")
    filterset_class = TicketFilter
    default_sort = "reaction"
    csv_filename = "stoerungen"
    columns = (
        Column(gettext_lazy("Number"), lambda t: t.number, "number", ("pk",), href=ticket_url),
        Column(gettext_lazy("Customer"), lambda t: t.customer.legal_name),
        Column(gettext_lazy("Subject"), lambda t: t.subject),
        Column(gettext_lazy("State"), _state_text, "state", ("state",)),
        Column(gettext_lazy("Reported"), lambda t: t.reported_at, "reported", ("reported_at",)),
        Column(
            gettext_lazy("Reaction due"),
            lambda t: t.reaction_due_at if t.reacted_at is None else _("done"),
            "reaction",
            ("reacted_at", "reaction_due_at"),
        ),
        Column(gettext_lazy("Fix due"), lambda t: t.fix_due_at, "fix", ("fix_due_at",)),
        Column(
            gettext_lazy("Owner"), lambda t: t.owner.display_name if t.owner else _("nobody yet")
        ),
    )

    def get_queryset(self) -> models.QuerySet[Ticket]:
        return Ticket.objects.select_related("customer", "owner")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if has_capability(self.request.user, Capability.SUPPORT):
            context["page_actions"] = [
                (
                    reverse("backoffice:support:record"),
                    _("Record a fault reported by phone or e-mail"),
                )
            ]
        return context


ACTIONS: dict[str, tuple[type[forms.Form], Any]] = {
    "take": (NothingForm, gettext_lazy("Take over")),
    "reply": (ReplyForm, gettext_lazy("Send the answer")),
    "note": (TextForm, gettext_lazy("Add the internal note")),
    "estimate": (TextForm, gettext_lazy("Give the estimate")),
    "resolve": (TextForm, gettext_lazy("Mark as resolved")),
    "incident": (forms.Form, gettext_lazy("Link")),
}


class IncidentForm(forms.Form):
    incident = forms.ModelChoiceField(
        label=gettext_lazy("Incident"),
        queryset=Incident.objects.order_by("-started_at")[:50],
        required=False,
        empty_label=gettext_lazy("None"),
    )


@method_decorator(READS, name="dispatch")
class TicketDetail(ShellMixin, TemplateResponseMixin, View):
    template_name = "support/backoffice/ticket.html"
    part_of = TICKETS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = get_object_or_404(
            Ticket.objects.select_related("customer", "owner", "incident", "hardware"), pk=pk
        )
        events = (
            TicketEvent.objects.filter(ticket=ticket)
            .select_related("author")
            .prefetch_related("attachments")
            .order_by("at", "pk")
        )
        may_write = has_capability(request.user, Capability.SUPPORT)
        resolved = ticket.state == TicketState.RESOLVED
        forms_shown: list[tuple[str, Any, forms.Form]] = []
        if may_write:
            if not resolved:
                if ticket.owner_id != request.user.pk:
                    forms_shown.append(("take", ACTIONS["take"][1], NothingForm()))
                forms_shown.append(("reply", ACTIONS["reply"][1], ReplyForm(prefix="reply")))
                forms_shown.append(("resolve", ACTIONS["resolve"][1], TextForm(prefix="resolve")))
                if ticket.estimate_requested_at:
                    forms_shown.append(
                        ("estimate", ACTIONS["estimate"][1], TextForm(prefix="estimate"))
                    )
            forms_shown.append(("note", ACTIONS["note"][1], TextForm(prefix="note")))
            forms_shown.append(
                (
                    "incident",
                    ACTIONS["incident"][1],
                    IncidentForm(prefix="incident", initial={"incident": ticket.incident_id}),
                )
            )
        context = self.get_context_data(
            ticket=ticket,
            events=events,
            action_forms=forms_shown,
            title=_("Fault ticket %(number)s") % {"number": ticket.number},
            **_clock_context(ticket),
        )
        return self.render_to_response(context)


@method_decorator(WRITES, name="dispatch")
class TicketAction(FormPage):
    """One of support's actions on a ticket (``ACTIONS``), sent from the ticket's page or shown
    alone."""

    part_of = TICKETS
    ticket: Ticket
    action: str

    def load(self, **kwargs: Any) -> None:
        self.ticket = get_object_or_404(Ticket.objects.select_related("customer"), pk=kwargs["pk"])
        if kwargs["action"] not in ACTIONS:
            raise Http404
        self.action = kwargs["action"]

    @property
    def submit_text(self) -> Any:
        return ACTIONS[self.action][1]

    def get_title(self) -> str:
        return f"{ACTIONS[self.action][1]} ({self.ticket.number})"

    def make_form(self, data: Any = None) -> forms.Form:
        uploaded = self.request.FILES if data is not None else None
        if self.action == "incident":
            return IncidentForm(data, prefix="incident")
        form_class = ACTIONS[self.action][0]
        return form_class(data, uploaded, prefix=None if self.action == "take" else self.action)

    def back(self) -> tuple[str, str]:
        return ticket_url(self.ticket), _("Back to the ticket")

    def act(self, form: forms.Form) -> str:
        actor, ticket, data = _user(self.request), self.ticket, form.cleaned_data
        if self.action == "take":
            services.take_ticket(actor=actor, ticket=ticket)
        elif self.action == "reply":
            services.reply(
                actor=actor,
                ticket=ticket,
                text=data["text"],
                uploads=data["attachments"],
                wait_for_customer=data["wait_for_customer"],
            )
        elif self.action == "note":
            services.add_note(actor=actor, ticket=ticket, text=data["text"])
        elif self.action == "estimate":
            services.give_estimate(actor=actor, ticket=ticket, text=data["text"])
        elif self.action == "resolve":
            services.resolve(actor=actor, ticket=ticket, text=data["text"])
        else:
            services.link_incident(actor=actor, ticket=ticket, incident=data["incident"])
        messages.success(self.request, _("Done."))
        return ticket_url(ticket)


@method_decorator(WRITES, name="dispatch")
class RecordTicket(FormPage):
    form_class = RecordForm
    part_of = TICKETS
    title = gettext_lazy("Record a reported fault")
    submit_text = gettext_lazy("Open the ticket")
    intro = gettext_lazy(
        "For a fault reported by phone or e-mail. Its deadlines count from when it was reported."
    )

    def back(self) -> tuple[str, str]:
        return reverse(TICKETS), _("Back to the fault tickets")

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        ticket = services.record_reported_fault(
            actor=_user(self.request),
            customer=data["customer"],
            channel=data["channel"],
            reporter_name=data["reporter_name"],
            subject=data["subject"],
            description=data["description"],
            reported_at=data["reported_at"],
        )
        messages.success(self.request, _("Ticket %(number)s opened.") % {"number": ticket.number})
        return ticket_url(ticket)


@method_decorator(READS, name="dispatch")
class BackofficeAttachment(View):
    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        return _attachment_response(get_object_or_404(TicketAttachment, pk=pk))
