"""Advertising consent: the contact's page in the customer area, the one-click objection from a
mail (no sign-in), and the operator's form that mails only contacts who consented."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import (
    Capability,
    capability_required,
    customer_contact_required,
)
from treffpunkt.backoffice.listing import FormPage, ShellMixin
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area
from treffpunkt.customers import advertising
from treffpunkt.customers.models import AdvertisingConsent, CustomerContact


@method_decorator(customer_contact_required, name="dispatch")
class ConsentPage(ShellMixin, TemplateResponseMixin, View):
    template_name = "customers/advertising.html"
    area = Area.CUSTOMER
    shell_label = gettext_lazy("Customer area")
    title = gettext_lazy("Advice and offers by e-mail")

    def get(self, request: HttpRequest) -> HttpResponse:
        contact = CustomerContact.objects.filter(user=cast(User, request.user)).first()
        consent = advertising.standing_consent(contact) if contact else None
        return self.render_to_response(
            self.get_context_data(consent=consent, wording=advertising.wording())
        )

    def post(self, request: HttpRequest) -> HttpResponseBase:
        actor = cast(User, request.user)
        if request.POST.get("consent") == "yes":
            advertising.give_consent(actor=actor)
            messages.success(request, _("Thank you: your consent is recorded."))
        else:
            advertising.revoke_consent(actor=actor)
            messages.success(request, _("Your consent is revoked; you get no more offers."))
        return redirect("customer_area:customers:advertising")


def objection(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every advertising mail: ends the consent at once, no sign-in needed."""
    try:
        advertising.object_by_link(token)
    except DomainError as exc:
        return render(
            request, "customers/advertising_objection.html", {"error": str(exc.message)}, status=400
        )
    return render(request, "customers/advertising_objection.html", {"error": ""})


class AdvertisingForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    text = forms.CharField(
        label=gettext_lazy("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )


@method_decorator(capability_required(Capability.CUSTOMERS, write=True), name="dispatch")
class SendAdvertising(FormPage):
    form_class = AdvertisingForm
    part_of = "backoffice:customers:list"
    title = gettext_lazy("Send advice or an offer by e-mail")
    submit_text = gettext_lazy("Send to everyone who consented")

    def get_intro(self) -> Any:
        count = AdvertisingConsent.objects.filter(revoked_at__isnull=True).count()
        return _(
            "Only contacts who consented get it (now: %(count)s); every mail carries a link "
            "that ends the consent at once."
        ) % {"count": count}

    def back(self) -> tuple[str, str]:
        return reverse("backoffice:customers:list"), _("Back to the customers")

    def act(self, form: forms.Form) -> str:
        sent = advertising.send_advertising(
            actor=cast(User, self.request.user),
            subject=form.cleaned_data["subject"],
            text=form.cleaned_data["text"],
        )
        messages.success(self.request, _("Sent to %(count)s contacts.") % {"count": sent})
        return reverse("backoffice:customers:list")
