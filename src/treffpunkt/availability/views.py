"""Availability pages: the monthly report per customer (back office and customer area, with the
last twelve months as a chart and a table, the incidents and maintenance behind the figure, and
a PDF), the incidents and maintenance windows for the operator, and two machine endpoints
behind tokens: results from an outside monitor, and ``/metrics`` for Prometheus."""

from __future__ import annotations

import hmac
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import (
    Capability,
    capability_required,
    customer_contact_required,
    has_capability,
)
from treffpunkt.availability import figures, selectors, services
from treffpunkt.availability.chart import MonthBar, availability_chart
from treffpunkt.availability.models import Incident, MaintenanceWindow
from treffpunkt.backoffice.listing import Column, FormPage, ListPage, ShellMixin
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area
from treffpunkt.customers.models import Customer
from treffpunkt.customers.selectors import own_customer
from treffpunkt.documents.rendering import LetterData, Meta, render

READS = capability_required(Capability.AVAILABILITY)
WRITES = capability_required(Capability.AVAILABILITY, write=True)
OVERVIEW = "backoffice:availability:overview"
INCIDENTS = "backoffice:availability:incidents"
MAINTENANCE = "backoffice:availability:maintenance"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def percent_text(value: Decimal) -> str:
    text = f"{value:.2f}"
    if (translation.get_language() or "de").startswith("de"):
        text = text.replace(".", ",")
    return f"{text}\u00a0%"


def month_label(month: date) -> str:
    return f"{month:%m/%Y}"


def chosen_month(request: HttpRequest) -> date:
    """``?monat=YYYY-MM``; this month by default; a future month is not measured yet (404)."""
    raw = request.GET.get("monat", "")
    today = clock.operator_today()
    if not raw:
        return today.replace(day=1)
    try:
        year, number = (int(part) for part in raw.split("-", 1))
        month = date(year, number, 1)
    except ValueError as wrong:
        raise Http404 from wrong
    if month > today or month.year < 2000:
        raise Http404
    return month


def report_context(customer: Customer | None, month: date) -> dict[str, Any]:
    """The month's figure with what is behind it, and the twelve months up to it."""
    report = selectors.month_report(month, customer)
    history = []
    for earlier in selectors.months_back(12, until=month):
        figure = selectors.month_report(earlier, customer).figure
        history.append((earlier, figure))
    chart = availability_chart(
        [MonthBar(m, f.percent, month_label(m)) for m, f in history],
        title=_("Availability per month, last twelve months"),
        description=_("Bars per month in percent; the dashed line is the promised 97.0 %."),
        goal_label=percent_text(figures.GOAL),
        format_percent=percent_text,
    )
    return {
        "month": month,
        "month_text": month_label(month),
        "report": report,
        "percent": percent_text(report.figure.percent),
        "goal": percent_text(figures.GOAL),
        "history": [(month_label(m), percent_text(f.percent), f.meets_goal) for m, f in history],
        "chart": chart,
        "months": [(f"{m:%Y-%m}", month_label(m)) for m, _f in reversed(history)],
    }


def report_pdf(customer: Customer, month: date, language: str) -> bytes:
    """The month's report as a PDF/A letter: the figure, the rule, the incidents behind it."""
    with translation.override(language):
        context = report_context(customer, month)
        report: selectors.MonthReport = context["report"]
        rows = [
            [
                formats.date_format(timezone.localtime(i.started_at), "SHORT_DATETIME_FORMAT"),
                formats.date_format(timezone.localtime(i.ended_at), "SHORT_DATETIME_FORMAT")
                if i.ended_at
                else _("ongoing"),
                i.display_title,
                _("significant") if i.significant else _("insignificant"),
            ]
            for i in report.incidents
        ]
        subject = _("Availability report %(month)s") % {"month": context["month_text"]}
        data: LetterData = {
            "sender": {
                "name": settings.OPERATOR_LEGAL_NAME,
                "lines": list(settings.OPERATOR_ADDRESS_LINES),
            },
            "recipient": {
                "lines": [
                    customer.legal_name,
                    customer.street,
                    f"{customer.postal_code} {customer.city}",
                ]
            },
            "subject": subject,
            "paragraphs": [
                _("Availability in %(month)s: %(percent)s (promised: %(goal)s as a monthly mean).")
                % {
                    "month": context["month_text"],
                    "percent": context["percent"],
                    "goal": context["goal"],
                },
                _(
                    "Maintenance and faults fixed within the agreed fix time count as available; "
                    "insignificant faults are left out (§ 4 (II) of our terms). The figure comes "
                    "from our own server data."
                ),
            ]
            + ([_("No incidents this month.")] if not rows else []),
            "place": settings.OPERATOR_PLACE,
        }
        if rows:
            data["table"] = {
                "columns": [_("Start"), _("End"), _("Incident"), _("Classification")],
                "rows": rows,
            }
        now = clock.now()
        return render(
            template="letter",
            data=cast(dict[str, Any], data),
            meta=Meta(
                title=subject,
                language=language,
                reference=f"availability-{customer.pk}-{month:%Y-%m}",
                issued_on=now.date(),
                created_at=now,
            ),
        )


