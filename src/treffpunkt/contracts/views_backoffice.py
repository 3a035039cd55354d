"""The contracts' pages in the back office: the deadlines, the catalogue, orders and contracts
with everything the operator records about them, and a customer's service blocks.

Reading needs ``Capability.CUSTOMERS`` or the auditor's; every change needs the capability
itself and goes through ``contracts.services``. A refused change shows the form again with the
service's message at the field it names (status 400) and writes nothing; a done one redirects.
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
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, capability_required, has_capability
from treffpunkt.backoffice.listing import (
    Column,
    DetailPage,
    Fact,
    FormPage,
    ListPage,
    ShellMixin,
)
from treffpunkt.contracts import selectors, services
from treffpunkt.contracts.forms_backoffice import (
    AcceptForm,
    BlockForm,
    CancellationForm,
    ChangeForm,
    ConsentForm,
    DeclineForm,
    LiftBlockForm,
    ObjectionForm,
    OrderForm,
    PriceFields,
    PriceForm,
    ProductForm,
    TransferForm,
)
from treffpunkt.contracts.models import (
    Block,
    Contract,
    ContractState,
    CustomerDocument,
    Order,
    OrderState,
    Product,
    ProductKind,
    Transfer,
)
from treffpunkt.contracts.services._common import today as current_day
from treffpunkt.core.money import format_money
from treffpunkt.customers.models import Customer
from treffpunkt.documents.selectors import document_bytes, download_name

READS = capability_required(Capability.CUSTOMERS)
WRITES = capability_required(Capability.CUSTOMERS, write=True)

ORDERS = "backoffice:contracts:orders"
CONTRACTS = "backoffice:contracts:contracts"
CATALOGUE = "backoffice:contracts:catalogue"


def _user(request: HttpRequest) -> User:
    # The capability decorators have let only signed-in operators through.
    return cast(User, request.user)


def _may_write(request: HttpRequest) -> bool:
    return has_capability(request.user, Capability.CUSTOMERS)


def order_url(order: Order) -> str:
    return reverse("backoffice:contracts:order", args=[order.pk])


def contract_url(contract: Contract) -> str:
    return reverse("backoffice:contracts:contract", args=[contract.pk])


def customer_url(customer_id: int) -> str:
    return reverse("backoffice:customers:detail", args=[customer_id])


def document_url(customer_id: int, reference: object) -> str:
    return reverse("backoffice:contracts:customer_document", args=[customer_id, reference])


def customer_label(customer: Customer) -> str:
    return f"{customer.customer_number} {customer.legal_name}"


def money_text(amount: Decimal | None) -> str:
    return format_money(amount, language=get_language() or "de") if amount is not None else "–"


def minute_price_text(amount: Decimal | None) -> str:
    """A price per minute with its four decimals (``format_money`` rounds to the cent)."""
    if amount is None:
        return "–"
    number = format(amount, ".4f")
    if (get_language() or "de").startswith("de"):
        return f"{number.replace('.', ',')}\u00a0€"
    return f"€{number}"


@dataclass(frozen=True)
class LinkFact(Fact):
    """A fact whose value links to another page."""

    href: str = ""


# --- form pages -------------------------------------------------------------------------------


# --- deadlines --------------------------------------------------------------------------------


@method_decorator(READS, name="dispatch")
class DeadlinesPage(ShellMixin, TemplateResponseMixin, View):
    template_name = "contracts/backoffice/deadlines.html"
    title = gettext_lazy("Deadlines")

    def get(self, request: HttpRequest) -> HttpResponse:
        page = request.GET.get("page", "1")
        found = selectors.deadlines_ahead(page=int(page) if page.isdigit() else 1)
        return self.render_to_response(
            self.get_context_data(
                deadlines=found.rows,
                found=found,
                previous_page=found.page - 1 if found.page > 1 else None,
                next_page=found.page + 1 if found.page < found.pages else None,
                last_run=selectors.last_run(),
            )
        )


# --- the catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceRow:
    valid_from: date
    monthly_fee: str
    included_minutes: str
    per_minute: str
    unit_price: str
    vat_kind: str


@method_decorator(READS, name="dispatch")
class CataloguePage(ShellMixin, TemplateResponseMixin, View):
    template_name = "contracts/backoffice/catalogue.html"
    title = gettext_lazy("Catalogue")

    def get(self, request: HttpRequest) -> HttpResponse:
        products = []
        for product in Product.objects.prefetch_related("prices").order_by("kind", "name"):
            rows = [
                PriceRow(
                    valid_from=price.valid_from,
                    monthly_fee=money_text(price.monthly_fee),
                    included_minutes=(
                        str(price.included_minutes) if price.included_minutes is not None else "–"
                    ),
                    per_minute=minute_price_text(price.per_minute),
                    unit_price=money_text(price.unit_price),
                    vat_kind=price.get_vat_kind_display(),
                )
                for price in product.prices.all()
            ]
            products.append((product, rows))
        return self.render_to_response(
            self.get_context_data(products=products, may_write=_may_write(request))
        )


def price_terms(form: PriceFields) -> services.PriceTerms:
    data = form.cleaned_data
    return services.PriceTerms(
        vat_kind=data["vat_kind"],
        monthly_fee=data["monthly_fee"] or None,
        included_minutes=data["included_minutes"],
        per_minute=data["per_minute"] or None,
        unit_price=data["unit_price"] or None,
    )


@method_decorator(WRITES, name="dispatch")
class ProductCreate(FormPage):
    title = gettext_lazy("New product")
    part_of = CATALOGUE
    form_class = ProductForm
    submit_text = gettext_lazy("Add the product")
    intro = gettext_lazy(
        "A service has a monthly fee, and optionally minutes included with a price per further "
        "minute. Hardware has a unit price. All amounts are net, in euros."
    )

    def back(self) -> tuple[str, str]:
        return reverse(CATALOGUE), _("Back to the catalogue")

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        product = services.add_product(
            actor=_user(self.request),
            code=data["code"],
            kind=data["kind"],
            name=data["name"],
            description=data["description"],
            price=price_terms(cast(PriceFields, form)),
            valid_from=data["valid_from"],
        )
        messages.success(self.request, _("The product %(name)s was added.") % {"name": product})
        return reverse(CATALOGUE)


@method_decorator(WRITES, name="dispatch")
class PriceCreate(FormPage):
    part_of = CATALOGUE
    form_class = PriceForm
    submit_text = gettext_lazy("Set the price")
    product: Product

    def load(self, **kwargs: Any) -> None:
        self.product = get_object_or_404(Product, pk=kwargs["pk"])

    def get_title(self) -> str:
        return _("New price of %(product)s") % {"product": self.product.name}

    def get_intro(self) -> str:
        if self.product.kind == ProductKind.HARDWARE:
            return _("Hardware: give the unit price. All amounts are net, in euros.")
        return _(
            "A service: give the monthly fee, and the minutes included with the price per "
            "further minute if it has them. All amounts are net, in euros."
        )

    def back(self) -> tuple[str, str]:
        return reverse(CATALOGUE), _("Back to the catalogue")

    def act(self, form: forms.Form) -> str:
        price = services.set_price(
            actor=_user(self.request),
            product=self.product,
            valid_from=form.cleaned_data["valid_from"],
            price=price_terms(cast(PriceFields, form)),
        )
        messages.success(
            self.request,
            _("The new price of %(product)s applies from %(day)s.")
            % {"product": self.product.name, "day": price.valid_from.isoformat()},
        )
        return reverse(CATALOGUE)


# --- orders -----------------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=OrderState.choices, label=gettext_lazy("State"), empty_label=gettext_lazy("all")
    )

    class Meta:
        model = Order
        fields: list[str] = []


@method_decorator(READS, name="dispatch")
class OrderList(ListPage[Order]):
    template_name = "contracts/backoffice/order_list.html"
    title = gettext_lazy("Orders")
    caption = gettext_lazy("Orders, newest first")
    empty_text = gettext_lazy("No orders match.")
    filterset_class = OrderFilter
    default_sort = "-received"
    csv_filename = "auftraege"
    columns = (
        Column(
            gettext_lazy("Number"),
            lambda o: o.number,
            "number",
            order_by=("number",),
            href=order_url,
        ),
        Column(gettext_lazy("Customer"), lambda o: customer_label(o.customer)),
        Column(gettext_lazy("Received on"), lambda o: o.received_on, "received", ("received_on",)),
        Column(gettext_lazy("Accept by"), lambda o: o.accept_by, "accept_by"),
        Column(gettext_lazy("State"), lambda o: o.get_state_display()),
    )

    def get_queryset(self) -> models.QuerySet[Order]:
        return Order.objects.select_related("customer")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(may_write=_may_write(self.request), **kwargs)


@method_decorator(WRITES, name="dispatch")
class OrderCreate(FormPage):
    title = gettext_lazy("Enter an order")
    part_of = ORDERS
    form_class = OrderForm
    submit_text = gettext_lazy("Record the order")
    intro = gettext_lazy(
        "An order that reached us by letter, fax or e-mail. It must be accepted within two "
        "weeks of its receipt (§ 2 (II) of the terms), otherwise it lapses."
    )

    def back(self) -> tuple[str, str]:
        return reverse(ORDERS), _("Back to the orders")

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        order = services.place_order(
            actor=_user(self.request),
            customer=data["customer"],
            items=[
                services.OrderItem(product=product, quantity=quantity)
                for product, quantity in cast(OrderForm, form).lines()
            ],
            submission_key=data["submission_key"],
            channel=data["channel"],
            received_on=data["received_on"],
            requested_start=data["requested_start"],
            note=data["note"],
        )
        messages.success(
            self.request,
            _("The order %(number)s was recorded. Accept it by %(day)s.")
            % {"number": order.number, "day": order.accept_by.isoformat()},
        )
        return order_url(order)


@method_decorator(READS, name="dispatch")
class OrderDetail(DetailPage[Order]):
    template_name = "contracts/backoffice/order_detail.html"
    list_url_name = ORDERS
    back_text = gettext_lazy("Back to the orders")

    def get_object(self) -> Order:
        return get_object_or_404(Order.objects.select_related("customer"), pk=self.kwargs["pk"])

    def get_record_title(self, order: Order) -> str:
        return _("Order %(number)s") % {"number": order.number}

    def get_facts(self, order: Order) -> list[Fact]:
        facts: list[Fact] = [
            LinkFact(
                gettext_lazy("Customer"),
                customer_label(order.customer),
                href=customer_url(order.customer_id),
            ),
            Fact(gettext_lazy("State"), order.get_state_display()),
            Fact(gettext_lazy("Received by"), order.get_channel_display()),
            Fact(gettext_lazy("Received on"), order.received_on),
            Fact(gettext_lazy("Accept by"), order.accept_by),
            Fact(gettext_lazy("Requested start"), order.requested_start),
            Fact(gettext_lazy("Note"), order.note, block=True),
        ]
        if order.state != OrderState.RECEIVED:
            facts.append(Fact(gettext_lazy("Decided"), order.decided_at))
        if order.confirmed_start is not None:
            facts.append(Fact(gettext_lazy("Contract start"), order.confirmed_start))
        if order.delivery_date is not None:
            facts.append(Fact(gettext_lazy("Delivery date"), order.delivery_date))
        return facts

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        order: Order = context["object"]
        waiting = order.state == OrderState.RECEIVED
        today = current_day()
        context.update(
            waiting=waiting,
            overdue=waiting and order.accept_by < today,
            lines=order.lines.select_related("product"),
            contracts=order.contracts.select_related("product"),
            documents=CustomerDocument.objects.filter(order=order).select_related("document"),
            may_write=_may_write(self.request),
        )
        if waiting and context["may_write"]:
            context["accept_form"] = AcceptForm(
                initial={"start": order.requested_start or max(today, order.received_on)}
            )
            context["decline_form"] = DeclineForm()
            context["has_hardware"] = order.has_hardware
        return context


class _OrderAction(FormPage):
    part_of = ORDERS
    order: Order

    def load(self, **kwargs: Any) -> None:
        self.order = get_object_or_404(Order.objects.select_related("customer"), pk=kwargs["pk"])

    def back(self) -> tuple[str, str]:
        return order_url(self.order), _("Back to the order")


@method_decorator(WRITES, name="dispatch")
class AcceptOrder(_OrderAction):
    form_class = AcceptForm
    submit_text = gettext_lazy("Accept the order")
    intro = gettext_lazy(
        "The customer gets the order confirmation with the contract start. Each service "
        "becomes a contract that is switched on with its first invoice."
    )

    def get_title(self) -> str:
        return _("Accept order %(number)s") % {"number": self.order.number}

    def act(self, form: forms.Form) -> str:
        order = services.accept_order(
            actor=_user(self.request),
            order=self.order,
            start=form.cleaned_data["start"],
            delivery_date=form.cleaned_data["delivery_date"],
        )
        numbers = ", ".join(c.number or "" for c in order.contracts.order_by("pk"))
        messages.success(
            self.request,
            _("The order %(number)s was accepted; the confirmation was sent.")
            % {"number": order.number}
            + (" " + _("Contracts: %(numbers)s.") % {"numbers": numbers} if numbers else ""),
        )
        return order_url(order)


@method_decorator(WRITES, name="dispatch")
class DeclineOrder(_OrderAction):
    form_class = DeclineForm
    submit_text = gettext_lazy("Decline the order")
    intro = gettext_lazy("The customer gets a letter with the reason.")

    def get_title(self) -> str:
        return _("Decline order %(number)s") % {"number": self.order.number}

    def act(self, form: forms.Form) -> str:
        order = services.decline_order(
            actor=_user(self.request), order=self.order, reason=form.cleaned_data["reason"]
        )
        messages.success(
            self.request, _("The order %(number)s was declined.") % {"number": order.number}
        )
        return order_url(order)


# --- contracts --------------------------------------------------------------------------------


class ContractFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=ContractState.choices,
        label=gettext_lazy("State"),
        empty_label=gettext_lazy("all"),
    )
    kind = django_filters.ChoiceFilter(
        choices=ProductKind.choices[:2],
        label=gettext_lazy("Kind"),
        empty_label=gettext_lazy("all"),
    )
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.order_by("legal_name"),
        label=gettext_lazy("Customer"),
        empty_label=gettext_lazy("all"),
    )

    class Meta:
        model = Contract
        fields: list[str] = []


def next_deadline(contract: Contract) -> str:
    if contract.notice_deadline is not None:
        return _("Notice by %(day)s") % {"day": Fact("", contract.notice_deadline).text}
    if contract.consent_due is not None:
        return _("Consent request due %(day)s") % {"day": Fact("", contract.consent_due).text}
    return "–"


@method_decorator(READS, name="dispatch")
class ContractList(ListPage[Contract]):
    title = gettext_lazy("Contracts")
    caption = gettext_lazy("Contracts for services")
    empty_text = gettext_lazy("No contracts match.")
    filterset_class = ContractFilter
    default_sort = "-start"
    csv_filename = "vertraege"
    columns = (
        Column(
            gettext_lazy("Number"),
            lambda c: c.number,
            "number",
            order_by=("number",),
            href=contract_url,
        ),
        Column(gettext_lazy("Customer"), lambda c: customer_label(c.customer)),
        Column(gettext_lazy("Product"), lambda c: c.product.name),
        Column(gettext_lazy("State"), lambda c: c.get_state_display()),
        Column(gettext_lazy("Start"), lambda c: c.start, "start", html=False),
        Column(
            gettext_lazy("Current term"),
            lambda c: f"{Fact('', c.term_start).text} – {Fact('', c.term_end).text}",
            "term",
            order_by=("term_end",),
        ),
        Column(gettext_lazy("Notice deadline / consent due"), next_deadline),
        Column(gettext_lazy("Ends on"), lambda c: c.ends_on, "ends_on"),
    )

    def get_queryset(self) -> models.QuerySet[Contract]:
        return Contract.objects.select_related("customer", "product")


@method_decorator(READS, name="dispatch")
class ContractDetail(DetailPage[Contract]):
    template_name = "contracts/backoffice/contract_detail.html"
    list_url_name = CONTRACTS
    back_text = gettext_lazy("Back to the contracts")

    def get_object(self) -> Contract:
        return get_object_or_404(
            Contract.objects.select_related("customer", "product", "order"), pk=self.kwargs["pk"]
        )

    def get_record_title(self, contract: Contract) -> str:
        return _("Contract %(number)s: %(product)s") % {
            "number": contract.number,
            "product": contract.product.name,
        }

    def get_facts(self, contract: Contract) -> list[Fact]:
        facts: list[Fact] = [
            LinkFact(
                gettext_lazy("Customer"),
                customer_label(contract.customer),
                href=customer_url(contract.customer_id),
            ),
            Fact(gettext_lazy("Product"), contract.product.name),
            Fact(gettext_lazy("Kind"), contract.get_kind_display()),
            Fact(gettext_lazy("Quantity"), contract.quantity),
            Fact(gettext_lazy("State"), contract.get_state_display()),
            Fact(gettext_lazy("Start"), contract.start),
            Fact(
                gettext_lazy("Current term"),
                f"{Fact('', contract.term_start).text} – {Fact('', contract.term_end).text}",
            ),
        ]
        if contract.order is not None:
            facts.append(
                LinkFact(
                    gettext_lazy("Order"), contract.order.number, href=order_url(contract.order)
                )
            )
        if contract.kind == ProductKind.VIDEO:
            facts.append(Fact(gettext_lazy("Notice deadline"), contract.notice_deadline))
        else:
            facts += [
                Fact(gettext_lazy("Consent request due"), contract.consent_due),
                Fact(gettext_lazy("Consent requested"), contract.consent_requested_on),
                Fact(gettext_lazy("Consent reminder sent"), contract.consent_reminded_on),
                Fact(gettext_lazy("Consent given"), contract.consent_given_on),
            ]
        if contract.ends_on is not None:
            facts.append(
                Fact(
                    gettext_lazy("Ends on"),
                    f"{Fact('', contract.ends_on).text} ({contract.get_end_reason_display()})",
                )
            )
        switched = (
            _("%(at)s by invoice %(invoice)s")
            % {
                "at": Fact("", contract.switched_on_at).text,
                "invoice": contract.switched_on_by_invoice,
            }
            if contract.switched_on_at is not None
            else _("Not yet: waits for the first invoice")
        )
        facts.append(Fact(gettext_lazy("Service switched on"), switched))
        return facts

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contract: Contract = context["object"]
        may_write = _may_write(self.request)
        transfers = list(contract.transfers.order_by("-received_on", "-pk"))
        context.update(
            may_write=may_write,
            timeline=selectors.timeline(contract),
            cancellations=contract.cancellations.order_by("-received_on", "-pk"),
            change_notices=contract.change_notices.order_by("-received_on", "-pk"),
            transfers=[
                (
                    transfer,
                    ObjectionForm(prefix=f"objection-{transfer.pk}")
                    if may_write and may_object(transfer)
                    else None,
                )
                for transfer in transfers
            ],
            customer_service_url=reverse(
                "backoffice:contracts:customer_service", args=[contract.customer_id]
            ),
            switches=contract.switches.order_by("-agreed_on", "-pk"),
        )
        if may_write and contract.is_live:
            context.update(
                cancellation_form=CancellationForm(),
                change_form=ChangeForm(),
                transfer_form=TransferForm(),
            )
            if contract.kind == ProductKind.TELEPHONY and contract.consent_given_on is None:
                context["consent_form"] = ConsentForm()
        return context


def may_object(transfer: Transfer) -> bool:
    return (
        transfer.objection_until is not None
        and transfer.objected_on is None
        and not transfer.in_effect
    )


class _ContractAction(FormPage):
    part_of = CONTRACTS
    contract: Contract

    def load(self, **kwargs: Any) -> None:
        self.contract = get_object_or_404(
            Contract.objects.select_related("customer", "product"), pk=kwargs["pk"]
        )

    def back(self) -> tuple[str, str]:
        return contract_url(self.contract), _("Back to the contract")

    def title_for(self, text: str) -> str:
        return text % {"number": self.contract.number, "product": self.contract.product.name}


@method_decorator(WRITES, name="dispatch")
class RecordCancellation(_ContractAction):
    form_class = CancellationForm
    submit_text = gettext_lazy("Record the cancellation")
    intro = gettext_lazy(
        "The day it arrived decides when the contract ends. The customer gets a confirmation."
    )

    def get_title(self) -> str:
        return self.title_for(_("Record a cancellation of contract %(number)s (%(product)s)"))

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        cancellation = services.record_cancellation(
            actor=_user(self.request),
            contract=self.contract,
            kind=data["kind"],
            received_on=data["received_on"],
            channel=data["channel"],
            sender=data["sender"],
            reason=data["reason"],
        )
        text = _("The cancellation was recorded; the contract ends at the end of %(day)s.") % {
            "day": Fact("", cancellation.effective_on).text
        }
        if cancellation.late:
            text += " " + _("It arrived too late for the end of the current term.")
        if cancellation.in_doubt:
            text += " " + _("Whether it was in time is in doubt: please check.")
        messages.success(self.request, text)
        return contract_url(self.contract)


@method_decorator(WRITES, name="dispatch")
class RecordConsent(_ContractAction):
    form_class = ConsentForm
    submit_text = gettext_lazy("Record the consent")
    intro = gettext_lazy(
        "A telephony contract renews only with the customer's express consent (§ 20 (I) of "
        "the terms)."
    )

    def get_title(self) -> str:
        return self.title_for(_("Record the consent to renew contract %(number)s (%(product)s)"))

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        services.record_consent(
            actor=_user(self.request),
            contract=self.contract,
            received_on=data["received_on"],
            channel=data["channel"],
            sender=data["sender"],
        )
        messages.success(self.request, _("The consent was recorded; the contract renews."))
        return contract_url(self.contract)


@method_decorator(WRITES, name="dispatch")
class AnnounceChange(_ContractAction):
    form_class = ChangeForm
    submit_text = gettext_lazy("Announce the change")
    intro = gettext_lazy(
        "The customer gets a letter. Unless the change is only to their benefit, purely "
        "administrative, required by law or caused only by VAT, it gives them a special "
        "cancellation right for three months."
    )

    def get_title(self) -> str:
        return self.title_for(_("Announce a change to contract %(number)s (%(product)s)"))

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        notice = services.announce_change(
            actor=_user(self.request),
            contract=self.contract,
            subject=data["subject"],
            classification=data["classification"],
            description=data["description"],
            received_on=data["received_on"],
            effective_on=data["effective_on"],
        )
        messages.success(
            self.request,
            _("The change was announced; it takes effect on %(day)s.")
            % {"day": Fact("", notice.effective_on).text},
        )
        return contract_url(self.contract)


@method_decorator(WRITES, name="dispatch")
class AnnounceTransfer(_ContractAction):
    form_class = TransferForm
    submit_text = gettext_lazy("Announce the transfer")
    intro = gettext_lazy(
        "A transfer to a third party is announced six weeks ahead (§ 21 (I), § 23 (I) of the "
        "terms). The customer gets a letter."
    )

    def get_title(self) -> str:
        return self.title_for(_("Announce a transfer of contract %(number)s (%(product)s)"))

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        transfer = services.announce_transfer(
            actor=_user(self.request),
            contract=self.contract,
            transferee=data["transferee"],
            received_on=data["received_on"],
            effective_on=data["effective_on"],
        )
        messages.success(
            self.request,
            _("The transfer to %(who)s was announced; it takes effect on %(day)s.")
            % {"who": transfer.transferee, "day": Fact("", transfer.effective_on).text},
        )
        return contract_url(self.contract)


@method_decorator(WRITES, name="dispatch")
class RecordObjection(FormPage):
    part_of = CONTRACTS
    form_class = ObjectionForm
    submit_text = gettext_lazy("Record the objection")
    intro = gettext_lazy(
        "The customer of a video conferencing contract may object within four weeks of the "
        "announcement (§ 23 (I) of the terms)."
    )
    transfer: Transfer

    def load(self, **kwargs: Any) -> None:
        self.transfer = get_object_or_404(
            Transfer.objects.select_related("contract"), pk=kwargs["pk"]
        )

    def make_form(self, data: Any = None) -> forms.Form:
        return ObjectionForm(data, prefix=f"objection-{self.transfer.pk}")

    def get_title(self) -> str:
        return _("Record an objection to the transfer to %(who)s") % {
            "who": self.transfer.transferee
        }

    def back(self) -> tuple[str, str]:
        return contract_url(self.transfer.contract), _("Back to the contract")

    def act(self, form: forms.Form) -> str:
        services.record_transfer_objection(
            actor=_user(self.request),
            transfer=self.transfer,
            received_on=form.cleaned_data["received_on"],
            channel=form.cleaned_data["channel"],
        )
        messages.success(self.request, _("The objection was recorded."))
        return contract_url(self.transfer.contract)


# --- a customer's service ---------------------------------------------------------------------


@method_decorator(READS, name="dispatch")
class CustomerServicePage(ShellMixin, TemplateResponseMixin, View):
    template_name = "contracts/backoffice/customer_service.html"
    part_of = CONTRACTS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=pk)
        may_write = _may_write(request)
        blocks = Block.objects.filter(customer=customer).order_by("-started_at", "-pk")
        active = [
            (block, LiftBlockForm(prefix=f"lift-{block.pk}") if may_write else None)
            for block in blocks
            if block.is_active
        ]
        context = self.get_context_data(
            title=_("Service of %(name)s") % {"name": customer.legal_name},
            customer=customer,
            customer_href=customer_url(customer.pk),
            contracts=selectors.contracts_of(customer),
            active_blocks=active,
            past_blocks=[block for block in blocks if not block.is_active],
            documents=selectors.documents_of(customer),
            block_form=BlockForm() if may_write else None,
            may_write=may_write,
        )
        return self.render_to_response(context)


class _CustomerAction(FormPage):
    part_of = CONTRACTS
    customer: Customer

    def back(self) -> tuple[str, str]:
        return reverse("backoffice:contracts:customer_service", args=[self.customer.pk]), _(
            "Back to the customer's service"
        )


@method_decorator(WRITES, name="dispatch")
class BlockService(_CustomerAction):
    form_class = BlockForm
    submit_text = gettext_lazy("Block")
    intro = gettext_lazy(
        "The customer's members and staff see a notice instead. Nothing is deleted and the "
        "fees stay due. The customer gets a letter with the explanation."
    )

    def load(self, **kwargs: Any) -> None:
        self.customer = get_object_or_404(Customer, pk=kwargs["pk"])

    def get_title(self) -> str:
        return _("Block the service of %(name)s") % {"name": self.customer.legal_name}

    def act(self, form: forms.Form) -> str:
        block = services.block_service(
            actor=_user(self.request),
            customer=self.customer,
            scope=form.cleaned_data["scope"],
            reason=form.cleaned_data["reason"],
            explanation=form.cleaned_data["explanation"],
        )
        messages.success(
            self.request, _("Blocked: %(scope)s.") % {"scope": block.get_scope_display()}
        )
        return self.back()[0]


@method_decorator(WRITES, name="dispatch")
class LiftBlock(_CustomerAction):
    form_class = LiftBlockForm
    submit_text = gettext_lazy("Lift the block")
    block: Block

    def load(self, **kwargs: Any) -> None:
        self.block = get_object_or_404(Block.objects.select_related("customer"), pk=kwargs["pk"])
        self.customer = self.block.customer

    def make_form(self, data: Any = None) -> forms.Form:
        return LiftBlockForm(data, prefix=f"lift-{self.block.pk}")

    def get_title(self) -> str:
        return _("Lift the block of %(name)s: %(scope)s") % {
            "name": self.customer.legal_name,
            "scope": self.block.get_scope_display(),
        }

    def act(self, form: forms.Form) -> str:
        services.lift_block(
            actor=_user(self.request), block=self.block, note=form.cleaned_data["note"]
        )
        messages.success(
            self.request,
            _("The block was lifted: %(scope)s.") % {"scope": self.block.get_scope_display()},
        )
        return self.back()[0]


# --- documents --------------------------------------------------------------------------------


@method_decorator(READS, name="dispatch")
class CustomerDocumentDownload(View):
    """A letter sent to a customer (order confirmation, cancellation confirmation, notices),
    exactly as it was sent."""

    def get(self, request: HttpRequest, pk: int, reference: str) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=pk)
        document = selectors.document_of(customer, reference).document
        response = HttpResponse(document_bytes(document), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{download_name(document)}"'
        return response
