"""What billing brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import Capability, may_read
from treffpunkt.core.registries import Area, AuditCode, DataRule, DemoLoader, NavEntry, registry
from treffpunkt.core.scheduler import Daily, Monthly, PeriodicJob


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

# Hardware deliveries (P-BILL-4).
HARDWARE_NAVIGATION = (
    NavEntry(
        "billing.hardware",
        Area.BACKOFFICE,
        _("Hardware deliveries"),
        "backoffice:billing:hardware",
        _reads_billing,
        125,
    ),
    NavEntry(
        "billing.customer_hardware",
        Area.CUSTOMER,
        _("Hardware"),
        "customer_area:billing:hardware",
        _contact_of_a_customer,
        35,
    ),
)
HARDWARE_AUDIT_CODES = (
    AuditCode("billing.hardware.planned", _("The delivery %(target)s was planned.")),
    AuditCode(
        "billing.hardware.postponed",
        _("%(actor)s postponed the delivery %(target)s and told the customer."),
    ),
    AuditCode(
        "billing.hardware.delivered",
        _("%(actor)s recorded the delivery %(target)s and invoiced it."),
    ),
)

AUDIT_CODES = (
    AuditCode("billing.invoice.issued", _("%(actor)s issued the invoice %(target)s.")),
    AuditCode("billing.credit_note.issued", _("%(actor)s issued the credit note %(target)s.")),
    AuditCode("billing.invoice.sent", _("The invoice %(target)s was sent.")),
    AuditCode("billing.invoice.posted", _("The invoice %(target)s was posted as a letter.")),
    AuditCode("billing.run.finished", _("The monthly billing run finished.")),
    AuditCode(
        "billing.call_traffic.anonymized",
        _("Call records no longer needed for billing were folded into the statistics."),
    ),
    AuditCode("billing.statement.imported", _("%(actor)s imported the bank statement %(target)s.")),
    AuditCode(
        "billing.payment.allocated",
        _("%(actor)s allocated a payment to the invoice %(target)s by hand."),
    ),
)


DATA_RULES = (
    DataRule(
        "billing.call_traffic",
        _("Call records: who, start, end, volume (P-CALL-7)"),
        _(
            "Kept until the start of the third month after the call, longer while the "
            "customer's objection is open, then folded into load statistics per organization "
            "and day without any person's id; calls of organizations that are billed to no "
            "customer at once."
        ),
        job="billing.anonymize_call_traffic",
        audit_code="billing.call_traffic.anonymized",
    ),
    DataRule(
        "billing.invoices",
        _("Invoices, credit notes and the bank entries booked against them"),
        _(
            "Kept ten years from the end of the year they were made in (§ 147 AO, § 257 HGB), "
            "then blocked from everyday access."
        ),
    ),
)


def register() -> None:
    registry.add_data_rules(*DATA_RULES)
    from treffpunkt.billing.tasks import anonymize_call_traffic_task

    registry.add_periodic_jobs(
        PeriodicJob(
            name="billing.anonymize_call_traffic",
            task=anonymize_call_traffic_task,
            when=Daily(time(3, 20), "Europe/Berlin"),
            description="Fold call records billing no longer needs into anonymous statistics.",
        ),
    )
    register_objections()
    register_dunning()
    register_payments()
    register_approval()
    from treffpunkt.billing.tasks import run_billing_task

    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_nav(*HARDWARE_NAVIGATION)
    registry.add_audit_codes(*HARDWARE_AUDIT_CODES)
    registry.add_periodic_jobs(
        PeriodicJob(
            name="billing.run_billing",
            task=run_billing_task,
            when=Monthly(settings.BILLING_RUN_DAY, time(4, 0), "Europe/Berlin"),
            description="Invoice every live contract for the month, send the invoices.",
        ),
    )
    from treffpunkt.billing.tasks import plan_hardware_deliveries_task

    registry.add_periodic_jobs(
        PeriodicJob(
            name="billing.plan_hardware_deliveries",
            task=plan_hardware_deliveries_task,
            when=Daily(time(5, 45), "Europe/Berlin"),
            description="Plan the hardware deliveries of accepted orders that have none yet.",
        ),
    )
    from treffpunkt.billing.demo import describe_billing_demo, load_billing_demo

    registry.add_demo_loader(
        DemoLoader("billing", load_billing_demo, order=70, describe=describe_billing_demo)
    )


# --- objections and the itemized record (P-BILL-3) ----------------------------------------------

OBJECTION_NAVIGATION = (
    NavEntry(
        "billing.objections",
        Area.BACKOFFICE,
        _("Objections"),
        "backoffice:billing:objections",
        _reads_billing,
        122,
    ),
    NavEntry(
        "billing.customer_objections",
        Area.CUSTOMER,
        _("Objections"),
        "customer_area:billing:objections",
        _contact_of_a_customer,
        32,
    ),
)
OBJECTION_AUDIT_CODES = (
    AuditCode("billing.objection.recorded", _("%(actor)s recorded the objection %(target)s.")),
    AuditCode(
        "billing.objection.record_demanded",
        _("%(actor)s recorded the demand for the itemized record of %(target)s."),
    ),
    AuditCode(
        "billing.objection.record_delivered",
        _("%(actor)s delivered the itemized record for %(target)s."),
    ),
    AuditCode(
        "billing.objection.credited",
        _("%(actor)s settled the objection %(target)s by a credit note."),
    ),
    AuditCode(
        "billing.objection.rejected", _("%(actor)s rejected the objection %(target)s in writing.")
    ),
)


def _objection_url(pk: int) -> str:
    from django.urls import reverse

    return reverse("backoffice:billing:objection", args=[pk])


def _objection_sources() -> dict[str, Any]:
    from treffpunkt.billing.models import Objection, ObjectionState
    from treffpunkt.contracts.selectors import Source

    fields = (
        "pk",
        "invoice__number",
        "invoice__customer__customer_number",
        "invoice__customer__legal_name",
    )
    return {
        "billing.itemized_record": Source(
            _("Deliver the itemized record (eight weeks from the objection)"),
            _("Open the objection"),
            lambda day, horizon: Objection.objects.filter(
                state=ObjectionState.OPEN,
                record_demanded_on__isnull=False,
                record_delivered_on__isnull=True,
                record_due_on__lte=horizon,
            ),
            "record_due_on",
            fields,
            _objection_url,
        ),
        "billing.open_objection": Source(
            _("Answer the objection (credit note or written rejection)"),
            _("Open the objection"),
            lambda day, horizon: Objection.objects.filter(state=ObjectionState.OPEN).exclude(
                record_demanded_on__isnull=False, record_delivered_on__isnull=True
            ),
            "received_on",
            fields,
            _objection_url,
            always_overdue=True,
        ),
    }


def register_objections() -> None:
    registry.add_nav(*OBJECTION_NAVIGATION)
    registry.add_audit_codes(*OBJECTION_AUDIT_CODES)
    for key, source in _objection_sources().items():
        registry.add_deadline_source(key, source)


# --- dunning and default (P-BILL-2) --------------------------------------------------------------

DUNNING_NAVIGATION = (
    NavEntry(
        "billing.dunning",
        Area.BACKOFFICE,
        _("Dunning and default"),
        "backoffice:billing:dunning",
        _reads_billing,
        121,
    ),
)
DUNNING_AUDIT_CODES = (
    AuditCode(
        "billing.reminder.sent", _("A payment reminder for the invoice %(target)s was sent.")
    ),
    AuditCode(
        "billing.default.found",
        _("A termination trigger for payment default was found met for contract %(target)s."),
    ),
    AuditCode(
        "billing.default.resolved",
        _("A default finding for contract %(target)s no longer holds."),
    ),
    AuditCode(
        "billing.default.terminated",
        _("%(actor)s terminated contract %(target)s without notice for payment default."),
    ),
    AuditCode("billing.dunning.finished", _("The daily dunning run finished.")),
)


def register_dunning() -> None:
    from treffpunkt.billing.tasks import run_dunning_task

    registry.add_nav(*DUNNING_NAVIGATION)
    registry.add_audit_codes(*DUNNING_AUDIT_CODES)
    registry.add_periodic_jobs(
        PeriodicJob(
            name="billing.run_dunning",
            task=run_dunning_task,
            when=Daily(time(6, 0), "Europe/Berlin"),
            description=(
                "Send payment reminders for overdue invoices and evaluate the termination "
                "triggers for payment default per contract."
            ),
        ),
    )


# --- four eyes for large credit notes ------------------------------------------------------------

APPROVAL_NAVIGATION = (
    NavEntry(
        "billing.approvals",
        Area.BACKOFFICE,
        _("Credit notes to approve"),
        "backoffice:billing:approvals",
        _reads_billing,
        123,
    ),
)
APPROVAL_AUDIT_CODES = (
    AuditCode(
        "billing.credit_note.requested",
        _("%(actor)s asked for the credit note %(target)s, to be approved by a second operator."),
    ),
    AuditCode(
        "billing.credit_note.approved",
        _("%(actor)s approved the credit note %(target)s; it was issued."),
    ),
    AuditCode("billing.credit_note.refused", _("%(actor)s refused the credit note %(target)s.")),
)


def register_approval() -> None:
    registry.add_nav(*APPROVAL_NAVIGATION)
    registry.add_audit_codes(*APPROVAL_AUDIT_CODES)


# --- payments: bank statements, open items, DATEV ----------------------------------------------

PAYMENT_NAVIGATION = (
    NavEntry(
        "billing.statements",
        Area.BACKOFFICE,
        _("Bank statements"),
        "backoffice:billing:statements",
        _reads_billing,
        126,
    ),
    NavEntry(
        "billing.open_items",
        Area.BACKOFFICE,
        _("Open items"),
        "backoffice:billing:open_items",
        _reads_billing,
        127,
    ),
    NavEntry(
        "billing.datev",
        Area.BACKOFFICE,
        _("DATEV export"),
        "backoffice:billing:datev",
        _reads_billing,
        128,
    ),
)


def register_payments() -> None:
    from datetime import timedelta

    from treffpunkt.billing.tasks import import_statement_folder_task
    from treffpunkt.core.scheduler import Every

    registry.add_nav(*PAYMENT_NAVIGATION)
    registry.add_periodic_jobs(
        PeriodicJob(
            name="billing.import_statement_folder",
            task=import_statement_folder_task,
            when=Every(timedelta(minutes=5)),
            description=(
                "Import the camt.053 files in BANK_STATEMENT_DIR, then move each to done/ or "
                "refused/ (with the reason in <name>.txt)."
            ),
        ),
    )