def _pdf_response(content: bytes, month: date) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"verfuegbarkeit-{month:%Y-%m}.pdf"
    )
    return response


# --- the customer area ----------------------------------------------------------------------


@method_decorator(customer_contact_required, name="dispatch")
class CustomerReport(ShellMixin, TemplateResponseMixin, View):
    template_name = "availability/customer_report.html"
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    title = gettext_lazy("Availability")

    def get(self, request: HttpRequest) -> HttpResponse:
        customer = own_customer(request.user)
        month = chosen_month(request)
        context = self.get_context_data(customer=customer, **report_context(customer, month))
        context["pdf_url"] = reverse("customer_area:availability:pdf") + f"?monat={month:%Y-%m}"
        return self.render_to_response(context)


@method_decorator(customer_contact_required, name="dispatch")
class CustomerReportPdf(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        customer = own_customer(request.user)
        month = chosen_month(request)
        language = translation.get_language() or settings.LANGUAGE_CODE
        return _pdf_response(report_pdf(customer, month, language[:2]), month)


# --- the back office --------------------------------------------------------------------------


@method_decorator(READS, name="dispatch")
class Overview(ShellMixin, TemplateResponseMixin, View):
    """Every customer's figure for a month, those below 97.0 % first."""

    template_name = "availability/overview.html"
    title = gettext_lazy("Availability")

    def get(self, request: HttpRequest) -> HttpResponse:
        month = chosen_month(request)
        rows = []
        for customer in Customer.objects.order_by("legal_name")[:500]:
            report = selectors.month_report(month, customer)
            rows.append((customer, percent_text(report.figure.percent), report.below_goal))
        rows.sort(key=lambda row: (not row[2], row[0].legal_name))
        platform = selectors.month_report(month, None)
        context = self.get_context_data(
            month_text=month_label(month),
            rows=rows,
            below=sum(1 for row in rows if row[2]),
            platform=percent_text(platform.figure.percent),
            platform_below=platform.below_goal,
            months=[(f"{m:%Y-%m}", month_label(m)) for m in reversed(selectors.months_back(12))],
            month=month,
            may_write=has_capability(request.user, Capability.AVAILABILITY),
        )
        return self.render_to_response(context)


@method_decorator(READS, name="dispatch")
class BackofficeCustomerReport(ShellMixin, TemplateResponseMixin, View):
    template_name = "availability/backoffice_report.html"
    part_of = OVERVIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=pk)
        month = chosen_month(request)
        context = self.get_context_data(
            customer=customer,
            title=_("Availability of %(name)s") % {"name": customer.legal_name},
            **report_context(customer, month),
        )
        context["pdf_url"] = (
            reverse("backoffice:availability:customer_pdf", args=[pk]) + f"?monat={month:%Y-%m}"
        )
        return self.render_to_response(context)


@method_decorator(READS, name="dispatch")
class BackofficeCustomerReportPdf(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=pk)
        month = chosen_month(request)
        language = translation.get_language() or settings.LANGUAGE_CODE
        return _pdf_response(report_pdf(customer, month, language[:2]), month)


def incident_url(incident: Incident) -> str:
    return reverse("backoffice:availability:incident", args=[incident.pk])


