"""What billing brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import Capability, may_read
from treffpunkt.core.registries import Area, AuditCode, NavEntry, registry
from treffpunkt.core.scheduler import Monthly, PeriodicJob


def _reads_billing(user: Any) -> bool:
    return may_read(user, Capability.BILLING)


def _contact_of_a_customer(user: Any) -> bool:
    from treffpunkt.customers.selectors import customer_of_contact

    return customer_of_contact(user) is not None


NAVIGATION = (
    NavEntry(
        "billing.invoices",
        Area.BACKOFFICE,
        _("Invoices"),
        "backoffice:billing:invoices",
        _reads_billing,
        120,
    ),
    NavEntry(
        "billing.customer_invoices",
        Area.CUSTOMER,
        _("Invoices"),
        "customer_area:billing:invoices",
        _contact_of_a_customer,
        30,
    ),
)

AUDIT_CODES = (
    AuditCode("billing.invoice.issued", _("%(actor)s issued the invoice %(target)s.")),
    AuditCode("billing.credit_note.issued", _("%(actor)s issued the credit note %(target)s.")),
    AuditCode("billing.invoice.sent", _("The invoice %(target)s was sent.")),
    AuditCode("billing.run.finished", _("The monthly billing run finished.")),
    AuditCode("billing.statement.imported", _("%(actor)s imported the bank statement %(target)s.")),
    AuditCode(
        "billing.payment.allocated",
        _("%(actor)s allocated a payment to the invoice %(target)s by hand."),
    ),
)


def register() -> None:
    from treffpunkt.billing.tasks import run_billing_task

    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_periodic_jobs(
        PeriodicJob(
            name="billing.run_billing",
            task=run_billing_task,
            when=Monthly(settings.BILLING_RUN_DAY, time(4, 0), "Europe/Berlin"),
            description="Invoice every live contract for the month, send the invoices.",
        ),
    )
