"""What contracts brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import Capability, may_read
from treffpunkt.core.registries import Area, AuditCode, DataRule, DemoLoader, NavEntry, registry
from treffpunkt.core.scheduler import Daily, PeriodicJob


def _reads_contracts(user: Any) -> bool:
    return may_read(user, Capability.CUSTOMERS)


def _contact_of_a_customer(user: Any) -> bool:
    from treffpunkt.customers.selectors import customer_of_contact

    return customer_of_contact(user) is not None


NAVIGATION = (
    NavEntry(
        "contracts.deadlines",
        Area.BACKOFFICE,
        _("Deadlines"),
        "backoffice:contracts:deadlines",
        _reads_contracts,
        90,
    ),
    NavEntry(
        "contracts.orders",
        Area.BACKOFFICE,
        _("Orders"),
        "backoffice:contracts:orders",
        _reads_contracts,
        110,
    ),
    NavEntry(
        "contracts.contracts",
        Area.BACKOFFICE,
        _("Contracts"),
        "backoffice:contracts:contracts",
        _reads_contracts,
        111,
    ),
    NavEntry(
        "contracts.catalogue",
        Area.BACKOFFICE,
        _("Catalogue"),
        "backoffice:contracts:catalogue",
        _reads_contracts,
        112,
    ),
    NavEntry(
        "contracts.customer_contracts",
        Area.CUSTOMER,
        _("Contracts"),
        "customer_area:contracts:list",
        _contact_of_a_customer,
        20,
    ),
    NavEntry(
        "contracts.customer_order",
        Area.CUSTOMER,
        _("Order"),
        "customer_area:contracts:order",
        _contact_of_a_customer,
        21,
    ),
    NavEntry(
        "contracts.customer_documents",
        Area.CUSTOMER,
        _("Documents"),
        "customer_area:contracts:documents",
        _contact_of_a_customer,
        22,
    ),
)

AUDIT_CODES = (
    AuditCode("contracts.switch.agreed", _("%(actor)s recorded a provider switch for %(target)s.")),
    AuditCode(
        "contracts.switch.done", _("%(actor)s recorded the provider switch of %(target)s as done.")
    ),
    AuditCode(
        "contracts.master_data.erased",
        _("The contacts of former customers were deleted and their logins closed."),
    ),
    AuditCode("contracts.product.created", _("%(actor)s added the product %(target)s.")),
    AuditCode("contracts.price.set", _("%(actor)s set a new price of %(target)s.")),
    AuditCode("contracts.order.received", _("%(actor)s recorded the order %(target)s.")),
    AuditCode("contracts.order.accepted", _("%(actor)s accepted the order %(target)s.")),
    AuditCode("contracts.order.declined", _("%(actor)s declined the order %(target)s.")),
    AuditCode("contracts.order.lapsed", _("The order %(target)s lapsed unaccepted.")),
    AuditCode(
        "contracts.contract.switched_on",
        _("The service of contract %(target)s was switched on."),
    ),
    AuditCode("contracts.contract.renewed", _("Contract %(target)s renewed by one year.")),
    AuditCode("contracts.contract.ended", _("Contract %(target)s ended.")),
    AuditCode(
        "contracts.cancellation.recorded",
        _("%(actor)s recorded a cancellation of contract %(target)s."),
    ),
    AuditCode(
        "contracts.consent.requested",
        _("The consent to renew contract %(target)s was requested."),
    ),
    AuditCode(
        "contracts.consent.reminded",
        _("A reminder of the consent request for contract %(target)s was sent."),
    ),
    AuditCode("contracts.consent.given", _("%(actor)s recorded the consent to renew %(target)s.")),
    AuditCode(
        "contracts.change.announced",
        _("%(actor)s announced a change to contract %(target)s."),
    ),
    AuditCode("contracts.change.in_effect", _("A change to contract %(target)s took effect.")),
    AuditCode(
        "contracts.transfer.announced",
        _("%(actor)s announced the transfer of contract %(target)s."),
    ),
    AuditCode(
        "contracts.transfer.objected",
        _("%(actor)s recorded an objection to the transfer of %(target)s."),
    ),
    AuditCode("contracts.transfer.in_effect", _("The transfer day of contract %(target)s passed.")),
    AuditCode("contracts.block.started", _("%(actor)s blocked the service of %(target)s.")),
    AuditCode("contracts.block.lifted", _("%(actor)s lifted a block of %(target)s.")),
    AuditCode("contracts.run.finished", _("The daily contract run finished.")),
)


def register() -> None:
    from treffpunkt.contracts.demo import describe_contracts_demo, load_contracts_demo
    from treffpunkt.contracts.tasks import erase_former_contacts_task, run_contracts_day_task

    registry.add_data_rules(
        DataRule(
            "contracts.customer_master_data",
            _("A business customer's contacts: names, e-mail addresses, phone numbers, logins"),
            _(
                "Deleted at the end of the calendar year after the customer's last contract "
                "ended; the company's own record stays, blocked, for the invoices that must be "
                "kept."
            ),
            job="contracts.erase_former_contacts",
            audit_code="contracts.master_data.erased",
        )
    )
    registry.add_periodic_jobs(
        PeriodicJob(
            name="contracts.erase_former_contacts",
            task=erase_former_contacts_task,
            when=Daily(time(3, 40), "Europe/Berlin"),
            description="Delete the contacts of customers whose business ended before last year.",
        )
    )

    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_demo_loader(
        DemoLoader("contracts", load_contracts_demo, order=60, describe=describe_contracts_demo)
    )
    registry.add_periodic_jobs(
        PeriodicJob(
            name="contracts.run_contracts_day",
            task=run_contracts_day_task,
            when=Daily(time(5, 30), "Europe/Berlin"),
            description=(
                "Let unaccepted orders lapse, bring changes into effect, ask for telephony "
                "consents, renew and end contracts at the end of their terms."
            ),
        ),
    )