@method_decorator(READS, name="dispatch")
class IncidentList(ListPage[Incident]):
    title = gettext_lazy("Incidents")
    default_sort = "-started"
    csv_filename = "stoerungen-plattform"
    columns = (
        Column(gettext_lazy("Incident"), lambda i: i.display_title, href=incident_url),
        Column(gettext_lazy("Started"), lambda i: i.started_at, "started", ("started_at",)),
        Column(gettext_lazy("Ended"), lambda i: i.ended_at or _("ongoing")),
        Column(
            gettext_lazy("Classification"),
            lambda i: _("significant") if i.significant else _("insignificant"),
        ),
        Column(gettext_lazy("Fix due"), lambda i: i.fix_due_at),
        Column(
            gettext_lazy("Opened by"),
            lambda i: _("the probe") if i.opened_automatically else _("the operator"),
        ),
    )

    def get_queryset(self) -> models.QuerySet[Incident]:
        return Incident.objects.all()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if has_capability(self.request.user, Capability.AVAILABILITY):
            context["page_actions"] = [
                (reverse("backoffice:availability:incident_open"), _("Record an incident"))
            ]
        return context


class ClassifyForm(forms.Form):
    significant = forms.TypedChoiceField(
        label=gettext_lazy("Classification"),
        choices=[
            ("1", gettext_lazy("significant: counts")),
            ("0", gettext_lazy("insignificant: left out")),
        ],
        coerce=lambda value: value == "1",
    )


