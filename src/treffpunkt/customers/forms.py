"""The back office's forms for customers. They only collect what was typed: the rules (who
is a business customer, the VAT ID, the Leitweg-ID) are checked by ``customers.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from treffpunkt.customers.models import CustomerKind

FIELD_IDS = "customer-%s"


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of customer"), choices=CustomerKind.choices)
    is_business = forms.BooleanField(
        label=_(
            "The customer is a company or a public body and orders for its business, "
            "not as a private person"
        ),
        required=False,
    )
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    legal_form = forms.CharField(
        label=_("Legal form"),
        max_length=100,
        required=False,
        help_text=_("For example GmbH, AG, e.K. Required for companies."),
    )
    vat_id = forms.CharField(
        label=_("VAT ID"),
        max_length=30,
        required=False,
        help_text=_("With the country code, for example DE123456789. Required for companies."),
    )
    leitweg_id = forms.CharField(
        label=_("Leitweg-ID"),
        max_length=60,
        required=False,
        help_text=_(
            "The address for e-invoices, for example 04011000-1234512345-06. "
            "Required for public bodies."
        ),
    )
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        initial="DE",
        help_text=_("Two-letter code, for example DE."),
    )
    billing_name = forms.CharField(
        label=_("Billing recipient"),
        max_length=200,
        required=False,
        help_text=_("Only if invoices go to another department or address."),
    )
    billing_street = forms.CharField(
        label=_("Billing street and number"), max_length=200, required=False
    )
    billing_postal_code = forms.CharField(
        label=_("Billing postal code"), max_length=20, required=False
    )
    billing_city = forms.CharField(label=_("Billing city"), max_length=100, required=False)
    billing_country = forms.CharField(label=_("Billing country"), max_length=2, required=False)
    contact_name = forms.CharField(label=_("Contact's name"), max_length=200)
    contact_function = forms.CharField(
        label=_("Contact's function"),
        max_length=100,
        required=False,
        help_text=_("For example managing director or accounts department."),
    )
    contact_email = forms.EmailField(
        label=_("Contact's e-mail address"),
        help_text=_(
            "The contact gets an account for the customer area and a mail with a link to "
            "choose a password. Only the operator's staff see this address."
        ),
    )
    contact_phone = forms.CharField(label=_("Contact's phone"), max_length=50, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", FIELD_IDS)
        super().__init__(*args, **kwargs)


class OpenOrganizationForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the organization"),
        max_length=200,
        help_text=_("As its members will see it, for example Gesundheitskasse Nord."),
    )
    admin_name = forms.CharField(label=_("Name of its first administrator"), max_length=80)
    admin_email = forms.EmailField(
        label=_("E-mail address of its first administrator"),
        help_text=_("They get an invitation with a link to choose a password."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "organization-%s")
        super().__init__(*args, **kwargs)
