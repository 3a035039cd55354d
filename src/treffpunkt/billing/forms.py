"""The back office's billing forms. They only collect what was typed: the rules (a credit note
never exceeds its invoice, one invoice per contract and month, …) are checked by
``billing.services``, whose refusals the views show with the form. Each form has its own
prefix, so that several on one page never share an element id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from treffpunkt.billing.models import UnitCode
from treffpunkt.contracts.models import Contract
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import VatKind, parse_money


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m")


class SendForm(forms.Form):
    """By e-mail to every contact of the customer (the default), or recorded as posted."""

    EMAIL = "email"
    POST = "post"

    way = forms.ChoiceField(
        label=_("How"),
        choices=[
            (EMAIL, _("By e-mail to every contact of the customer")),
            (POST, _("Printed and posted as a letter")),
        ],
        initial=EMAIL,
        widget=forms.RadioSelect,
    )
    posted_on = forms.DateField(
        label=_("Posted on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only for a letter: the day it went into the post."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "send")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("way") == self.POST and not data.get("posted_on"):
            self.add_error("posted_on", _("Say on which day the letter was posted."))
        return data


class CreditNoteForm(forms.Form):
    """One line that credits (part of) an invoice, and why."""

    description = forms.CharField(label=_("Description"), max_length=300)
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.0001"), max_digits=15, decimal_places=4
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=UnitCode.choices, initial=UnitCode.PIECE)
    unit_price = forms.CharField(
        label=_("Unit price (net, EUR)"),
        max_length=30,
        help_text=_(
            "Up to four decimals, for example 49.00. VAT is added at the rate chosen below."
        ),
    )
    vat_kind = forms.ChoiceField(label=_("VAT"), choices=VatKind.choices, initial=VatKind.STANDARD)
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the credit note."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "credit")
        super().__init__(*args, **kwargs)

    def clean_unit_price(self) -> Decimal:
        try:
            return parse_money(self.cleaned_data["unit_price"], places=4)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc


class ContractMonthForm(forms.Form):
    """The month to invoice a known contract for."""

    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(),
        help_text=_("The monthly fee of that month, and the extra minutes of the month before."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "issue")
        kwargs.setdefault("initial", {"month": clock.operator_today().replace(day=1)})
        super().__init__(*args, **kwargs)

    def chosen_month(self) -> date:
        day: date = self.cleaned_data["month"]
        return day.replace(day=1)


class IssueForm(ContractMonthForm):
    """A contract by its number and the month to invoice it for (the list page's form)."""

    contract = forms.CharField(
        label=_("Contract number"),
        max_length=20,
        help_text=_("The first invoice of a waiting contract switches its service on."),
    )

    field_order = ["contract", "month"]

    def clean_contract(self) -> Contract:
        number = self.cleaned_data["contract"].strip()
        contract = (
            Contract.objects.select_related("customer", "product").filter(number=number).first()
        )
        if contract is None:
            raise forms.ValidationError(_("There is no contract with this number."))
        return contract
