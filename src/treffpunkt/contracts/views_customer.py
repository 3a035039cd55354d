"""The contracts' pages in the customer area (mounted at /kunde/): a business customer's
contact sees their own customer's contracts, orders and documents, cancels a contract, consents
to a telephony renewal and orders. Anything of another customer does not exist for them (404).

Every change goes through ``contracts.services``; a refusal (``DomainError``) shows the page
again with its message (status 400) and nothing written; a success redirects with a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import customer_contact_required
from treffpunkt.backoffice.listing import ShellMixin
from treffpunkt.contracts import deadlines, selectors, services
from treffpunkt.contracts.forms_customer import CancelForm, OrderForm
from treffpunkt.contracts.models import (
    Contract,
    ContractState,
    Order,
    Price,
    Product,
    ProductKind,
)
from treffpunkt.contracts.services._common import today
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area
from treffpunkt.customers.models import Customer
from treffpunkt.customers.selectors import own_customer
from treffpunkt.documents.selectors import document_bytes, download_name

LIST = "customer_area:contracts:list"
ORDER = "customer_area:contracts:order"
DOCUMENTS = "customer_area:contracts:documents"
ASKING = (ContractState.ACTIVE, ContractState.WAITING)


def _user(request: HttpRequest) -> User:
    # ``customer_contact_required`` has let only signed-in customer contacts through.
    return cast(User, request.user)


def long_date(day: date) -> str:
    return str(formats.date_format(day, "DATE_FORMAT"))


def contract_url(contract: Contract) -> str:
    return reverse("customer_area:contracts:contract", args=[contract.pk])


# --- what a contract's dates mean, in plain words -----------------------------------------------


@dataclass(frozen=True)
class CancelPreview:
    """When an ordinary cancellation sent today would take effect."""

    effective_on: date
    late: bool
    text: str


def cancel_preview(contract: Contract, on: date) -> CancelPreview:
    """The same reckoning as the service (§ 22 (I) video, § 20 (I) telephony), told before
    the contact submits."""
    if contract.kind == ProductKind.TELEPHONY:
        effective = contract.term_end
        if contract.consent_given_on is not None:
            effective = deadlines.renewed_term(effective).end
    else:
        effective = deadlines.late_cancellation_effective(on, contract.term_end)
    late = effective != contract.term_end
    if late and contract.kind == ProductKind.VIDEO:
        text = _(
            "The notice deadline for the end of the current term on %(term_end)s has passed "
            "(three months before). If you cancel today, the cancellation takes effect at the "
            "end of the following term: the contract ends on %(day)s."
        ) % {"term_end": long_date(contract.term_end), "day": long_date(effective)}
    elif late:
        text = _(
            "You have already consented to a renewal. If you cancel today, the contract ends "
            "at the end of the renewed term, on %(day)s."
        ) % {"day": long_date(effective)}
    else:
        text = _("If you cancel today, the contract ends on %(day)s.") % {
            "day": long_date(effective)
        }
    return CancelPreview(effective, late, text)


def deadline_text(contract: Contract, on: date) -> str:
    """The contract's next notice deadline (or how it ends), in one or two sentences."""
    if contract.state == ContractState.ENDED:
        return _("Ended on %(day)s.") % {"day": long_date(contract.ends_on or contract.term_end)}
    if contract.state == ContractState.ENDING and contract.ends_on is not None:
        return _("Ends on %(day)s.") % {"day": long_date(contract.ends_on)}
    if contract.kind == ProductKind.TELEPHONY:
        if contract.consent_given_on is not None:
            return _("You consented to a renewal on %(given)s: it renews until %(next_end)s.") % {
                "given": long_date(contract.consent_given_on),
                "next_end": long_date(deadlines.renewed_term(contract.term_end).end),
            }
        return _("Ends on %(term_end)s unless you consent to a renewal.") % {
            "term_end": long_date(contract.term_end)
        }
    next_end = deadlines.renewed_term(contract.term_end).end
    notice = contract.notice_deadline or deadlines.latest_notice_day(contract.term_end)
    if on <= notice:
        return _(
            "Cancel by %(notice)s to end it on %(term_end)s; otherwise it renews until "
            "%(next_end)s."
        ) % {
            "notice": long_date(notice),
            "term_end": long_date(contract.term_end),
            "next_end": long_date(next_end),
        }
    return _(
        "The notice deadline for %(term_end)s has passed: it renews until %(next_end)s. Cancel "
        "by %(next_notice)s to end it then."
    ) % {
        "term_end": long_date(contract.term_end),
        "next_end": long_date(next_end),
        "next_notice": long_date(deadlines.latest_notice_day(next_end)),
    }


