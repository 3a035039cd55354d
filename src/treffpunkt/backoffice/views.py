"""The start pages of the back office and of the business customer's area."""

from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import (
    Capability,
    back_office_required,
    capabilities_of,
    customer_contact_required,
)
from treffpunkt.backoffice.listing import ShellPage
from treffpunkt.core.registries import Area

# What each capability lets its holder do, in the words of the people who hold it.
CAPABILITY_DESCRIPTIONS: dict[Capability, Promise] = {
    Capability.CUSTOMERS: _(
        "Look after business customers: their details, contacts, orders, contracts and notices."
    ),
    Capability.BILLING: _(
        "Issue invoices and credit notes, record payments, send reminders and handle objections."
    ),
    Capability.SUPPORT: _("Take and work on fault tickets within the agreed service hours."),
    Capability.AVAILABILITY: _(
        "Watch the checks and incidents, and prepare the availability reports for customers."
    ),
    Capability.AUDITOR: _(
        "Read everything in the back office, including the audit log and the mail outbox. "
        "You cannot change anything."
    ),
    Capability.PLATFORM: _(
        "Read the audit log and the mail outbox, and look after organizations and accounts in "
        "the administration."
    ),
}


@method_decorator(back_office_required, name="dispatch")
class HomePage(ShellPage):
    template_name = "backoffice/home.html"
    title = _("Back office")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["capabilities"] = [
            (capability.label, CAPABILITY_DESCRIPTIONS[capability])
            for capability in capabilities_of(self.request.user)
        ]
        # Where to go from here: every entry of the navigation but this page.
        destinations = []
        for section in context["shell_nav"]:
            links = [link for link in section.links if link.current != "page"]
            if links:
                destinations.append((section.label, links))
        context["destinations"] = destinations
        return context


@method_decorator(customer_contact_required, name="dispatch")
class CustomerHomePage(ShellPage):
    area = Area.CUSTOMER
    shell_label = _("Customer area")
    template_name = "backoffice/customer_home.html"
    title = _("Customer area")
