"""The customers' pages: the back office's list, new customer, detail and "open an
organization" (operators), and the customer area's master data (a customer's contacts)."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
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
from treffpunkt.backoffice.listing import (
    Column,
    DetailPage,
    Fact,
    ListPage,
    Related,
    ShellMixin,
    show_refusal,
)
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area
from treffpunkt.customers import selectors, services
from treffpunkt.customers.forms import CustomerForm, OpenOrganizationForm
from treffpunkt.customers.models import (
    Customer,
    CustomerContact,
    CustomerKind,
    CustomerOrganization,
    FixedId,
)

LIST = "backoffice:customers:list"


def _user(request: HttpRequest) -> User:
    # The capability decorators have let only signed-in operators through.
    return cast(User, request.user)


def customer_url(customer: Customer) -> str:
    return reverse("backoffice:customers:detail", args=[customer.pk])


def address_lines(customer: Customer) -> list[str]:
    return [customer.street, f"{customer.postal_code} {customer.city}", customer.country]


def billing_lines(customer: Customer) -> list[str]:
    if not customer.has_billing_address:
        return [_("Same as the address")]
    lines = [customer.billing_name] if customer.billing_name else []
    return [
        *lines,
        customer.billing_street,
        f"{customer.billing_postal_code} {customer.billing_city}",
        customer.billing_country,
    ]


def master_data_facts(customer: Customer) -> list[Fact]:
    facts = [
        Fact(gettext_lazy("Customer number"), customer.customer_number),
        Fact(gettext_lazy("Kind of customer"), customer.get_kind_display()),
        Fact(gettext_lazy("Legal name"), customer.legal_name),
        Fact(gettext_lazy("Legal form"), customer.legal_form),
        Fact(gettext_lazy("Address"), address_lines(customer)),
        Fact(gettext_lazy("Billing address"), billing_lines(customer)),
    ]
    if customer.vat_id or customer.kind == CustomerKind.COMPANY:
        facts.append(Fact(gettext_lazy("VAT ID"), customer.vat_id))
    if customer.leitweg_id or customer.kind == CustomerKind.PUBLIC_BODY:
        facts.append(Fact(gettext_lazy("Leitweg-ID"), customer.leitweg_id))
    return facts


ORGANIZATION_COLUMNS: tuple[Column[CustomerOrganization], ...] = (
    Column(gettext_lazy("Organization"), lambda link: link.organization.name),
    Column(gettext_lazy("Short name"), lambda link: link.organization.slug, code=True),
    Column(gettext_lazy("Since"), lambda link: link.created_at),
)


# --- the back office --------------------------------------------------------------------------


class CustomerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=CustomerKind.choices,
        label=gettext_lazy("Kind of customer"),
        empty_label=gettext_lazy("all"),
    )
    name = django_filters.CharFilter(
        field_name="legal_name",
        lookup_expr="icontains",
        label=gettext_lazy("Name contains"),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    class Meta:
        model = Customer
        fields: list[str] = []


@method_decorator(capability_required(Capability.CUSTOMERS), name="dispatch")
class CustomerList(ListPage[Customer]):
    title = gettext_lazy("Customers")
    caption = gettext_lazy("Business customers")
    empty_text = gettext_lazy("No customers match.")
    filterset_class = CustomerFilter
    default_sort = "number"
    csv_filename = "kunden"
    columns = (
        Column(
            gettext_lazy("Number"),
            lambda c: c.customer_number,
            "number",
            order_by=("customer_number",),
            href=customer_url,
        ),
        Column(gettext_lazy("Name"), lambda c: c.legal_name, "name", order_by=("legal_name",)),
        Column(gettext_lazy("Legal form"), lambda c: c.legal_form),
        Column(gettext_lazy("Kind of customer"), lambda c: c.get_kind_display()),
        Column(gettext_lazy("City"), lambda c: c.city),
        Column(gettext_lazy("VAT ID"), lambda c: c.vat_id, html=False),
        Column(gettext_lazy("Leitweg-ID"), lambda c: c.leitweg_id, html=False),
        Column(gettext_lazy("Created"), lambda c: c.created_at, html=False),
    )

    def get_queryset(self) -> models.QuerySet[Customer]:
        return selectors.customers()


@method_decorator(capability_required(Capability.CUSTOMERS), name="dispatch")
class CustomerDetail(DetailPage[Customer]):
    template_name = "customers/customer_detail.html"
    list_url_name = LIST
    back_text = gettext_lazy("Back to the customers")

    def get_object(self) -> Customer:
        return get_object_or_404(Customer, pk=self.kwargs["pk"])

    def get_record_title(self, customer: Customer) -> str:
        return _("Customer %(number)s: %(name)s") % {
            "number": customer.customer_number,
            "name": customer.legal_name,
        }

    def get_facts(self, customer: Customer) -> list[Fact]:
        return [*master_data_facts(customer), Fact(_("Created"), customer.created_at)]

    def get_related(self, customer: Customer) -> Related[CustomerContact]:
        # The back office only: the operator's staff see the contacts' addresses.
        return Related(
            caption=gettext_lazy("Contacts"),
            columns=(
                Column(gettext_lazy("Name"), lambda c: c.name),
                Column(gettext_lazy("Function"), lambda c: c.function),
                Column(gettext_lazy("E-mail address"), lambda c: c.email),
                Column(gettext_lazy("Phone"), lambda c: c.phone),
                Column(gettext_lazy("Customer area"), lambda c: c.user_id is not None),
            ),
            rows=selectors.contacts_of(customer),
            empty=gettext_lazy("No contacts yet."),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer = context["object"]
        context["organizations"] = Related(
            caption=gettext_lazy("Organizations on the consultation platform"),
            columns=ORGANIZATION_COLUMNS,
            rows=selectors.organizations_of(customer),
            empty=gettext_lazy("No organizations yet."),
        ).table()
        context["may_write"] = has_capability(self.request.user, Capability.CUSTOMERS)
        context["fixed_ids"] = selectors.fixed_ids_of(customer)
        return context


class _FormPage(ShellMixin, TemplateResponseMixin, View):
    template_name = "backoffice/form_page.html"
    part_of = LIST
    submit_text: Any = ""

    def page(self, form: Any, **extra: Any) -> HttpResponse:
        context = self.get_context_data(form=form, submit_text=self.submit_text, **extra)
        return self.render_to_response(context)


@method_decorator(capability_required(Capability.CUSTOMERS, write=True), name="dispatch")
class CustomerCreate(_FormPage):
    title = gettext_lazy("New customer")
    submit_text = gettext_lazy("Create customer")

    def get(self, request: HttpRequest) -> HttpResponseBase:
        return self._page(CustomerForm())

    def _page(self, form: CustomerForm) -> HttpResponse:
        return self.page(
            form,
            back_url=reverse(LIST),
            back_label=_("Back to the customers"),
            intro=_("Treffpunkt is offered to businesses and public bodies only."),
        )

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = CustomerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer = services.create_customer(
                    actor=_user(request),
                    kind=data["kind"],
                    is_business=data["is_business"],
                    legal_name=data["legal_name"],
                    legal_form=data["legal_form"],
                    street=data["street"],
                    postal_code=data["postal_code"],
                    city=data["city"],
                    country=data["country"],
                    billing_name=data["billing_name"],
                    billing_street=data["billing_street"],
                    billing_postal_code=data["billing_postal_code"],
                    billing_city=data["billing_city"],
                    billing_country=data["billing_country"],
                    vat_id=data["vat_id"],
                    leitweg_id=data["leitweg_id"],
                    contacts=[
                        services.NewContact(
                            name=data["contact_name"],
                            email=data["contact_email"],
                            function=data["contact_function"],
                            phone=data["contact_phone"],
                        )
                    ],
                )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("The customer %(number)s was created.")
                    % {"number": customer.customer_number},
                )
                return redirect(customer_url(customer))
        return self._page(form)


@method_decorator(capability_required(Capability.CUSTOMERS, write=True), name="dispatch")
class OpenOrganization(_FormPage):
    submit_text = gettext_lazy("Open the organization")
    customer: Customer

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.customer = get_object_or_404(Customer, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_title(self) -> str:
        return _("Open an organization for %(name)s") % {"name": self.customer.legal_name}

    def _page(self, form: OpenOrganizationForm) -> HttpResponse:
        return self.page(
            form,
            back_url=customer_url(self.customer),
            back_label=_("Back to the customer"),
            intro=_(
                "The organization is opened on the consultation platform and belongs to this "
                "customer. Its first administrator gets an invitation by mail."
            ),
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return self._page(OpenOrganizationForm(initial={"name": self.customer.legal_name}))

    def post(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        form = OpenOrganizationForm(request.POST)
        if form.is_valid():
            try:
                organization = services.open_organization_for_customer(
                    actor=_user(request),
                    customer=self.customer,
                    name=form.cleaned_data["name"],
                    admin_email=form.cleaned_data["admin_email"],
                    admin_name=form.cleaned_data["admin_name"],
                )
            except DomainError as exc:
                field = {"display_name": "admin_name", "email": "admin_email", "slug": "name"}
                form.add_error(field.get(exc.code), str(exc.message))
            else:
                messages.success(
                    request,
                    _("The organization %(name)s was opened; its administrator was invited.")
                    % {"name": organization.name},
                )
                return redirect(customer_url(self.customer))
        return self._page(form)


@method_decorator(require_POST, name="dispatch")
@method_decorator(capability_required(Capability.CUSTOMERS, write=True), name="dispatch")
class AllocateFixedId(View):
    """Allocates the next H.323 ID and SIP URI to the customer (P-OP-8)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        customer = get_object_or_404(Customer, pk=pk)
        try:
            fixed_id = services.allocate_fixed_id(
                actor=_user(request),
                customer=customer,
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("Allocated the H.323 ID %(h323_id)s and the SIP address %(sip_uri)s.")
                % {"h323_id": fixed_id.h323_id, "sip_uri": fixed_id.sip_uri},
            )
        return redirect(customer_url(customer))


