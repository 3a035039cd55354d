"""Hardware deliveries (P-BILL-4): in the back office the list of deliveries with their planned
and actual dates, delays, invoice, retention of title and warranty per item, a delivery's page
with the forms to postpone it and to record it as delivered (which invoices it), and planning
an accepted order's deliveries; in the customer area a contact's own hardware with the same
facts.

Reading needs ``Capability.BILLING`` or the auditor's; every change needs the capability itself
and goes through ``billing.services.hardware``. A refused change shows the form again with the
service's message (status 400) and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.permissions import customer_contact_required
from treffpunkt.backoffice.listing import Column, DetailPage, Fact, ListPage, ShellMixin
from treffpunkt.billing.models import HardwareDelivery
from treffpunkt.billing.services import hardware
from treffpunkt.billing.views_backoffice import (
    READS,
    WRITES,
    FormPage,
    LinkFact,
    _may_write,
    _user,
    customer_label,
    invoice_url,
    money_text,
)
from treffpunkt.contracts.models import Order
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import parse_money
from treffpunkt.core.registries import Area
from treffpunkt.customers.selectors import own_customer

HARDWARE = "backoffice:billing:hardware"


def delivery_url(delivery: HardwareDelivery) -> str:
    return reverse("backoffice:billing:hardware_delivery", args=[delivery.pk])


def deliveries() -> models.QuerySet[HardwareDelivery]:
    return HardwareDelivery.objects.select_related(
        "order_line__order__customer", "order_line__product", "invoice"
    )


def item_text(delivery: HardwareDelivery) -> str:
    return f"{delivery.order_line.quantity} × {delivery.order_line.product.name}"


def shown_day(day: date | None) -> str:
    return Fact("", day).text


def delay_texts(delivery: HardwareDelivery) -> list[str]:
    """Each delay as told: from which date to which, on what day, and why."""
    texts = []
    for delay in delivery.delays:
        text = _("%(old)s → %(new)s, told on %(told)s") % {
            "old": shown_day(date.fromisoformat(delay["from"])),
            "new": shown_day(date.fromisoformat(delay["to"])),
            "told": shown_day(date.fromisoformat(delay["told_on"])),
        }
        if delay.get("reason"):
            text += f" ({delay['reason']})"
        texts.append(text)
    return texts


@dataclass(frozen=True)
class Standing:
    """What a reader is told about one item: retention of title and warranty."""

    retention: str
    warranty: str


def standing(delivery: HardwareDelivery, retained: bool, *, today: date) -> Standing:
    if delivery.delivered_on is None:
        return Standing(_("not delivered yet"), "–")
    retention = _("yes, until paid") if retained else _("no, paid in full")
    until = hardware.warranty_until(delivery)
    if hardware.is_warranty_case(delivery, today):
        warranty = _("until %(day)s") % {"day": shown_day(until)}
    else:
        warranty = _("ended on %(day)s") % {"day": shown_day(until)}
    return Standing(retention, warranty)


def standings(rows: list[HardwareDelivery]) -> dict[int, Standing]:
    """The standing of each delivery, with one look at the open amounts for all of them."""
    retained = hardware.retention_by_order({d.order_line.order_id for d in rows})
    today = clock.operator_today()
    return {
        d.pk: standing(d, retained.get(d.order_line.order_id, False), today=today) for d in rows
    }


# --- the back office's list -------------------------------------------------------------------


@method_decorator(READS, name="dispatch")
class HardwareList(ListPage[HardwareDelivery]):
    template_name = "billing/hardware/list.html"
    title = gettext_lazy("Hardware deliveries")
    caption = gettext_lazy("Hardware of accepted orders, by delivery date")
    empty_text = gettext_lazy("No hardware deliveries yet.")
    default_sort = "planned"
    csv_filename = "hardware-lieferungen"
    # The standing of the rows shown, read once per page (``table``).
    _standings: dict[int, Standing]

    def get_queryset(self) -> models.QuerySet[HardwareDelivery]:
        return deliveries()

    def _standing(self, delivery: HardwareDelivery) -> Standing:
        cached: dict[int, Standing] = getattr(self, "_standings", {})
        if delivery.pk not in cached:
            cached.update(standings([delivery]))
            self._standings = cached
        return cached[delivery.pk]

    @property
    def columns(self) -> tuple[Column[HardwareDelivery], ...]:  # type: ignore[override]
        return (
            Column(
                gettext_lazy("Order"),
                lambda d: d.order_line.order.number,
                "order",
                ("order_line__order__number",),
                href=delivery_url,
            ),
            Column(gettext_lazy("Customer"), lambda d: customer_label(d.order_line.order.customer)),
            Column(gettext_lazy("Item"), item_text),
            Column(gettext_lazy("Planned for"), lambda d: d.planned_on, "planned", ("planned_on",)),
            Column(
                gettext_lazy("Delivered on"),
                lambda d: d.delivered_on,
                "delivered",
                ("delivered_on",),
            ),
            Column(gettext_lazy("Delays"), lambda d: len(d.delays)),
            Column(gettext_lazy("Invoice"), lambda d: d.invoice.number if d.invoice else None),
            Column(gettext_lazy("Retention of title"), lambda d: self._standing(d).retention),
            Column(gettext_lazy("Warranty"), lambda d: self._standing(d).warranty),
        )

    def table(self, request: HttpRequest, page: Any, column: Any, *, descending: bool) -> Any:
        self._standings = standings(list(page.object_list))
        return super().table(request, page, column, descending=descending)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("plan_form", PlanForm() if _may_write(self.request) else None)
        return super().get_context_data(**kwargs)


# --- one delivery -----------------------------------------------------------------------------


class PostponeForm(forms.Form):
    new_date = forms.DateField(
        label=gettext_lazy("New delivery date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=hardware.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Told to the customer in the letter, with the new date."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "postpone")
        super().__init__(*args, **kwargs)


def _amount(form: forms.Form, name: str) -> Decimal | None:
    text = (form.cleaned_data.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_money(text)
    except DomainError as exc:
        raise forms.ValidationError({name: str(exc.message)}) from exc


class DeliveredForm(forms.Form):
    """The day of delivery and the costs charged at cost (net, VAT on top)."""

    delivered_on = forms.DateField(
        label=gettext_lazy("Delivered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    shipping = forms.CharField(
        label=gettext_lazy("Shipping at cost (net, EUR)"), max_length=30, required=False
    )
    customs = forms.CharField(
        label=gettext_lazy("Customs at cost (net, EUR)"), max_length=30, required=False
    )
    fee_description = forms.CharField(
        label=gettext_lazy("Other fee"), max_length=200, required=False
    )
    fee = forms.CharField(
        label=gettext_lazy("Other fee at cost (net, EUR)"),
        max_length=30,
        required=False,
        help_text=gettext_lazy(
            "The hardware is invoiced at the unit price in force on the day of the order."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "delivered")
        kwargs.setdefault("initial", {"delivered_on": clock.operator_today()})
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        costs = []
        for name, label in (("shipping", _("Shipping")), ("customs", _("Customs"))):
            amount = _amount(self, name)
            if amount is not None:
                costs.append(hardware.AtCost(label, amount))
        fee = _amount(self, "fee")
        description = (data.get("fee_description") or "").strip()
        if fee is not None and not description:
            raise forms.ValidationError({"fee_description": _("Say what the fee is for.")})
        if fee is not None:
            costs.append(hardware.AtCost(description, fee))
        data["at_cost"] = costs
        return data


@method_decorator(READS, name="dispatch")
class HardwareDetail(DetailPage[HardwareDelivery]):
    template_name = "billing/hardware/detail.html"
    list_url_name = HARDWARE
    back_text = gettext_lazy("Back to the hardware deliveries")

    def get_object(self) -> HardwareDelivery:
        return get_object_or_404(deliveries(), pk=self.kwargs["pk"])

    def get_record_title(self, delivery: HardwareDelivery) -> str:
        return _("Delivery of %(item)s (order %(order)s)") % {
            "item": item_text(delivery),
            "order": delivery.order_line.order.number,
        }

    def get_facts(self, delivery: HardwareDelivery) -> list[Fact]:
        order = delivery.order_line.order
        found = standings([delivery])[delivery.pk]
        facts: list[Fact] = [
            LinkFact(
                gettext_lazy("Customer"),
                customer_label(order.customer),
                href=reverse("backoffice:customers:detail", args=[order.customer_id]),
            ),
            LinkFact(
                gettext_lazy("Order"),
                order.number,
                href=reverse("backoffice:contracts:order", args=[order.pk]),
            ),
            Fact(gettext_lazy("Item"), item_text(delivery)),
            Fact(gettext_lazy("Planned for"), delivery.planned_on),
            Fact(gettext_lazy("Delivered on"), delivery.delivered_on),
            Fact(gettext_lazy("Delays told to the customer"), delay_texts(delivery)),
        ]
        if delivery.invoice is not None:
            facts.append(
                LinkFact(
                    gettext_lazy("Invoice"),
                    f"{delivery.invoice.number} ({money_text(delivery.invoice.gross_total)})",
                    href=invoice_url(delivery.invoice),
                )
            )
        else:
            facts.append(Fact(gettext_lazy("Invoice"), None))
        facts += [
            Fact(gettext_lazy("Retention of title"), found.retention),
            Fact(gettext_lazy("Warranty"), found.warranty),
        ]
        return facts

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        delivery: HardwareDelivery = context["object"]
        open_for_change = _may_write(self.request) and delivery.delivered_on is None
        context["delivery"] = delivery
        context["postpone_form"] = PostponeForm() if open_for_change else None
        context["delivered_form"] = DeliveredForm() if open_for_change else None
        return context


class _DeliveryAction(FormPage):
    part_of = HARDWARE
    delivery: HardwareDelivery

    def load(self, **kwargs: Any) -> None:
        self.delivery = get_object_or_404(deliveries(), pk=kwargs["pk"])

    def back(self) -> tuple[str, str]:
        return delivery_url(self.delivery), _("Back to the delivery")


@method_decorator(WRITES, name="dispatch")
class PostponeDelivery(_DeliveryAction):
    form_class = PostponeForm
    submit_text = gettext_lazy("Postpone and tell the customer")
    intro = gettext_lazy(
        "The customer gets a letter at once with the new date and the reason (§ 26 (III) of "
        "the terms)."
    )

    def get_title(self) -> str:
        return _("Postpone the delivery of %(item)s") % {"item": item_text(self.delivery)}

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        moved = hardware.postpone_delivery(
            actor=_user(self.request),
            delivery=self.delivery,
            new_date=data["new_date"],
            reason=data["reason"],
        )
        messages.success(
            self.request,
            _("The delivery now is planned for %(day)s; the customer was told.")
            % {"day": shown_day(moved.planned_on)},
        )
        return delivery_url(moved)


@method_decorator(WRITES, name="dispatch")
class MarkDelivered(_DeliveryAction):
    form_class = DeliveredForm
    submit_text = gettext_lazy("Record the delivery and invoice it")
    intro = gettext_lazy(
        "The invoice is issued at once: the unit price in force on the day of the order times "
        "the quantity, VAT on top, and the costs entered here at cost."
    )

    def get_title(self) -> str:
        return _("Deliver %(item)s") % {"item": item_text(self.delivery)}

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        done = hardware.mark_delivered(
            actor=_user(self.request),
            delivery=self.delivery,
            on=data["delivered_on"],
            at_cost=data["at_cost"],
        )
        assert done.invoice is not None  # noqa: S101  # mark_delivered links it
        messages.success(
            self.request,
            _("The delivery was recorded and invoice %(number)s issued; send it from its page.")
            % {"number": done.invoice.number},
        )
        return delivery_url(done)


class PlanForm(forms.Form):
    order = forms.CharField(
        label=gettext_lazy("Order number"),
        max_length=20,
        help_text=gettext_lazy(
            "An accepted order with hardware; its delivery date is the planned one."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "plan")
        super().__init__(*args, **kwargs)

    def clean_order(self) -> Order:
        number = self.cleaned_data["order"].strip()
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise forms.ValidationError(_("There is no order with this number."))
        return order


@method_decorator(WRITES, name="dispatch")
class PlanDeliveries(FormPage):
    form_class = PlanForm
    part_of = HARDWARE
    title = gettext_lazy("Plan an order's hardware deliveries")
    submit_text = gettext_lazy("Plan the deliveries")
    intro = gettext_lazy(
        "Each hardware line of the accepted order gets a delivery on the date of the order "
        "confirmation. The daily job does this too; an order is never planned twice."
    )

    def back(self) -> tuple[str, str]:
        return reverse(HARDWARE), _("Back to the hardware deliveries")

    def act(self, form: forms.Form) -> str:
        order = cast(Order, form.cleaned_data["order"])
        planned = hardware.plan_deliveries(actor=_user(self.request), order=order)
        messages.success(
            self.request,
            _("Order %(order)s has %(count)s hardware deliveries.")
            % {"order": order.number, "count": len(planned)},
        )
        return reverse(HARDWARE)


# --- the customer area ------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRow:
    order: str
    item: str
    planned_on: str
    delivered_on: str
    delays: list[str]
    invoice: str
    retention: str
    warranty: str


@method_decorator(customer_contact_required, name="dispatch")
class CustomerHardware(ShellMixin, TemplateResponseMixin, View):
    template_name = "billing/hardware/customer.html"
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    title = gettext_lazy("Hardware")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        customer = own_customer(request.user)
        rows = list(deliveries().filter(order_line__order__customer=customer))
        found = standings(rows)
        shown = [
            CustomerRow(
                order=d.order_line.order.number or "–",
                item=item_text(d),
                planned_on=shown_day(d.planned_on),
                delivered_on=shown_day(d.delivered_on),
                delays=delay_texts(d),
                invoice=d.invoice.number if d.invoice else "–",
                retention=found[d.pk].retention,
                warranty=found[d.pk].warranty,
            )
            for d in rows
        ]
        return self.render_to_response(self.get_context_data(customer=customer, rows=shown))