def consent_text(contract: Contract) -> str:
    """Telephony: where the consent to a renewal stands."""
    if contract.consent_given_on is not None:
        return _("Consent given on %(day)s.") % {"day": long_date(contract.consent_given_on)}
    if contract.state not in ASKING:
        return _("No consent.")
    if contract.consent_requested_on is not None:
        return _("Consent requested on %(day)s; not given yet.") % {
            "day": long_date(contract.consent_requested_on)
        }
    return _("Not given yet.")


def may_cancel(contract: Contract) -> bool:
    return contract.state in ASKING


def may_consent(contract: Contract) -> bool:
    return (
        contract.kind == ProductKind.TELEPHONY
        and contract.state in ASKING
        and contract.consent_given_on is None
    )


@dataclass(frozen=True)
class ContractRow:
    contract: Contract
    deadline: str
    consent: str


def contract_row(contract: Contract, on: date) -> ContractRow:
    consent = consent_text(contract) if contract.kind == ProductKind.TELEPHONY else ""
    return ContractRow(contract, deadline_text(contract, on), consent)


# --- the pages -----------------------------------------------------------------------------------


@method_decorator(customer_contact_required, name="dispatch")
class _CustomerPage(ShellMixin, TemplateResponseMixin, View):
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    customer: Customer

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.customer = own_customer(request.user)
        self.prepare(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def prepare(self, **kwargs: Any) -> None:
        """Find what the page is about (after the access check; 404 if not the customer's)."""

    def page(self, status: int = 200, **context: Any) -> HttpResponse:
        context.setdefault("customer", self.customer)
        context.setdefault("blocks", selectors.active_blocks(self.customer))
        response = self.render_to_response(self.get_context_data(**context))
        response.status_code = status
        return response


class CustomerContracts(_CustomerPage):
    template_name = "contracts/customer/contracts.html"
    title = gettext_lazy("Contracts")

    def get(self, request: HttpRequest) -> HttpResponse:
        on = today()
        rows = [contract_row(c, on) for c in selectors.contracts_of(self.customer)]
        return self.page(rows=rows)


class _ContractPage(_CustomerPage):
    """The contract's page; the cancel and consent views show it again on a refusal."""

    template_name = "contracts/customer/contract_detail.html"
    part_of = LIST
    contract: Contract

    def prepare(self, **kwargs: Any) -> None:
        self.contract = selectors.contract_of(self.customer, kwargs["pk"])

    def get_title(self) -> str:
        return _("Contract %(number)s: %(product)s") % {
            "number": self.contract.number,
            "product": self.contract.product.name,
        }

    def contract_page(
        self, *, cancel_form: CancelForm | None = None, error: str = "", status: int = 200
    ) -> HttpResponse:
        contract = self.contract
        on = today()
        return self.page(
            status,
            contract=contract,
            row=contract_row(contract, on),
            events=selectors.timeline(contract),
            may_cancel=may_cancel(contract),
            may_consent=may_consent(contract),
            preview=cancel_preview(contract, on) if may_cancel(contract) else None,
            cancel_form=cancel_form or CancelForm(),
            error=error,
            back_url=reverse(LIST),
        )


class CustomerContractDetail(_ContractPage):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.contract_page()


@method_decorator(require_POST, name="dispatch")
class CustomerCancel(_ContractPage):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = CancelForm(request.POST)
        if not form.is_valid():
            return self.contract_page(cancel_form=form, status=400)
        try:
            cancellation = services.cancel_in_customer_area(
                actor=_user(request), contract=self.contract, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            return self.contract_page(cancel_form=form, error=str(exc.message), status=400)
        text = _("Your cancellation was received. The contract ends on %(day)s.") % {
            "day": long_date(cancellation.effective_on)
        }
        if cancellation.late:
            text += " " + _(
                "It reached us after the notice deadline for the end of the current term, so "
                "it takes effect at the end of the following term."
            )
        text += " " + _(
            "We have sent you a confirmation letter by e-mail; you also find it under Documents."
        )
        messages.success(request, text)
        return redirect(contract_url(self.contract))


@method_decorator(require_POST, name="dispatch")
class CustomerConsent(_ContractPage):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            contract = services.give_consent_in_customer_area(
                actor=_user(request), contract=self.contract
            )
        except DomainError as exc:
            return self.contract_page(error=str(exc.message), status=400)
        messages.success(
            request,
            _("Thank you: your consent was recorded. The contract renews until %(day)s.")
            % {"day": long_date(deadlines.renewed_term(contract.term_end).end)},
        )
        return redirect(contract_url(self.contract))


# --- ordering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    product: Product
    price: Price


def offers(on: date) -> list[Offer]:
    """What can be ordered today, with today's price (a product without one is left out)."""
    found = []
    for product in Product.objects.filter(orderable=True).order_by("kind", "name"):
        price = services.price_on(product, on)
        if price is not None:
            found.append(Offer(product, price))
    return found


class CustomerOrderPage(_CustomerPage):
    template_name = "contracts/customer/order.html"
    title = gettext_lazy("Order")

    def _page(self, form: OrderForm, *, error: str = "", status: int = 200) -> HttpResponse:
        orders = selectors.orders_of(self.customer)
        rows = [
            {"offer": offer, "field": form.quantity_field(offer.product)} for offer in self.offers
        ]
        return self.page(status, form=form, rows=rows, error=error, orders=orders)

    def setup_offers(self) -> None:
        self.offers = offers(today())

    def get(self, request: HttpRequest) -> HttpResponse:
        self.setup_offers()
        return self._page(OrderForm(products=[offer.product for offer in self.offers]))

    def post(self, request: HttpRequest) -> HttpResponse:
        self.setup_offers()
        form = OrderForm(request.POST, products=[offer.product for offer in self.offers])
        if not form.is_valid():
            return self._page(form, status=400)
        data = form.cleaned_data
        try:
            order = services.place_order(
                actor=_user(request),
                customer=self.customer,
                items=[
                    services.OrderItem(product=product, quantity=quantity)
                    for product, quantity in form.chosen()
                ],
                submission_key=data["submission_key"],
                requested_start=data["requested_start"],
                note=data["note"],
            )
        except DomainError as exc:
            return self._page(form, error=str(exc.message), status=400)
        messages.success(request, order_received_text(order))
        return redirect(reverse(ORDER))


def order_received_text(order: Order) -> str:
    return _(
        "Thank you: we received your order %(number)s. We accept or decline it by %(day)s. "
        "You get our answer by e-mail; it is also listed under Documents."
    ) % {"number": order.number, "day": long_date(order.accept_by)}


# --- documents ---------------------------------------------------------------------------------


class CustomerDocuments(_CustomerPage):
    template_name = "contracts/customer/documents.html"
    title = gettext_lazy("Documents")

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(documents=selectors.documents_of(self.customer))


@method_decorator(customer_contact_required, name="dispatch")
class CustomerDocumentDownload(View):
    """The PDF exactly as created, as a download; only the contact's own customer's."""

    def get(self, request: HttpRequest, reference: Any) -> HttpResponse:
        customer = own_customer(request.user)
        document = selectors.document_of(customer, str(reference)).document
        response = HttpResponse(document_bytes(document), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=download_name(document)
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