@method_decorator(require_POST, name="dispatch")
@method_decorator(capability_required(Capability.CUSTOMERS, write=True), name="dispatch")
class ReleaseFixedId(View):
    """Releases one of the customer's H.323 IDs; its number is never handed out again."""

    def post(self, request: HttpRequest, pk: int, fixed_id: int) -> HttpResponseBase:
        record = get_object_or_404(FixedId, pk=fixed_id, customer_id=pk)
        try:
            services.release_fixed_id(
                actor=_user(request),
                fixed_id=record,
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request, _("Released the H.323 ID %(h323_id)s.") % {"h323_id": record.h323_id}
            )
        return redirect(customer_url(record.customer))


# --- the customer area ------------------------------------------------------------------------


@method_decorator(customer_contact_required, name="dispatch")
class MasterDataPage(DetailPage[Customer]):
    """What the operator keeps about the contact's own customer. Other contacts appear with
    their name and function only: their addresses are for the operator's staff."""

    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    template_name = "customers/customer_detail.html"

    def get_object(self) -> Customer:
        return selectors.own_customer(self.request.user)

    def get_record_title(self, customer: Customer) -> str:
        return _("Company details: %(name)s") % {"name": customer.legal_name}

    def get_facts(self, customer: Customer) -> list[Fact]:
        return master_data_facts(customer)

    def get_related(self, customer: Customer) -> Related[CustomerContact]:
        return Related(
            caption=gettext_lazy("Contacts"),
            columns=(
                Column(gettext_lazy("Name"), lambda c: c.name),
                Column(gettext_lazy("Function"), lambda c: c.function),
            ),
            rows=selectors.contacts_of(customer),
            empty=gettext_lazy("No contacts yet."),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["organizations"] = Related(
            caption=gettext_lazy("Organizations on the consultation platform"),
            columns=ORGANIZATION_COLUMNS,
            rows=selectors.organizations_of(context["object"]),
            empty=gettext_lazy("No organizations yet."),
        ).table()
        context["intro"] = _(
            "Something wrong or out of date? Please tell us: we change these details for you."
        )
        context["fixed_ids"] = selectors.fixed_ids_of(context["object"], active_only=True)
        context["customer_area"] = True
        return context
