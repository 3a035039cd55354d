"""The customer area's forms: cancelling a contract, ordering. Each has its own prefix, so that
two forms on one page (and the footer's language form) never share an element id."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from treffpunkt.contracts.models import Product
from treffpunkt.contracts.services.orders import MAX_QUANTITY

CANCEL_PREFIX = "cancel"
CONSENT_PREFIX = "consent"
ORDER_PREFIX = "order"


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("You do not have to give a reason. It helps us to improve."),
    )
    confirm = forms.BooleanField(
        label=_("Yes, I cancel this contract with effect from the date stated above."),
        error_messages={"required": _("Please confirm that you want to cancel the contract.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", CANCEL_PREFIX)
        super().__init__(*args, **kwargs)


class OrderForm(forms.Form):
    """One quantity field per orderable product (``quantity_<pk>``), the requested start, a
    note and the form's one-time ``submission_key``: a second submission of the same form
    finds the first order instead of recording another."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    requested_start = forms.DateField(
        label=_("Requested start (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to start as soon as possible."),
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, products: Iterable[Product], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", ORDER_PREFIX)
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("submission_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.products = list(products)
        quantity_fields = {
            self.quantity_name(product): forms.IntegerField(
                label=_("Quantity of %(product)s") % {"product": product.name},
                required=False,
                min_value=0,
                max_value=MAX_QUANTITY,
                initial=0,
                widget=forms.NumberInput(attrs={"min": 0, "max": MAX_QUANTITY, "step": 1}),
            )
            for product in self.products
        }
        # The quantities first, in the catalogue's order.
        self.fields = {**quantity_fields, **self.fields}

    @staticmethod
    def quantity_name(product: Product) -> str:
        return f"quantity_{product.pk}"

    def quantity_field(self, product: Product) -> forms.BoundField:
        return self[self.quantity_name(product)]

    def chosen(self) -> list[tuple[Product, int]]:
        """The products with a quantity above zero (after ``is_valid``)."""
        return [
            (product, quantity)
            for product in self.products
            if (quantity := self.cleaned_data.get(self.quantity_name(product)) or 0) > 0
        ]