class CloseForm(forms.Form):
    ended_at = forms.DateTimeField(
        label=gettext_lazy("Ended at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


@method_decorator(READS, name="dispatch")
class IncidentDetail(ShellMixin, TemplateResponseMixin, View):
    template_name = "availability/incident.html"
    part_of = INCIDENTS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = get_object_or_404(Incident, pk=pk)
        may_write = has_capability(request.user, Capability.AVAILABILITY)
        context = self.get_context_data(
            incident=incident,
            title=incident.display_title,
            tickets=incident.tickets.select_related("customer").order_by("reported_at")
            if has_capability(request.user, Capability.SUPPORT) or may_write
            else [],
            customers=incident.customers.order_by("legal_name"),
            classify_form=ClassifyForm(
                initial={"significant": "1" if incident.significant else "0"}
            )
            if may_write
            else None,
            close_form=CloseForm(
                initial={"ended_at": timezone.localtime(clock.now()).strftime("%Y-%m-%dT%H:%M")}
            )
            if may_write and incident.is_open
            else None,
        )
        return self.render_to_response(context)


@method_decorator(WRITES, name="dispatch")
class ClassifyIncident(FormPage):
    form_class: ClassVar[type[forms.Form]] = ClassifyForm
    part_of = INCIDENTS
    submit_text = gettext_lazy("Save the classification")
    incident: Incident

    def load(self, **kwargs: Any) -> None:
        self.incident = get_object_or_404(Incident, pk=kwargs["pk"])

    def get_title(self) -> str:
        return _("Classify: %(title)s") % {"title": self.incident.display_title}

    def back(self) -> tuple[str, str]:
        return incident_url(self.incident), _("Back to the incident")

    def act(self, form: forms.Form) -> str:
        services.classify_incident(
            actor=_user(self.request),
            incident=self.incident,
            significant=form.cleaned_data["significant"],
        )
        messages.success(self.request, _("The classification was saved."))
        return incident_url(self.incident)


@method_decorator(WRITES, name="dispatch")
class CloseIncident(ClassifyIncident):
    form_class = CloseForm
    submit_text = gettext_lazy("Close the incident")

    def get_title(self) -> str:
        return _("Close: %(title)s") % {"title": self.incident.display_title}

    def act(self, form: forms.Form) -> str:
        services.close_incident(
            actor=_user(self.request),
            incident=self.incident,
            ended_at=form.cleaned_data["ended_at"],
        )
        messages.success(self.request, _("The incident was closed."))
        return incident_url(self.incident)


class IncidentForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    started_at = forms.DateTimeField(
        label=gettext_lazy("Started at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ended_at = forms.DateTimeField(
        label=gettext_lazy("Ended at (empty: still going on)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    significant = ClassifyForm.base_fields["significant"]
    customers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Affected customers (none chosen: everyone)"),
        queryset=Customer.objects.order_by("legal_name"),
        required=False,
    )


@method_decorator(WRITES, name="dispatch")
class OpenIncident(FormPage):
    form_class = IncidentForm
    part_of = INCIDENTS
    title = gettext_lazy("Record an incident")
    submit_text = gettext_lazy("Record the incident")
    intro = gettext_lazy(
        "For a fault the probe did not see. Its fix time counts service hours from its start."
    )

    def back(self) -> tuple[str, str]:
        return reverse(INCIDENTS), _("Back to the incidents")

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        incident = services.open_incident(
            actor=_user(self.request),
            title=data["title"],
            description=data["description"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            significant=data["significant"],
            customers=data["customers"],
        )
        messages.success(self.request, _("The incident was recorded."))
        return incident_url(incident)


@method_decorator(READS, name="dispatch")
class MaintenanceList(ListPage[MaintenanceWindow]):
    title = gettext_lazy("Maintenance windows")
    default_sort = "-starts"
    csv_filename = "wartungsfenster"
    columns = (
        Column(gettext_lazy("Title"), lambda w: w.title),
        Column(gettext_lazy("Starts"), lambda w: w.starts_at, "starts", ("starts_at",)),
        Column(gettext_lazy("Ends"), lambda w: w.ends_at),
        Column(
            gettext_lazy("Scope"),
            lambda w: ", ".join(c.legal_name for c in w.customers.all()) or _("all customers"),
        ),
        Column(gettext_lazy("Announced"), lambda w: w.announced_at),
    )

    def get_queryset(self) -> models.QuerySet[MaintenanceWindow]:
        return MaintenanceWindow.objects.prefetch_related("customers")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if has_capability(self.request.user, Capability.AVAILABILITY):
            context["page_actions"] = [
                (
                    reverse("backoffice:availability:maintenance_plan"),
                    _("Plan a maintenance window"),
                )
            ]
        return context


class MaintenanceForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("What is done, what customers notice"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    customers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Affected customers (none chosen: everyone)"),
        queryset=Customer.objects.order_by("legal_name"),
        required=False,
    )


@method_decorator(WRITES, name="dispatch")
class PlanMaintenance(FormPage):
    form_class = MaintenanceForm
    part_of = MAINTENANCE
    title = gettext_lazy("Plan a maintenance window")
    submit_text = gettext_lazy("Plan and announce")
    intro = gettext_lazy(
        "The contacts of the affected customers get an e-mail at once. Maintenance counts as "
        "available time (§ 4 (II) of the terms); plan it at least 24 hours ahead."
    )

    def back(self) -> tuple[str, str]:
        return reverse(MAINTENANCE), _("Back to the maintenance windows")

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        services.plan_maintenance(
            actor=_user(self.request),
            title=data["title"],
            description=data["description"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            customers=data["customers"],
        )
        messages.success(self.request, _("The maintenance window was planned and announced."))
        return reverse(MAINTENANCE)


# --- machine endpoints ------------------------------------------------------------------------


def _token_ok(request: HttpRequest, expected: str) -> bool:
    given = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


@method_decorator(csrf_exempt, name="dispatch")
class ExternalResult(View):
    """POST a result of the operator's outside monitor: ``Authorization: Bearer
    <PROBE_TOKEN>``, JSON ``{"function": "pages", "ok": false, "at": "...", "detail": "..."}``."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponseBase:
        if not _token_ok(request, settings.PROBE_TOKEN):
            return JsonResponse({"error": "a valid token is needed"}, status=401)
        try:
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
                raise ValueError("'ok' must be true or false")
            at = datetime.fromisoformat(body["at"]) if body.get("at") else None
            if at is not None and timezone.is_naive(at):
                raise ValueError("'at' needs a time zone offset")
            services.record_external_result(
                function=str(body.get("function", "")),
                ok=body["ok"],
                at=at,
                detail=str(body.get("detail", ""))[:300],
            )
        except (ValueError, TypeError) as error:
            return JsonResponse({"error": str(error)}, status=400)
        except DomainError as error:
            return JsonResponse({"error": str(error.message)}, status=400)
        return JsonResponse({"recorded": True}, status=201)


class Metrics(View):
    """Prometheus text format, for the operator's own monitoring; needs ``METRICS_TOKEN``."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if not _token_ok(request, settings.METRICS_TOKEN):
            return HttpResponse("a valid token is needed\n", status=401, content_type="text/plain")
        from treffpunkt.availability.metrics import exposition

        body, content_type = exposition()
        return HttpResponse(body, content_type=content_type)
