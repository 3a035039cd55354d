"""The back office's forms for the catalogue, orders and contracts. They only collect what was
typed: the rules of the terms are checked by ``contracts.services``, whose refusals the views
attach to the field they name. Each form has its own prefix, so that several on one page never
share an element id."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    BlockReason,
    BlockScope,
    CancellationKind,
    ChangeClass,
    ChangeSubject,
    Channel,
    Product,
    ProductKind,
)
from treffpunkt.contracts.services._common import today
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import VatKind, parse_money
from treffpunkt.customers.models import Customer

# The ways a declaration reaches the operator's staff; the customer area records its own.
OFFICE_CHANNELS = [
    (Channel.LETTER.value, Channel.LETTER.label),
    (Channel.FAX.value, Channel.FAX.label),
    (Channel.EMAIL.value, Channel.EMAIL.label),
]
ORDER_LINES = 5


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, help_text=help_text, widget=DateInput())


def _checked_amount(value: str, *, places: int = 2) -> str:
    """The typed amount unchanged, once it reads as one (the service parses it again): the
    refusal then stands at the field instead of above the form."""
    if value.strip():
        try:
            parse_money(value, places=places)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc
    return value


class PriceFields(forms.Form):
    """A price as typed: amounts are text in euros, net."""

    vat_kind = forms.ChoiceField(label=_("VAT"), choices=VatKind.choices, initial=VatKind.STANDARD)
    monthly_fee = forms.CharField(
        label=_("Monthly fee (net, EUR)"),
        max_length=30,
        required=False,
        help_text=_("Services only, for example 49.00."),
    )
    included_minutes = forms.IntegerField(
        label=_("Minutes included per month"), min_value=0, required=False
    )
    per_minute = forms.CharField(
        label=_("Price per further minute (net, EUR)"),
        max_length=30,
        required=False,
        help_text=_("Up to four decimals, for example 0.0190. Together with the minutes."),
    )
    unit_price = forms.CharField(
        label=_("Unit price (net, EUR)"),
        max_length=30,
        required=False,
        help_text=_("Hardware only: ex warehouse including packaging."),
    )

    def clean_monthly_fee(self) -> str:
        return _checked_amount(self.cleaned_data["monthly_fee"])

    def clean_per_minute(self) -> str:
        return _checked_amount(self.cleaned_data["per_minute"], places=4)

    def clean_unit_price(self) -> str:
        return _checked_amount(self.cleaned_data["unit_price"])


class ProductForm(PriceFields):
    code = forms.SlugField(
        label=_("Product code"),
        max_length=40,
        help_text=_("Letters, digits and hyphens, for example video-basic."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    valid_from = date_field(_("First price valid from"))

    field_order = ["code", "kind", "name", "description", "valid_from"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "product")
        kwargs.setdefault("initial", {"valid_from": today()})
        super().__init__(*args, **kwargs)


class PriceForm(PriceFields):
    valid_from = date_field(
        _("Valid from"), help_text=_("Today at the earliest: invoices already written stay.")
    )

    field_order = ["valid_from"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "price")
        kwargs.setdefault("initial", {"valid_from": today()})
        super().__init__(*args, **kwargs)


class OrderForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.order_by("legal_name")
    )
    channel = forms.ChoiceField(label=_("Received by"), choices=OFFICE_CHANNELS)
    received_on = date_field(_("Received on"))
    requested_start = date_field(_("Requested start"), required=False)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea, required=False)
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "order")
        kwargs.setdefault("initial", {"received_on": today(), "submission_key": uuid.uuid4()})
        super().__init__(*args, **kwargs)
        products = Product.objects.filter(orderable=True).order_by("kind", "name")
        for number in range(1, ORDER_LINES + 1):
            self.fields[f"product_{number}"] = forms.ModelChoiceField(
                label=_("Product, line %(number)s") % {"number": number},
                queryset=products,
                required=number == 1,
            )
            self.fields[f"quantity_{number}"] = forms.IntegerField(
                label=_("Quantity, line %(number)s") % {"number": number},
                min_value=1,
                max_value=1000,
                required=False,
            )
        # The key last: a hidden field does not change the order of the visible ones.
        self.order_fields(
            ["customer", "channel", "received_on", "requested_start"]
            + [f"{kind}_{n}" for n in range(1, ORDER_LINES + 1) for kind in ("product", "quantity")]
            + ["note"]
        )

    def lines(self) -> list[tuple[Product, int]]:
        found = []
        for number in range(1, ORDER_LINES + 1):
            product = self.cleaned_data.get(f"product_{number}")
            if product is not None:
                found.append((product, self.cleaned_data.get(f"quantity_{number}") or 1))
        return found


class AcceptForm(forms.Form):
    start = date_field(_("Contract start"))
    delivery_date = date_field(
        _("Delivery date of the hardware"),
        required=False,
        help_text=_("Required when the order includes hardware."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "accept")
        super().__init__(*args, **kwargs)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea,
        help_text=_("The customer reads it in the letter that declines the order."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)


class CancellationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of cancellation"), choices=CancellationKind.choices)
    received_on = date_field(_("Received on"))
    channel = forms.ChoiceField(label=_("Received by"), choices=OFFICE_CHANNELS)
    sender = forms.CharField(label=_("Sent by"), max_length=200)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea,
        required=False,
        help_text=_("Required for a cancellation for good cause."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "cancellation")
        kwargs.setdefault("initial", {"received_on": today()})
        super().__init__(*args, **kwargs)


class ConsentForm(forms.Form):
    received_on = date_field(_("Received on"))
    channel = forms.ChoiceField(label=_("Received by"), choices=OFFICE_CHANNELS)
    sender = forms.CharField(label=_("Given by"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "consent")
        kwargs.setdefault("initial", {"received_on": today()})
        super().__init__(*args, **kwargs)


def change_window_help(received: date) -> str:
    window = deadlines.change_notice_window(received)
    return str(
        _(
            "A notice that reaches the customer today may take effect from %(earliest)s to "
            "%(latest)s (at least one month, at most two months later, § 11 (IV) of the terms)."
        )
        % {
            "earliest": formats.date_format(window.earliest, "SHORT_DATE_FORMAT"),
            "latest": formats.date_format(window.latest, "SHORT_DATE_FORMAT"),
        }
    )


class ChangeForm(forms.Form):
    subject = forms.ChoiceField(label=_("What changes"), choices=ChangeSubject.choices)
    classification = forms.ChoiceField(label=_("Kind of change"), choices=ChangeClass.choices)
    description = forms.CharField(
        label=_("The change"),
        widget=forms.Textarea,
        help_text=_("As the customer reads it in the letter."),
    )
    received_on = date_field(_("Reaches the customer on"))
    effective_on = date_field(_("Takes effect on"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "change")
        kwargs.setdefault("initial", {"received_on": today()})
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].help_text = change_window_help(today())


class TransferForm(forms.Form):
    transferee = forms.CharField(label=_("New contract partner"), max_length=200)
    received_on = date_field(_("Announcement reaches the customer on"))
    effective_on = date_field(
        _("Takes effect on"),
        help_text=_("At least six weeks after the announcement reaches the customer."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "transfer")
        kwargs.setdefault("initial", {"received_on": today()})
        super().__init__(*args, **kwargs)


class ObjectionForm(forms.Form):
    received_on = date_field(_("Objection received on"))
    channel = forms.ChoiceField(label=_("Received by"), choices=OFFICE_CHANNELS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_on": today()})
        super().__init__(*args, **kwargs)


class BlockForm(forms.Form):
    scope = forms.ChoiceField(label=_("What is blocked"), choices=BlockScope.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=BlockReason.choices)
    explanation = forms.CharField(
        label=_("Explanation"),
        widget=forms.Textarea,
        help_text=_("The customer is told it in a letter."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "block")
        super().__init__(*args, **kwargs)


class LiftBlockForm(forms.Form):
    note = forms.CharField(label=_("Note on lifting"), widget=forms.Textarea, required=False)
